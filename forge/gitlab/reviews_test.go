package gitlab_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
)

// TestReviewsPushBetweenReadsIsNotStamped: a push lands after the
// approvals were listed (given on the old head) but before the adapter
// reads the head again; stamping them with the new head would carry them
// over, so they carry none.
func TestReviewsPushBetweenReadsIsNotStamped(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{ResetApprovalsOnPush: true})
	ctx := context.Background()
	fx.srv.Approve(proj, int64(fx.iid), "bob")
	var pushed string
	fx.srv.AfterNext(http.MethodGet, escProj+"/merge_requests/1/approvals", func() {
		pushed = fx.srv.Push(proj, int64(fx.iid), "more", map[string]string{"apps/c.yaml": "c: 1\n"})
	})
	rs, err := fx.f.Reviews(ctx, fx.ref)
	if err != nil {
		t.Fatal(err)
	}
	if pushed == "" {
		t.Fatal("the push between the reads did not happen")
	}
	if len(rs) != 1 || rs[0].User.Login != "bob" || rs[0].CommitSHA != "" {
		t.Fatalf("reviews = %+v, want bob's approval with no commit", rs)
	}
	// The push reset the approvals: there are none now.
	if rs, err := fx.f.Reviews(ctx, fx.ref); err != nil || len(rs) != 0 {
		t.Fatalf("reviews after the push = %+v, %v", rs, err)
	}
	// Approved again on the new head, with no push in between: stamped.
	fx.srv.Approve(proj, int64(fx.iid), "bob")
	if rs, err := fx.f.Reviews(ctx, fx.ref); err != nil || len(rs) != 1 || rs[0].CommitSHA != pushed {
		t.Fatalf("reviews on the new head = %+v, %v; want %s", rs, err, pushed)
	}
}

// TestReviewsPushBeforeApprovalsAreListed: a push after the first head
// read resets the approvals before they are listed; none are left to
// stamp.
func TestReviewsPushBeforeApprovalsAreListed(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{ResetApprovalsOnPush: true})
	fx.srv.Approve(proj, int64(fx.iid), "bob")
	fx.srv.AfterNext(http.MethodGet, escProj+"/merge_requests/1", func() {
		fx.srv.Push(proj, int64(fx.iid), "more", map[string]string{"apps/c.yaml": "c: 1\n"})
	})
	if rs, err := fx.f.Reviews(context.Background(), fx.ref); err != nil || len(rs) != 0 {
		t.Fatalf("reviews = %+v, %v; want none", rs, err)
	}
}

// TestReviewsWithoutApprovalSettings: on GitLab without approved_at, the
// older rule applies. GitLab Free and instances without project approval
// settings answer 404 or 403 there. Approvals are then not reset on push,
// so they carry no commit, and that is no error.
func TestReviewsWithoutApprovalSettings(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusForbidden} {
		fx := setup(t, gitlabtest.ProjectOptions{ResetApprovalsOnPush: true})
		fx.srv.HideApprovedAt()
		fx.srv.Approve(proj, int64(fx.iid), "bob")
		fx.srv.FailNext(http.MethodGet, escProj+"/approvals", status)
		rs, err := fx.f.Reviews(context.Background(), fx.ref)
		if err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		if len(rs) != 1 || rs[0].User.Login != "bob" || rs[0].CommitSHA != "" {
			t.Fatalf("%d: reviews = %+v, want bob's approval with no commit", status, rs)
		}
	}
	// Any other failure is an error.
	fx := setup(t, gitlabtest.ProjectOptions{ResetApprovalsOnPush: true})
	fx.srv.HideApprovedAt()
	fx.srv.Approve(proj, int64(fx.iid), "bob")
	fx.srv.FailNext(http.MethodGet, escProj+"/approvals", http.StatusUnauthorized)
	if rs, err := fx.f.Reviews(context.Background(), fx.ref); err == nil {
		t.Fatalf("401 on approval settings: reviews = %+v, want an error", rs)
	}
	// With approved_at, the project's approval settings are not asked:
	// GitLab Free's approvals count.
	fx = setup(t, gitlabtest.ProjectOptions{})
	fx.srv.Approve(proj, int64(fx.iid), "bob")
	fx.srv.FailNext(http.MethodGet, escProj+"/approvals", http.StatusNotFound)
	if rs, err := fx.f.Reviews(context.Background(), fx.ref); err != nil || len(rs) != 1 || rs[0].CommitSHA != fx.c2 {
		t.Fatalf("reviews on GitLab Free = %+v, %v; want bob's approval on %s", rs, err, fx.c2)
	}
	for _, r := range fx.srv.Requests() {
		if r == "GET "+escProj+"/approvals" {
			t.Errorf("the approval settings were read although every approval has approved_at")
		}
	}
}

