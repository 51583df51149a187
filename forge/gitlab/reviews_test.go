package gitlab_test

import (
	"context"
	"net/http"
	"testing"

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

// TestReviewsWithoutApprovalSettings: GitLab Free and instances without
// project approval settings answer 404 or 403 there. Approvals are then
// not reset on push, so they carry no commit, and that is no error.
func TestReviewsWithoutApprovalSettings(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusForbidden} {
		fx := setup(t, gitlabtest.ProjectOptions{ResetApprovalsOnPush: true})
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
	fx.srv.Approve(proj, int64(fx.iid), "bob")
	fx.srv.FailNext(http.MethodGet, escProj+"/approvals", http.StatusUnauthorized)
	if rs, err := fx.f.Reviews(context.Background(), fx.ref); err == nil {
		t.Fatalf("401 on approval settings: reviews = %+v, want an error", rs)
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
