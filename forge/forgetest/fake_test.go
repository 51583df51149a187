package forgetest_test

import (
	"errors"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/forgetest"
)

// seed makes a repository whose main branch has one commit and a pull
// request from "change", which edits a.txt, adds b.txt and removes c.txt.
func seed(t *testing.T) (*forgetest.Fake, forge.PRRef) {
	t.Helper()
	f := forgetest.New(t)
	repo := f.AddRepo("octo-org/clusters", "main")
	base := f.Push(repo, "main", forgetest.Commit{Files: map[string]string{"a.txt": "1", "c.txt": "gone", "dir/d.txt": "d"}})
	f.Push(repo, "change", forgetest.Commit{Parent: base, Files: map[string]string{"a.txt": "2", "b.txt": "new"}, Remove: []string{"c.txt"}, Message: "Edit"})
	return f, f.OpenPullRequest(repo, forgetest.PullRequest{Title: "change", Author: forge.User{Login: "alice"}, Head: "change"})
}

func TestCheckRunsAreCreatedOnceAndUpdatedByID(t *testing.T) {
	f, ref := seed(t)
	ctx, repo := t.Context(), ref.Repo
	pr, err := f.PullRequest(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	first, err := f.PublishCheck(ctx, repo, forge.CheckRun{Name: "gitward/diff", HeadSHA: pr.HeadSHA, Status: forge.CheckInProgress,
		Annotations: []forge.Annotation{{Path: "a.txt", StartLine: 1}}})
	if err != nil || first.ID == 0 || first.AppID != forgetest.AppID || first.StartedAt.IsZero() {
		t.Fatalf("created %+v, %v; want an ID, the fake's app and a start", first, err)
	}
	update := forge.CheckRun{ID: first.ID, Name: "gitward/diff", HeadSHA: pr.HeadSHA, Conclusion: forge.ConclusionFailure, Title: "bad",
		Annotations: []forge.Annotation{{Path: "b.txt", StartLine: 2}}}
	if _, err := f.PublishCheck(ctx, repo, update); err != nil {
		t.Fatal(err)
	}
	other, err := f.PublishCheck(ctx, repo, forge.CheckRun{Name: "gitward/drift", HeadSHA: pr.HeadSHA, Conclusion: forge.ConclusionSuccess})
	if err != nil || other.ID <= first.ID {
		t.Fatalf("a new name made %+v, %v; want a new run with a higher ID", other, err)
	}
	runs, err := f.CheckRuns(ctx, repo, pr.HeadSHA)
	if err != nil || len(runs) != 2 {
		t.Fatalf("CheckRuns = %d runs, %v; want 2", len(runs), err)
	}
	got := runs[1] // newest first
	if got.ID != first.ID || got.Status != forge.CheckCompleted || got.Conclusion != forge.ConclusionFailure || got.Title != "bad" ||
		got.Summary != "gitward/diff" || got.CompletedAt.IsZero() || !got.StartedAt.Equal(first.StartedAt) || len(got.Annotations) != 2 {
		t.Errorf("updated run = %+v; want it completed in place, annotations added up", got)
	}

	for name, tc := range map[string]struct {
		run   forge.CheckRun
		isErr error
	}{
		"an unknown ID is not found":           {forge.CheckRun{ID: 999, Name: "x", Conclusion: forge.ConclusionSuccess}, forge.ErrNotFound},
		"a run on an unknown commit":           {forge.CheckRun{Name: "x", HeadSHA: strings.Repeat("f", 40), Conclusion: forge.ConclusionSuccess}, nil},
		"a completed run without a conclusion": {forge.CheckRun{Name: "x", HeadSHA: pr.HeadSHA}, nil},
		"a run without a name":                 {forge.CheckRun{HeadSHA: pr.HeadSHA, Conclusion: forge.ConclusionSuccess}, nil},
	} {
		_, err := f.PublishCheck(ctx, repo, tc.run)
		if err == nil || tc.isErr != nil && !errors.Is(err, tc.isErr) {
			t.Errorf("%s: error %v, want one (%v)", name, err, tc.isErr)
		}
	}
}

func TestCommentsAreTheBotsInertAndWithinTheLimit(t *testing.T) {
	f, ref := seed(t)
	ctx, th := t.Context(), ref.Thread()
	person := f.AddComment(th, forge.Comment{User: forge.User{Login: "bob"}, Body: "/approve"})
	c, err := f.CreateComment(ctx, th, "report\n/merge")
	if err != nil {
		t.Fatal(err)
	}
	if c.ID <= person || !c.User.Bot || c.Body != "report\n\\/merge" || c.Edited {
		t.Errorf("created %+v; want a later ID, the bot, an inert body, not edited", c)
	}
	if err := f.EditComment(ctx, th, c.ID, "new"); err != nil {
		t.Fatal(err)
	}
	cs, err := f.Comments(ctx, th)
	if err != nil || len(cs) != 2 || cs[0].ID != person || cs[0].Body != "/approve" || cs[1].Body != "new" || !cs[1].Edited {
		t.Fatalf("Comments = %+v, %v; want bob's as he wrote it, then the edited one", cs, err)
	}
	is, err := f.CreateIssue(ctx, ref.Repo, forge.Issue{Title: "Review", Body: "/close", Labels: []string{"incident"}})
	if err != nil || is.Body != "\\/close" || is.State != "open" || is.Number <= ref.Number {
		t.Errorf("CreateIssue = %+v, %v; want an open issue, numbered after the pull request, with an inert body", is, err)
	}
	if list, err := f.IssuesLabelled(ctx, ref.Repo, "Incident"); err != nil || len(list) != 1 || list[0].Number != is.Number {
		t.Errorf("IssuesLabelled = %+v, %v; want the issue, labels matched in any case", list, err)
	}

	if err := f.EditComment(ctx, forge.IssueThread(ref.Repo, ref.Number), c.ID, "x"); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("a pull request named as an issue: %v, want not found", err)
	}
	if _, err := f.Comments(ctx, forge.Thread{Repo: ref.Repo, Number: 99}); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("comments of no thread: %v, want not found", err)
	}
	if err := f.DeleteComment(ctx, th, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteComment(ctx, th, c.ID); err != nil {
		t.Errorf("deleting a deleted comment: %v, want nil", err)
	}
	if err := f.React(ctx, th, person, "+1"); err != nil {
		t.Fatal(err)
	}
	if err := f.React(ctx, th, person, "+1"); err != nil || len(f.Reactions(th, person)) != 1 {
		t.Errorf("reacting twice: %v, reactions %v; want one", err, f.Reactions(th, person))
	}

	f.SetLimits(forge.Limits{CommentChars: 10})
	if _, err := f.CreateComment(ctx, th, strings.Repeat("é", 11)); err == nil {
		t.Error("a body over the limit was posted")
	}
	if _, err := f.CreateComment(ctx, th, strings.Repeat("é", 10)); err != nil {
		t.Errorf("a body at the limit: %v", err)
	}
}