// TestReviewsWithoutApprovedAtFollowTheOlderRule: GitLab without
// approved_at: approvals carry the head only when the project resets them
// on push, and never a time.
func TestReviewsWithoutApprovedAtFollowTheOlderRule(t *testing.T) {
	for _, reset := range []bool{true, false} {
		fx := setup(t, gitlabtest.ProjectOptions{ResetApprovalsOnPush: reset})
		fx.srv.HideApprovedAt()
		fx.srv.Approve(proj, int64(fx.iid), "bob")
		rs, err := fx.f.Reviews(context.Background(), fx.ref)
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if reset {
			want = fx.c2
		}
		if len(rs) != 1 || rs[0].User.Login != "bob" || rs[0].CommitSHA != want || !rs[0].SubmittedAt.IsZero() {
			t.Fatalf("reset=%v: reviews = %+v, want bob approving %q at an unknown time", reset, rs, want)
		}
	}
}

// TestReviewsApprovalAfterThePushCounts: without reset on push, an
// approval given after the push that made the head is bound to the head;
// the one given before it stays listed and is bound to nothing.
func TestReviewsApprovalAfterThePushCounts(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	fx.srv.AddUser("carol")
	fx.srv.Approve(proj, int64(fx.iid), "bob")
	pushed := fx.srv.Push(proj, int64(fx.iid), "more", map[string]string{"apps/c.yaml": "c: 1\n"})
	fx.srv.Approve(proj, int64(fx.iid), "carol")
	rs, err := fx.f.Reviews(ctx, fx.ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].User.Login != "bob" || rs[0].CommitSHA != "" || rs[1].User.Login != "carol" || rs[1].CommitSHA != pushed {
		t.Fatalf("reviews = %+v, want bob's approval with no commit and carol's on %s", rs, pushed)
	}
	vs := fx.srv.Versions(proj, int64(fx.iid))
	if len(vs) != 2 || vs[0].HeadCommitSHA != pushed || vs[1].HeadCommitSHA != fx.c2 {
		t.Fatalf("versions = %+v", vs)
	}
	if rs[0].SubmittedAt.IsZero() || !rs[0].SubmittedAt.Before(*vs[0].CreatedAt) || rs[1].SubmittedAt.Before(*vs[0].CreatedAt) {
		t.Errorf("approved at %v and %v, the head's version at %v", rs[0].SubmittedAt, rs[1].SubmittedAt, vs[0].CreatedAt)
	}
}

// TestReviewsApprovalBeforeTheLatestPush: GitLab resets approvals after a
// push in a background job, so an approval given on the old head can
// still be listed while the merge request shows the new head. Its
// approved_at predates the new head's version: it is bound to nothing. One
// given at the very moment of the version counts, one a millisecond
// earlier does not.
func TestReviewsApprovalBeforeTheLatestPush(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{ResetApprovalsOnPush: true})
	fx.srv.AddUser("carol")
	fx.srv.AddUser("dave")
	pushed := fx.srv.Push(proj, int64(fx.iid), "more", map[string]string{"apps/c.yaml": "c: 1\n"})
	at := *fx.srv.Versions(proj, int64(fx.iid))[0].CreatedAt
	// Given on the old head; the reset has not run yet.
	fx.srv.ApproveAt(proj, int64(fx.iid), "bob", at.Add(-time.Second))
	fx.srv.ApproveAt(proj, int64(fx.iid), "carol", at)
	fx.srv.ApproveAt(proj, int64(fx.iid), "dave", at.Add(-time.Millisecond))
	rs, err := fx.f.Reviews(context.Background(), fx.ref)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"bob": "", "carol": pushed, "dave": ""}
	if len(rs) != 3 {
		t.Fatalf("reviews = %+v", rs)
	}
	for _, r := range rs {
		if sha, ok := want[r.User.Login]; !ok || r.CommitSHA != sha {
			t.Errorf("%s's approval at %v is on %q, want %q", r.User.Login, r.SubmittedAt, r.CommitSHA, sha)
		}
	}
}

