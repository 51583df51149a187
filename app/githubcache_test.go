package app_test

import (
	"testing"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/github/githubtest"
)

// The server's GitHub clients cache responses, and GitHub marks them fresh
// for a minute; every read a verdict depends on must still show what
// GitHub says now, and an unchanged answer must cost no rate limit.
func TestGitHubReadsThroughTheServersCacheAreCurrent(t *testing.T) {
	h := newHarness(t)
	h.addPR(1, sha("base"), sha("head-1"))
	f, ref := h.srv.Forge(), forge.PRRef{Repo: h.repo(), Number: 1}
	ctx := t.Context()

	if reviews, err := f.Reviews(ctx, ref); err != nil || len(reviews) != 0 {
		t.Fatalf("reviews = %v, %v", reviews, err)
	}
	budget := h.gh.RateLimitRemaining()
	if _, err := f.Reviews(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if got := h.gh.RateLimitRemaining(); got != budget {
		t.Errorf("an unchanged read cost %d requests of the rate limit; a revalidated one costs none", budget-got)
	}

	h.gh.AddReview(repoName, 1, githubtest.Review{User: "bob", State: "APPROVED", CommitID: sha("head-1")})
	if reviews, err := f.Reviews(ctx, ref); err != nil || len(reviews) != 1 {
		t.Errorf("a review given within the cache's minute is not seen: %v, %v", reviews, err)
	}
	if _, err := f.PullRequest(ctx, ref); err != nil {
		t.Fatal(err)
	}
	h.addPR(1, sha("base"), sha("head-2")) // a push
	if pr, err := f.PullRequest(ctx, ref); err != nil || pr.HeadSHA != sha("head-2") {
		t.Errorf("after a push the pull request still names its old head: %+v, %v", pr, err)
	}
}