func TestAPullRequestFollowsItsBranches(t *testing.T) {
	f, ref := seed(t)
	ctx, repo := t.Context(), ref.Repo
	before, _ := f.PullRequest(ctx, ref)
	files, err := f.ChangedFiles(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	want := []forge.ChangedFile{{Path: "a.txt", Status: forge.FileModified}, {Path: "b.txt", Status: forge.FileAdded}, {Path: "c.txt", Status: forge.FileRemoved}}
	if len(files) != 3 || files[0] != want[0] || files[1] != want[1] || files[2] != want[2] {
		t.Errorf("ChangedFiles = %+v, want %+v", files, want)
	}

	// The base moves on and the head gets a second commit: the base's
	// change is not the pull request's, both head commits are.
	f.SetClock(func() time.Time { return time.Now().Add(time.Hour) })
	f.Push(repo, "main", forgetest.Commit{Files: map[string]string{"other.txt": "x"}})
	head := f.Push(repo, "change", forgetest.Commit{Files: map[string]string{"b.txt": "newer"}, Message: "Again"})
	after, _ := f.PullRequest(ctx, ref)
	if after.HeadSHA != head || after.BaseSHA == before.BaseSHA || !after.UpdatedAt.After(before.UpdatedAt) {
		t.Errorf("after pushes: head %s base %s updated %v; want head %s, a new base, a later update", after.HeadSHA, after.BaseSHA, after.UpdatedAt, head)
	}
	if files, _ := f.ChangedFiles(ctx, ref); len(files) != 3 {
		t.Errorf("ChangedFiles after the base moved = %+v, want the same 3", files)
	}
	commits, err := f.Commits(ctx, ref)
	if err != nil || len(commits) != 2 || commits[0].Message != "Edit" || commits[1].SHA != head || commits[1].Parents[0] != commits[0].SHA {
		t.Errorf("Commits = %+v, %v; want Edit then Again", commits, err)
	}
	if commits[0].Signature.Verified || commits[0].Signature.Reason != "unsigned" {
		t.Errorf("a commit pushed without a signature: %+v", commits[0].Signature)
	}

	f.ClosePullRequest(ref)
	f.Push(repo, "change", forgetest.Commit{Files: map[string]string{"late.txt": "x"}})
	if closed, _ := f.PullRequest(ctx, ref); closed.State != forge.PRClosed || closed.HeadSHA != head {
		t.Errorf("closed pull request: %s at %s, want closed at %s", closed.State, closed.HeadSHA, head)
	}
}

func TestFilesAndSnapshotsAreReadAtACommit(t *testing.T) {
	f, ref := seed(t)
	ctx, repo := t.Context(), ref.Repo
	pr, _ := f.PullRequest(ctx, ref)
	for _, at := range []string{pr.HeadSHA, "change"} {
		if b, err := f.File(ctx, repo, at, "a.txt"); err != nil || string(b) != "2" {
			t.Errorf("a.txt at %s = %q, %v", at, b, err)
		}
	}
	for _, tc := range []struct{ ref, path string }{{pr.HeadSHA, "c.txt"}, {strings.Repeat("f", 40), "a.txt"}, {"nobranch", "a.txt"}} {
		if _, err := f.File(ctx, repo, tc.ref, tc.path); !errors.Is(err, forge.ErrNotFound) {
			t.Errorf("%s at %s: %v, want not found", tc.path, tc.ref, err)
		}
	}
	if _, err := f.File(ctx, repo, pr.HeadSHA, "dir"); err == nil || errors.Is(err, forge.ErrNotFound) {
		t.Errorf("a directory: %v, want an error that is not not-found", err)
	}

	snap, err := f.Snapshot(ctx, repo, pr.HeadSHA)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	if b, err := fs.ReadFile(snap.FS(), "dir/d.txt"); err != nil || string(b) != "d" {
		t.Errorf("dir/d.txt in the snapshot = %q, %v", b, err)
	}
	if _, err := fs.Stat(snap.FS(), "c.txt"); err == nil {
		t.Error("the removed file is in the head's snapshot")
	}
	if _, err := f.Snapshot(ctx, repo, strings.Repeat("f", 40)); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("snapshot of an unknown commit: %v, want not found", err)
	}
	if _, err := f.Snapshot(ctx, repo, "main"); err == nil {
		t.Error("a snapshot of a branch name was taken; the adapters want a SHA")
	}
}

