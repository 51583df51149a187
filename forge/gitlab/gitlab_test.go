package gitlab_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/gitlab"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
	"github.com/gitward/gitward/forge/snapshot"
	gl "gitlab.com/gitlab-org/api/client-go"
)

const proj = "platform/infra/gitops"

var repo = forge.Repo{Host: "gitlab.example.com", Owner: "platform/infra", Name: "gitops"}

type fixture struct {
	srv *gitlabtest.Server
	f   *gitlab.Forge
	iid int
	ref forge.PRRef
	// base is the target branch head; c1 and c2 the merge request's commits.
	base, c1, c2 string
}

func setup(t *testing.T, o gitlabtest.ProjectOptions) *fixture {
	t.Helper()
	srv := gitlabtest.New(t)
	srv.AddProject(proj, o)
	srv.AddUser("alice")
	srv.AddUser("bob")
	fx := &fixture{srv: srv}
	fx.base = srv.Commit(proj, "main", "base", map[string]string{"apps/a.yaml": "a: 1\n", "README.md": "hi\n"})
	fx.c1 = srv.Commit(proj, "feature", "change a", map[string]string{"apps/a.yaml": "a: 2\n"})
	fx.c2 = srv.Commit(proj, "feature", "add b", map[string]string{"apps/b.yaml": "b: 1\n"})
	srv.Sign(proj, fx.c1, "verified")
	iid := srv.AddMergeRequest(proj, gitlabtest.MergeRequestOptions{
		Source: "feature", Title: "Change a", Description: "why", Author: "alice", Labels: []string{"env:prod"},
		Diffs: []*gl.MergeRequestDiff{
			{OldPath: "apps/a.yaml", NewPath: "apps/a.yaml", Diff: "@@ -1 +1 @@\n-a: 1\n+a: 2\n"},
			{OldPath: "apps/b.yaml", NewPath: "apps/b.yaml", NewFile: true, Diff: "@@ -0,0 +1 @@\n+b: 1\n"},
			{OldPath: "old.yaml", NewPath: "new.yaml", RenamedFile: true},
			{OldPath: "gone.yaml", NewPath: "gone.yaml", DeletedFile: true, Diff: "@@ -1 +0,0 @@\n-x\n"},
		},
	})
	cache, err := snapshot.NewCache(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	fx.f = gitlab.New(srv.Client(), gitlab.Options{Host: repo.Host, Snapshots: cache, Limits: snapshot.DefaultLimits(), Token: []byte(gitlabtest.Token)})
	fx.iid = int(iid)
	fx.ref = forge.PRRef{Repo: repo, Number: fx.iid}
	return fx
}

func TestPullRequest(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	pr, err := fx.f.PullRequest(context.Background(), fx.ref)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Title != "Change a" || pr.Body != "why" || pr.Author.Login != "alice" || pr.State != forge.PROpen ||
		pr.BaseRef != "main" || pr.HeadRef != "feature" || pr.BaseSHA != fx.base || pr.HeadSHA != fx.c2 ||
		pr.Merged || !slices.Equal(pr.Labels, []string{"env:prod"}) {
		t.Fatalf("pull request = %+v", pr)
	}
	merge := fx.srv.Merge(proj, int64(fx.iid))
	pr, err = fx.f.PullRequest(context.Background(), fx.ref)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Merged || pr.State != forge.PRClosed || pr.MergeSHA != merge {
		t.Fatalf("merged pull request = %+v", pr)
	}
	_, err = fx.f.PullRequest(context.Background(), forge.PRRef{Repo: repo, Number: 99})
	if !errors.Is(err, forge.ErrNotFound) {
		t.Fatalf("missing merge request: %v, want ErrNotFound", err)
	}
}

func TestCommitsOldestFirstWithSignatures(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	cs, err := fx.f.Commits(context.Background(), fx.ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].SHA != fx.c1 || cs[1].SHA != fx.c2 {
		t.Fatalf("commits = %+v", cs)
	}
	if !cs[0].Signature.Verified || cs[0].Signature.Reason != "verified" {
		t.Errorf("signed commit: %+v", cs[0].Signature)
	}
	if cs[1].Signature.Verified || cs[1].Signature.Reason != "unsigned" {
		t.Errorf("unsigned commit: %+v", cs[1].Signature)
	}
	if cs[0].Author.Email != "dev@example.com" || !slices.Equal(cs[1].Parents, []string{fx.c1}) {
		t.Errorf("commit facts: %+v", cs)
	}
}

// TestReviewsHeadWhateverResetOnPush: an approval given after the head's
// diff version is bound to the head, whether or not the project resets
// approvals on push.
func TestReviewsHeadWhateverResetOnPush(t *testing.T) {
	for _, reset := range []bool{true, false} {
		fx := setup(t, gitlabtest.ProjectOptions{ResetApprovalsOnPush: reset})
		fx.srv.Approve(proj, int64(fx.iid), "bob")
		rs, err := fx.f.Reviews(context.Background(), fx.ref)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 || rs[0].User.Login != "bob" || rs[0].State != forge.ReviewApproved || rs[0].CommitSHA != fx.c2 || rs[0].SubmittedAt.IsZero() {
			t.Fatalf("reset=%v: reviews = %+v, want bob approving %s", reset, rs, fx.c2)
		}
	}
}

func TestCommentsSkipSystemNotes(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	fx.srv.AddNote(proj, int64(fx.iid), "bob", "first", false)
	fx.srv.AddNote(proj, int64(fx.iid), "bob", "added 1 commit", true)
	fx.srv.AddNote(proj, int64(fx.iid), "alice", "/approve", false)
	cs, err := fx.f.Comments(context.Background(), fx.ref.Thread())
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Body != "first" || cs[1].Body != "/approve" || cs[1].User.Login != "alice" {
		t.Fatalf("comments = %+v", cs)
	}
}

func TestChangedFiles(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	fs, err := fx.f.ChangedFiles(context.Background(), fx.ref)
	if err != nil {
		t.Fatal(err)
	}
	want := []forge.ChangedFile{
		{Path: "apps/a.yaml", Status: forge.FileModified, Additions: 1, Deletions: 1},
		{Path: "apps/b.yaml", Status: forge.FileAdded, Additions: 1},
		{Path: "new.yaml", PreviousPath: "old.yaml", Status: forge.FileRenamed},
		{Path: "gone.yaml", Status: forge.FileRemoved, Deletions: 1},
	}
	if !slices.Equal(fs, want) {
		t.Fatalf("changed files = %+v\nwant %+v", fs, want)
	}
}

func TestPermissionAndTeamMember(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	for _, u := range []string{"guest", "reporter", "dev", "maint", "owner", "inherited"} {
		fx.srv.AddUser(u)
	}
	fx.srv.SetMember(proj, "guest", gl.GuestPermissions)
	fx.srv.SetMember(proj, "reporter", gl.ReporterPermissions)
	fx.srv.SetMember(proj, "dev", gl.DeveloperPermissions)
	fx.srv.SetMember(proj, "maint", gl.MaintainerPermissions)
	fx.srv.SetMember(proj, "owner", gl.OwnerPermissions)
	fx.srv.SetGroupMember("platform", "inherited", gl.DeveloperPermissions)
	want := map[string]forge.Permission{
		"guest": forge.PermissionRead, "reporter": forge.PermissionRead, "dev": forge.PermissionWrite,
		"maint": forge.PermissionMaintain, "owner": forge.PermissionAdmin, "inherited": forge.PermissionWrite,
		"bob": forge.PermissionNone, "nobody": forge.PermissionNone,
	}
	for login, w := range want {
		got, err := fx.f.Permission(ctx, repo, login)
		if err != nil || got != w {
			t.Errorf("Permission(%s) = %v, %v; want %v", login, got, err, w)
		}
	}
	fx.srv.SetGroupMember("platform/sre", "bob", gl.DeveloperPermissions)
	for _, tc := range []struct {
		team, login string
		want        bool
	}{{"platform/sre", "bob", true}, {"platform/sre", "alice", false}, {"platform/sre/oncall", "bob", true}, {"platform/sre", "nobody", false}} {
		got, err := fx.f.TeamMember(ctx, repo, tc.team, tc.login)
		if err != nil || got != tc.want {
			t.Errorf("TeamMember(%s, %s) = %v, %v; want %v", tc.team, tc.login, got, err, tc.want)
		}
	}
}

func TestFile(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	b, err := fx.f.File(context.Background(), repo, fx.c1, "apps/a.yaml")
	if err != nil || string(b) != "a: 2\n" {
		t.Fatalf("File = %q, %v", b, err)
	}
	if _, err := fx.f.File(context.Background(), repo, fx.c1, "apps/b.yaml"); !errors.Is(err, forge.ErrNotFound) {
		t.Fatalf("absent file: %v, want ErrNotFound", err)
	}
}

func TestSnapshot(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	snap, err := fx.f.Snapshot(context.Background(), repo, fx.c2)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	for path, want := range map[string]string{"apps/a.yaml": "a: 2\n", "apps/b.yaml": "b: 1\n", "README.md": "hi\n"} {
		b, err := fs.ReadFile(snap.FS(), path)
		if err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", path, b, err, want)
		}
	}
	if _, err := fx.f.Snapshot(context.Background(), repo, strings.Repeat("0", 40)); err == nil {
		t.Error("snapshot of an unknown commit succeeded")
	}
}

