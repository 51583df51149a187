package localgit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
)

// Commits returns the commits reachable from head but not from base, oldest
// first: the commits a pull request from head into base holds. Each carries
// its author and committer (with no forge login: a local repository has
// none), its message, and its signature as a forge's API presents it: the
// commit object without its signature header as the payload, and that
// header's value, unfolded, as the signature. The signature is not
// verified; VerifyCommit gives git's verdict.
func (r *Repo) Commits(ctx context.Context, base, head string) ([]forge.Commit, error) {
	for _, rev := range []string{base, head} {
		if strings.HasPrefix(rev, "-") {
			return nil, fmt.Errorf("revision %q must not start with '-'", rev)
		}
	}
	out, err := r.git(ctx, "rev-list", "--topo-order", "--reverse", head, "^"+base, "--")
	if err != nil {
		return nil, fmt.Errorf("list the commits from %s to %s: %w", base, head, err)
	}
	shas := strings.Fields(string(out))
	if len(shas) == 0 {
		return nil, nil
	}
	raw, err := r.gitInput(ctx, strings.NewReader(strings.Join(shas, "\n")+"\n"), "cat-file", "--batch")
	if err != nil {
		return nil, fmt.Errorf("read the commits from %s to %s: %w", base, head, err)
	}
	commits := make([]forge.Commit, 0, len(shas))
	rd := bufio.NewReader(bytes.NewReader(raw))
	for _, sha := range shas {
		obj, err := readBatchObject(rd, sha)
		if err != nil {
			return nil, err
		}
		c, err := parseCommit(sha, obj)
		if err != nil {
			return nil, err
		}
		commits = append(commits, c)
	}
	return commits, nil
}

// readBatchObject reads one commit from git cat-file --batch output:
// "<sha> commit <size>\n", the object, then "\n".
func readBatchObject(rd *bufio.Reader, sha string) ([]byte, error) {
	header, err := rd.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("git cat-file: truncated output before %s", sha)
	}
	fields := strings.Fields(header)
	if len(fields) != 3 || fields[0] != sha || fields[1] != "commit" {
		return nil, fmt.Errorf("git cat-file: unexpected %q for commit %s", strings.TrimSpace(header), sha)
	}
	size, err := strconv.Atoi(fields[2])
	if err != nil || size < 0 {
		return nil, fmt.Errorf("git cat-file: bad size in %q", strings.TrimSpace(header))
	}
	obj := make([]byte, size+1)
	if _, err := io.ReadFull(rd, obj); err != nil {
		return nil, fmt.Errorf("git cat-file: truncated commit %s", sha)
	}
	return obj[:size], nil
}

// signatureHeaders are the headers git stores commit signatures in: over
// the SHA-1 form of the commit, and over its SHA-256 form.
var signatureHeaders = map[int]string{40: "gpgsig", 64: "gpgsig-sha256"}

// parseCommit reads a raw commit object. Payload and signature are split
// as git's parse_buffer_signed_by_header splits them, which is also what
// the forge returns: the signature is the value of the signature header
// for the repository's hash, continuation lines unfolded; the payload is
// the object without that header or any other signature header.
func parseCommit(sha string, obj []byte) (forge.Commit, error) {
	c := forge.Commit{SHA: sha}
	sigHeader := signatureHeaders[len(sha)]
	if sigHeader == "" {
		return c, fmt.Errorf("commit %q: not a SHA-1 or SHA-256 object name", sha)
	}
	var payload, signature strings.Builder
	inSignature, otherSignature := false, false
	text := string(obj)
	for len(text) > 0 {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line = text[:i+1]
		}
		if line == "\n" {
			// The header ends; the message follows, kept whole.
			payload.WriteString(text)
			c.Message = strings.TrimRight(text[1:], "\n")
			break
		}
		text = text[len(line):]
		switch {
		case inSignature && line[0] == ' ':
			signature.WriteString(line[1:])
			continue
		case strings.HasPrefix(line, sigHeader+" "):
			signature.WriteString(line[len(sigHeader)+1:])
			inSignature, otherSignature = true, false
			continue
		case strings.HasPrefix(line, "gpgsig"):
			otherSignature = true
		case otherSignature && line[0] != ' ':
			otherSignature = false
		}
		inSignature = false
		if otherSignature {
			continue
		}
		payload.WriteString(line)
		key, value, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		var err error
		switch key {
		case "parent":
			c.Parents = append(c.Parents, value)
		case "author":
			c.Author, err = parseIdentity(value)
		case "committer":
			c.Committer, err = parseIdentity(value)
		}
		if err != nil {
			return c, fmt.Errorf("commit %s: %s: %w", sha, key, err)
		}
	}
	if signature.Len() > 0 {
		c.Signature = forge.Signature{Signature: signature.String(), Payload: payload.String()}
	}
	return c, nil
}

