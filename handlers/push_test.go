package handlers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/audit"
	ghforge "github.com/gitward/gitward/forge/github"
	"github.com/gitward/gitward/forge/github/githubtest"
	"github.com/gitward/gitward/handlers"
)

// The real push payloads push to Codertocat/Hello-World's default branch,
// master, through installation 1.
const pushed = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"

func newPushFixture(t *testing.T) (*githubtest.Server, *handlers.Push) {
	t.Helper()
	gh := githubtest.New(t)
	gh.AddInstallation(ccInstallation, ccAuthor)
	gh.AddRepo(ccInstallation, ccAuthor, "Hello-World", "master")
	f := ghforge.New(gh.ClientCreator(t), ghforge.Options{AppID: githubtest.DefaultAppID})
	return gh, &handlers.Push{Forge: f, Pushes: &audit.Pushes{Version: "v1.2.3-test", Recheck: -1}}
}

func TestADirectPushIsRecordedAndReportedOnce(t *testing.T) {
	gh, h := newPushFixture(t)
	me := githubtest.Identity{Name: "Codertocat", Email: "21031067+Codertocat@users.noreply.github.com", Login: ccAuthor, Date: time.Now()}
	gh.AddCommit(ccRepo, 0, githubtest.Commit{SHA: pushed, Parents: []string{}, Author: me, Committer: me, Message: "Initial commit"})
	gh.SetRef(ccRepo, "heads/master", pushed)
	payload := githubtest.Payload(t, "push", "with-new-branch.payload.json")

	for delivery := range 2 {
		if err := h.Handle(t.Context(), "push", "d", payload); err != nil {
			t.Fatalf("delivery %d: %v", delivery+1, err)
		}
	}
	files := gh.Files(ccRepo, audit.DefaultBranch)
	path := "records/000001-push-" + pushed[:12] + ".json"
	rec, err := audit.Decode([]byte(strings.TrimSuffix(files[path], "\n")))
	if err != nil {
		t.Fatalf("%s: %v (ledger holds %d files)", path, err, len(files))
	}
	if rec.Kind != audit.KindUnreviewed || rec.Branch != "master" || len(rec.Covers) != 1 || rec.Covers[0] != pushed ||
		rec.Push.Pusher != ccAuthor || rec.Push.PusherEmail != "21031067+Codertocat@users.noreply.github.com" || rec.GitwardVersion != "v1.2.3-test" {
		t.Errorf("record = %+v, push %+v", rec, rec.Push)
	}
	if len(rec.Commits) != 1 || rec.Commits[0].Subject != "Initial commit" || rec.Commits[0].Author.Login != ccAuthor {
		t.Errorf("commits = %+v", rec.Commits)
	}
	if n := strings.Count(strings.Join(keysOf(files), " "), "records/"); n != 1 {
		t.Errorf("%d records after two deliveries, want 1", n)
	}
	issues := gh.Issues(ccRepo)
	if len(issues) != 1 {
		t.Fatalf("%d issues after two deliveries, want 1", len(issues))
	}
	is := issues[0]
	if is.Title != "Unreviewed change pushed to master by @Codertocat" || len(is.Labels) != 1 || is.Labels[0] != audit.UnreviewedLabel {
		t.Errorf("issue %q labelled %v", is.Title, is.Labels)
	}
	for _, want := range []string{"@Codertocat pushed 1 commit to `master`", "| `6113728` | @Codertocat | unsigned | Initial commit |", path, "gitward:unreviewed-push " + pushed} {
		if !strings.Contains(is.Body, want) {
			t.Errorf("issue body lacks %q:\n%s", want, is.Body)
		}
	}
}