func TestPublishCheckSetsStatusAndReadsItBack(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	run := forge.CheckRun{
		Name: "gitward/diff", HeadSHA: fx.c2, Status: forge.CheckCompleted, Conclusion: forge.ConclusionFailure,
		Title: strings.Repeat("t", 400), ExternalID: "base=" + fx.base[:12], Summary: "long report", DetailsURL: "https://gitward.example/r/1",
	}
	if _, err := fx.f.PublishCheck(ctx, repo, run); err != nil {
		t.Fatal(err)
	}
	st := fx.srv.Statuses(proj, fx.c2)
	if len(st) != 1 || st[0].Name != "gitward/diff" || st[0].Status != "failed" || st[0].TargetURL != run.DetailsURL ||
		len([]rune(st[0].Description)) > gitlab.MaxStatusDescription {
		t.Fatalf("statuses = %+v", st)
	}
	fx.srv.Sign(proj, fx.c2, "verified") // unrelated; keeps the double's state varied
	runs, err := fx.f.CheckRuns(ctx, repo, fx.c2)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Status != forge.CheckCompleted || runs[0].Conclusion != forge.ConclusionFailure ||
		runs[0].ExternalID != run.ExternalID || !strings.HasPrefix(run.Title, strings.TrimSuffix(runs[0].Title, "…")) {
		t.Fatalf("check runs = %+v", runs)
	}
	// Setting it again replaces it.
	run.Status, run.Conclusion, run.Title = forge.CheckInProgress, "", "rendering"
	if _, err := fx.f.PublishCheck(ctx, repo, run); err != nil {
		t.Fatal(err)
	}
	runs, err = fx.f.CheckRuns(ctx, repo, fx.c2)
	if err != nil || len(runs) != 1 || runs[0].Status != forge.CheckInProgress || runs[0].Title != "rendering" {
		t.Fatalf("updated check runs = %+v, %v", runs, err)
	}
}