// parseIdentity reads "Name <email> 1714579008 +0200".
func parseIdentity(s string) (forge.Identity, error) {
	lt, gt := strings.IndexByte(s, '<'), strings.LastIndexByte(s, '>')
	if lt < 0 || gt < lt {
		return forge.Identity{}, fmt.Errorf("no e-mail in %q", s)
	}
	id := forge.Identity{Name: strings.TrimSpace(s[:lt]), Email: s[lt+1 : gt]}
	fields := strings.Fields(s[gt+1:])
	if len(fields) != 2 {
		return id, nil
	}
	secs, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil {
		return id, nil
	}
	id.Date = time.Unix(secs, 0).UTC()
	if tz, err := strconv.Atoi(fields[1]); err == nil && len(fields[1]) == 5 {
		offset := (tz/100*60 + tz%100) * 60
		id.Date = id.Date.In(time.FixedZone(fields[1], offset))
	}
	return id, nil
}

// Verification is git's verdict on a commit's signature, as git
// verify-commit gives it with the user's gpg keyring and
// gpg.ssh.allowedSignersFile.
type Verification struct {
	// Verified is set when git verify-commit accepts the signature.
	Verified bool
	// Signer is who signed, when git says: the primary key fingerprint for
	// OpenPGP, the principal for SSH.
	Signer string
	// Reason says in a few words why the signature did not verify.
	Reason string
}

var (
	validSigRE = regexp.MustCompile(`(?m)^\[GNUPG:\] VALIDSIG (?:\S+ ){9}([0-9A-Fa-f]{32,64})\s*$`)
	sshGoodRE  = regexp.MustCompile(`(?m)^Good "git" signature for (.+) with \S+ key \S+\s*$`)
	gpgStatus  = []struct{ keyword, reason string }{
		{"BADSIG", "bad signature"},
		{"EXPKEYSIG", "expired key"},
		{"REVKEYSIG", "revoked key"},
		{"EXPSIG", "expired signature"},
		{"NO_PUBKEY", "unknown key: not in your gpg keyring"},
		{"ERRSIG", "gpg could not check it"},
	}
)

// VerifyCommit asks git verify-commit about a commit's signature. A commit
// without one does not verify, with the reason "not signed".
func (r *Repo) VerifyCommit(ctx context.Context, sha string) (Verification, error) {
	if strings.HasPrefix(sha, "-") {
		return Verification{}, fmt.Errorf("revision %q must not start with '-'", sha)
	}
	cmd := r.command(ctx, "verify-commit", "--raw", sha)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && (!errors.As(err, &exitErr) || ctx.Err() != nil) {
		return Verification{}, fmt.Errorf("git verify-commit %s: %w", sha, err)
	}
	out := output.String()
	v := Verification{Verified: err == nil}
	if m := validSigRE.FindStringSubmatch(out); m != nil {
		v.Signer = strings.ToUpper(m[1])
	} else if m := sshGoodRE.FindStringSubmatch(out); m != nil {
		v.Signer = m[1]
	}
	if v.Verified {
		return v, nil
	}
	v.Reason = verifyReason(out)
	return v, nil
}

// verifyReason turns git verify-commit's output on a refused signature into
// a few words, never quoting the signature.
func verifyReason(out string) string {
	for _, s := range gpgStatus {
		if strings.Contains(out, "[GNUPG:] "+s.keyword+" ") {
			return s.reason
		}
	}
	switch {
	case strings.TrimSpace(out) == "":
		return "not signed"
	case strings.Contains(out, "gpg.ssh.allowedSignersFile needs to be configured"):
		return "gpg.ssh.allowedSignersFile is not set"
	case strings.Contains(out, "Unable to open allowed keys file"):
		return "gpg.ssh.allowedSignersFile cannot be read"
	case strings.Contains(out, "No principal matched"):
		return "the key is not in gpg.ssh.allowedSignersFile"
	}
	for line := range strings.SplitSeq(out, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "error: "))
		if line != "" && !strings.HasPrefix(line, "[GNUPG:]") && !strings.HasPrefix(line, "-----") {
			return markdown.Clip(line, 80)
		}
	}
	return "git verify-commit refused it"
}
