package forgetest

import (
	"context"
	"fmt"
	"github.com/gitward/gitward/report/markdown"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gitward/gitward/forge"
)

// PublishCheck implements forge.Publisher as GitHub's check runs behave:
// without an ID it creates a run on a commit the repository has; with one
// it updates that run of the fake's app in place (its commit and start
// stay; annotations add up). A run without a status is completed, and a
// completed run needs a conclusion.
func (f *Fake) PublishCheck(ctx context.Context, r forge.Repo, run forge.CheckRun) (forge.CheckRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "PublishCheck", r, copyRun(run)); err != nil {
		return forge.CheckRun{}, err
	}
	rp, err := f.repo(r)
	if err != nil {
		return forge.CheckRun{}, err
	}
	if run.Name == "" {
		return forge.CheckRun{}, fmt.Errorf("forgetest: a check run needs a name")
	}
	if run.Status == "" {
		run.Status = forge.CheckCompleted
	}
	if run.Status == forge.CheckCompleted && run.Conclusion == "" {
		return forge.CheckRun{}, fmt.Errorf("forgetest: check run %q is completed without a conclusion", run.Name)
	}
	now := f.stamp()
	if run.Status == forge.CheckCompleted && run.CompletedAt.IsZero() {
		run.CompletedAt = now
	}
	run.CompletedAt = run.CompletedAt.UTC().Truncate(time.Second)
	if run.Title == "" {
		run.Title = run.Name
	}
	if run.Summary == "" {
		run.Summary = run.Name
	}
	if run.ID == 0 {
		if rp.commits[run.HeadSHA] == nil {
			return forge.CheckRun{}, fmt.Errorf("forgetest: create check run %q: no commit %s in %s", run.Name, markdown.Short(run.HeadSHA), r.FullName())
		}
		run.ID, run.AppID = f.newID(), AppID
		if run.StartedAt.IsZero() {
			run.StartedAt = now
		}
		run.StartedAt = run.StartedAt.UTC().Truncate(time.Second)
		run = copyRun(run)
		rp.checks = append(rp.checks, &run)
		return copyRun(run), nil
	}
	i := slices.IndexFunc(rp.checks, func(c *forge.CheckRun) bool { return c.ID == run.ID && c.AppID == AppID })
	if i < 0 {
		return forge.CheckRun{}, fmt.Errorf("forgetest: update check run %q (%d): %w", run.Name, run.ID, forge.ErrNotFound)
	}
	c := rp.checks[i]
	c.Name, c.Status, c.ExternalID, c.DetailsURL = run.Name, run.Status, run.ExternalID, run.DetailsURL
	c.Title, c.Summary, c.Text = run.Title, run.Summary, run.Text
	if run.Status == forge.CheckCompleted {
		c.Conclusion, c.CompletedAt = run.Conclusion, run.CompletedAt
	}
	c.Annotations = append(c.Annotations, run.Annotations...)
	return copyRun(*c), nil
}

// CreateComment implements forge.Publisher: the fake's bot posts the body
// made inert, and a body over the comment limit is refused.
func (f *Fake) CreateComment(ctx context.Context, t forge.Thread, body string) (forge.Comment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "CreateComment", t, body); err != nil {
		return forge.Comment{}, err
	}
	rp, err := f.writableThread(t)
	if err != nil {
		return forge.Comment{}, err
	}
	body, err = f.fit(body)
	if err != nil {
		return forge.Comment{}, fmt.Errorf("forgetest: comment on %s: %w", t, err)
	}
	now := f.stamp()
	c := &comment{thread: forge.Thread{Number: t.Number, Issue: t.Issue}, Comment: forge.Comment{
		ID: f.newID(), User: f.bot, Body: body, CreatedAt: now, UpdatedAt: now,
	}}
	c.URL = fmt.Sprintf("https://%s/%s/issues/%d#comment-%d", rp.info.Host, rp.info.FullName(), t.Number, c.ID)
	rp.comments = append(rp.comments, c)
	return c.Comment, nil
}

// EditComment implements forge.Publisher; the comment must be in t.
func (f *Fake) EditComment(ctx context.Context, t forge.Thread, id int64, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "EditComment", t, id, body); err != nil {
		return err
	}
	rp, err := f.writableThread(t)
	if err != nil {
		return err
	}
	c := rp.comment(t, id)
	if c == nil {
		return fmt.Errorf("forgetest: edit comment %d on %s: %w", id, t, forge.ErrNotFound)
	}
	if body, err = f.fit(body); err != nil {
		return fmt.Errorf("forgetest: edit comment %d on %s: %w", id, t, err)
	}
	c.Body, c.UpdatedAt, c.Edited = body, f.stamp(), true
	return nil
}

