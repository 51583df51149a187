package githubtest_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gitward/gitward/forge/github/githubtest"
)

// rawGet sends one GET as the installation, with extra request headers.
func rawGet(t *testing.T, srv *githubtest.Server, path string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+srv.InstallationToken(1))
	req.Header.Set("Accept", "application/vnd.github+json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func TestReadsCarryGitHubsCachingHeadersAndRevalidateFor304(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := githubtest.New(t, githubtest.WithClock(func() time.Time { return now }))
	srv.AddInstallation(1, "acme")
	srv.AddRepo(1, "acme", "gitops", "main")
	n := srv.AddPullRequest(repoName, githubtest.PullRequest{Title: "t", Author: "alice", BaseSHA: baseSHA, HeadRef: "x", HeadSHA: headSHA})
	reviews := "/repos/acme/gitops/pulls/" + itoa(n) + "/reviews"

	first := rawGet(t, srv, reviews, nil)
	etag, modified := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
	for h, want := range map[string]string{
		"Cache-Control": "private, max-age=60, s-maxage=60",
		"Vary":          "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding, Accept, X-Requested-With",
		"Date":          now.Format(http.TimeFormat),
	} {
		if got := first.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if first.StatusCode != http.StatusOK || etag == "" || modified == "" {
		t.Fatalf("first read: %d, ETag %q, Last-Modified %q", first.StatusCode, etag, modified)
	}

	budget := srv.RateLimitRemaining()
	for name, h := range map[string]map[string]string{
		"If-None-Match":     {"If-None-Match": etag},
		"If-Modified-Since": {"If-Modified-Since": modified},
	} {
		if res := rawGet(t, srv, reviews, h); res.StatusCode != http.StatusNotModified {
			t.Errorf("unchanged reviews revalidated with %s: %d, want 304", name, res.StatusCode)
		}
	}
	if got := srv.RateLimitRemaining(); got != budget {
		t.Errorf("304 answers spent %d of the rate limit; GitHub does not count them", budget-got)
	}

	// A review within the same second changes the answer: both validators
	// must miss, and the full answer costs one request each.
	srv.AddReview(repoName, n, githubtest.Review{User: "bob", State: "APPROVED", CommitID: headSHA})
	for name, h := range map[string]map[string]string{
		"If-None-Match":     {"If-None-Match": etag},
		"If-Modified-Since": {"If-Modified-Since": modified},
	} {
		if res := rawGet(t, srv, reviews, h); res.StatusCode != http.StatusOK {
			t.Errorf("changed reviews revalidated with %s: %d, want 200", name, res.StatusCode)
		}
	}
	if got := srv.RateLimitRemaining(); got != budget-2 {
		t.Errorf("rate limit spent %d by two full answers, want 2", budget-got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