// TestPublishCheckInTheStateItIsIn: GitLab refuses to move a running
// status to running (400, "Cannot transition status via :run from
// :running"), as when an evaluation died after starting its checks and
// the resync starts them again, or two replicas evaluate at once. The
// status already says what was asked, so publishing succeeds; finishing
// it still works.
func TestPublishCheckInTheStateItIsIn(t *testing.T) {
	for _, pipeline := range []bool{false, true} {
		t.Run(fmt.Sprintf("head pipeline known=%v", pipeline), func(t *testing.T) {
			fx := setup(t, gitlabtest.ProjectOptions{})
			ctx := t.Context()
			if pipeline {
				fx.srv.AddPipeline(proj, fx.c2, fx.srv.MergeRequest(proj, int64(fx.iid)).SourceBranch, "push")
				if _, err := fx.f.PullRequest(ctx, fx.ref); err != nil {
					t.Fatal(err)
				}
			}
			run := forge.CheckRun{Name: "gitward/diff", HeadSHA: fx.c2, Status: forge.CheckInProgress, Title: "rendering", ExternalID: "base=" + fx.base[:12]}
			first, err := fx.f.PublishCheck(ctx, repo, run)
			if err != nil {
				t.Fatal(err)
			}
			again, err := fx.f.PublishCheck(ctx, repo, run)
			if err != nil || again.ID != first.ID || again.Status != forge.CheckInProgress {
				t.Fatalf("running again = %+v, %v; want the running status", again, err)
			}
			run.Status, run.Conclusion = forge.CheckCompleted, forge.ConclusionSuccess
			if _, err := fx.f.PublishCheck(ctx, repo, run); err != nil {
				t.Fatal(err)
			}
			if st := fx.srv.AllStatuses(proj, fx.c2); len(st) != 1 || st[0].Status != "success" {
				t.Fatalf("statuses = %+v, want one, finished", st)
			}
		})
	}
}

