package github

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
	gh "github.com/google/go-github/v60/github"
)

// PublishCheck creates a check run, or updates run.ID when it is set. More
// than 50 annotations are sent in batches, as GitHub requires; a summary or
// text over GitHub's size limit is cut with a visible marker.
func (f *Forge) PublishCheck(ctx context.Context, repo forge.Repo, run forge.CheckRun) (forge.CheckRun, error) {
	c, err := f.client(repo)
	if err != nil {
		return forge.CheckRun{}, err
	}
	annotations := convertAnnotations(run.Annotations)
	first := annotations
	if len(first) > MaxAnnotationsPerRequest {
		first = first[:MaxAnnotationsPerRequest]
	}
	output := &gh.CheckRunOutput{
		Title:       gh.String(fitText(run.Title, 1000)),
		Summary:     gh.String(fitText(run.Summary, MaxCheckOutputChars)),
		Annotations: first,
	}
	if run.Title == "" {
		output.Title = gh.String(run.Name)
	}
	if run.Summary == "" {
		output.Summary = gh.String(run.Name)
	}
	if run.Text != "" {
		output.Text = gh.String(fitText(run.Text, MaxCheckOutputChars))
	}
	status := string(run.Status)
	if status == "" {
		status = string(forge.CheckCompleted)
	}
	var conclusion *string
	var completedAt *gh.Timestamp
	if status == string(forge.CheckCompleted) {
		if run.Conclusion == "" {
			return forge.CheckRun{}, fmt.Errorf("github: check run %q is completed without a conclusion", run.Name)
		}
		conclusion = gh.String(string(run.Conclusion))
		at := run.CompletedAt
		if at.IsZero() {
			at = time.Now()
		}
		completedAt = &gh.Timestamp{Time: at}
	}
	var startedAt *gh.Timestamp
	if !run.StartedAt.IsZero() {
		startedAt = &gh.Timestamp{Time: run.StartedAt}
	}
	var out *gh.CheckRun
	if run.ID == 0 {
		out, _, err = c.Checks.CreateCheckRun(ctx, repo.Owner, repo.Name, gh.CreateCheckRunOptions{
			Name:        run.Name,
			HeadSHA:     run.HeadSHA,
			DetailsURL:  optional(run.DetailsURL),
			ExternalID:  optional(run.ExternalID),
			Status:      gh.String(status),
			Conclusion:  conclusion,
			StartedAt:   startedAt,
			CompletedAt: completedAt,
			Output:      output,
		})
		if err != nil {
			return forge.CheckRun{}, wrap(err, "create check run %q on %s", run.Name, markdown.Short(run.HeadSHA))
		}
	} else {
		out, _, err = c.Checks.UpdateCheckRun(ctx, repo.Owner, repo.Name, run.ID, gh.UpdateCheckRunOptions{
			Name:        run.Name,
			DetailsURL:  optional(run.DetailsURL),
			ExternalID:  optional(run.ExternalID),
			Status:      gh.String(status),
			Conclusion:  conclusion,
			CompletedAt: completedAt,
			Output:      output,
		})
		if err != nil {
			return forge.CheckRun{}, wrap(err, "update check run %q (%d)", run.Name, run.ID)
		}
	}
	for rest := annotations[len(first):]; len(rest) > 0; {
		batch := rest
		if len(batch) > MaxAnnotationsPerRequest {
			batch = batch[:MaxAnnotationsPerRequest]
		}
		rest = rest[len(batch):]
		_, _, err = c.Checks.UpdateCheckRun(ctx, repo.Owner, repo.Name, out.GetID(), gh.UpdateCheckRunOptions{
			Name: run.Name,
			Output: &gh.CheckRunOutput{
				Title:       output.Title,
				Summary:     output.Summary,
				Annotations: batch,
			},
		})
		if err != nil {
			return forge.CheckRun{}, wrap(err, "add annotations to check run %q (%d)", run.Name, out.GetID())
		}
	}
	return convertCheckRun(out), nil
}

