package github_test

import (
	"strings"
	"testing"
	"time"
)

// A secondary rate limit stops gitward asking until retry-after has
// passed, and the check never turns green on the facts it could not read.
// (Until then even the failed check cannot be written: it stays "in
// progress" and the resync re-evaluates it once GitHub answers again.)
func TestASecondaryRateLimitIsHonouredAndNeverGreen(t *testing.T) {
	fx := newFreshFixture(t)
	head := strings.Repeat("1", 40)
	fx.review("APPROVED", head)
	fx.gh.SecondaryRateLimitNext("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", time.Hour, 1)

	err := fx.eval.Evaluate(t.Context(), fx.f, fx.ref)
	if err == nil || !strings.Contains(err.Error(), "secondary rate limit") {
		t.Errorf("evaluation error = %v, want one naming the secondary rate limit", err)
	}
	c := fx.check(head)
	if c.Conclusion == "success" {
		t.Errorf("the check turned green although the reviews could not be read: %q", c.Title)
	}
	if n := fx.gh.Calls("pulls/list-reviews"); n != 1 {
		t.Errorf("reviews were requested %d times; after a secondary rate limit gitward must wait for retry-after", n)
	}
}

// A pull request so large that listing its files fails with a 5xx is
// never green.
func TestAServerErrorListingFilesIsNeverGreen(t *testing.T) {
	fx := newFreshFixture(t)
	head := strings.Repeat("1", 40)
	fx.review("APPROVED", head)
	fx.gh.FailNext("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", 502, 100)

	if err := fx.eval.Evaluate(t.Context(), fx.f, fx.ref); err == nil {
		t.Error("evaluation reported no error although the files could not be listed")
	}
	c := fx.check(head)
	if c.Conclusion == "success" {
		t.Fatalf("the check turned green although the files could not be listed: %q", c.Title)
	}
	if !strings.Contains(c.Title+c.Summary, "502") {
		t.Errorf("the check does not say what failed: %s %q\n%s", c.Conclusion, c.Title, c.Summary)
	}
}
