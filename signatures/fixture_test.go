package signatures_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/forge"
)

// The fixture is made once per test binary with the real tools: OpenPGP
// and SSH keys, and a git repository with commits signed by them. Tests
// read each commit as GitHub's API presents it (see githubView).
var (
	fx        *fixture
	fxErr     error
	fxMissing string // a tool the machine lacks; tests skip
)

type pgpKey struct {
	fpr     string // primary key fingerprint
	signID  string // key ID of the key that signs (a subkey for carol)
	armored string
}

type sshKey struct {
	path string // private key
	pub  string // "ssh-ed25519 AAAA… comment"
	fpr  string // "SHA256:…"
}

type fixture struct {
	root, gnupg, repo string

	// alice is allowed; mallory is not, though her key's user ID claims
	// to be Alice's; carol signs with a subkey; eve's key expired; rob
	// revoked his after signing.
	alice, mallory, carol, eve, rob pgpKey
	aliceSSH, mallorySSH            sshKey

	commits map[string]forge.Commit
}

func TestMain(m *testing.M) {
	os.Exit(func() int {
		for _, tool := range []string{"git", "gpg", "gpgconf", "ssh-keygen"} {
			if _, err := exec.LookPath(tool); err != nil {
				fxMissing = tool
				return m.Run()
			}
		}
		root, err := os.MkdirTemp("", "gws-")
		if err != nil {
			fxErr = err
			return m.Run()
		}
		defer os.RemoveAll(root)
		fx, fxErr = build(root)
		// Signing started a gpg-agent for the fixture's home; stop it.
		defer exec.Command("gpgconf", "--homedir", filepath.Join(root, "g"), "--kill", "gpg-agent").Run()
		return m.Run()
	}())
}

// need returns the fixture, or skips the test when a tool is missing.
func need(t *testing.T) *fixture {
	t.Helper()
	if fxMissing != "" {
		t.Skipf("%s is not installed", fxMissing)
	}
	if fxErr != nil {
		t.Fatalf("making keys and signed commits: %v", fxErr)
	}
	return fx
}

func build(root string) (*fixture, error) {
	f := &fixture{root: root, gnupg: filepath.Join(root, "g"), repo: filepath.Join(root, "repo"), commits: map[string]forge.Commit{}}
	if err := os.Mkdir(f.gnupg, 0o700); err != nil {
		return nil, err
	}
	var err error
	gen := func(uid, algo, usage, expire string, extra ...string) pgpKey {
		if err != nil {
			return pgpKey{}
		}
		before := f.primaries()
		args := append(extra, "--yes", "--passphrase", "", "--quick-gen-key", uid, algo, usage, expire)
		if _, err = f.gpg(args...); err != nil {
			return pgpKey{}
		}
		var k pgpKey
		for _, fp := range f.primaries() {
			if !slices.Contains(before, fp) {
				k.fpr = fp
			}
		}
		if len(k.fpr) != 40 {
			err = fmt.Errorf("no new key for %s", uid)
			return pgpKey{}
		}
		k.signID = k.fpr[24:]
		return k
	}
	f.alice = gen("Alice <alice@example.com>", "ed25519", "sign", "never")
	f.mallory = gen("Alice <alice@example.com>", "ed25519", "sign", "never")
	f.carol = gen("Carol <carol@example.com>", "ed25519", "cert", "never")
	f.eve = gen("Eve <eve@example.com>", "ed25519", "sign", "1y", "--faked-system-time", "20200101T000000")
	f.rob = gen("Rob <rob@example.com>", "ed25519", "sign", "never")
	if err != nil {
		return nil, err
	}
	// Carol certifies with her primary key and signs with a subkey.
	if _, err := f.gpg("--passphrase", "", "--quick-add-key", f.carol.fpr, "ed25519", "sign", "never"); err != nil {
		return nil, err
	}
	out, err := f.gpg("--with-colons", "--list-keys", f.carol.fpr)
	if err != nil {
		return nil, err
	}
	for _, l := range strings.Split(out, "\n") {
		if fields := strings.Split(l, ":"); fields[0] == "sub" && len(fields) > 4 {
			f.carol.signID = fields[4]
		}
	}
	for _, k := range []*pgpKey{&f.alice, &f.mallory, &f.carol, &f.eve, &f.rob} {
		if k.armored, err = f.gpg("--armor", "--export", k.fpr); err != nil {
			return nil, err
		}
	}
	for name, k := range map[string]*sshKey{"alice": &f.aliceSSH, "mallory": &f.mallorySSH} {
		k.path = filepath.Join(root, name+"_ed25519")
		if _, err := run("", nil, nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", k.path); err != nil {
			return nil, err
		}
		pub, err := os.ReadFile(k.path + ".pub")
		if err != nil {
			return nil, err
		}
		k.pub = strings.TrimSpace(string(pub))
		fp, err := run("", nil, nil, "ssh-keygen", "-l", "-f", k.path+".pub")
		if err != nil {
			return nil, err
		}
		k.fpr = strings.Fields(fp)[1]
	}

	// A wrapper that signs as if it were June 2020, when Eve's key was
	// still valid.
	oldGPG := filepath.Join(root, "gpg-2020")
	if err := os.WriteFile(oldGPG, []byte("#!/bin/sh\nexec gpg --faked-system-time 20200601T000000 \"$@\"\n"), 0o700); err != nil {
		return nil, err
	}
	if _, err := f.git("", "init", "-q", "-b", "main", f.repo); err != nil {
		return nil, err
	}
	now := time.Now()
	june2019 := time.Date(2019, 6, 1, 12, 0, 0, 0, time.UTC)
	june2020 := time.Date(2020, 6, 1, 12, 0, 0, 0, time.UTC)
	sshSign := func(k sshKey) []string {
		return []string{"-c", "gpg.format=ssh", "-c", "user.signingkey=" + k.path, "commit", "-S"}
	}
	pgpSign := func(k pgpKey) []string { return []string{"-c", "user.signingkey=" + k.fpr, "commit", "-S"} }
	for _, c := range []struct {
		name string
		when time.Time
		args []string
	}{
		{"ssh-alice", now, sshSign(f.aliceSSH)},
		{"ssh-mallory", now, sshSign(f.mallorySSH)},
		{"ssh-alice-2019", june2019, sshSign(f.aliceSSH)},
		{"gpg-alice", now, pgpSign(f.alice)},
		{"gpg-mallory", now, pgpSign(f.mallory)},
		{"gpg-carol", now, pgpSign(f.carol)},
		{"gpg-eve-2020", june2020, append([]string{"-c", "gpg.program=" + oldGPG}, pgpSign(f.eve)...)},
		{"gpg-rob", now, pgpSign(f.rob)},
		{"unsigned", now, []string{"commit"}},
	} {
		if err := os.WriteFile(filepath.Join(f.repo, c.name), []byte(c.name+"\n"), 0o644); err != nil {
			return nil, err
		}
		if _, err := f.git(f.repo, "add", c.name); err != nil {
			return nil, err
		}
		date := []string{"GIT_AUTHOR_DATE=" + c.when.Format(time.RFC3339), "GIT_COMMITTER_DATE=" + c.when.Format(time.RFC3339)}
		if _, err := f.gitEnv(f.repo, date, append(c.args, "-q", "-m", "Add "+c.name)...); err != nil {
			return nil, err
		}
		sha, err := f.git(f.repo, "rev-parse", "HEAD")
		if err != nil {
			return nil, err
		}
		obj, err := f.git(f.repo, "cat-file", "commit", strings.TrimSpace(sha))
		if err != nil {
			return nil, err
		}
		f.commits[c.name] = githubView(strings.TrimSpace(sha), obj)
	}
	// Rob revokes his key with the certificate gpg made with it, and
	// publishes the revoked key.
	rev, err := os.ReadFile(filepath.Join(f.gnupg, "openpgp-revocs.d", f.rob.fpr+".rev"))
	if err != nil {
		return nil, err
	}
	if _, err := f.gpgIn(bytes.ReplaceAll(rev, []byte(":-----BEGIN"), []byte("-----BEGIN")), "--import"); err != nil {
		return nil, err
	}
	if f.rob.armored, err = f.gpg("--armor", "--export", f.rob.fpr); err != nil {
		return nil, err
	}
	return f, nil
}

