package localgit_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/localgit"
)

// sshKey makes an ed25519 key pair and returns the private key's path and
// the public key line.
func sshKey(t *testing.T) (path, pub string) {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	path = filepath.Join(t.TempDir(), "key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dev", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	data, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.TrimSpace(string(data))
}

// gitWith runs git in dir with env added to the test repository's.
func gitWith(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=A", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=A", "GIT_COMMITTER_EMAIL=a@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestCommitsReadAChangeAsAForgePresentsIt(t *testing.T) {
	key, pub := sshKey(t)
	dir, git := gitRepo(t)
	git("commit", "-q", "--allow-empty", "-m", "base")
	base := git("rev-parse", "HEAD")

	message := "Raise the limits\n\nThe pods ran out of memory.\n\nCo-authored-by: Bo <bo@example.com>"
	gitWith(t, dir, []string{
		"GIT_AUTHOR_NAME=Dana Q", "GIT_AUTHOR_EMAIL=dana@example.com", "GIT_AUTHOR_DATE=1714579008 +0200",
		"GIT_COMMITTER_NAME=Erin", "GIT_COMMITTER_EMAIL=erin@example.com", "GIT_COMMITTER_DATE=1714580000 -0130",
	}, "commit", "-q", "--allow-empty", "-m", message)
	first := git("rev-parse", "HEAD")
	git("-c", "gpg.format=ssh", "-c", "user.signingkey="+key, "commit", "-q", "--allow-empty", "-S", "-m", "signed")
	second := git("rev-parse", "HEAD")
	git("checkout", "-q", "-b", "side", base)
	git("commit", "-q", "--allow-empty", "-m", "side")
	side := git("rev-parse", "HEAD")
	git("checkout", "-q", "main")
	git("merge", "-q", "--no-ff", "-m", "merge side", "side")
	merge := git("rev-parse", "HEAD")

	r := newRepo(t, dir)
	commits, err := r.Commits(t.Context(), base, merge)
	if err != nil {
		t.Fatal(err)
	}
	var shas []string
	for _, c := range commits {
		shas = append(shas, c.SHA)
	}
	if len(shas) != 4 || shas[3] != merge || !reflect.DeepEqual(commits[3].Parents, []string{second, side}) {
		t.Fatalf("commits %v (merge parents %v); want the four commits after base, the merge last", shas, commits[len(commits)-1].Parents)
	}

	c := commits[0]
	if c.SHA != first {
		c = commits[1]
	}
	if c.SHA != first || c.Message != message || c.Author.Name != "Dana Q" || c.Author.Email != "dana@example.com" ||
		c.Author.Date.Format(time.RFC3339) != "2024-05-01T17:56:48+02:00" || c.Author.Login != "" ||
		c.Committer.Name != "Erin" || c.Committer.Email != "erin@example.com" ||
		c.Committer.Date.Format(time.RFC3339) != "2024-05-01T14:43:20-01:30" || c.Signature != (forge.Signature{}) {
		t.Errorf("first commit = %+v", c)
	}

	var s forge.Commit
	for _, c := range commits {
		if c.SHA == second {
			s = c
		}
	}
	sig := s.Signature
	if !strings.HasPrefix(sig.Signature, "-----BEGIN SSH SIGNATURE-----\n") || !strings.HasSuffix(sig.Signature, "\n-----END SSH SIGNATURE-----\n") {
		t.Errorf("signature = %q, want the armored SSH signature, unfolded", sig.Signature)
	}
	if strings.Contains(sig.Payload, "gpgsig") || !strings.HasPrefix(sig.Payload, "tree ") || !strings.HasSuffix(sig.Payload, "\n\nsigned\n") {
		t.Errorf("payload = %q, want the commit object without its signature", sig.Payload)
	}
	// The payload and signature verify on their own, as a forge's do.
	signers := filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(signers, []byte("a@example.com "+pub+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sigFile := filepath.Join(t.TempDir(), "sig")
	if err := os.WriteFile(sigFile, []byte(sig.Signature), 0o600); err != nil {
		t.Fatal(err)
	}
	verify := exec.Command("ssh-keygen", "-Y", "verify", "-f", signers, "-I", "a@example.com", "-n", "git", "-s", sigFile)
	verify.Stdin = bytes.NewReader([]byte(sig.Payload))
	if out, err := verify.CombinedOutput(); err != nil {
		t.Errorf("ssh-keygen -Y verify over the payload: %v\n%s", err, out)
	}

	if none, err := r.Commits(t.Context(), merge, base); err != nil || len(none) != 0 {
		t.Errorf("Commits from head back to base = %v, %v; want none", none, err)
	}
	if _, err := r.Commits(t.Context(), "--all", merge); err == nil {
		t.Error("Commits accepted an option as a revision")
	}
}

func TestVerifyCommitGivesGitsVerdict(t *testing.T) {
	key, pub := sshKey(t)
	dir, git := gitRepo(t)
	git("commit", "-q", "--allow-empty", "-m", "unsigned")
	unsigned := git("rev-parse", "HEAD")
	git("-c", "gpg.format=ssh", "-c", "user.signingkey="+key, "commit", "-q", "--allow-empty", "-S", "-m", "signed")
	signed := git("rev-parse", "HEAD")
	_, otherPub := sshKey(t)
	r := newRepo(t, dir)

	listing := func(line string) {
		t.Helper()
		p := filepath.Join(t.TempDir(), "allowed_signers")
		if err := os.WriteFile(p, []byte(line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		git("config", "gpg.ssh.allowedSignersFile", p)
	}
	tests := []struct {
		name  string
		setup func()
		sha   string
		want  localgit.Verification
	}{
		{"an unsigned commit is not verified", func() {}, unsigned, localgit.Verification{Reason: "not signed"}},
		{"an SSH signature needs gpg.ssh.allowedSignersFile", func() {}, signed, localgit.Verification{Reason: "gpg.ssh.allowedSignersFile is not set"}},
		{"an SSH key missing from the file is refused", func() { listing("a@example.com " + otherPub) }, signed,
			localgit.Verification{Reason: "the key is not in gpg.ssh.allowedSignersFile"}},
		{"an SSH key in the file verifies, naming its principal", func() { listing("dev@example.com " + pub) }, signed,
			localgit.Verification{Verified: true, Signer: "dev@example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			got, err := r.VerifyCommit(t.Context(), tc.sha)
			if err != nil || got != tc.want {
				t.Errorf("VerifyCommit = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}

	t.Run("an OpenPGP signature verifies with the keyring, naming the primary key", func(t *testing.T) {
		if _, err := exec.LookPath("gpg"); err != nil {
			t.Skip("gpg is not installed")
		}
		// gpg-agent's socket lives in GNUPGHOME, whose path must be short.
		home, err := os.MkdirTemp("", "gpg-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(home) })
		t.Setenv("GNUPGHOME", home)
		stopAgent := func() { _ = exec.Command("gpgconf", "--kill", "all").Run() }
		t.Cleanup(stopAgent)
		gen := exec.Command("gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Dev <dev@example.com>", "ed25519", "sign", "never")
		if out, err := gen.CombinedOutput(); err != nil {
			t.Fatalf("gpg: %v\n%s", err, out)
		}
		list, err := exec.Command("gpg", "--batch", "--with-colons", "--list-keys", "dev@example.com").Output()
		if err != nil {
			t.Fatal(err)
		}
		fpr := ""
		for line := range strings.Lines(string(list)) {
			if f := strings.Split(line, ":"); f[0] == "fpr" && fpr == "" {
				fpr = f[9]
			}
		}
		git("-c", "user.signingkey="+fpr, "commit", "-q", "--allow-empty", "-S", "-m", "gpg-signed")
		got, err := r.VerifyCommit(t.Context(), git("rev-parse", "HEAD"))
		if err != nil || got != (localgit.Verification{Verified: true, Signer: fpr}) {
			t.Errorf("VerifyCommit = %+v, %v; want verified by %s", got, err, fpr)
		}
		stopAgent()
		if err := os.RemoveAll(home); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(home, 0o700); err != nil {
			t.Fatal(err)
		}
		got, err = r.VerifyCommit(t.Context(), git("rev-parse", "HEAD"))
		if err != nil || got != (localgit.Verification{Reason: "unknown key: not in your gpg keyring"}) {
			t.Errorf("with an empty keyring, VerifyCommit = %+v, %v", got, err)
		}
	})
}