func TestNotesCRUDAndReactions(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	c, err := fx.f.CreateComment(ctx, fx.ref.Thread(), "sticky v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.f.EditComment(ctx, fx.ref.Thread(), c.ID, "sticky v2"); err != nil {
		t.Fatal(err)
	}
	if n := fx.srv.Notes(proj, int64(fx.iid)); len(n) != 1 || n[0].Body != "sticky v2" {
		t.Fatalf("notes = %+v", n)
	}
	cmd := fx.srv.AddNote(proj, int64(fx.iid), "bob", "/approve", false)
	for _, r := range []string{"+1", "+1", "eyes", "confused"} {
		if err := fx.f.React(ctx, fx.ref.Thread(), cmd, r); err != nil {
			t.Fatalf("React(%s): %v", r, err)
		}
	}
	if got := fx.srv.Awards(cmd); !slices.Equal(got, []string{"thumbsup", "eyes", "confused"}) {
		t.Fatalf("awards = %v", got)
	}
	if err := fx.f.DeleteComment(ctx, fx.ref.Thread(), c.ID); err != nil {
		t.Fatal(err)
	}
	if n := fx.srv.Notes(proj, int64(fx.iid)); len(n) != 1 || n[0].ID != cmd {
		t.Fatalf("notes after delete = %+v", n)
	}
}