func convertAnnotations(in []forge.Annotation) []*gh.CheckRunAnnotation {
	out := make([]*gh.CheckRunAnnotation, 0, len(in))
	for _, a := range in {
		start, end := a.StartLine, a.EndLine
		if start < 1 {
			start = 1
		}
		if end < start {
			end = start
		}
		level := a.Level
		if level == "" {
			level = forge.AnnotationFailure
		}
		ann := &gh.CheckRunAnnotation{
			Path:            gh.String(a.Path),
			StartLine:       gh.Int(start),
			EndLine:         gh.Int(end),
			AnnotationLevel: gh.String(string(level)),
			Message:         gh.String(fitText(a.Message, 64*1024)),
		}
		if a.Title != "" {
			ann.Title = gh.String(fitText(a.Title, 255))
		}
		out = append(out, ann)
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return gh.String(s)
}

// fitText returns s unchanged when it has at most max characters, and
// otherwise cuts it at a rune boundary and says so at the end.
func fitText(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	const marker = "\n\n… cut here: the full text is over GitHub's size limit"
	keep := max - utf8.RuneCountInString(marker)
	n := 0
	for i := range s {
		if n == keep {
			return s[:i] + marker
		}
		n++
	}
	return s
}

// CreateComment posts a comment on an issue or pull request. Bodies over
// GitHub's limit are refused here: callers split them.
func (f *Forge) CreateComment(ctx context.Context, t forge.Thread, body string) (forge.Comment, error) {
	body = forge.Inert(body)
	repo, number := t.Repo, t.Number
	if n := utf8.RuneCountInString(body); n > MaxCommentChars {
		return forge.Comment{}, fmt.Errorf("github: comment on #%d has %d characters, over GitHub's limit of %d", number, n, MaxCommentChars)
	}
	c, err := f.client(repo)
	if err != nil {
		return forge.Comment{}, err
	}
	cm, _, err := c.Issues.CreateComment(ctx, repo.Owner, repo.Name, number, &gh.IssueComment{Body: gh.String(body)})
	if err != nil {
		return forge.Comment{}, wrap(err, "comment on %s#%d", repo.FullName(), number)
	}
	return convertComment(cm), nil
}

// EditComment replaces a comment's body. GitHub addresses comments by
// repository and ID alone.
func (f *Forge) EditComment(ctx context.Context, t forge.Thread, id int64, body string) error {
	body = forge.Inert(body)
	repo := t.Repo
	if n := utf8.RuneCountInString(body); n > MaxCommentChars {
		return fmt.Errorf("github: comment %d would have %d characters, over GitHub's limit of %d", id, n, MaxCommentChars)
	}
	c, err := f.client(repo)
	if err != nil {
		return err
	}
	_, _, err = c.Issues.EditComment(ctx, repo.Owner, repo.Name, id, &gh.IssueComment{Body: gh.String(body)})
	return wrap(err, "edit comment %d", id)
}

// DeleteComment removes a comment; one already gone is not an error.
func (f *Forge) DeleteComment(ctx context.Context, t forge.Thread, id int64) error {
	repo := t.Repo
	c, err := f.client(repo)
	if err != nil {
		return err
	}
	_, err = c.Issues.DeleteComment(ctx, repo.Owner, repo.Name, id)
	if err = wrap(err, "delete comment %d", id); errors.Is(err, forge.ErrNotFound) {
		return nil
	}
	return err
}

// AddLabels adds labels to an issue or pull request.
func (f *Forge) AddLabels(ctx context.Context, t forge.Thread, labels ...string) error {
	repo, number := t.Repo, t.Number
	c, err := f.client(repo)
	if err != nil {
		return err
	}
	_, _, err = c.Issues.AddLabelsToIssue(ctx, repo.Owner, repo.Name, number, labels)
	return wrap(err, "label %s#%d", repo.FullName(), number)
}

// RemoveLabel removes a label; an absent label is not an error.
func (f *Forge) RemoveLabel(ctx context.Context, t forge.Thread, label string) error {
	repo, number := t.Repo, t.Number
	c, err := f.client(repo)
	if err != nil {
		return err
	}
	// go-github puts the name into the path as it is: escape it, or a label
	// such as "gitward/breakglass" or "priority#1" names another resource.
	_, err = c.Issues.RemoveLabelForIssue(ctx, repo.Owner, repo.Name, number, url.PathEscape(label))
	if err = wrap(err, "remove label %q from %s#%d", label, repo.FullName(), number); errors.Is(err, forge.ErrNotFound) {
		return nil
	}
	return err
}

// CreateIssue opens an issue.
func (f *Forge) CreateIssue(ctx context.Context, repo forge.Repo, issue forge.Issue) (forge.Issue, error) {
	c, err := f.client(repo)
	if err != nil {
		return forge.Issue{}, err
	}
	req := &gh.IssueRequest{Title: gh.String(issue.Title), Body: gh.String(fitText(forge.Inert(issue.Body), MaxCommentChars))}
	if len(issue.Labels) > 0 {
		labels := append([]string(nil), issue.Labels...)
		req.Labels = &labels
	}
	out, _, err := c.Issues.Create(ctx, repo.Owner, repo.Name, req)
	if err != nil {
		return forge.Issue{}, wrap(err, "open issue %q", issue.Title)
	}
	return convertIssue(out), nil
}

func convertIssue(i *gh.Issue) forge.Issue {
	out := forge.Issue{Number: i.GetNumber(), Title: i.GetTitle(), Body: i.GetBody(), URL: i.GetHTMLURL(), State: i.GetState()}
	for _, l := range i.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out
}

// CloseIssue closes an issue.
func (f *Forge) CloseIssue(ctx context.Context, repo forge.Repo, number int) error {
	c, err := f.client(repo)
	if err != nil {
		return err
	}
	_, _, err = c.Issues.Edit(ctx, repo.Owner, repo.Name, number, &gh.IssueRequest{State: gh.String("closed")})
	return wrap(err, "close issue %s#%d", repo.FullName(), number)
}

// BranchHead returns the SHA a branch points at.
func (f *Forge) BranchHead(ctx context.Context, repo forge.Repo, branch string) (string, error) {
	c, err := f.client(repo)
	if err != nil {
		return "", err
	}
	ref, _, err := c.Git.GetRef(ctx, repo.Owner, repo.Name, "heads/"+branch)
	if err != nil {
		return "", wrap(err, "read branch %s", branch)
	}
	return ref.GetObject().GetSHA(), nil
}

// CommitToBranch writes the files as one commit on top of the branch (or on
// Parent for a new branch) and moves the branch with a non-forced update, so
// a concurrent writer makes it fail with forge.ErrConflict instead of being
// overwritten.
func (f *Forge) CommitToBranch(ctx context.Context, repo forge.Repo, bc forge.BranchCommit) (string, error) {
	c, err := f.client(repo)
	if err != nil {
		return "", err
	}
	parent := bc.ExpectedHead
	if parent == "" {
		parent = bc.Parent
	}
	if parent == "" {
		return "", fmt.Errorf("github: commit to %s: no parent commit", bc.Branch)
	}
	parentCommit, _, err := c.Git.GetCommit(ctx, repo.Owner, repo.Name, parent)
	if err != nil {
		return "", wrap(err, "read parent commit %s", markdown.Short(parent))
	}
	entries := make([]*gh.TreeEntry, 0, len(bc.Files))
	for _, fc := range bc.Files {
		e := &gh.TreeEntry{Path: gh.String(fc.Path), Mode: gh.String("100644"), Type: gh.String("blob")}
		switch {
		case fc.Content == nil:
			// A null SHA deletes the path; go-github sends it as JSON null.
			e.SHA = nil
		case !utf8.Valid(fc.Content):
			// A tree entry's content is a JSON string, which cannot carry
			// arbitrary bytes: store them as a base64 blob instead.
			blob, _, err := c.Git.CreateBlob(ctx, repo.Owner, repo.Name, &gh.Blob{
				Content:  gh.String(base64.StdEncoding.EncodeToString(fc.Content)),
				Encoding: gh.String("base64"),
			})
			if err != nil {
				return "", wrap(err, "write %s for %s", fc.Path, bc.Branch)
			}
			e.SHA = blob.SHA
		default:
			e.Content = gh.String(string(fc.Content))
		}
		entries = append(entries, e)
	}
	tree, _, err := c.Git.CreateTree(ctx, repo.Owner, repo.Name, parentCommit.GetTree().GetSHA(), entries)
	if err != nil {
		return "", wrap(err, "write tree for %s", bc.Branch)
	}
	commit, _, err := c.Git.CreateCommit(ctx, repo.Owner, repo.Name, &gh.Commit{
		Message: gh.String(bc.Message),
		Tree:    &gh.Tree{SHA: tree.SHA},
		Parents: []*gh.Commit{{SHA: gh.String(parent)}},
	}, nil)
	if err != nil {
		return "", wrap(err, "write commit for %s", bc.Branch)
	}
	ref := &gh.Reference{Ref: gh.String("refs/heads/" + bc.Branch), Object: &gh.GitObject{SHA: commit.SHA}}
	if bc.ExpectedHead == "" {
		_, _, err = c.Git.CreateRef(ctx, repo.Owner, repo.Name, ref)
		if err != nil {
			if isUnprocessable(err) {
				return "", fmt.Errorf("github: create branch %s: %w (%v)", bc.Branch, forge.ErrConflict, err)
			}
			return "", wrap(err, "create branch %s", bc.Branch)
		}
		return commit.GetSHA(), nil
	}
	_, _, err = c.Git.UpdateRef(ctx, repo.Owner, repo.Name, ref, false)
	if err != nil {
		if isUnprocessable(err) {
			return "", fmt.Errorf("github: move branch %s: %w (%v)", bc.Branch, forge.ErrConflict, err)
		}
		return "", wrap(err, "move branch %s", bc.Branch)
	}
	return commit.GetSHA(), nil
}

func isUnprocessable(err error) bool {
	var rerr *gh.ErrorResponse
	return errors.As(err, &rerr) && rerr.Response != nil && rerr.Response.StatusCode == http.StatusUnprocessableEntity
}

// FindPullRequest returns the open pull request from head into base.
func (f *Forge) FindPullRequest(ctx context.Context, repo forge.Repo, head, base string) (*forge.PullRequest, error) {
	prs, err := f.listPulls(ctx, repo, &gh.PullRequestListOptions{State: "open", Head: repo.Owner + ":" + head, Base: base})
	if err != nil {
		return nil, err
	}
	for i := range prs {
		if prs[i].HeadRef == head && prs[i].BaseRef == base {
			return &prs[i], nil
		}
	}
	return nil, fmt.Errorf("github: pull request from %s into %s: %w", head, base, forge.ErrNotFound)
}

// CreatePullRequest opens a pull request and labels it.
func (f *Forge) CreatePullRequest(ctx context.Context, repo forge.Repo, npr forge.NewPullRequest) (*forge.PullRequest, error) {
	c, err := f.client(repo)
	if err != nil {
		return nil, err
	}
	pr, _, err := c.PullRequests.Create(ctx, repo.Owner, repo.Name, &gh.NewPullRequest{
		Title: gh.String(npr.Title),
		Head:  gh.String(npr.Head),
		Base:  gh.String(npr.Base),
		Body:  gh.String(fitText(forge.Inert(npr.Body), MaxCommentChars)),
	})
	if err != nil {
		return nil, wrap(err, "open pull request from %s", npr.Head)
	}
	out := convertPR(repo, pr)
	if len(npr.Labels) > 0 {
		if err := f.AddLabels(ctx, out.Ref.Thread(), npr.Labels...); err != nil {
			return &out, err
		}
	}
	return &out, nil
}

// UpdatePullRequest replaces a pull request's title and body.
func (f *Forge) UpdatePullRequest(ctx context.Context, ref forge.PRRef, title, body string) error {
	c, err := f.client(ref.Repo)
	if err != nil {
		return err
	}
	_, _, err = c.PullRequests.Edit(ctx, ref.Repo.Owner, ref.Repo.Name, ref.Number, &gh.PullRequest{
		Title: gh.String(title),
		Body:  gh.String(fitText(forge.Inert(body), MaxCommentChars)),
	})
	return wrap(err, "update %s", ref)
}

// Limits implements forge.Forge: comments up to MaxCommentChars, and check
// runs that carry their own summary and text.
func (f *Forge) Limits() forge.Limits {
	return forge.Limits{CommentChars: MaxCommentChars, CheckText: true, PullRequestPrefix: "#"}
}