func TestFailNextFailsThatManyCallsAndCallsAreRecorded(t *testing.T) {
	f, ref := seed(t)
	ctx := t.Context()
	outage := errors.New("502 Bad Gateway")
	f.FailNext("Reviews", outage, 2)
	for i := 0; i < 2; i++ {
		if _, err := f.Reviews(ctx, ref); !errors.Is(err, outage) {
			t.Errorf("call %d: %v, want the outage", i+1, err)
		}
	}
	f.AddReview(ref, forge.Review{User: forge.User{Login: "bob"}, State: forge.ReviewApproved})
	if rs, err := f.Reviews(ctx, ref); err != nil || len(rs) != 1 || rs[0].CommitSHA == "" {
		t.Errorf("third call: %+v, %v; want bob's review on the head", rs, err)
	}
	if calls := f.Calls("Reviews"); len(calls) != 3 || calls[0].Args[0] != ref {
		t.Errorf("Calls = %+v, want 3 with the pull request", calls)
	}
}

func TestBranchWritesAreCompareAndSwap(t *testing.T) {
	f, ref := seed(t)
	ctx, repo := t.Context(), ref.Repo
	head, err := f.BranchHead(ctx, repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	next, err := f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "main", ExpectedHead: head, Message: "m",
		Files: []forge.FileChange{{Path: "new.txt", Content: []byte("n")}, {Path: "a.txt"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "main", ExpectedHead: head}); !errors.Is(err, forge.ErrConflict) {
		t.Errorf("a write on a moved branch: %v, want a conflict", err)
	}
	if _, err := f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "main", Parent: head}); !errors.Is(err, forge.ErrConflict) {
		t.Errorf("creating a branch that exists: %v, want a conflict", err)
	}
	if _, err := f.File(ctx, repo, next, "a.txt"); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("a.txt after its deletion: %v", err)
	}
	root, err := f.StartBranch(ctx, repo, forge.BranchCommit{Branch: "ledger", Files: []forge.FileChange{{Path: "0001.json", Content: []byte("{}")}}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := f.Commit(ctx, repo, root); err != nil || len(c.Parents) != 0 || c.Author.Login != "gitward[bot]" {
		t.Errorf("the ledger's first commit = %+v, %v; want a root commit by the bot", c, err)
	}
	if _, err := f.StartBranch(ctx, repo, forge.BranchCommit{Branch: "ledger"}); !errors.Is(err, forge.ErrConflict) {
		t.Errorf("starting a branch twice: %v, want a conflict", err)
	}
	if _, err := f.BranchHead(ctx, repo, "nope"); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("an unknown branch: %v, want not found", err)
	}
}

