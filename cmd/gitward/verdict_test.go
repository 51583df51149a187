package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// change is a git repository for previewing change control: a base commit
// with the given policy and one app, and helpers to add commits on top.
type change struct {
	t   *testing.T
	dir string
}

// sshKey makes an ed25519 key pair and returns the private key's path and
// the public key line.
func sshKey(t *testing.T, name string) (path, pub string) {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	path = filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	data, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.TrimSpace(string(data))
}

func newChange(t *testing.T, policy string) *change {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	c := &change{t: t, dir: t.TempDir()}
	c.git(nil, "init", "-q", "-b", "main")
	c.commit("", "base", map[string]string{
		".gitward.yaml":                   policy,
		"clusters/app/kustomization.yaml": "namespace: app\nresources: [config.yaml]\n",
		"clusters/app/config.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n",
	})
	return c
}

// git runs git in the repository as Dev, with env added.
func (c *change) git(env []string, args ...string) string {
	c.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", c.dir}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+c.dir, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files and commits them, signed with the SSH key at
// signingKey unless it is "", and returns the commit's short SHA.
func (c *change) commit(signingKey, message string, files map[string]string, env ...string) string {
	c.t.Helper()
	for name, content := range files {
		p := filepath.Join(c.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			c.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
	c.git(nil, "add", "-A")
	args := []string{"-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "-m", message}
	if signingKey != "" {
		args = []string{"-c", "gpg.format=ssh", "-c", "user.signingkey=" + signingKey, "commit", "-q", "--allow-empty", "-S", "-m", message}
	}
	c.git(env, args...)
	return c.git(nil, "rev-parse", "--short=7", "HEAD")
}

// preview runs gitward preview of the last n commits.
func (c *change) preview(n int, format string) result {
	c.t.Helper()
	return gitward(c.t, nil, "preview", "--repo", c.dir, "--base", fmt.Sprintf("HEAD~%d", n), "--head", "HEAD", "--format", format)
}

// ruleLine returns the change-control table row of a rule.
func ruleLine(t *testing.T, out, rule string) string {
	t.Helper()
	line, ok := lineWith(out, "| ", "| "+rule+" |")
	if !ok {
		t.Fatalf("no row for %q in:\n%s", rule, out)
	}
	return line
}

const secretYAML = `apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: do-not-show-me
`

func TestPreviewDecidesChangeControlLocally(t *testing.T) {
	key, pub := sshKey(t, "dev")
	otherKey, _ := sshKey(t, "other")
	signed := "version: 1\nsignatures:\n  allowed_signers:\n    ssh:\n      - dev@example.com " + pub + "\n"

	t.Run("an unsigned commit fails the signed-commits rule and exits 1", func(t *testing.T) {
		c := newChange(t, signed)
		sha := c.commit("", "unsigned", map[string]string{"clusters/app/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: debug\n"})
		r := c.preview(1, "markdown")
		if r.code != 1 || !strings.Contains(r.stderr, "change control fails: signed commits") {
			t.Fatalf("exit %d, stderr %q; want 1 naming the rule", r.code, r.stderr)
		}
		if got, want := ruleLine(t, r.stdout, "signed commits"), "| ❌ | signed commits | commit "+sha+" is not signed |"; got != want {
			t.Errorf("row\n got %s\nwant %s", got, want)
		}
		if !strings.Contains(r.stdout, "\n## gitward · change control (local preview)\n") {
			t.Errorf("no change-control section after the rendered diff:\n%s", r.stdout)
		}
	})

	t.Run("a commit an allowed signer signed with SSH passes, approvals pending, exit 0", func(t *testing.T) {
		c := newChange(t, signed)
		c.commit(key, "signed", map[string]string{"clusters/app/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: warn\n"})
		r := c.preview(1, "markdown")
		if r.code != 0 {
			t.Fatalf("exit %d, stderr %q; want 0", r.code, r.stderr)
		}
		for rule, want := range map[string]string{
			"signed commits":    "| ✅ | signed commits | 1 commit signed and verified, by allowed signers |",
			"approvals":         "| ⏳ | approvals | pending (decided on the pull request): 0 of 1 approval, waiting for 1 |",
			"changes requested": "| ⏳ | changes requested | pending (decided on the pull request): a reviewer's request for changes blocks until it is answered |",
			"plaintext secrets": "| ✅ | plaintext secrets | no plaintext secrets |",
		} {
			if got := ruleLine(t, r.stdout, rule); got != want {
				t.Errorf("row\n got %s\nwant %s", got, want)
			}
		}
		if !strings.Contains(r.stdout, "Only the pull request can decide approvals") || !strings.Contains(r.stdout, "against signatures.allowed_signers") {
			t.Errorf("the notes do not say what is left to the pull request and how signatures were checked:\n%s", r.stdout)
		}
	})

	t.Run("a commit signed by a key that is not allowed fails", func(t *testing.T) {
		c := newChange(t, signed)
		sha := c.commit(otherKey, "signed by someone else", nil)
		r := c.preview(1, "markdown")
		row := ruleLine(t, r.stdout, "signed commits")
		if r.code != 1 || !strings.HasPrefix(row, "| ❌ | signed commits | commit "+sha+" has a signature that does not verify") {
			t.Errorf("exit %d, row %s", r.code, row)
		}
	})

	t.Run("a plaintext Secret fails, naming its file and line, never its value", func(t *testing.T) {
		c := newChange(t, signed)
		c.commit(key, "add a secret", map[string]string{
			"clusters/app/kustomization.yaml": "namespace: app\nresources: [config.yaml, secret.yaml]\n",
			"clusters/app/secret.yaml":        "# the database\n" + secretYAML,
		})
		r := c.preview(1, "markdown")
		if r.code != 1 || !strings.Contains(r.stderr, "change control fails: plaintext secrets") {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		want := "| ❌ | plaintext secrets | 1 plaintext Secret: Secret app/db at clusters/app/secret.yaml:3 |"
		if got := ruleLine(t, r.stdout, "plaintext secrets"); got != want {
			t.Errorf("row\n got %s\nwant %s", got, want)
		}
		if strings.Contains(r.stdout+r.stderr, "do-not-show-me") {
			t.Error("the preview shows the Secret's value")
		}
	})

	t.Run("authors and committers are named: their approvals will not count", func(t *testing.T) {
		c := newChange(t, signed)
		first := c.commit(key, "one", nil, "GIT_AUTHOR_NAME=Dana", "GIT_AUTHOR_EMAIL=dana@example.com")
		second := c.commit(key, "two", nil, "GIT_COMMITTER_NAME=Erin", "GIT_COMMITTER_EMAIL=erin@example.com")
		r := c.preview(2, "markdown")
		want := "| ✅ | separation of duties | authors cannot approve: Dana (dana@example.com, authored " + first +
			"), Dev (dev@example.com, committed " + first + "), Erin (erin@example.com, committed " + second +
			"); nor can the pull request's author or anyone a Co-authored-by trailer names |"
		if got := ruleLine(t, r.stdout, "separation of duties"); got != want {
			t.Errorf("row\n got %s\nwant %s", got, want)
		}
	})

	t.Run("an approval rule whose paths the change does not touch is decided: it does not apply", func(t *testing.T) {
		c := newChange(t, signed+"approvals:\n  rules:\n    - name: prod\n      paths: [\"clusters/prod/**\"]\n      required: 2\n")
		c.commit(key, "staging only", nil)
		r := c.preview(1, "markdown")
		if got, want := ruleLine(t, r.stdout, "approvals: prod"), "| ✅ | approvals: prod | does not apply: no changed file matches clusters/prod/** |"; got != want || r.code != 0 {
			t.Errorf("exit %d, row\n got %s\nwant %s", r.code, got, want)
		}
	})

	t.Run("rules the policy turns off pass", func(t *testing.T) {
		c := newChange(t, "version: 1\nsignatures:\n  require_signed_commits: false\nsecrets:\n  forbid_plaintext: false\n")
		c.commit("", "unsigned, with a secret", map[string]string{
			"clusters/app/kustomization.yaml": "namespace: app\nresources: [config.yaml, secret.yaml]\n",
			"clusters/app/secret.yaml":        secretYAML,
		})
		if r := c.preview(1, "markdown"); r.code != 0 {
			t.Errorf("exit %d, stderr %q; want 0", r.code, r.stderr)
		}
	})
}

func TestPreviewVerifiesSignaturesWithGitWithoutAllowedSigners(t *testing.T) {
	key, pub := sshKey(t, "dev")
	c := newChange(t, "version: 1\n")
	sha := c.commit(key, "signed", nil)

	// git verify-commit needs to know the SSH key; without it, the commit
	// does not count as verified.
	c.git(nil, "config", "gpg.ssh.allowedSignersFile", "")
	r := c.preview(1, "markdown")
	want := "| ❌ | signed commits | commit " + sha + " has a signature that does not verify (gpg.ssh.allowedSignersFile cannot be read) |"
	if got := ruleLine(t, r.stdout, "signed commits"); got != want || r.code != 1 {
		t.Errorf("exit %d, row\n got %s\nwant %s", r.code, got, want)
	}
	if !strings.Contains(r.stdout, "Signatures were verified with git verify-commit") {
		t.Errorf("the notes do not say git verify-commit decided:\n%s", r.stdout)
	}

	signers := filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(signers, []byte("dev@example.com "+pub+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.git(nil, "config", "gpg.ssh.allowedSignersFile", signers)
	r = c.preview(1, "markdown")
	if got, want := ruleLine(t, r.stdout, "signed commits"), "| ✅ | signed commits | 1 commit signed and verified |"; got != want || r.code != 0 {
		t.Errorf("exit %d (stderr %q), row\n got %s\nwant %s", r.code, r.stderr, got, want)
	}
}

func TestPreviewChangeControlAsJSON(t *testing.T) {
	key, pub := sshKey(t, "dev")
	c := newChange(t, "version: 1\nsignatures:\n  allowed_signers:\n    ssh:\n      - dev@example.com "+pub+"\n")
	c.commit(key, "signed", nil)
	c.commit("", "unsigned", nil)
	r := c.preview(2, "json")
	if r.code != 1 {
		t.Fatalf("exit %d, stderr %q; want 1", r.code, r.stderr)
	}
	var out struct {
		RenderedDiff  json.RawMessage
		ChangeControl struct {
			State string
			Rules []struct{ Name, State, Reason string }
			Notes []string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if len(out.RenderedDiff) == 0 || out.ChangeControl.State != "fail" || len(out.ChangeControl.Notes) == 0 {
		t.Errorf("renderedDiff %s, changeControl %+v", out.RenderedDiff, out.ChangeControl)
	}
	states := map[string]string{}
	for _, rule := range out.ChangeControl.Rules {
		states[rule.Name] = rule.State
	}
	want := map[string]string{
		"signed commits": "fail", "separation of duties": "pass", "approvals": "pending",
		"changes requested": "pending", "plaintext secrets": "pass",
	}
	for name, state := range want {
		if states[name] != state {
			t.Errorf("rule %q is %q, want %q", name, states[name], state)
		}
	}
}

func TestPreviewVerifiesOpenPGPSignersWithKeysFromTheKeyring(t *testing.T) {
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
	t.Cleanup(func() { _ = exec.Command("gpgconf", "--kill", "all").Run() })
	fingerprint := func(uid string) string {
		t.Helper()
		if out, err := exec.Command("gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never").CombinedOutput(); err != nil {
			t.Fatalf("gpg: %v\n%s", err, out)
		}
		out, err := exec.Command("gpg", "--batch", "--with-colons", "--list-keys", uid).Output()
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(out)) {
			if f := strings.Split(line, ":"); f[0] == "fpr" {
				return f[9]
			}
		}
		t.Fatalf("no fingerprint for %s", uid)
		return ""
	}
	dev, other := fingerprint("Dev <dev@example.com>"), fingerprint("Other <other@example.com>")

	c := newChange(t, "version: 1\nsignatures:\n  allowed_signers:\n    openpgp: [\""+dev+"\"]\n")
	c.git(nil, "-c", "user.signingkey="+dev, "commit", "-q", "--allow-empty", "-S", "-m", "by dev")
	r := c.preview(1, "markdown")
	if got, want := ruleLine(t, r.stdout, "signed commits"), "| ✅ | signed commits | 1 commit signed and verified, by allowed signers |"; got != want || r.code != 0 {
		t.Errorf("exit %d (stderr %q), row\n got %s\nwant %s", r.code, r.stderr, got, want)
	}

	c.git(nil, "-c", "user.signingkey="+other, "commit", "-q", "--allow-empty", "-S", "-m", "by other")
	sha := c.git(nil, "rev-parse", "--short=7", "HEAD")
	r = c.preview(1, "markdown")
	row := ruleLine(t, r.stdout, "signed commits")
	if r.code != 1 || !strings.HasPrefix(row, "| ❌ | signed commits | commit "+sha+" has a signature that does not verify (signed by OpenPGP key 0x") {
		t.Errorf("exit %d, row %s; want the other key's commit to fail", r.code, row)
	}
}
