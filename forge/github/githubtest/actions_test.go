package githubtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gitward/gitward/forge/github/githubtest"
)

// sshKey makes an ed25519 key with the real ssh-keygen and returns a
// signer and the public key.
func sshKey(t *testing.T, name string) (func(string) (string, error), string) {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	key := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return func(payload string) (string, error) {
		cmd := exec.Command("ssh-keygen", "-q", "-Y", "sign", "-n", "git", "-f", key)
		cmd.Stdin = strings.NewReader(payload)
		out, err := cmd.Output()
		return string(out), err
	}, string(pub)
}

type hook struct {
	Event, Action string
	Valid         bool
}

func TestUserActionsChangeStateAndSendSignedWebhooks(t *testing.T) {
	gh := githubtest.New(t)
	gh.AddInstallation(1, "acme")
	gh.AddRepo(1, "acme", "platform", "main")
	var mu sync.Mutex
	var got []hook
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p struct {
			Action string `json:"action"`
		}
		_ = json.Unmarshal(body, &p)
		mu.Lock()
		got = append(got, hook{r.Header.Get("X-GitHub-Event"), p.Action, r.Header.Get("X-Hub-Signature-256") == githubtest.Sign(body, "s3cret")})
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer app.Close()
	gh.SendWebhooks(app.URL, "s3cret")

	aliceSign, alicePub := sshKey(t, "alice")
	mallorySign, _ := sshKey(t, "mallory")
	gh.AddSSHSigningKey("alice", alicePub)
	alice := githubtest.Identity{Name: "Alice", Email: "alice@example.com", Login: "alice"}
	main := gh.As("alice").Push("acme/platform", "main", githubtest.NewCommit{Author: alice, Message: "init", Files: map[string]string{"a.txt": "1\n", "b.txt": "x\n"}, Sign: aliceSign})
	own := gh.As("alice").Push("acme/platform", "topic", githubtest.NewCommit{Author: alice, Message: "change", Files: map[string]string{"a.txt": "2\n", "c.txt": "new\n"}, Delete: []string{"b.txt"}, Sign: aliceSign})
	n := gh.As("alice").OpenPullRequest("acme/platform", githubtest.NewPull{Title: "Change", Head: "topic"})
	other := gh.As("alice").Push("acme/platform", "topic", githubtest.NewCommit{Author: alice, Message: "more", Files: map[string]string{"a.txt": "3\n"}, Sign: mallorySign})
	unsigned := gh.As("alice").Push("acme/platform", "topic", githubtest.NewCommit{Author: alice, Message: "unsigned", Files: map[string]string{"a.txt": "4\n"}})
	rv := gh.As("bob").Review("acme/platform", n, githubtest.Approve, "")
	gh.As("carol").Dismiss("acme/platform", n, rv, "stale")
	id := gh.As("bob").Comment("acme/platform", n, "/approve")
	gh.As("bob").EditComment("acme/platform", id, "/unapprove")
	gh.As("bob").DeleteComment("acme/platform", id)
	merge := gh.As("carol").Merge("acme/platform", n)

	for sha, want := range map[string]string{main: "valid", own: "valid", other: "unknown_key", unsigned: "unsigned"} {
		c, ok := gh.GitCommit("acme/platform", sha)
		if !ok || c.Reason != want || c.Verified != (want == "valid") {
			t.Errorf("commit %.7s: verified %v reason %q, want %q", sha, c.Verified, c.Reason, want)
		}
	}
	if p := gh.PullRequests("acme/platform")[0]; p.HeadSHA != unsigned || !p.Merged || p.MergeCommitSHA != merge {
		t.Errorf("pull request after the merge: %+v", p)
	}
	if files := gh.Files("acme/platform", "main"); files["a.txt"] != "4\n" || files["c.txt"] != "new\n" || files["b.txt"] != "" {
		t.Errorf("main after the merge: %v", files)
	}
	want := []hook{
		{"push", "", true}, {"push", "", true}, {"pull_request", "opened", true},
		{"push", "", true}, {"pull_request", "synchronize", true}, {"push", "", true}, {"pull_request", "synchronize", true},
		{"pull_request_review", "submitted", true}, {"pull_request_review", "dismissed", true},
		{"issue_comment", "created", true}, {"issue_comment", "edited", true}, {"issue_comment", "deleted", true},
		{"pull_request", "closed", true}, {"push", "", true},
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("deliveries:\n got %v\nwant %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("delivery %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func TestAPullRequestsFilesComeFromItsTrees(t *testing.T) {
	gh := githubtest.New(t)
	gh.AddInstallation(1, "acme")
	gh.AddRepo(1, "acme", "platform", "main")
	a := gh.As("alice")
	id := githubtest.Identity{Name: "Alice", Email: "alice@example.com"}
	a.Push("acme/platform", "main", githubtest.NewCommit{Author: id, Files: map[string]string{"keep.txt": "k\n", "gone.txt": "g\n", "edit.txt": "1\n2\n"}})
	a.Push("acme/platform", "topic", githubtest.NewCommit{Author: id, Files: map[string]string{"edit.txt": "1\n3\n", "new.txt": "n\n"}, Delete: []string{"gone.txt"}})
	n := a.OpenPullRequest("acme/platform", githubtest.NewPull{Head: "topic", Title: "t"})
	client := gh.Client()
	req, _ := http.NewRequest("GET", gh.URL+"/repos/acme/platform/pulls/"+itoa(n)+"/files", nil)
	req.Header.Set("Authorization", "token "+gh.InstallationToken(1))
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var files []struct {
		Filename             string
		Status               string
		Additions, Deletions int
	}
	if err := json.NewDecoder(res.Body).Decode(&files); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range files {
		got[f.Filename] = f.Status + " +" + itoa(f.Additions) + " -" + itoa(f.Deletions)
	}
	want := map[string]string{"edit.txt": "modified +1 -1", "gone.txt": "removed +0 -1", "new.txt": "added +1 -0"}
	if len(got) != len(want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
}