// DeleteComment implements forge.Publisher; a comment already gone is not
// an error.
func (f *Fake) DeleteComment(ctx context.Context, t forge.Thread, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "DeleteComment", t, id); err != nil {
		return err
	}
	rp, err := f.repo(t.Repo)
	if err != nil {
		return err
	}
	if gone := rp.comment(t, id); gone != nil {
		rp.comments = slices.DeleteFunc(rp.comments, func(c *comment) bool { return c == gone })
	}
	return nil
}

// React implements forge.Publisher; reacting twice keeps one reaction.
func (f *Fake) React(ctx context.Context, t forge.Thread, id int64, content string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "React", t, id, content); err != nil {
		return err
	}
	rp, err := f.writableThread(t)
	if err != nil {
		return err
	}
	c := rp.comment(t, id)
	if c == nil {
		return fmt.Errorf("forgetest: react to comment %d on %s: %w", id, t, forge.ErrNotFound)
	}
	c.reactions = unique(c.reactions, content)
	return nil
}

// AddLabels implements forge.Publisher.
func (f *Fake) AddLabels(ctx context.Context, t forge.Thread, labels ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "AddLabels", t, labels); err != nil {
		return err
	}
	rp, err := f.writableThread(t)
	if err != nil {
		return err
	}
	l := rp.labels(t)
	*l = unique(*l, labels...)
	return nil
}

// RemoveLabel implements forge.Publisher; an absent label is not an error.
func (f *Fake) RemoveLabel(ctx context.Context, t forge.Thread, label string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "RemoveLabel", t, label); err != nil {
		return err
	}
	rp, err := f.writableThread(t)
	if err != nil {
		return err
	}
	l := rp.labels(t)
	*l = slices.DeleteFunc(*l, func(s string) bool { return strings.EqualFold(s, label) })
	return nil
}

// writableThread returns the repository of t, which must exist. It runs
// with f.mu held.
func (f *Fake) writableThread(t forge.Thread) (*repo, error) {
	rp, err := f.repo(t.Repo)
	if err != nil {
		return nil, err
	}
	return rp, rp.hasThread(t)
}

// labels returns the label list of an existing thread.
func (rp *repo) labels(t forge.Thread) *[]string {
	if t.Issue {
		return &rp.issues[t.Number].Labels
	}
	return &rp.pulls[t.Number].Labels
}

// fit makes body inert, as the adapters send it, and refuses it over the
// comment limit.
func (f *Fake) fit(body string) (string, error) {
	body = forge.Inert(body)
	if n := utf8.RuneCountInString(body); n > f.limits.CommentChars {
		return "", fmt.Errorf("the body has %d characters, over the limit of %d", n, f.limits.CommentChars)
	}
	return body, nil
}

// CreateIssue implements forge.Publisher.
func (f *Fake) CreateIssue(ctx context.Context, r forge.Repo, issue forge.Issue) (forge.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "CreateIssue", r, issue); err != nil {
		return forge.Issue{}, err
	}
	rp, err := f.repo(r)
	if err != nil {
		return forge.Issue{}, err
	}
	issue.State, issue.Body = "open", forge.Inert(issue.Body)
	out := *f.addIssue(rp, issue)
	out.Labels = slices.Clone(out.Labels)
	return out, nil
}

// CloseIssue implements forge.Publisher.
func (f *Fake) CloseIssue(ctx context.Context, r forge.Repo, number int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "CloseIssue", r, number); err != nil {
		return err
	}
	rp, err := f.writableThread(forge.IssueThread(r, number))
	if err != nil {
		return err
	}
	rp.issues[number].State = "closed"
	return nil
}

// BranchHead implements forge.Publisher.
func (f *Fake) BranchHead(ctx context.Context, r forge.Repo, branch string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "BranchHead", r, branch); err != nil {
		return "", err
	}
	rp, err := f.repo(r)
	if err != nil {
		return "", err
	}
	sha, ok := rp.branches[branch]
	if !ok {
		return "", fmt.Errorf("forgetest: branch %s of %s: %w", branch, r.FullName(), forge.ErrNotFound)
	}
	return sha, nil
}

