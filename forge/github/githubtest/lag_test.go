package githubtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/forge/github/githubtest"
)

func TestLaterShowsAChangeAfterTheGivenNumberOfRequests(t *testing.T) {
	srv, c := seeded(t)
	ctx := context.Background()
	srv.Later(2, func() {
		srv.AddReview(repoName, 7, githubtest.Review{User: "bob", State: "APPROVED", CommitID: headSHA})
	})
	for i := 1; i <= 3; i++ {
		reviews, _, err := c.PullRequests.ListReviews(ctx, "acme", "gitops", 7, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := i > 2; (len(reviews) == 1) != want {
			t.Errorf("request %d sees %d reviews; the review should show from request 3 on", i, len(reviews))
		}
	}
	if srv.Pending() != 0 {
		t.Errorf("%d changes still held", srv.Pending())
	}

	srv.Later(1_000, func() {
		srv.AddReview(repoName, 7, githubtest.Review{User: "carol", State: "APPROVED", CommitID: headSHA})
	})
	srv.Settle()
	if reviews, _, err := c.PullRequests.ListReviews(ctx, "acme", "gitops", 7, nil); err != nil || len(reviews) != 2 {
		t.Errorf("after Settle: %d reviews, %v; want 2", len(reviews), err)
	}
}

func TestAMergeCommitIsLinkedToItsPullRequestAfterTheLag(t *testing.T) {
	srv := githubtest.New(t, githubtest.WithCommitLinkLag(1_000))
	srv.AddInstallation(1, "acme")
	srv.AddRepo(1, "acme", "gitops", "main")
	srv.AddPullRequest(repoName, githubtest.PullRequest{Number: 7, Title: "t", Author: "alice", BaseRef: "main", BaseSHA: baseSHA, HeadRef: "x", HeadSHA: headSHA})
	c := client(t, srv)
	merge := strings.Repeat("3", 40)
	srv.MergePullRequest(repoName, 7, merge, time.Now())

	ctx := context.Background()
	prs, _, err := c.PullRequests.ListPullRequestsWithCommit(ctx, "acme", "gitops", merge, nil)
	if err != nil || len(prs) != 0 {
		t.Fatalf("right after the merge: %d pull requests, %v; GitHub links them a moment later", len(prs), err)
	}
	srv.Settle()
	prs, _, err = c.PullRequests.ListPullRequestsWithCommit(ctx, "acme", "gitops", merge, nil)
	if err != nil || len(prs) != 1 || prs[0].GetNumber() != 7 {
		t.Fatalf("after the lag: %d pull requests, %v; want #7", len(prs), err)
	}
}
