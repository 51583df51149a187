package signatures

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gitward/gitward/forge"
)

// maxKeys bounds the public keys a KeySource may hand over for one
// verification.
const maxKeys = 8 << 20

// gpgHome makes a throwaway GnuPG home in the folder and returns the
// arguments every gpg run in it takes: batch mode, no agent, no options
// file, no key retrieval of any kind, and no trust computations (a key is
// trusted only through its pinned fingerprint, never through the web of
// trust or its user IDs).
func (v *Verifier) gpgHome(w *workdir) (prog string, args []string, err error) {
	home := filepath.Join(w.path, "gnupg")
	if err := mkdirPrivate(home); err != nil {
		return "", nil, err
	}
	prog = v.GPG
	if prog == "" {
		prog = "gpg"
	}
	return prog, []string{
		"--homedir", home,
		"--batch", "--no-tty", "--no-autostart", "--no-options",
		"--no-auto-key-retrieve", "--no-auto-key-locate",
		"--trust-model", "always",
	}, nil
}

// verifyOpenPGP checks an OpenPGP signature with gpg in a throwaway home
// holding only the public keys keys supplies for the allowed fingerprints,
// and accepts it only when gpg reports a valid signature whose primary key
// fingerprint is allowed.
func (v *Verifier) verifyOpenPGP(ctx context.Context, c forge.Commit, allowed []string, keys KeySource, r Result) Result {
	w, err := v.newWorkdir()
	if err != nil {
		return couldNotCheck(r, err)
	}
	defer w.remove()
	prog, base, err := v.gpgHome(w)
	if err != nil {
		return couldNotCheck(r, err)
	}
	sigFile, err := w.write("signature.asc", []byte(c.Signature.Signature))
	if err != nil {
		return couldNotCheck(r, err)
	}
	sp, err := inspectIn(ctx, w, prog, base, sigFile)
	if err != nil {
		return couldNotCheck(r, err)
	}
	if why := sp.refusal(); why != "" {
		r.Reason = why
		return r
	}
	key := "OpenPGP key " + keyIDText(sp.keyID)
	allowedSet := map[string]bool{}
	allowedIDs := map[string]bool{}
	for _, fp := range allowed {
		allowedSet[fp] = true
		allowedIDs[keyIDOf(fp)] = true
	}
	if fp, ok := sp.webFlow(); ok && !allowedSet[fp] {
		return webCommitVerdict(c, sp, fp, r)
	}
	if len(allowed) == 0 {
		r.Reason = fmt.Sprintf("signed by %s of %s, but allowed_signers lists no OpenPGP fingerprints", key, committerEmail(c))
		return r
	}

	var armored []byte
	if keys != nil {
		armored, err = keys.OpenPGPKeys(ctx, allowed)
		if err != nil {
			return couldNotCheck(r, fmt.Errorf("read the allowed OpenPGP public keys: %w", err))
		}
	}
	if len(armored) > maxKeys {
		return couldNotCheck(r, fmt.Errorf("the allowed OpenPGP public keys come to more than %d MiB", maxKeys>>20))
	}
	if len(armored) > 0 {
		keyFile, err := w.write("keys.asc", armored)
		if err != nil {
			return couldNotCheck(r, err)
		}
		// A key that does not import shows up below as a missing key.
		if _, err := w.run(ctx, nil, nil, prog, append(base, "--status-fd", "1", "--import", keyFile)...); err != nil {
			return couldNotCheck(r, err)
		}
	}

	res, err := w.run(ctx, []byte(c.Signature.Payload), nil, prog, append(base, "--status-fd", "1", "--verify", sigFile, "-")...)
	if err != nil {
		return couldNotCheck(r, err)
	}
	st := parseStatus(res.stdout)
	switch {
	case st.newSig != 1:
		r.Reason = fmt.Sprintf("gpg found %d signatures in the signature block; gitward accepts exactly one", st.newSig)
	case st.bad:
		r.Reason = fmt.Sprintf("signed by %s, but the signature does not verify over the commit: the commit or its signature changed after signing", key)
	case st.revKey:
		r.Reason = fmt.Sprintf("signed by %s, which has been revoked", key)
	case st.expKey:
		r.Reason = fmt.Sprintf("signed by %s, which has expired", key)
	case st.expSig:
		r.Reason = fmt.Sprintf("signed by %s, but the signature has expired", key)
	case (st.errSig == "9" || st.noPubkey) && allowedIDs[sp.keyID]:
		r.Reason = fmt.Sprintf("signed by %s of %s, whose key ID matches an allowed OpenPGP fingerprint, but its public key could not be found to check the signature", key, committerEmail(c))
	case st.errSig == "9" || st.noPubkey:
		r.Reason = fmt.Sprintf("signed by %s of %s, not among the allowed OpenPGP fingerprints (no public key of an allowed signer has this key ID)", key, committerEmail(c))
	case st.errSig != "":
		r.Reason = fmt.Sprintf("signed by %s, but gpg cannot check the signature (error code %s)", key, st.errSig)
	case !st.good || st.primaryFpr == "" || res.exit != 0:
		r.Reason = fmt.Sprintf("signed by %s, but gpg did not confirm a good signature (%s)", key, gpgMessage(res.stderr))
	case !allowedSet[st.primaryFpr]:
		r.Signer = st.primaryFpr
		r.Reason = fmt.Sprintf("OpenPGP signature by key %s verifies, but fingerprint %s is not among the allowed OpenPGP fingerprints", keyIDText(keyIDOf(st.validFpr)), st.primaryFpr)
	default:
		r.Verified = true
		r.Signer = st.primaryFpr
		r.WebCommit = webFlowSet[st.primaryFpr]
		r.Reason = fmt.Sprintf("OpenPGP signature by key %s verifies, fingerprint %s is allowed", keyIDText(keyIDOf(st.validFpr)), st.primaryFpr)
	}
	return r
}

