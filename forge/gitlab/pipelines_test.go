package gitlab_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
)

// TestStatusesGoToTheHeadPipeline: once the merge request was read, a
// status goes into its head pipeline by ID; when GitLab refuses that
// pipeline (gone since), the adapter forgets it and lets GitLab choose.
func TestStatusesGoToTheHeadPipeline(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := t.Context()
	pr, err := fx.f.PullRequest(ctx, fx.ref)
	if err != nil {
		t.Fatal(err)
	}
	head := fx.srv.AddPipeline(proj, fx.c2, fx.srv.MergeRequest(proj, int64(fx.iid)).SourceBranch, "push")
	if _, err := fx.f.PullRequest(ctx, fx.ref); err != nil {
		t.Fatal(err)
	}
	if got := fx.f.KnownHeadPipeline(repo, pr.HeadSHA); got != head {
		t.Fatalf("known head pipeline = %d, want %d", got, head)
	}
	// A tag pipeline on the same commit is newer, but not the head's.
	tag := fx.srv.AddPipeline(proj, fx.c2, "v1", "push")
	run := forge.CheckRun{Name: "gitward/diff", HeadSHA: pr.HeadSHA, Status: forge.CheckCompleted, Conclusion: forge.ConclusionSuccess, Title: "ok"}
	if _, err := fx.f.PublishCheck(ctx, repo, run); err != nil {
		t.Fatal(err)
	}
	if got := fx.srv.PipelineStatuses(proj, pr.HeadSHA, head); len(got) != 1 {
		t.Fatalf("head pipeline statuses = %+v", got)
	}
	if got := fx.srv.PipelineStatuses(proj, pr.HeadSHA, tag); len(got) != 0 {
		t.Fatalf("the tag's pipeline got %+v", got)
	}

	// The remembered pipeline is refused: the status still lands, and the
	// pipeline is forgotten.
	fx.srv.FailNext(http.MethodPost, "/api/v4/projects/"+url.PathEscape(proj)+"/statuses/"+pr.HeadSHA, http.StatusNotFound)
	run.Name = "gitward/change-control"
	if _, err := fx.f.PublishCheck(ctx, repo, run); err != nil {
		t.Fatalf("publish after the pipeline was refused: %v", err)
	}
	if got := fx.f.KnownHeadPipeline(repo, pr.HeadSHA); got != 0 {
		t.Errorf("known head pipeline after a refusal = %d, want forgotten", got)
	}
}