// TestReviewsForcePushBackIsANewHead: a force-push away from the head and
// back gives the same head a new diff version; approvals from before it
// are not bound to the head, even though it is the commit they were given
// on, because the head was not the head all along.
func TestReviewsForcePushBackIsANewHead(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	fx.srv.AddUser("carol")
	fx.srv.Approve(proj, int64(fx.iid), "bob")
	if rs, err := fx.f.Reviews(ctx, fx.ref); err != nil || len(rs) != 1 || rs[0].CommitSHA != fx.c2 {
		t.Fatalf("reviews before the force-push = %+v, %v", rs, err)
	}
	away := fx.srv.Push(proj, int64(fx.iid), "elsewhere", map[string]string{"apps/c.yaml": "c: 1\n"})
	fx.srv.SetBranch(proj, "feature", fx.c2)
	if pr, err := fx.f.PullRequest(ctx, fx.ref); err != nil || pr.HeadSHA != fx.c2 {
		t.Fatalf("head after the force-push back = %+v, %v", pr, err)
	}
	vs := fx.srv.Versions(proj, int64(fx.iid))
	if len(vs) != 3 || vs[0].HeadCommitSHA != fx.c2 || vs[1].HeadCommitSHA != away || vs[2].HeadCommitSHA != fx.c2 {
		t.Fatalf("versions = %+v", vs)
	}
	fx.srv.Approve(proj, int64(fx.iid), "carol")
	rs, err := fx.f.Reviews(ctx, fx.ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].User.Login != "bob" || rs[0].CommitSHA != "" || rs[1].User.Login != "carol" || rs[1].CommitSHA != fx.c2 {
		t.Fatalf("reviews = %+v, want bob's approval with no commit and carol's on %s", rs, fx.c2)
	}
}

// TestReviewsPushAfterTheVersionsAreRead: a push lands after the versions
// were read and before the merge request is; the head the approvals were
// timed against is gone, so none is bound.
func TestReviewsPushAfterTheVersionsAreRead(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	fx.srv.Approve(proj, int64(fx.iid), "bob")
	var pushed string
	fx.srv.AfterNext(http.MethodGet, escProj+"/merge_requests/1/versions", func() {
		pushed = fx.srv.Push(proj, int64(fx.iid), "more", map[string]string{"apps/c.yaml": "c: 1\n"})
	})
	rs, err := fx.f.Reviews(context.Background(), fx.ref)
	if err != nil {
		t.Fatal(err)
	}
	if pushed == "" {
		t.Fatal("the push after the versions were read did not happen")
	}
	if len(rs) != 1 || rs[0].User.Login != "bob" || rs[0].CommitSHA != "" {
		t.Fatalf("reviews = %+v, want bob's approval with no commit", rs)
	}
}

// TestReviewsOfBotsAreBot: bot approvers stay bots under either rule.
func TestReviewsOfBotsAreBot(t *testing.T) {
	for _, hide := range []bool{false, true} {
		fx := setup(t, gitlabtest.ProjectOptions{ResetApprovalsOnPush: true})
		if hide {
			fx.srv.HideApprovedAt()
		}
		fx.srv.AddBot("renovate-bot")
		fx.srv.Approve(proj, int64(fx.iid), "renovate-bot")
		fx.srv.Approve(proj, int64(fx.iid), gitlabtest.DefaultSelf)
		fx.srv.Approve(proj, int64(fx.iid), "bob")
		rs, err := fx.f.Reviews(context.Background(), fx.ref)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 3 || !rs[0].User.Bot || !rs[1].User.Bot || rs[2].User.Bot || rs[2].User.Login != "bob" {
			t.Fatalf("approved_at hidden=%v: reviews = %+v", hide, rs)
		}
		for _, r := range rs {
			if r.CommitSHA != fx.c2 {
				t.Errorf("approved_at hidden=%v: %s's approval is on %q, want %s", hide, r.User.Login, r.CommitSHA, fx.c2)
			}
		}
	}
}

// TestBaseSHAIsTheTargetsHead: a merge request branched before the target
// moved has base_sha (the merge base) behind start_sha (the target's
// head); the policy is read at BaseSHA, which must be the latter.
func TestBaseSHAIsTheTargetsHead(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	moved := fx.srv.Commit(proj, "main", "target moves on", map[string]string{".gitward.yaml": "stricter: true\n"})
	iid := fx.srv.AddMergeRequest(proj, gitlabtest.MergeRequestOptions{Source: "feature", Title: "old branch", Author: "alice"})
	mr := fx.srv.MergeRequest(proj, iid)
	if mr.DiffRefs.BaseSha != fx.base || mr.DiffRefs.StartSha != moved {
		t.Fatalf("the double's diff_refs = %+v, want base_sha %s and start_sha %s", mr.DiffRefs, fx.base, moved)
	}
	pr, err := fx.f.PullRequest(context.Background(), forge.PRRef{Repo: repo, Number: int(iid)})
	if err != nil {
		t.Fatal(err)
	}
	if pr.BaseSHA != moved || pr.HeadSHA != fx.c2 {
		t.Fatalf("BaseSHA = %s, HeadSHA = %s; want the target's head %s and %s", pr.BaseSHA, pr.HeadSHA, moved, fx.c2)
	}
}