// webCommitVerdict judges a signature by GitHub's web-flow key that the
// allowed signers do not list. GitHub signed the commit itself, so its own
// verdict is the one to report; whether web commits count at all is the
// policy's call (Result.Counts).
func webCommitVerdict(c forge.Commit, sp sigPackets, fp string, r Result) Result {
	reason := c.Signature.Reason
	if reason == "" {
		reason = "no reason given"
	}
	if !c.Signature.Verified {
		r.Reason = fmt.Sprintf("the signature names GitHub's web-flow key %s, but the forge did not verify it (%s)", keyIDText(sp.keyID), reason)
		return r
	}
	r.Verified = true
	r.WebCommit = true
	r.Signer = fp
	r.Reason = fmt.Sprintf("made in GitHub's web interface: signed with GitHub's web-flow key %s, which the forge verified (%s)", keyIDText(sp.keyID), reason)
	return r
}

// inspect lists an OpenPGP signature's packets without any key.
func (v *Verifier) inspect(ctx context.Context, armored string) (sigPackets, error) {
	w, err := v.newWorkdir()
	if err != nil {
		return sigPackets{}, err
	}
	defer w.remove()
	prog, base, err := v.gpgHome(w)
	if err != nil {
		return sigPackets{}, err
	}
	sigFile, err := w.write("signature.asc", []byte(armored))
	if err != nil {
		return sigPackets{}, err
	}
	return inspectIn(ctx, w, prog, base, sigFile)
}

// sigPackets is what gpg --list-packets shows of a signature block. None of
// it is authenticated: the issuer is whoever the signature claims made it.
type sigPackets struct {
	signatures int
	others     []string // the other packets' kinds
	keyID      string   // issuer key ID of the first signature
	issuerFpr  string   // its issuer fingerprint subpacket, if any
	unreadable string   // why gpg could not read the block, if it could not
}

func inspectIn(ctx context.Context, w *workdir, prog string, base []string, sigFile string) (sigPackets, error) {
	res, err := w.run(ctx, nil, nil, prog, append(base, "--list-packets", sigFile)...)
	if err != nil {
		return sigPackets{}, err
	}
	sp := parsePackets(res.stdout)
	if res.exit != 0 && sp.signatures == 0 {
		sp.unreadable = gpgMessage(res.stderr)
	}
	return sp, nil
}

