package gitlab

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
	gl "gitlab.com/gitlab-org/api/client-go"
)

// Limits GitLab enforces, checked before sending.
const (
	// MaxNoteChars is the largest note body GitLab accepts (1,000,000
	// characters); the core splits its sticky note below this.
	MaxNoteChars = 1_000_000
	// MaxStatusDescription is how much of a commit status description
	// gitward writes. GitLab stores descriptions as text but shows one
	// line; gitward keeps them to this many characters, external ID
	// included.
	MaxStatusDescription = 255
)

func isNotFound(err error) bool { return errors.Is(err, forge.ErrNotFound) }

// extOpen and extClose frame the external ID at the end of a status
// description.
const (
	extOpen  = " [gitward:"
	extClose = "]"
)

// joinDescription writes a check run's title and external ID into one
// status description of at most MaxStatusDescription characters; the title
// is cut to fit, the external ID never is (it is a short key such as a
// base SHA).
func joinDescription(title, ext string) string {
	suffix := ""
	if ext != "" {
		suffix = extOpen + ext + extClose
	}
	return markdown.Clip(title, MaxStatusDescription-utf8.RuneCountInString(suffix)) + suffix
}

// splitDescription reverses joinDescription.
func splitDescription(d string) (title, ext string) {
	if strings.HasSuffix(d, extClose) {
		if i := strings.LastIndex(d, extOpen); i >= 0 {
			return d[:i], d[i+len(extOpen) : len(d)-len(extClose)]
		}
	}
	return d, ""
}

// clientError reports a 4xx answer other than 401, 403 and 429.
func clientError(err error) bool {
	var rerr *gl.ErrorResponse
	if !errors.As(err, &rerr) || rerr.Response == nil {
		return errors.Is(err, gl.ErrNotFound)
	}
	c := rerr.Response.StatusCode
	return c >= 400 && c < 500 && c != 401 && c != 403 && c != 429
}

// statusState maps a check run onto a commit status state: queued →
// pending, in_progress → running, completed → success for success, neutral
// and skipped, canceled for cancelled, failed otherwise.
func statusState(run forge.CheckRun) gl.BuildStateValue {
	switch run.Status {
	case forge.CheckCompleted:
		switch run.Conclusion {
		case forge.ConclusionSuccess, forge.ConclusionNeutral, forge.ConclusionSkipped:
			return gl.Success
		case forge.ConclusionCancelled:
			return gl.Canceled
		}
		return gl.Failed
	case forge.CheckInProgress:
		return gl.Running
	}
	return gl.Pending
}

// PublishCheck sets the commit status run.Name on run.HeadSHA: its state
// from Status and Conclusion, its description from Title and ExternalID
// (see MaxStatusDescription), its target URL from DetailsURL. GitLab
// statuses carry no long text and no annotations, so Summary, Text and
// Annotations are not sent: on GitLab the report lives in the merge
// request's sticky note, which the core writes through CreateComment and
// EditComment, and DetailsURL should point at it. Setting a status again
// under the same name moves a pending or running one in place and
// replaces a finished one with a new status (new ID and created_at) in
// its pipeline, so run.ID is not needed to update; CheckRuns reads the
// newest of each name. The status goes into the head pipeline of the merge request
// whose head is run.HeadSHA when PullRequest read it (see headPipelines);
// otherwise GitLab puts it into the commit's newest pipeline, or starts an
// external one.
func (f *Forge) PublishCheck(ctx context.Context, repo forge.Repo, run forge.CheckRun) (forge.CheckRun, error) {
	if run.HeadSHA == "" || run.Name == "" {
		return forge.CheckRun{}, fmt.Errorf("gitlab: status needs a name and a head SHA")
	}
	opt := &gl.SetCommitStatusOptions{
		State:       statusState(run),
		Name:        gl.Ptr(run.Name),
		Description: gl.Ptr(joinDescription(run.Title, run.ExternalID)),
	}
	if run.DetailsURL != "" {
		opt.TargetURL = gl.Ptr(run.DetailsURL)
	}
	// Into the merge request's head pipeline, when the merge request was
	// read: that is the pipeline "Pipelines must succeed" judges.
	if id := f.pipelines.lookup(pid(repo), run.HeadSHA); id != 0 {
		opt.PipelineID = gl.Ptr(id)
	}
	s, _, err := f.c.Commits.SetCommitStatus(pid(repo), run.HeadSHA, opt, gl.WithContext(ctx))
	if err != nil && clientError(err) {
		// GitLab refuses to move a status to the state it is in (running
		// to running: an evaluation that died, or another replica's):
		// that status already says what was asked.
		var pipeline int64
		if opt.PipelineID != nil {
			pipeline = *opt.PipelineID
		}
		cur, cerr := f.unfinishedStatus(ctx, repo, run.HeadSHA, run.Name, opt.State, pipeline)
		if cerr != nil {
			return forge.CheckRun{}, errors.Join(wrap(err, "set status %s on %s", run.Name, markdown.Short(run.HeadSHA)), cerr)
		}
		if cur != nil {
			s, err = cur, nil
		}
	}
	if err != nil && opt.PipelineID != nil && clientError(err) {
		// The remembered pipeline is gone (archived, deleted): forget it
		// and let GitLab choose, as without one.
		f.pipelines.forget(pid(repo), run.HeadSHA)
		opt.PipelineID = nil
		s, _, err = f.c.Commits.SetCommitStatus(pid(repo), run.HeadSHA, opt, gl.WithContext(ctx))
	}
	if err != nil {
		return forge.CheckRun{}, wrap(err, "set status %s on %s", run.Name, markdown.Short(run.HeadSHA))
	}
	out := convertStatus(s)
	// Keep what GitLab cannot store, so the caller sees what it sent.
	out.Title, out.ExternalID = run.Title, run.ExternalID
	out.Summary, out.Text, out.Annotations = run.Summary, run.Text, run.Annotations
	return out, nil
}