// githubView presents a commit object the way GitHub's API does: the
// payload is the object without its gpgsig header, and the signature is
// that header's value with the continuation lines unfolded.
func githubView(sha, obj string) forge.Commit {
	header, message, _ := strings.Cut(obj, "\n\n")
	var kept, sig []string
	inSig := false
	c := forge.Commit{SHA: sha}
	for _, line := range strings.Split(header, "\n") {
		switch {
		case strings.HasPrefix(line, "gpgsig "):
			inSig = true
			sig = append(sig, strings.TrimPrefix(line, "gpgsig "))
			continue
		case inSig && strings.HasPrefix(line, " "):
			sig = append(sig, line[1:])
			continue
		}
		inSig = false
		kept = append(kept, line)
		if rest, ok := strings.CutPrefix(line, "committer "); ok {
			c.Committer = identity(rest)
		}
		if rest, ok := strings.CutPrefix(line, "author "); ok {
			c.Author = identity(rest)
		}
	}
	c.Signature.Payload = strings.Join(kept, "\n") + "\n\n" + message
	c.Message = message
	if len(sig) > 0 {
		c.Signature.Signature = strings.Join(sig, "\n") + "\n"
	}
	return c
}

// identity reads "Name <email> 1714579008 +0200".
func identity(s string) forge.Identity {
	name, rest, _ := strings.Cut(s, " <")
	email, rest, _ := strings.Cut(rest, "> ")
	secs, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
	return forge.Identity{Name: name, Email: email, Date: time.Unix(secs, 0).UTC()}
}

// primaries lists the fingerprints of the primary keys in the fixture's
// keyring.
func (f *fixture) primaries() []string {
	out, err := f.gpg("--with-colons", "--list-keys")
	if err != nil {
		return nil
	}
	var fprs []string
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "pub:") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "fpr:") {
			fprs = append(fprs, strings.Split(lines[i+1], ":")[9])
		}
	}
	return fprs
}

func (f *fixture) gpg(args ...string) (string, error) { return f.gpgIn(nil, args...) }

func (f *fixture) gpgIn(stdin []byte, args ...string) (string, error) {
	return run("", stdin, []string{"GNUPGHOME=" + f.gnupg}, "gpg", append([]string{"--batch", "--no-tty"}, args...)...)
}

func (f *fixture) git(dir string, args ...string) (string, error) {
	return f.gitEnv(dir, nil, args...)
}

func (f *fixture) gitEnv(dir string, env []string, args ...string) (string, error) {
	env = append([]string{
		"GNUPGHOME=" + f.gnupg, "HOME=" + f.root,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Alice", "GIT_AUTHOR_EMAIL=alice@example.com",
		"GIT_COMMITTER_NAME=Alice", "GIT_COMMITTER_EMAIL=alice@example.com",
	}, env...)
	return run(dir, nil, env, "git", args...)
}

// run runs a tool and returns its standard output.
func run(dir string, stdin []byte, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}