// parsePackets reads gpg --list-packets output.
func parsePackets(out string) sigPackets {
	var sp sigPackets
	for line := range strings.SplitSeq(out, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, ":signature packet:"):
			sp.signatures++
			if sp.signatures == 1 {
				if _, id, found := strings.Cut(line, "keyid "); found {
					sp.keyID = hexField(id)
				}
			}
		case strings.HasPrefix(line, ":") && strings.Contains(line, " packet:"):
			sp.others = append(sp.others, strings.TrimPrefix(line[:strings.Index(line, " packet:")], ":"))
		case sp.signatures == 1 && strings.Contains(trimmed, "(issuer fpr v"):
			// "hashed subpkt 33 len 21 (issuer fpr v4 F8F2…53D4)"
			f := strings.Fields(trimmed[strings.Index(trimmed, "(issuer fpr v"):])
			if len(f) >= 4 {
				sp.issuerFpr = hexField(strings.TrimSuffix(f[3], ")"))
			}
		}
	}
	return sp
}

// refusal says why a signature block is not one gitward checks: it must be
// exactly one signature packet and nothing else, so that gpg cannot be led
// to verify something other than the commit.
func (sp sigPackets) refusal() string {
	switch {
	case sp.unreadable != "":
		return "the OpenPGP signature cannot be read (" + sp.unreadable + ")"
	case len(sp.others) > 0:
		return fmt.Sprintf("the OpenPGP signature block holds a %s packet besides signatures; gitward accepts exactly one signature", printable(sp.others[0]))
	case sp.signatures != 1:
		return fmt.Sprintf("the OpenPGP signature block holds %d signatures; gitward accepts exactly one", sp.signatures)
	case sp.keyID == "":
		return "the OpenPGP signature does not name its key"
	}
	return ""
}

// gpgStatus is what gpg --status-fd reports about a verification
// (doc/DETAILS in GnuPG).
type gpgStatus struct {
	newSig                 int
	good, bad              bool
	expKey, revKey, expSig bool
	noPubkey               bool
	errSig                 string // ERRSIG's return code
	validFpr, primaryFpr   string // VALIDSIG's signing key and primary key fingerprints
}

func parseStatus(out string) gpgStatus {
	var st gpgStatus
	for line := range strings.SplitSeq(out, "\n") {
		rest, found := strings.CutPrefix(line, "[GNUPG:] ")
		if !found {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "NEWSIG":
			st.newSig++
		case "GOODSIG":
			st.good = true
		case "BADSIG":
			st.bad = true
		case "EXPKEYSIG":
			st.expKey = true
		case "REVKEYSIG":
			st.revKey = true
		case "EXPSIG":
			st.expSig = true
		case "NO_PUBKEY":
			st.noPubkey = true
		case "ERRSIG":
			st.errSig = "?"
			if len(f) >= 7 {
				st.errSig = f[6]
			}
		case "VALIDSIG":
			// VALIDSIG <fpr> <date> <ts> <expire> <version> <reserved>
			// <pubkey-algo> <hash-algo> <sig-class> [<primary-fpr>]
			if len(f) < 2 {
				continue
			}
			st.validFpr = hexField(f[1])
			st.primaryFpr = st.validFpr
			if len(f) >= 11 {
				st.primaryFpr = hexField(f[10])
			}
		}
	}
	return st
}

// hexField returns s upper-cased when it is all hex digits, else "".
func hexField(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return ""
		}
	}
	return strings.ToUpper(s)
}

// keyIDOf returns a fingerprint's key ID: its last 16 hex digits for a
// version 4 key, its first 16 for a version 5 or 6 key.
func keyIDOf(fpr string) string {
	switch len(fpr) {
	case 40:
		return fpr[24:]
	case 64:
		return fpr[:16]
	}
	return fpr
}

func keyIDText(id string) string {
	if id == "" {
		return "(unnamed)"
	}
	return "0x" + id
}

// gpgMessage is the last thing gpg said, for a reason.
func gpgMessage(stderr string) string {
	if l := lastLine(stderr); l != "" {
		return l
	}
	return "gpg gave no reason"
}