func TestOnlyCommitsOfNoMergedPullRequestAreUnreviewed(t *testing.T) {
	gh, h := newPushFixture(t)
	const (
		base   = "1000000000000000000000000000000000000001"
		head   = "1000000000000000000000000000000000000002"
		merge  = "1000000000000000000000000000000000000003"
		direct = "1000000000000000000000000000000000000004"
	)
	gh.AddCommit(ccRepo, 0, githubtest.Commit{SHA: base, Parents: []string{}, Message: "base"})
	gh.SetRef(ccRepo, "heads/master", base)
	gh.AddPullRequest(ccRepo, githubtest.PullRequest{Number: 5, Author: "alice", BaseRef: "master", BaseSHA: base, HeadRef: "feature", HeadSHA: head})
	gh.AddCommit(ccRepo, 5, githubtest.Commit{SHA: head, Message: "feature"})
	gh.MergePullRequest(ccRepo, 5, merge, time.Now())
	gh.AddCommit(ccRepo, 0, githubtest.Commit{SHA: direct, Parents: []string{merge}, Message: "hotfix straight to master",
		Author: githubtest.Identity{Name: "Admin", Email: "admin@example.com", Login: "admin"}})
	gh.SetRef(ccRepo, "heads/master", direct)

	payload := rewrite(t, githubtest.Payload(t, "push", "with-new-branch.payload.json"), map[string]any{
		"before": base, "after": direct, "created": false, "sender.login": "admin", "pusher.name": "admin", "pusher.email": "admin@example.com",
	})
	if err := h.Handle(t.Context(), "push", "d", payload); err != nil {
		t.Fatal(err)
	}
	files := gh.Files(ccRepo, audit.DefaultBranch)
	rec, err := audit.Decode([]byte(strings.TrimSuffix(files["records/000001-push-"+direct[:12]+".json"], "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Covers) != 1 || rec.Covers[0] != direct {
		t.Errorf("covers = %v, want only the direct commit (the merge came from #5)", rec.Covers)
	}
	if is := gh.Issues(ccRepo); len(is) != 1 || !strings.Contains(is[0].Body, "@admin pushed 1 commit") {
		t.Errorf("issues = %+v", is)
	}

	// A push of the merge alone is reviewed: nothing to record.
	gh2, h2 := newPushFixture(t)
	gh2.AddCommit(ccRepo, 0, githubtest.Commit{SHA: base, Parents: []string{}})
	gh2.SetRef(ccRepo, "heads/master", base)
	gh2.AddPullRequest(ccRepo, githubtest.PullRequest{Number: 5, Author: "alice", BaseRef: "master", BaseSHA: base, HeadRef: "feature", HeadSHA: head})
	gh2.AddCommit(ccRepo, 5, githubtest.Commit{SHA: head})
	gh2.MergePullRequest(ccRepo, 5, merge, time.Now())
	reviewed := rewrite(t, payload, map[string]any{"after": merge})
	if err := h2.Handle(t.Context(), "push", "d", reviewed); err != nil {
		t.Fatal(err)
	}
	if gh2.Ref(ccRepo, "heads/"+audit.DefaultBranch) != "" || len(gh2.Issues(ccRepo)) != 0 {
		t.Error("a merge through a pull request was reported as unreviewed")
	}
}

func TestPushesThatNeedNoCheck(t *testing.T) {
	gh, h := newPushFixture(t)
	for name, payload := range map[string][]byte{
		"a tag":                   githubtest.Payload(t, "push", "with-installation.payload.json"),
		"an unprotected branch":   rewrite(t, githubtest.Payload(t, "push", "with-new-branch.payload.json"), map[string]any{"ref": "refs/heads/feature"}),
		"a deleted master branch": rewrite(t, githubtest.Payload(t, "push", "with-new-branch.payload.json"), map[string]any{"deleted": true, "after": strings.Repeat("0", 40)}),
	} {
		t.Run(name, func(t *testing.T) {
			if err := h.Handle(t.Context(), "push", "d", payload); err != nil {
				t.Fatal(err)
			}
			if gh.Calls("repos/get-commit") != 0 {
				t.Errorf("a push to %s was examined", name)
			}
		})
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestACommitClaimedByAMergeMomentsLaterIsNotUnreviewed: forges link a
// merge commit to its pull request a moment after the push that landed it.
// A push whose commit no merged pull request claims yet is asked about
// again before anything is recorded.
func TestACommitClaimedByAMergeMomentsLaterIsNotUnreviewed(t *testing.T) {
	gh, h := newPushFixture(t)
	h.Pushes.Recheck = 500 * time.Millisecond
	me := githubtest.Identity{Name: "Codertocat", Email: "21031067+Codertocat@users.noreply.github.com", Login: ccAuthor, Date: time.Now()}
	gh.AddCommit(ccRepo, 0, githubtest.Commit{SHA: pushed, Parents: []string{}, Author: me, Committer: me, Message: "Merge pull request #9"})
	gh.SetRef(ccRepo, "heads/master", pushed)
	gh.AddPullRequest(ccRepo, githubtest.PullRequest{Number: 9, Author: "alice", BaseRef: "master", HeadRef: "feature", HeadSHA: strings.Repeat("9", 40)})
	// The merge lands once gitward has asked about the commit once.
	merged := make(chan struct{})
	go func() {
		defer close(merged)
		for gh.Calls("repos/list-pull-requests-associated-with-commit") == 0 {
			time.Sleep(time.Millisecond)
		}
		gh.MergePullRequest(ccRepo, 9, pushed, time.Now())
	}()
	if err := h.Handle(t.Context(), "push", "d", githubtest.Payload(t, "push", "with-new-branch.payload.json")); err != nil {
		t.Fatal(err)
	}
	<-merged
	if n := gh.Calls("repos/list-pull-requests-associated-with-commit"); n != 2 {
		t.Errorf("asked about the commit %d times, want 2", n)
	}
	if files := gh.Files(ccRepo, audit.DefaultBranch); len(files) != 0 {
		t.Errorf("the ledger holds %d files; a merged pull request's commit is no unreviewed change", len(files))
	}
	if issues := gh.Issues(ccRepo); len(issues) != 0 {
		t.Errorf("%d issues opened", len(issues))
	}
}
