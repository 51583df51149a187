package signatures

// GitHub signs the commits it makes itself — edits, merges and squashes in
// its web interface, commits through the API on behalf of apps — with the
// OpenPGP keys of its "web-flow" account. GitHub publishes them at
// https://github.com/web-flow.gpg and GET /users/web-flow/gpg_keys.
const (
	// WebFlowKey2017 signed web commits from 2017-09-27 until it expired
	// on 2024-01-16; key ID 4AEE18F83AFDEB23.
	WebFlowKey2017 = "5DE3E0509C47EA3CF04A42D34AEE18F83AFDEB23"
	// WebFlowKey2024 has signed web commits since 2024-01-16; key ID
	// B5690EEEBB952194.
	WebFlowKey2024 = "968479A1AFF927E37D1A566BB5690EEEBB952194"
)

// WebFlowLogin is the GitHub account that holds the web-flow keys.
const WebFlowLogin = "web-flow"

// WebFlowFingerprints returns the primary key fingerprints of GitHub's
// web-flow keys, oldest first.
func WebFlowFingerprints() []string { return []string{WebFlowKey2017, WebFlowKey2024} }

var webFlowSet = map[string]bool{WebFlowKey2017: true, WebFlowKey2024: true}

// webFlow reports whether the signature names a web-flow key as its
// issuer, and which. The issuer key ID (and the issuer fingerprint
// subpacket, when present) is read from the signature packet itself, so
// no key is needed; but it is only a claim, which the signature's
// verification — by the forge or by gpg — must back.
func (sp sigPackets) webFlow() (fingerprint string, ok bool) {
	for _, fp := range WebFlowFingerprints() {
		if sp.keyID != keyIDOf(fp) {
			continue
		}
		if sp.issuerFpr != "" && sp.issuerFpr != fp {
			return "", false
		}
		return fp, true
	}
	return "", false
}
