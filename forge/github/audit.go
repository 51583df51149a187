package github

import (
	"context"
	"fmt"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
	gh "github.com/google/go-github/v60/github"
)

// The reads and writes of the audit trail: one commit and the pull
// requests it came from (to find changes that bypassed review), issues by
// label (so a report is opened once), and the root commit that starts the
// ledger branch.

// Commit returns one commit with its parents and GitHub's signature
// verdict.
func (f *Forge) Commit(ctx context.Context, repo forge.Repo, sha string) (*forge.Commit, error) {
	c, err := f.client(repo)
	if err != nil {
		return nil, err
	}
	rc, _, err := c.Repositories.GetCommit(ctx, repo.Owner, repo.Name, sha, &gh.ListOptions{PerPage: 1})
	if isUnprocessable(err) {
		// GitHub answers an unknown SHA with 422 "No commit found".
		return nil, fmt.Errorf("github: read commit %s: %w (%v)", markdown.Short(sha), forge.ErrNotFound, err)
	}
	if err != nil {
		return nil, wrap(err, "read commit %s", markdown.Short(sha))
	}
	out := convertCommit(rc)
	return &out, nil
}

// PullRequestsForCommit lists the pull requests GitHub associates with a
// commit. Its list holds GitHub's short form of a pull request, which has
// merged_at but no merged flag: a pull request with merged_at is merged.
func (f *Forge) PullRequestsForCommit(ctx context.Context, repo forge.Repo, sha string) ([]forge.PullRequest, error) {
	c, err := f.client(repo)
	if err != nil {
		return nil, err
	}
	var out []forge.PullRequest
	opt := &gh.ListOptions{PerPage: perPage}
	for {
		page, resp, err := c.PullRequests.ListPullRequestsWithCommit(ctx, repo.Owner, repo.Name, sha, opt)
		if err != nil {
			return nil, wrap(err, "pull requests of commit %s", markdown.Short(sha))
		}
		for _, pr := range page {
			p := convertPR(repo, pr)
			if pr.MergedAt != nil {
				p.Merged, p.MergeSHA = true, pr.GetMergeCommitSHA()
			}
			out = append(out, p)
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return out, nil
}

// MergedPullRequests lists the pull requests merged at or after since,
// oldest merge first. GitHub cannot filter pull requests by time, so
// closed ones are read most recently updated first until one was last
// updated before since: merging updates a pull request, so none merged
// since then comes after it. The list's short form of a pull request has
// merged_at but no merged flag: one with merged_at is merged.
func (f *Forge) MergedPullRequests(ctx context.Context, repo forge.Repo, since time.Time) ([]forge.PullRequest, error) {
	c, err := f.client(repo)
	if err != nil {
		return nil, err
	}
	var out []forge.PullRequest
	opt := &gh.PullRequestListOptions{State: "closed", Sort: "updated", Direction: "desc", ListOptions: gh.ListOptions{PerPage: perPage}}
	for {
		page, resp, err := c.PullRequests.List(ctx, repo.Owner, repo.Name, opt)
		if err != nil {
			return nil, wrap(err, "list pull requests of %s closed since %s", repo.FullName(), since.Format(time.RFC3339))
		}
		for _, pr := range page {
			if pr.GetUpdatedAt().Before(since) {
				resp.NextPage = 0
				break
			}
			if pr.MergedAt == nil || pr.GetMergedAt().Before(since) {
				continue
			}
			p := convertPR(repo, pr)
			p.Merged, p.MergeSHA, p.MergedAt = true, pr.GetMergeCommitSHA(), pr.GetMergedAt().Time
			out = append(out, p)
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].MergedAt.Before(out[j].MergedAt) })
	return out, nil
}

// IssuesLabelled lists open and closed issues with label, leaving out the
// pull requests GitHub lists among issues.
func (f *Forge) IssuesLabelled(ctx context.Context, repo forge.Repo, label string) ([]forge.Issue, error) {
	c, err := f.client(repo)
	if err != nil {
		return nil, err
	}
	var out []forge.Issue
	opt := &gh.IssueListByRepoOptions{State: "all", Labels: []string{label}, ListOptions: gh.ListOptions{PerPage: perPage}}
	for {
		page, resp, err := c.Issues.ListByRepo(ctx, repo.Owner, repo.Name, opt)
		if err != nil {
			return nil, wrap(err, "list issues labelled %q", label)
		}
		for _, is := range page {
			if is.IsPullRequest() {
				continue
			}
			out = append(out, convertIssue(is))
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return out, nil
}

// StartBranch writes the files as a root commit (a tree without a base and
// a commit without parents) and creates the branch at it. Creating a ref
// that exists fails, so of two writers racing to start the same branch one
// gets forge.ErrConflict.
func (f *Forge) StartBranch(ctx context.Context, repo forge.Repo, bc forge.BranchCommit) (string, error) {
	if bc.ExpectedHead != "" || bc.Parent != "" {
		return "", fmt.Errorf("github: start branch %s: a root commit has no parent", bc.Branch)
	}
	if len(bc.Files) == 0 {
		return "", fmt.Errorf("github: start branch %s: no files to commit", bc.Branch)
	}
	c, err := f.client(repo)
	if err != nil {
		return "", err
	}
	entries := make([]*gh.TreeEntry, 0, len(bc.Files))
	for _, fc := range bc.Files {
		if fc.Content == nil || !utf8.Valid(fc.Content) {
			return "", fmt.Errorf("github: start branch %s: %s must be UTF-8 text", bc.Branch, fc.Path)
		}
		entries = append(entries, &gh.TreeEntry{
			Path: gh.String(fc.Path), Mode: gh.String("100644"), Type: gh.String("blob"), Content: gh.String(string(fc.Content)),
		})
	}
	tree, _, err := c.Git.CreateTree(ctx, repo.Owner, repo.Name, "", entries)
	if err != nil {
		return "", wrap(err, "write tree for %s", bc.Branch)
	}
	commit, _, err := c.Git.CreateCommit(ctx, repo.Owner, repo.Name, &gh.Commit{
		Message: gh.String(bc.Message),
		Tree:    &gh.Tree{SHA: tree.SHA},
	}, nil)
	if err != nil {
		return "", wrap(err, "write root commit for %s", bc.Branch)
	}
	ref := &gh.Reference{Ref: gh.String("refs/heads/" + bc.Branch), Object: &gh.GitObject{SHA: commit.SHA}}
	if _, _, err := c.Git.CreateRef(ctx, repo.Owner, repo.Name, ref); err != nil {
		if isUnprocessable(err) {
			return "", fmt.Errorf("github: create branch %s: %w (%v)", bc.Branch, forge.ErrConflict, err)
		}
		return "", wrap(err, "create branch %s", bc.Branch)
	}
	return commit.GetSHA(), nil
}