func TestHeadSinceRestartsWhenTheHeadComesBack(t *testing.T) {
	f, ref := seed(t)
	ctx, repo := t.Context(), ref.Repo
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	f.SetClock(func() time.Time { return now })
	clock := f.WithHeadClock().(forge.HeadClock)
	if _, ok := forge.Forge(f).(forge.HeadClock); ok {
		t.Error("the fake says when heads arrived without WithHeadClock, as GitHub cannot")
	}
	pr, _ := f.PullRequest(ctx, ref)
	away := f.Push(repo, "change", forgetest.Commit{Files: map[string]string{"x": "1"}})
	now = now.Add(time.Hour)
	if _, err := f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "side", Parent: away}); err != nil { // not the head branch
		t.Fatal(err)
	}
	f.ForcePush(repo, "change", pr.HeadSHA)
	sha, since, err := clock.HeadSince(ctx, ref)
	if err != nil || sha != pr.HeadSHA || !since.Equal(now) {
		t.Errorf("HeadSince = %s %v %v; want %s since the push back at %v", sha, since, err, pr.HeadSHA, now)
	}
}

func TestMergedPullRequestsAreListedByMerge(t *testing.T) {
	f, ref := seed(t)
	ctx, repo := t.Context(), ref.Repo
	pr, _ := f.PullRequest(ctx, ref)
	start := time.Now().UTC().Truncate(time.Second)
	sha := f.Merge(ref, "carol")
	merged, err := f.PullRequest(ctx, ref)
	if err != nil || !merged.Merged || merged.MergeSHA != sha || merged.MergedBy.Login != "carol" || merged.HeadSHA != pr.HeadSHA {
		t.Fatalf("merged pull request = %+v, %v", merged, err)
	}
	if b, _ := f.File(ctx, repo, "main", "b.txt"); string(b) != "new" {
		t.Errorf("b.txt on main after the merge = %q", b)
	}
	if list, err := f.MergedPullRequests(ctx, repo, start); err != nil || len(list) != 1 || list[0].Ref != ref {
		t.Errorf("MergedPullRequests = %+v, %v", list, err)
	}
	for _, at := range []string{sha, pr.HeadSHA} {
		if list, err := f.PullRequestsForCommit(ctx, repo, at); err != nil || len(list) != 1 || list[0].Ref != ref {
			t.Errorf("PullRequestsForCommit(%s) = %+v, %v", at, list, err)
		}
	}
	if commits, _ := f.Commits(ctx, ref); len(commits) != 1 {
		t.Errorf("a merged pull request's commits = %+v, want its one commit", commits)
	}
}

func TestIdentitiesAreLinkedByEmail(t *testing.T) {
	f := forgetest.New(t)
	repo := f.AddRepo("octo-org/clusters", "main")
	f.LinkEmail("carol@example.com", "carol")
	sha := f.Push(repo, "main", forgetest.Commit{
		Author:  forge.Identity{Name: "Carol", Email: "Carol@example.com"},
		Message: "Fix\n\nCo-authored-by: Carol <carol@example.com>\nCo-authored-by: Dan <dan@example.com>",
	})
	c, err := f.Commit(t.Context(), repo, sha)
	if err != nil || c.Author.Login != "carol" || len(c.CoAuthors) != 2 || c.CoAuthors[0].Login != "carol" || c.CoAuthors[1].Login != "" {
		t.Errorf("Commit = %+v, %v; want carol linked and dan not", c, err)
	}
}

func TestTheFakeIsSafeForConcurrentUse(t *testing.T) {
	f, ref := seed(t)
	ctx := t.Context()
	pr, _ := f.PullRequest(ctx, ref)
	var wg sync.WaitGroup
	ids := make(chan int64, 40)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run, err := f.PublishCheck(ctx, ref.Repo, forge.CheckRun{Name: "c", HeadSHA: pr.HeadSHA, Conclusion: forge.ConclusionSuccess})
			if err != nil {
				t.Error(err)
			}
			c, err := f.CreateComment(ctx, ref.Thread(), "x")
			if err != nil {
				t.Error(err)
			}
			ids <- run.ID
			ids <- c.ID
			snap, err := f.Snapshot(ctx, ref.Repo, pr.HeadSHA)
			if err != nil {
				t.Error(err)
				return
			}
			snap.Release()
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("ID %d was given twice", id)
		}
		seen[id] = true
	}
}
