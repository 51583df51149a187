// Package signatures is gitward's own verification of commit signatures.
//
// The forge already says whether it verified a commit's signature. When a
// repository's .gitward.yaml names allowed signers, that is not enough: the
// forge accepts any key its user registered, while the policy accepts only
// the listed ones. Verify then checks the signature itself, over the raw
// commit payload and signature the forge's API returns, with the real
// ssh-keygen (SSH signatures, against an allowed_signers file) and gpg
// (OpenPGP signatures, against public keys pinned by fingerprint), in a
// private temporary folder that is removed afterwards.
//
// Verify is safe for concurrent use, bounds each verification in time, and
// never puts signature material in a Reason.
package signatures

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
)

// Format names a signature's kind.
type Format string

// Signature formats, named as git's gpg.format names them. FormatNone is a
// commit without a signature, or one whose kind gitward does not know.
const (
	FormatNone    Format = ""
	FormatOpenPGP Format = "openpgp"
	FormatSSH     Format = "ssh"
	FormatX509    Format = "x509"
)

// Result is the verdict on one commit's signature.
type Result struct {
	// Signed is true when the commit carries a signature of any kind.
	Signed bool
	// Verified is true when the signature is good and its signer is
	// accepted: one of the allowed signers; or, with no allowed signers
	// configured, whatever signer the forge verified; or, for a web commit,
	// GitHub's own key as GitHub verified it (see WebCommit).
	Verified bool
	Format   Format
	// Signer is who signed, once known: the principal from allowed_signers
	// for SSH, the primary key fingerprint for OpenPGP.
	Signer string
	// WebCommit is true when GitHub made the commit in its web interface
	// and signed it with its web-flow key, as WebFlowFingerprints lists.
	// Such commits count only when the repository allows web commits.
	WebCommit bool
	// Reason says in a sentence why the verdict is what it is.
	Reason string
	// Err is set when the signature could not be checked at all: a tool
	// failed or ran out of time, or keys could not be read. Verified is
	// then false, and trying again later may succeed.
	Err error
}

// Counts reports whether the commit counts as signed under the policy:
// verified, and not a web commit unless web commits are allowed.
func (r Result) Counts(allowWebCommits bool) bool {
	return r.Verified && (!r.WebCommit || allowWebCommits)
}

// Limits on what Verify reads. A commit object is rarely more than a few
// kilobytes, a signature rarely more than two.
const (
	maxPayload   = 16 << 20
	maxSignature = 64 << 10
)

// DefaultTimeout bounds one verification when Verifier.Timeout is zero.
const DefaultTimeout = 20 * time.Second

// Verifier verifies commit signatures with the gpg and ssh-keygen binaries.
// The zero value finds both on PATH. It is safe for concurrent use.
type Verifier struct {
	// GPG and SSHKeygen are the programs to run; "" means "gpg" and
	// "ssh-keygen" from PATH.
	GPG       string
	SSHKeygen string
	// Timeout bounds one verification; zero means DefaultTimeout.
	Timeout time.Duration
	// TempDir is where each verification makes its private folder; ""
	// means the system's temporary folder.
	TempDir string
}

var defaultVerifier Verifier

// Verify checks c's signature with the default Verifier; see
// Verifier.Verify.
func Verify(ctx context.Context, c forge.Commit, signers config.AllowedSigners, keys KeySource) Result {
	return defaultVerifier.Verify(ctx, c, signers, keys)
}

