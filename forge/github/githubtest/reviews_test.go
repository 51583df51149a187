package githubtest_test

import (
	"testing"

	"github.com/gitward/gitward/forge/github/githubtest"
)

func TestADismissedReviewKeepsItsCommitAndTime(t *testing.T) {
	srv, c := seeded(t)
	id := srv.AddReview(repoName, 7, githubtest.Review{User: "bob", State: "APPROVED", CommitID: headSHA})
	other := srv.AddReview(repoName, 7, githubtest.Review{User: "carol", State: "APPROVED", CommitID: headSHA})
	before, _, err := c.PullRequests.ListReviews(t.Context(), "acme", "gitops", 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.DismissReview(repoName, 7, id)
	after, _, err := c.PullRequests.ListReviews(t.Context(), "acme", "gitops", 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 2 {
		t.Fatalf("got %d reviews, want 2", len(after))
	}
	for i, rv := range after {
		want := "APPROVED"
		if rv.GetID() == id {
			want = "DISMISSED"
		}
		if rv.GetState() != want {
			t.Errorf("review %d is %s, want %s", rv.GetID(), rv.GetState(), want)
		}
		if rv.GetCommitID() != headSHA || !rv.GetSubmittedAt().Equal(before[i].GetSubmittedAt()) {
			t.Errorf("review %d changed its commit or time: %s at %v", rv.GetID(), rv.GetCommitID(), rv.GetSubmittedAt())
		}
	}
	if after[1].GetID() != other {
		t.Errorf("reviews reordered")
	}
}
