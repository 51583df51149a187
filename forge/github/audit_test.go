package github_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/github/githubtest"
)

func TestStartBranch(t *testing.T) {
	ctx := context.Background()

	t.Run("starts a branch with a root commit that holds only its files", func(t *testing.T) {
		f, srv, repo := newForge(t)
		seedMain(srv)
		root, err := f.StartBranch(ctx, repo, forge.BranchCommit{
			Branch: "gitward/audit", Message: "audit: record 000001",
			Files: []forge.FileChange{{Path: "records/000001-pr-7.json", Content: []byte("{}\n")}, {Path: "latest", Content: []byte("x\n")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		c, ok := srv.GitCommit(repoName, root)
		if !ok || len(c.Parents) != 0 || c.Message != "audit: record 000001" {
			t.Fatalf("root commit = %+v, want no parents", c)
		}
		want := map[string]string{"records/000001-pr-7.json": "{}\n", "latest": "x\n"}
		if got := srv.Files(repoName, "gitward/audit"); !reflect.DeepEqual(got, want) {
			t.Errorf("files = %v, want %v (nothing of main)", got, want)
		}
		if head, err := f.BranchHead(ctx, repo, "gitward/audit"); err != nil || head != root {
			t.Errorf("head = %s, %v; want %s", head, err, root)
		}
		next, err := f.CommitToBranch(ctx, repo, forge.BranchCommit{
			Branch: "gitward/audit", ExpectedHead: root, Message: "audit: record 000002",
			Files: []forge.FileChange{{Path: "records/000002-pr-8.json", Content: []byte("{}\n")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := srv.GitCommit(repoName, next); !reflect.DeepEqual(c.Parents, []string{root}) {
			t.Errorf("next commit's parents = %v, want the root", c.Parents)
		}
	})

	t.Run("a branch that exists already is a conflict", func(t *testing.T) {
		f, srv, repo := newForge(t)
		seedMain(srv)
		srv.SetRef(repoName, "heads/gitward/audit", baseSHA)
		_, err := f.StartBranch(ctx, repo, forge.BranchCommit{Branch: "gitward/audit", Message: "m", Files: []forge.FileChange{{Path: "a", Content: []byte("a")}}})
		if !errors.Is(err, forge.ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
		if got := srv.Ref(repoName, "heads/gitward/audit"); got != baseSHA {
			t.Errorf("branch moved to %s", got)
		}
	})

	t.Run("a parent is refused", func(t *testing.T) {
		f, _, repo := newForge(t)
		if _, err := f.StartBranch(ctx, repo, forge.BranchCommit{Branch: "b", Parent: baseSHA, Files: []forge.FileChange{{Path: "a", Content: []byte("a")}}}); err == nil {
			t.Fatal("a root commit with a parent was accepted")
		}
	})
}

func TestCommit(t *testing.T) {
	ctx := context.Background()
	f, srv, repo := newForge(t)
	when := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	srv.AddCommit(repoName, 0, githubtest.Commit{SHA: baseSHA, Message: "base"})
	srv.AddCommit(repoName, 0, githubtest.Commit{
		SHA: headSHA, Parents: []string{baseSHA}, Message: "direct push",
		Author:    githubtest.Identity{Name: "Root", Email: "root@example.com", Login: "root", Date: when},
		Committer: githubtest.Identity{Name: "Root", Email: "root@example.com", Login: "root", Date: when},
	})
	c, err := f.Commit(ctx, repo, headSHA)
	if err != nil {
		t.Fatal(err)
	}
	if c.SHA != headSHA || !reflect.DeepEqual(c.Parents, []string{baseSHA}) || c.Author.Login != "root" || c.Message != "direct push" {
		t.Errorf("commit = %+v", c)
	}
	if _, err := f.Commit(ctx, repo, sha(99)); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("unknown commit: err = %v, want ErrNotFound", err)
	}
}

func TestPullRequestsForCommit(t *testing.T) {
	ctx := context.Background()
	f, srv, repo := newForge(t)
	merge, squashed, direct := sha(10), sha(11), sha(12)
	srv.AddCommit(repoName, 0, githubtest.Commit{SHA: baseSHA})
	srv.AddPullRequest(repoName, githubtest.PullRequest{
		Number: 7, Title: "Scale web", Author: "alice", BaseRef: "main", BaseSHA: baseSHA, HeadRef: "scale", HeadSHA: headSHA,
		State: "closed", Merged: true, MergeCommitSHA: merge, ClosedAt: time.Date(2025, 5, 2, 0, 0, 0, 0, time.UTC),
	})
	srv.AddCommit(repoName, 7, githubtest.Commit{SHA: headSHA})
	srv.AddCommit(repoName, 0, githubtest.Commit{SHA: merge, Parents: []string{baseSHA, headSHA}})
	srv.AddCommit(repoName, 0, githubtest.Commit{SHA: squashed, Parents: []string{merge}})
	srv.AddCommit(repoName, 0, githubtest.Commit{SHA: direct, Parents: []string{squashed}})
	srv.AddPullRequest(repoName, githubtest.PullRequest{
		Number: 8, Author: "bob", BaseRef: "main", BaseSHA: merge, HeadRef: "tidy", HeadSHA: sha(13),
		State: "closed", Merged: true, MergeCommitSHA: squashed, ClosedAt: time.Date(2025, 5, 3, 0, 0, 0, 0, time.UTC),
	})
	srv.LandCommits(repoName, 8, squashed)
	srv.SetRef(repoName, "heads/main", direct)

	for _, tc := range []struct {
		name, sha string
		want      []int
	}{
		{"a merge commit belongs to its pull request", merge, []int{7}},
		{"a commit of a merged pull request belongs to it", headSHA, []int{7}},
		{"a squashed commit belongs to the pull request that landed it", squashed, []int{8}},
		{"a direct push belongs to none", direct, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prs, err := f.PullRequestsForCommit(ctx, repo, tc.sha)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, pr := range prs {
				if !pr.Merged || pr.MergeSHA == "" {
					t.Errorf("#%d: merged = %v, merge SHA %q", pr.Ref.Number, pr.Merged, pr.MergeSHA)
				}
				got = append(got, pr.Ref.Number)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("pull requests = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestIssuesLabelled(t *testing.T) {
	ctx := context.Background()
	f, srv, repo := newForge(t)
	srv.AddIssue(repoName, githubtest.Issue{Title: "open one", Labels: []string{"unreviewed-change"}})
	srv.AddIssue(repoName, githubtest.Issue{Title: "closed one", State: "closed", Labels: []string{"Unreviewed-Change", "bug"}})
	srv.AddIssue(repoName, githubtest.Issue{Title: "other", Labels: []string{"bug"}})
	srv.AddPullRequest(repoName, githubtest.PullRequest{Title: "a pull request", HeadRef: "x", HeadSHA: headSHA, BaseSHA: baseSHA, Labels: []string{"unreviewed-change"}})
	got, err := f.IssuesLabelled(ctx, repo, "unreviewed-change")
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, is := range got {
		titles = append(titles, is.Title)
	}
	if want := []string{"closed one", "open one"}; !reflect.DeepEqual(titles, want) {
		t.Errorf("issues = %v, want open and closed issues with the label, no pull request", titles)
	}
}
