package gitlabtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
	gl "gitlab.com/gitlab-org/api/client-go"
)

// TestActionsSendGitLabsHooksAndDeriveDiffsFromTrees: each action sends
// the hooks GitLab sends, in order, with the secret token, decoding as
// client-go's event types; a merge request's diffs are what its trees
// say changed.
func TestActionsSendGitLabsHooksAndDeriveDiffsFromTrees(t *testing.T) {
	var mu sync.Mutex
	var got []string
	var events [][]byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Gitlab-Token") != "s3cret" || r.Header.Get("X-Gitlab-Event-UUID") == "" {
			t.Errorf("%s without the token or a UUID: %v", r.Header.Get("X-Gitlab-Event"), r.Header)
		}
		mu.Lock()
		got = append(got, r.Header.Get("X-Gitlab-Event"))
		events = append(events, body)
		mu.Unlock()
	}))
	defer hook.Close()
	srv := gitlabtest.New(t)
	srv.AddProject("a/b", gitlabtest.ProjectOptions{})
	srv.AddUser("alice")
	srv.AddUser("bob")
	srv.SendWebhooks(hook.URL, "s3cret")
	alice := srv.As("alice")
	alice.Push("a/b", "main", gitlabtest.NewCommit{Message: "base", Files: map[string]string{"keep": "1", "change": "old\n", "drop": "x"}})
	first := alice.Push("a/b", "topic", gitlabtest.NewCommit{Message: "one", Files: map[string]string{"change": "new\n"}, Delete: []string{"drop"}, Verification: "verified"})
	iid := alice.OpenMergeRequest("a/b", "topic", "Topic")
	second := alice.Push("a/b", "topic", gitlabtest.NewCommit{Message: "two", Files: map[string]string{"add": "a\n"}})
	srv.As("bob").Approve("a/b", iid)
	note := srv.As("bob").Note("a/b", iid, "lgtm")
	merge := srv.As("bob").Merge("a/b", iid)

	want := []string{"Push Hook", "Push Hook", "Merge Request Hook", "Push Hook", "Merge Request Hook", "Merge Request Hook", "Note Hook", "Merge Request Hook", "Push Hook"}
	if len(got) != len(want) {
		t.Fatalf("hooks %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("hooks %q, want %q", got, want)
		}
	}
	var update gl.MergeEvent
	if err := json.Unmarshal(events[4], &update); err != nil {
		t.Fatal(err)
	}
	if oa := update.ObjectAttributes; oa.Action != "update" || oa.OldRev != first || oa.LastCommit.ID != second || update.User.Username != "alice" {
		t.Errorf("update hook: action %q oldrev %q last commit %q by %q", oa.Action, oa.OldRev, oa.LastCommit.ID, update.User.Username)
	}
	var n gl.MergeCommentEvent
	if err := json.Unmarshal(events[6], &n); err != nil {
		t.Fatal(err)
	}
	if n.ObjectAttributes.ID != note || n.MergeRequest.IID != iid || n.ObjectAttributes.NoteableType != "MergeRequest" {
		t.Errorf("note hook: %+v", n.ObjectAttributes)
	}
	var push gl.PushEvent
	if err := json.Unmarshal(events[8], &push); err != nil {
		t.Fatal(err)
	}
	if push.After != merge || push.Ref != "refs/heads/main" || push.TotalCommitsCount != 3 {
		t.Errorf("merge push hook: after %s ref %s, %d commits", push.After, push.Ref, push.TotalCommitsCount)
	}

	diffs, _, err := srv.Client().MergeRequests.ListMergeRequestDiffs("a/b", iid, nil)
	if err != nil {
		t.Fatal(err)
	}
	changed := map[string]string{}
	for _, d := range diffs {
		switch {
		case d.NewFile:
			changed[d.NewPath] = "added"
		case d.DeletedFile:
			changed[d.OldPath] = "deleted"
		default:
			changed[d.NewPath] = "modified"
		}
	}
	if len(changed) != 3 || changed["add"] != "added" || changed["drop"] != "deleted" || changed["change"] != "modified" {
		t.Errorf("diffs say %v", changed)
	}
}