// CommitToBranch implements forge.Publisher with a compare-and-swap of
// the branch: ErrConflict when it is not at ExpectedHead, or exists
// already when ExpectedHead is empty.
func (f *Fake) CommitToBranch(ctx context.Context, r forge.Repo, bc forge.BranchCommit) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "CommitToBranch", r, bc); err != nil {
		return "", err
	}
	rp, err := f.repo(r)
	if err != nil {
		return "", err
	}
	parent := bc.ExpectedHead
	if parent == "" {
		parent = bc.Parent
	}
	if parent == "" {
		return "", fmt.Errorf("forgetest: commit to %s: no parent commit", bc.Branch)
	}
	if rp.commits[parent] == nil {
		return "", fmt.Errorf("forgetest: commit to %s: parent %s: %w", bc.Branch, markdown.Short(parent), forge.ErrNotFound)
	}
	if head, exists := rp.branches[bc.Branch]; exists != (bc.ExpectedHead != "") || head != bc.ExpectedHead {
		return "", fmt.Errorf("forgetest: commit to %s: the branch is at %q, not %q: %w", bc.Branch, markdown.Short(head), markdown.Short(bc.ExpectedHead), forge.ErrConflict)
	}
	return f.commitFiles(rp, parent, bc)
}

// StartBranch implements forge.Publisher: a root commit on a new branch.
func (f *Fake) StartBranch(ctx context.Context, r forge.Repo, bc forge.BranchCommit) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "StartBranch", r, bc); err != nil {
		return "", err
	}
	rp, err := f.repo(r)
	if err != nil {
		return "", err
	}
	if bc.ExpectedHead != "" || bc.Parent != "" {
		return "", fmt.Errorf("forgetest: start branch %s: a root commit has no parent", bc.Branch)
	}
	if _, exists := rp.branches[bc.Branch]; exists {
		return "", fmt.Errorf("forgetest: start branch %s: it exists: %w", bc.Branch, forge.ErrConflict)
	}
	return f.commitFiles(rp, "", bc)
}

// commitFiles writes bc's files on parent as the fake's bot and moves the
// branch. It runs with f.mu held.
func (f *Fake) commitFiles(rp *repo, parent string, bc forge.BranchCommit) (string, error) {
	c := Commit{Files: map[string]string{}, Message: bc.Message}
	for _, fc := range bc.Files {
		if fc.Content == nil {
			c.Remove = append(c.Remove, fc.Path)
		} else {
			c.Files[fc.Path] = string(fc.Content)
		}
	}
	c.Author = forge.Identity{Name: f.bot.Login, Login: f.bot.Login}
	c.Committer = c.Author
	sha, err := f.write(rp, parent, c)
	if err != nil {
		return "", err
	}
	f.moveBranch(rp, bc.Branch, sha)
	return sha, nil
}

// FindPullRequest implements forge.Publisher.
func (f *Fake) FindPullRequest(ctx context.Context, r forge.Repo, head, base string) (*forge.PullRequest, error) {
	prs, err := f.pulls(ctx, "FindPullRequest", r, func(_ *repo, p *pull) bool {
		return p.State == forge.PROpen && p.HeadRef == head && p.BaseRef == base
	})
	if err != nil {
		return nil, err
	}
	if len(prs) == 0 {
		return nil, fmt.Errorf("forgetest: pull request from %s into %s: %w", head, base, forge.ErrNotFound)
	}
	return &prs[0], nil
}

// CreatePullRequest implements forge.Publisher: the fake's bot opens it
// between existing branches, unless one is open between them already.
func (f *Fake) CreatePullRequest(ctx context.Context, r forge.Repo, npr forge.NewPullRequest) (*forge.PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "CreatePullRequest", r, npr); err != nil {
		return nil, err
	}
	rp, err := f.repo(r)
	if err != nil {
		return nil, err
	}
	if npr.Base == "" {
		npr.Base = rp.info.DefaultBranch
	}
	for _, p := range rp.pulls {
		if p.State == forge.PROpen && p.HeadRef == npr.Head && p.BaseRef == npr.Base {
			return nil, fmt.Errorf("forgetest: a pull request from %s into %s is open already (%s)", npr.Head, npr.Base, p.Ref)
		}
	}
	p, err := f.open(rp, PullRequest{Title: npr.Title, Body: forge.Inert(npr.Body), Author: f.bot, Head: npr.Head, Base: npr.Base, Labels: npr.Labels})
	if err != nil {
		return nil, err
	}
	out := p.facts()
	return &out, nil
}

// UpdatePullRequest implements forge.Publisher.
func (f *Fake) UpdatePullRequest(ctx context.Context, ref forge.PRRef, title, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "UpdatePullRequest", ref, title, body); err != nil {
		return err
	}
	_, p, err := f.pull(ref)
	if err != nil {
		return err
	}
	p.Title, p.Body = title, forge.Inert(body)
	return nil
}