// Verify checks c's signature. With allowed signers configured, it verifies
// SSH and OpenPGP signatures itself and accepts only those signers; keys
// supplies the OpenPGP public keys of the allowed fingerprints and may be
// nil when only SSH signers are allowed. X.509 (S/MIME) signatures are not
// supported then. Without allowed signers, it reports the forge's verdict
// on any kind of signature. Either way it marks commits GitHub signed with
// its web-flow key.
func (v *Verifier) Verify(ctx context.Context, c forge.Commit, signers config.AllowedSigners, keys KeySource) Result {
	sig := c.Signature
	format := formatOf(sig.Signature)
	if strings.TrimSpace(sig.Signature) == "" {
		// A forge that hands out signatures but gave none says the
		// commit is unsigned, whatever its verdict. One that gives only
		// its verdict (GitLab) is believed: the commit is signed unless
		// it says "unsigned", and only the verdict can count.
		if !sig.VerdictOnly || sig.Reason == "" || sig.Reason == "unsigned" {
			return Result{Reason: "the commit is not signed"}
		}
		r := Result{Signed: true}
		if signers.IsSet() {
			r.Reason = "the forge does not hand out the signature itself, so gitward cannot check it against the allowed signers"
			return r
		}
		return v.forgeVerdict(ctx, c, r)
	}
	r := Result{Signed: true, Format: format}
	if len(sig.Signature) > maxSignature {
		r.Reason = fmt.Sprintf("the signature is larger than %d KiB, more than any real commit signature; not checked", maxSignature>>10)
		return r
	}
	if len(sig.Payload) > maxPayload {
		r.Reason = fmt.Sprintf("the signed commit is larger than %d MiB; not checked", maxPayload>>20)
		return r
	}
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if !signers.IsSet() {
		return v.forgeVerdict(ctx, c, r)
	}
	switch format {
	case FormatSSH:
		return v.verifySSH(ctx, c, signers.SSH, r)
	case FormatOpenPGP:
		return v.verifyOpenPGP(ctx, c, signers.Fingerprints(), keys, r)
	case FormatX509:
		r.Reason = "the commit has an X.509 (S/MIME) signature, which gitward cannot check against allowed signers: not supported; use SSH or OpenPGP"
		return r
	}
	r.Reason = "the commit's signature is of a kind gitward does not know; use SSH or OpenPGP"
	return r
}

// formatOf tells a signature's kind from its armor, as git does.
func formatOf(sig string) Format {
	s := strings.TrimLeft(sig, " \t\r\n")
	switch {
	case strings.HasPrefix(s, "-----BEGIN SSH SIGNATURE-----"):
		return FormatSSH
	case strings.HasPrefix(s, "-----BEGIN PGP SIGNATURE-----"), strings.HasPrefix(s, "-----BEGIN PGP MESSAGE-----"):
		return FormatOpenPGP
	case strings.HasPrefix(s, "-----BEGIN SIGNED MESSAGE-----"), strings.HasPrefix(s, "-----BEGIN PKCS7-----"):
		return FormatX509
	}
	return FormatNone
}

// forgeVerdict reports the forge's own verdict, marking web commits.
func (v *Verifier) forgeVerdict(ctx context.Context, c forge.Commit, r Result) Result {
	sig := c.Signature
	reason := sig.Reason
	if reason == "" {
		reason = "no reason given"
	}
	if !sig.Verified {
		r.Reason = fmt.Sprintf("the forge did not verify the signature (%s)", reason)
		return r
	}
	r.Verified = true
	r.Reason = fmt.Sprintf("the forge verified the signature (%s)", reason)
	if r.Format != FormatOpenPGP {
		return r
	}
	// A web commit counts as verified here, so failing to tell whether the
	// commit is one must not leave it verified.
	sp, err := v.inspect(ctx, sig.Signature)
	if err != nil {
		return couldNotCheck(r, err)
	}
	if why := sp.refusal(); why != "" {
		r.Verified = false
		r.Reason = why
		return r
	}
	if fp, ok := sp.webFlow(); ok {
		r.WebCommit = true
		r.Signer = fp
		r.Reason = fmt.Sprintf("made in GitHub's web interface: signed with GitHub's web-flow key %s, which the forge verified (%s)", keyIDText(sp.keyID), reason)
	}
	return r
}

// couldNotCheck turns a failure to run the check into the verdict.
func couldNotCheck(r Result, err error) Result {
	r.Verified = false
	r.WebCommit = false
	r.Err = err
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		r.Reason = "could not check the signature in time: " + err.Error()
	} else {
		r.Reason = "could not check the signature: " + err.Error()
	}
	return r
}

// committerTime returns the committer date recorded in the signed commit
// object, which git also uses as the time to check an SSH key's validity
// at; ok is false when the payload has none.
func committerTime(payload string) (time.Time, bool) {
	for line := range strings.SplitSeq(payload, "\n") {
		if line == "" {
			break // end of the header
		}
		rest, found := strings.CutPrefix(line, "committer ")
		if !found {
			continue
		}
		// "Name <email> 1714579008 +0200": the time follows the last '>'.
		i := strings.LastIndexByte(rest, '>')
		if i < 0 {
			return time.Time{}, false
		}
		fields := strings.Fields(rest[i+1:])
		if len(fields) < 1 {
			return time.Time{}, false
		}
		secs, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(secs, 0).UTC(), true
	}
	return time.Time{}, false
}

// committerEmail names the commit's committer for reasons, falling back to
// the author.
func committerEmail(c forge.Commit) string {
	if c.Committer.Email != "" {
		return c.Committer.Email
	}
	return c.Author.Email
}
