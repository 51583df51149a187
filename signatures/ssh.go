package signatures

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
)

// sshNamespace is the namespace git signs commits in (git commit -S with
// gpg.format=ssh); a signature made for another purpose must not pass as a
// commit signature.
const sshNamespace = "git"

// verifySSH checks an SSH signature against the allowed_signers lines the
// way git does: ssh-keygen -Y find-principals names the signer, then
// ssh-keygen -Y verify checks the signature over the payload in the "git"
// namespace, both at the commit's committer time.
func (v *Verifier) verifySSH(ctx context.Context, c forge.Commit, allowed []string, r Result) Result {
	info, err := parseSSHSig(c.Signature.Signature)
	if err != nil {
		r.Reason = "the SSH signature is malformed: " + err.Error()
		return r
	}
	key := "SSH key " + info.fingerprint
	if len(allowed) == 0 {
		r.Reason = fmt.Sprintf("signed by %s of %s, but allowed_signers lists no SSH signers", key, committerEmail(c))
		return r
	}
	if info.namespace != sshNamespace {
		r.Reason = fmt.Sprintf("signed by %s for the namespace %q, not %q: it is not a commit signature", key, info.namespace, sshNamespace)
		return r
	}
	for i, line := range allowed {
		if strings.ContainsAny(line, "\r\n") {
			r.Reason = fmt.Sprintf("allowed_signers entry %d spans more than one line; the signature was not checked", i+1)
			return r
		}
	}

	w, err := v.newWorkdir()
	if err != nil {
		return couldNotCheck(r, err)
	}
	defer w.remove()
	signersFile, err := w.write("allowed_signers", []byte(strings.Join(allowed, "\n")+"\n"))
	if err != nil {
		return couldNotCheck(r, err)
	}
	sigFile, err := w.write("signature", []byte(c.Signature.Signature))
	if err != nil {
		return couldNotCheck(r, err)
	}
	prog := v.SSHKeygen
	if prog == "" {
		prog = "ssh-keygen"
	}
	// Like git, judge valid-after and valid-before at the committer time
	// the signed commit records. The signer chose that time, so these
	// options bound when a key may claim to have signed, not when it did.
	var at []string
	when, haveTime := committerTime(c.Signature.Payload)
	if haveTime {
		at = []string{"-Overify-time=" + when.Format("20060102150405") + "Z"}
	}

	found, err := w.run(ctx, nil, nil, prog, append([]string{"-Y", "find-principals", "-s", sigFile, "-f", signersFile}, at...)...)
	if err != nil {
		return couldNotCheck(r, err)
	}
	principals := lines(found.stdout)
	if found.exit != 0 || len(principals) == 0 {
		if listsKey(allowed, info.fingerprint) {
			// Listed, but refused: valid-after or valid-before exclude
			// the commit time, or the entry is malformed.
			moment := "the current time"
			if haveTime {
				moment = "the commit time " + when.Format(time.RFC3339)
			}
			r.Reason = fmt.Sprintf("signed by %s of %s, which allowed_signers lists but does not accept at %s (%s)",
				key, committerEmail(c), moment, sshMessage(found.stderr))
			return r
		}
		r.Reason = fmt.Sprintf("signed by %s of %s, not in allowed_signers", key, committerEmail(c))
		return r
	}

	var failure string
	for _, p := range principals {
		args := append([]string{"-Y", "verify", "-f", signersFile, "-I", p, "-n", sshNamespace, "-s", sigFile}, at...)
		res, err := w.run(ctx, []byte(c.Signature.Payload), nil, prog, args...)
		if err != nil {
			return couldNotCheck(r, err)
		}
		if res.exit == 0 {
			r.Verified = true
			r.Signer = p
			r.Reason = fmt.Sprintf("signed by %s of %s, allowed by allowed_signers", key, p)
			return r
		}
		failure = fmt.Sprintf("signed by %s of %s in allowed_signers, but the signature does not verify over the commit (%s)", key, p, sshMessage(res.stderr))
	}
	r.Reason = failure
	return r
}

// listsKey reports whether any allowed_signers line holds the public key
// with this fingerprint, whatever its options say.
func listsKey(allowed []string, fingerprint string) bool {
	for _, line := range allowed {
		for _, tok := range strings.Fields(line) {
			blob, err := base64.StdEncoding.DecodeString(tok)
			if err != nil || len(blob) < 8 {
				continue
			}
			sum := sha256.Sum256(blob)
			if "SHA256:"+base64.RawStdEncoding.EncodeToString(sum[:]) == fingerprint {
				return true
			}
		}
	}
	return false
}

// sshMessage is the reason ssh-keygen gave, or a generic one.
func sshMessage(stderr string) string {
	// find-principals ends with this line; the one before says why.
	stderr = strings.ReplaceAll(stderr, "No principal matched.", "")
	if l := lastLine(stderr); l != "" {
		return "ssh-keygen: " + l
	}
	return "ssh-keygen gave no reason"
}

func lines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// sshSigInfo is what an SSH signature says about itself (PROTOCOL.sshsig);
// none of it is trusted until ssh-keygen has verified the signature.
type sshSigInfo struct {
	fingerprint string // "SHA256:…", as ssh-keygen -l prints it
	namespace   string
}

// parseSSHSig reads the signer's public key and the namespace from an
// armored SSH signature, for reasons a reviewer can act on.
func parseSSHSig(armored string) (sshSigInfo, error) {
	s := strings.TrimSpace(armored)
	body, found := strings.CutPrefix(s, "-----BEGIN SSH SIGNATURE-----")
	if !found {
		return sshSigInfo{}, errors.New("no BEGIN SSH SIGNATURE line")
	}
	body, found = strings.CutSuffix(body, "-----END SSH SIGNATURE-----")
	if !found {
		return sshSigInfo{}, errors.New("no END SSH SIGNATURE line")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		return sshSigInfo{}, errors.New("not base64")
	}
	magic, rest := "SSHSIG", raw
	if len(rest) < len(magic)+4 || string(rest[:len(magic)]) != magic {
		return sshSigInfo{}, errors.New("no SSHSIG preamble")
	}
	rest = rest[len(magic):]
	if version := binary.BigEndian.Uint32(rest); version != 1 {
		return sshSigInfo{}, fmt.Errorf("version %d, want 1", version)
	}
	rest = rest[4:]
	pub, rest, ok := sshString(rest)
	if !ok {
		return sshSigInfo{}, errors.New("truncated public key")
	}
	ns, _, ok := sshString(rest)
	if !ok {
		return sshSigInfo{}, errors.New("truncated namespace")
	}
	if _, _, ok := sshString(pub); !ok {
		return sshSigInfo{}, errors.New("public key without a type")
	}
	sum := sha256.Sum256(pub)
	return sshSigInfo{
		fingerprint: "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]),
		namespace:   printable(string(ns)),
	}, nil
}

// sshString reads one length-prefixed string of the SSH wire format.
func sshString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

// printable keeps a signer-chosen string from carrying control characters
// or unbounded length into a reason.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	return markdown.Clip(s, 64)
}