func TestLabelsIssuesAndMergeRequests(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	if err := fx.f.AddLabels(ctx, fx.ref.Thread(), "gitward:blocked", "env:prod"); err != nil {
		t.Fatal(err)
	}
	if err := fx.f.RemoveLabel(ctx, fx.ref.Thread(), "env:prod"); err != nil {
		t.Fatal(err)
	}
	if err := fx.f.RemoveLabel(ctx, fx.ref.Thread(), "absent"); err != nil {
		t.Fatal(err)
	}
	if l := fx.srv.MergeRequest(proj, int64(fx.iid)).Labels; !slices.Equal(l, gl.Labels{"gitward:blocked"}) {
		t.Fatalf("labels = %v", l)
	}
	is, err := fx.f.CreateIssue(ctx, repo, forge.Issue{Title: "review", Body: "b", Labels: []string{"post-incident"}})
	if err != nil || is.State != "open" {
		t.Fatalf("CreateIssue = %+v, %v", is, err)
	}
	if err := fx.f.CloseIssue(ctx, repo, is.Number); err != nil {
		t.Fatal(err)
	}
	got, err := fx.f.IssuesLabelled(ctx, repo, "post-incident")
	if err != nil || len(got) != 1 || got[0].State != "closed" {
		t.Fatalf("IssuesLabelled = %+v, %v", got, err)
	}

	if _, err := fx.f.FindPullRequest(ctx, repo, "capture", "main"); !errors.Is(err, forge.ErrNotFound) {
		t.Fatalf("FindPullRequest before: %v", err)
	}
	fx.srv.Commit(proj, "capture", "drift", map[string]string{"apps/a.yaml": "a: 3\n"})
	pr, err := fx.f.CreatePullRequest(ctx, repo, forge.NewPullRequest{Title: "Capture drift", Body: "x", Head: "capture", Base: "main", Labels: []string{"drift"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.f.UpdatePullRequest(ctx, pr.Ref, "Capture drift (2)", "y"); err != nil {
		t.Fatal(err)
	}
	found, err := fx.f.FindPullRequest(ctx, repo, "capture", "main")
	if err != nil || found.Ref.Number != pr.Ref.Number || found.Title != "Capture drift (2)" || found.Body != "y" {
		t.Fatalf("FindPullRequest = %+v, %v", found, err)
	}
	open, err := fx.f.OpenPullRequests(ctx, repo)
	if err != nil || len(open) != 2 {
		t.Fatalf("OpenPullRequests = %d, %v", len(open), err)
	}
	prs, err := fx.f.PullRequestsForCommit(ctx, repo, fx.c1)
	if err != nil || len(prs) != 1 || prs[0].Ref.Number != fx.iid {
		t.Fatalf("PullRequestsForCommit = %+v, %v", prs, err)
	}
}

func TestCommitToBranch(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	head, err := fx.f.BranchHead(ctx, repo, "main")
	if err != nil || head != fx.base {
		t.Fatalf("BranchHead = %s, %v", head, err)
	}
	if _, err := fx.f.BranchHead(ctx, repo, "ledger"); !errors.Is(err, forge.ErrNotFound) {
		t.Fatalf("absent branch: %v", err)
	}
	// Create a branch from a parent.
	sha, err := fx.f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "ledger", Parent: fx.base, Message: "m1",
		Files: []forge.FileChange{{Path: "audit/index.json", Content: []byte("[1]")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "ledger", Parent: fx.base, Message: "again",
		Files: []forge.FileChange{{Path: "x", Content: []byte("x")}}}); !errors.Is(err, forge.ErrConflict) {
		t.Fatalf("creating an existing branch: %v, want ErrConflict", err)
	}
	// Update with the right head: update, create, delete.
	sha2, err := fx.f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "ledger", ExpectedHead: sha, Message: "m2",
		Files: []forge.FileChange{{Path: "audit/index.json", Content: []byte("[1,2]")}, {Path: "bin", Content: []byte{0xff, 0}}, {Path: "README.md"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := fx.srv.FileAt(proj, sha2, "audit/index.json"); !ok || c != "[1,2]" {
		t.Errorf("index = %q", c)
	}
	if c, _ := fx.srv.FileAt(proj, sha2, "bin"); c != "\xff\x00" {
		t.Errorf("binary file = %q", c)
	}
	if _, ok := fx.srv.FileAt(proj, sha2, "README.md"); ok {
		t.Error("README.md not deleted")
	}
	// A stale expected head is a conflict.
	if _, err := fx.f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "ledger", ExpectedHead: sha, Message: "stale",
		Files: []forge.FileChange{{Path: "audit/index.json", Content: []byte("[1,3]")}}}); !errors.Is(err, forge.ErrConflict) {
		t.Fatalf("stale head: %v, want ErrConflict", err)
	}
	if fx.srv.BranchHead(proj, "ledger") != sha2 {
		t.Fatal("a refused commit moved the branch")
	}
}

// TestStaleFileIsConflict covers GitLab's own refusal: the branch moved
// between the adapter's head check and its commit, touching the same
// file, and GitLab answers 400 "has changed since".
func TestStaleFileIsConflict(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	c := fx.srv.Client()
	_, _, err := c.Commits.CreateCommit(proj, &gl.CreateCommitOptions{
		Branch: gl.Ptr("main"), CommitMessage: gl.Ptr("concurrent"),
		Actions: []*gl.CommitActionOptions{{Action: gl.Ptr(gl.FileUpdate), FilePath: gl.Ptr("apps/a.yaml"), Content: gl.Ptr("a: 9\n")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Commits.CreateCommit(proj, &gl.CreateCommitOptions{
		Branch: gl.Ptr("main"), CommitMessage: gl.Ptr("stale"),
		Actions: []*gl.CommitActionOptions{{Action: gl.Ptr(gl.FileUpdate), FilePath: gl.Ptr("apps/a.yaml"), Content: gl.Ptr("a: 5\n"), LastCommitID: gl.Ptr(fx.base)}},
	})
	if err == nil || !strings.Contains(err.Error(), "has changed since") {
		t.Fatalf("stale last_commit_id: %v", err)
	}
	if !errors.Is(gitlab.CommitError(err, "main"), forge.ErrConflict) {
		t.Fatalf("not mapped to ErrConflict: %v", gitlab.CommitError(err, "main"))
	}
}

func TestRepositoriesAndGPGKeysAndCommit(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	fx.srv.AddProject("platform/old", gitlabtest.ProjectOptions{Archived: true})
	ctx := context.Background()
	rs, err := fx.f.Repositories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Owner != "platform/infra" || rs[0].Name != "gitops" || rs[0].Host != repo.Host || rs[0].DefaultBranch != "main" {
		t.Fatalf("repositories = %+v", rs)
	}
	fx.srv.AddGPGKey("bob", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n...")
	keys, err := fx.f.UserGPGKeys(ctx, repo, "bob")
	if err != nil || len(keys) != 1 || !strings.HasPrefix(keys[0].Armored, "-----BEGIN PGP") {
		t.Fatalf("keys = %+v, %v", keys, err)
	}
	c, err := fx.f.Commit(ctx, repo, fx.c1)
	if err != nil || c.SHA != fx.c1 || !c.Signature.Verified || !slices.Equal(c.Parents, []string{fx.base}) {
		t.Fatalf("Commit = %+v, %v", c, err)
	}
	if _, err := fx.f.Commit(ctx, repo, strings.Repeat("0", 40)); !errors.Is(err, forge.ErrNotFound) {
		t.Fatalf("unknown commit: %v", err)
	}
}

func TestMergedPullRequestsSince(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	before := time.Now().Add(-time.Minute)
	if prs, err := fx.f.MergedPullRequests(ctx, repo, before); err != nil || len(prs) != 0 {
		t.Fatalf("before the merge: %+v, %v", prs, err)
	}
	merge := fx.srv.Merge(proj, int64(fx.iid))
	prs, err := fx.f.MergedPullRequests(ctx, repo, before)
	if err != nil || len(prs) != 1 {
		t.Fatalf("after the merge: %+v, %v", prs, err)
	}
	if pr := prs[0]; pr.Ref.Number != fx.iid || !pr.Merged || pr.MergeSHA != merge || pr.MergedAt.Before(before) {
		t.Errorf("merged pull request = %+v", pr)
	}
	if prs, err := fx.f.MergedPullRequests(ctx, repo, prs[0].MergedAt.Add(time.Second)); err != nil || len(prs) != 0 {
		t.Errorf("since after the merge: %+v, %v", prs, err)
	}
}