// unfinishedStatus returns the newest status called name on sha (in
// pipeline, when not 0) if it is pending or running and in state, or nil.
// A status is moved in place only while pending or running, so only then
// can setting it again be refused for being in that state already.
func (f *Forge) unfinishedStatus(ctx context.Context, repo forge.Repo, sha, name string, state gl.BuildStateValue, pipeline int64) (*gl.CommitStatus, error) {
	if state != gl.Pending && state != gl.Running {
		return nil, nil
	}
	opt := &gl.GetCommitStatusesOptions{Name: gl.Ptr(name), ListOptions: gl.ListOptions{PerPage: perPage}}
	if pipeline != 0 {
		opt.PipelineID = gl.Ptr(pipeline)
	}
	var newest *gl.CommitStatus
	for {
		page, resp, err := f.c.Commits.GetCommitStatuses(pid(repo), sha, opt, gl.WithContext(ctx))
		if err != nil {
			return nil, wrap(err, "statuses of %s at %s", repo.FullName(), markdown.Short(sha))
		}
		for _, s := range page {
			if s != nil && s.Name == name && (newest == nil || s.ID > newest.ID) {
				newest = s
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if newest == nil || gl.BuildStateValue(newest.Status) != state {
		return nil, nil
	}
	return newest, nil
}

// CreateComment posts a note on a merge request or issue. Like every body
// this adapter sends, it goes through forge.Inert first: GitLab would run a
// line such as "/merge" as a quick action by gitward's token.
func (f *Forge) CreateComment(ctx context.Context, t forge.Thread, body string) (forge.Comment, error) {
	body = forge.Inert(body)
	if n := utf8.RuneCountInString(body); n > MaxNoteChars {
		return forge.Comment{}, fmt.Errorf("gitlab: note of %d characters is over GitLab's %d", n, MaxNoteChars)
	}
	var n *gl.Note
	var err error
	if t.Issue {
		n, _, err = f.c.Notes.CreateIssueNote(pid(t.Repo), int64(t.Number), &gl.CreateIssueNoteOptions{Body: gl.Ptr(body)}, gl.WithContext(ctx))
	} else {
		n, _, err = f.c.Notes.CreateMergeRequestNote(pid(t.Repo), int64(t.Number), &gl.CreateMergeRequestNoteOptions{Body: gl.Ptr(body)}, gl.WithContext(ctx))
	}
	if err != nil {
		return forge.Comment{}, wrap(err, "note on %s", threadName(t))
	}
	c := convertNote(n)
	c.User.Bot = true // written by the token's own user
	return c, nil
}

// EditComment replaces a note's body.
func (f *Forge) EditComment(ctx context.Context, t forge.Thread, id int64, body string) error {
	body = forge.Inert(body)
	if n := utf8.RuneCountInString(body); n > MaxNoteChars {
		return fmt.Errorf("gitlab: note of %d characters is over GitLab's %d", n, MaxNoteChars)
	}
	var err error
	if t.Issue {
		_, _, err = f.c.Notes.UpdateIssueNote(pid(t.Repo), int64(t.Number), id, &gl.UpdateIssueNoteOptions{Body: gl.Ptr(body)}, gl.WithContext(ctx))
	} else {
		_, _, err = f.c.Notes.UpdateMergeRequestNote(pid(t.Repo), int64(t.Number), id, &gl.UpdateMergeRequestNoteOptions{Body: gl.Ptr(body)}, gl.WithContext(ctx))
	}
	return wrap(err, "edit note %d of %s", id, threadName(t))
}

// DeleteComment removes a note; one already gone is not an error.
func (f *Forge) DeleteComment(ctx context.Context, t forge.Thread, id int64) error {
	var err error
	if t.Issue {
		_, err = f.c.Notes.DeleteIssueNote(pid(t.Repo), int64(t.Number), id, gl.WithContext(ctx))
	} else {
		_, err = f.c.Notes.DeleteMergeRequestNote(pid(t.Repo), int64(t.Number), id, gl.WithContext(ctx))
	}
	if err = wrap(err, "delete note %d of %s", id, threadName(t)); isNotFound(err) {
		return nil
	}
	return err
}

// emoji maps GitHub reaction names onto GitLab award emoji.
var emoji = map[string]string{
	"+1": "thumbsup", "-1": "thumbsdown", "laugh": "laughing", "confused": "confused",
	"heart": "heart", "hooray": "tada", "rocket": "rocket", "eyes": "eyes",
}

// React awards an emoji to a note ("+1" → thumbsup, "confused",
// "eyes", ...). GitLab refuses a second award of the same emoji by the same
// user; that is not an error here.
func (f *Forge) React(ctx context.Context, t forge.Thread, id int64, content string) error {
	name, ok := emoji[content]
	if !ok {
		return fmt.Errorf("gitlab: no award emoji for reaction %q", content)
	}
	opt := &gl.CreateAwardEmojiOptions{Name: name}
	var err error
	if t.Issue {
		_, _, err = f.c.AwardEmoji.CreateIssuesAwardEmojiOnNote(pid(t.Repo), int64(t.Number), id, opt, gl.WithContext(ctx))
	} else {
		_, _, err = f.c.AwardEmoji.CreateMergeRequestAwardEmojiOnNote(pid(t.Repo), int64(t.Number), id, opt, gl.WithContext(ctx))
	}
	err = wrap(err, "award %s to note %d of %s", name, id, threadName(t))
	if isNotFound(err) {
		// GitLab answers a repeated award with 404 "Award Emoji Name has
		// already been taken", which client-go reports as a bare 404. It
		// is the repeat when the note itself is there.
		if t.Issue {
			_, _, err2 := f.c.Notes.GetIssueNote(pid(t.Repo), int64(t.Number), id, gl.WithContext(ctx))
			if err2 == nil {
				return nil
			}
		} else {
			_, _, err2 := f.c.Notes.GetMergeRequestNote(pid(t.Repo), int64(t.Number), id, gl.WithContext(ctx))
			if err2 == nil {
				return nil
			}
		}
	}
	return err
}

// AddLabels adds labels to a merge request or issue.
func (f *Forge) AddLabels(ctx context.Context, t forge.Thread, labels ...string) error {
	if len(labels) == 0 {
		return nil
	}
	l := gl.LabelOptions(labels)
	var err error
	if t.Issue {
		_, _, err = f.c.Issues.UpdateIssue(pid(t.Repo), int64(t.Number), &gl.UpdateIssueOptions{AddLabels: &l}, gl.WithContext(ctx))
	} else {
		_, _, err = f.c.MergeRequests.UpdateMergeRequest(pid(t.Repo), int64(t.Number), &gl.UpdateMergeRequestOptions{AddLabels: &l}, gl.WithContext(ctx))
	}
	return wrap(err, "label %s", threadName(t))
}

// RemoveLabel removes a label from a merge request or issue; GitLab
// ignores absent labels.
func (f *Forge) RemoveLabel(ctx context.Context, t forge.Thread, label string) error {
	l := gl.LabelOptions{label}
	var err error
	if t.Issue {
		_, _, err = f.c.Issues.UpdateIssue(pid(t.Repo), int64(t.Number), &gl.UpdateIssueOptions{RemoveLabels: &l}, gl.WithContext(ctx))
	} else {
		_, _, err = f.c.MergeRequests.UpdateMergeRequest(pid(t.Repo), int64(t.Number), &gl.UpdateMergeRequestOptions{RemoveLabels: &l}, gl.WithContext(ctx))
	}
	return wrap(err, "unlabel %s", threadName(t))
}

// threadName names a thread the way GitLab writes it: group/project!1 for
// a merge request, group/project#1 for an issue.
func threadName(t forge.Thread) string {
	if t.Issue {
		return fmt.Sprintf("%s#%d", t.Repo.FullName(), t.Number)
	}
	return fmt.Sprintf("%s!%d", t.Repo.FullName(), t.Number)
}

// CreateIssue opens an issue.
func (f *Forge) CreateIssue(ctx context.Context, repo forge.Repo, issue forge.Issue) (forge.Issue, error) {
	opt := &gl.CreateIssueOptions{Title: gl.Ptr(issue.Title), Description: gl.Ptr(forge.Inert(issue.Body))}
	if len(issue.Labels) > 0 {
		l := gl.LabelOptions(issue.Labels)
		opt.Labels = &l
	}
	is, _, err := f.c.Issues.CreateIssue(pid(repo), opt, gl.WithContext(ctx))
	if err != nil {
		return forge.Issue{}, wrap(err, "create issue in %s", repo.FullName())
	}
	return convertIssue(is), nil
}

// CloseIssue closes an issue.
func (f *Forge) CloseIssue(ctx context.Context, repo forge.Repo, number int) error {
	_, _, err := f.c.Issues.UpdateIssue(pid(repo), int64(number), &gl.UpdateIssueOptions{StateEvent: gl.Ptr("close")}, gl.WithContext(ctx))
	return wrap(err, "close issue %s#%d", repo.FullName(), number)
}

// BranchHead returns the SHA branch points at; ErrNotFound when absent.
func (f *Forge) BranchHead(ctx context.Context, repo forge.Repo, branch string) (string, error) {
	b, _, err := f.c.Branches.GetBranch(pid(repo), branch, gl.WithContext(ctx))
	if err != nil {
		return "", wrap(err, "branch %s of %s", branch, repo.FullName())
	}
	if b.Commit == nil {
		return "", fmt.Errorf("gitlab: branch %s of %s has no commit", branch, repo.FullName())
	}
	return b.Commit.ID, nil
}

// CommitToBranch writes one commit through the commits API.
//
// GitLab has no compare-and-swap on a branch ref. The adapter gets as close
// as the API allows: it reads the branch head and answers ErrConflict when
// it is not bc.ExpectedHead; then every file action carries last_commit_id
// = ExpectedHead, so GitLab refuses the commit (400 "… has been changed
// since …", mapped to ErrConflict) when any file it writes changed after
// ExpectedHead. A concurrent commit that touches only other files, landing
// between the read and the write, is not detected; for the audit ledger,
// whose every commit writes the same index file, that cannot happen.
//
// With an empty ExpectedHead the branch is created from Parent (start_sha);
// GitLab refuses an existing branch, which is ErrConflict.
func (f *Forge) CommitToBranch(ctx context.Context, repo forge.Repo, bc forge.BranchCommit) (string, error) {
	opt := &gl.CreateCommitOptions{Branch: gl.Ptr(bc.Branch), CommitMessage: gl.Ptr(bc.Message)}
	base := bc.ExpectedHead
	if base == "" {
		if bc.Parent == "" {
			return "", fmt.Errorf("gitlab: creating branch %s needs a parent commit", bc.Branch)
		}
		base = bc.Parent
		opt.StartSHA = gl.Ptr(bc.Parent)
	} else {
		head, err := f.BranchHead(ctx, repo, bc.Branch)
		if err != nil {
			return "", err
		}
		if head != bc.ExpectedHead {
			return "", fmt.Errorf("gitlab: branch %s is at %s, not %s: %w", bc.Branch, markdown.Short(head), markdown.Short(bc.ExpectedHead), forge.ErrConflict)
		}
	}
	for _, fc := range bc.Files {
		a := &gl.CommitActionOptions{FilePath: gl.Ptr(fc.Path)}
		if bc.ExpectedHead != "" {
			a.LastCommitID = gl.Ptr(bc.ExpectedHead)
		}
		if fc.Content == nil {
			a.Action = gl.Ptr(gl.FileDelete)
		} else {
			// The commits API distinguishes create from update.
			_, err := f.File(ctx, repo, base, fc.Path)
			switch {
			case isNotFound(err):
				a.Action = gl.Ptr(gl.FileCreate)
				a.LastCommitID = nil
			case err != nil:
				return "", err
			default:
				a.Action = gl.Ptr(gl.FileUpdate)
			}
			a.Content = gl.Ptr(string(fc.Content))
			if !utf8.Valid(fc.Content) {
				a.Encoding = gl.Ptr("base64")
				a.Content = gl.Ptr(base64Encode(fc.Content))
			}
		}
		opt.Actions = append(opt.Actions, a)
	}
	c, _, err := f.c.Commits.CreateCommit(pid(repo), opt, gl.WithContext(ctx))
	if err != nil {
		return "", commitErr(err, bc.Branch)
	}
	return c.ID, nil
}

// commitErr maps GitLab's refusals of a stale base or an existing branch
// onto ErrConflict.
func commitErr(err error, branch string) error {
	var rerr *gl.ErrorResponse
	if errors.As(err, &rerr) && rerr.Response != nil && rerr.Response.StatusCode == 400 {
		msg := strings.ToLower(rerr.Message)
		if strings.Contains(msg, "has changed since") || strings.Contains(msg, "has been changed since") ||
			strings.Contains(msg, "already exists") || strings.Contains(msg, "a file with this name already exists") {
			return fmt.Errorf("gitlab: commit to %s: %w (%v)", branch, forge.ErrConflict, err)
		}
	}
	return wrap(err, "commit to %s", branch)
}

// FindPullRequest returns the open merge request from head into base, or
// ErrNotFound.
func (f *Forge) FindPullRequest(ctx context.Context, repo forge.Repo, head, base string) (*forge.PullRequest, error) {
	prs, err := f.listMRs(ctx, repo, &gl.ListProjectMergeRequestsOptions{
		State: gl.Ptr("opened"), SourceBranch: gl.Ptr(head), TargetBranch: gl.Ptr(base),
	})
	if err != nil {
		return nil, err
	}
	if len(prs) == 0 {
		return nil, fmt.Errorf("gitlab: merge request %s → %s: %w", head, base, forge.ErrNotFound)
	}
	return &prs[0], nil
}

// CreatePullRequest opens a merge request.
func (f *Forge) CreatePullRequest(ctx context.Context, repo forge.Repo, npr forge.NewPullRequest) (*forge.PullRequest, error) {
	opt := &gl.CreateMergeRequestOptions{
		Title: gl.Ptr(npr.Title), Description: gl.Ptr(forge.Inert(npr.Body)),
		SourceBranch: gl.Ptr(npr.Head), TargetBranch: gl.Ptr(npr.Base),
	}
	if len(npr.Labels) > 0 {
		l := gl.LabelOptions(npr.Labels)
		opt.Labels = &l
	}
	mr, _, err := f.c.MergeRequests.CreateMergeRequest(pid(repo), opt, gl.WithContext(ctx))
	if err != nil {
		return nil, wrap(err, "open merge request %s → %s", npr.Head, npr.Base)
	}
	out := ConvertMergeRequest(repo, mr)
	return &out, nil
}

// UpdatePullRequest replaces a merge request's title and description.
func (f *Forge) UpdatePullRequest(ctx context.Context, ref forge.PRRef, title, body string) error {
	_, _, err := f.c.MergeRequests.UpdateMergeRequest(pid(ref.Repo), int64(ref.Number), &gl.UpdateMergeRequestOptions{Title: gl.Ptr(title), Description: gl.Ptr(forge.Inert(body))}, gl.WithContext(ctx))
	return wrap(err, "update merge request %s", ref)
}
