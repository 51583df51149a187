package gitlab

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/snapshot"
	"github.com/gitward/gitward/report/markdown"
	gl "gitlab.com/gitlab-org/api/client-go"
)

// PullRequest returns one merge request.
func (f *Forge) PullRequest(ctx context.Context, ref forge.PRRef) (*forge.PullRequest, error) {
	mr, _, err := f.c.MergeRequests.GetMergeRequest(pid(ref.Repo), int64(ref.Number), nil, gl.WithContext(ctx))
	if err != nil {
		return nil, wrap(err, "get merge request %s", ref)
	}
	out := ConvertMergeRequest(ref.Repo, mr)
	if hp := mr.HeadPipeline; hp != nil && hp.SHA == out.HeadSHA {
		f.pipelines.remember(pid(ref.Repo), out.HeadSHA, hp.ID)
	}
	return &out, nil
}

// ConvertMergeRequest turns a merge request into forge facts. GitLab's
// "opened" is forge.PROpen; "closed", "merged" and "locked" are closed.
func ConvertMergeRequest(repo forge.Repo, mr *gl.MergeRequest) forge.PullRequest {
	pr := convertBasic(repo, &mr.BasicMergeRequest)
	// start_sha is the target branch's head the diff was computed from;
	// base_sha is only the merge base, which can be far older. The policy
	// is read at BaseSHA, so it must be the target's head: a merge request
	// branched long ago is held to today's rules.
	if mr.DiffRefs.StartSha != "" {
		pr.BaseSHA = mr.DiffRefs.StartSha
	}
	if mr.DiffRefs.HeadSha != "" {
		pr.HeadSHA = mr.DiffRefs.HeadSha
	}
	return pr
}

func convertBasic(repo forge.Repo, mr *gl.BasicMergeRequest) forge.PullRequest {
	pr := forge.PullRequest{
		Ref:     forge.PRRef{Repo: repo, Number: int(mr.IID)},
		Title:   mr.Title,
		Body:    mr.Description,
		URL:     mr.WebURL,
		State:   forge.PRClosed,
		Draft:   mr.Draft,
		Merged:  mr.State == "merged",
		BaseRef: mr.TargetBranch,
		HeadRef: mr.SourceBranch,
		HeadSHA: mr.SHA,
		Labels:  append([]string(nil), mr.Labels...),
	}
	if mr.State == "opened" {
		pr.State = forge.PROpen
	}
	if pr.Merged {
		pr.MergeSHA = mr.MergeCommitSHA
		if pr.MergeSHA == "" {
			pr.MergeSHA = mr.SquashCommitSHA
		}
		// merge_user replaces merged_by, which older GitLab sends alone.
		merger := mr.MergeUser
		if merger == nil {
			//lint:ignore SA1019 older GitLab sends only merged_by
			merger = mr.MergedBy
		}
		if merger != nil {
			pr.MergedBy = forge.User{Login: merger.Username, ID: merger.ID}
		}
		if mr.MergedAt != nil {
			pr.MergedAt = *mr.MergedAt
		}
	}
	if mr.Author != nil {
		pr.Author = forge.User{Login: mr.Author.Username, ID: mr.Author.ID}
	}
	if mr.CreatedAt != nil {
		pr.CreatedAt = *mr.CreatedAt
	}
	if mr.UpdatedAt != nil {
		pr.UpdatedAt = *mr.UpdatedAt
	}
	return pr
}

// Commits returns the merge request's commits, oldest first, each with the
// verdict of GitLab's commit signature endpoint. GitLab reports no raw
// signature or signed payload, so Signature.Signature and Payload are empty.
func (f *Forge) Commits(ctx context.Context, ref forge.PRRef) ([]forge.Commit, error) {
	opt := &gl.GetMergeRequestCommitsOptions{ListOptions: gl.ListOptions{PerPage: perPage}}
	var all []*gl.Commit
	for {
		page, resp, err := f.c.MergeRequests.GetMergeRequestCommits(pid(ref.Repo), int64(ref.Number), opt, gl.WithContext(ctx))
		if err != nil {
			return nil, wrap(err, "list commits of %s", ref)
		}
		all = append(all, page...)
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	out := make([]forge.Commit, 0, len(all))
	// GitLab lists merge request commits newest first.
	for i := len(all) - 1; i >= 0; i-- {
		c := convertCommit(all[i])
		sig, err := f.signature(ctx, ref.Repo, c.SHA)
		if err != nil {
			return nil, err
		}
		c.Signature = sig
		out = append(out, c)
	}
	return out, nil
}

// signature asks GitLab for a commit's signature verdict. An unsigned
// commit answers 404.
func (f *Forge) signature(ctx context.Context, repo forge.Repo, sha string) (forge.Signature, error) {
	s, _, err := f.c.Commits.GetGPGSignature(pid(repo), sha, gl.WithContext(ctx))
	if err != nil {
		werr := wrap(err, "signature of %s", markdown.Short(sha))
		if isNotFound(werr) {
			return forge.Signature{Reason: "unsigned", VerdictOnly: true}, nil
		}
		return forge.Signature{}, werr
	}
	// GitLab gives its verdict, never the signature or the signed payload.
	return forge.Signature{Verified: s.VerificationStatus == "verified", Reason: s.VerificationStatus, VerdictOnly: true}, nil
}

// noreplyRE matches GitLab's private commit e-mail addresses,
// "ID-username@users.noreply.HOST".
var noreplyRE = regexp.MustCompile(`(?i)^[0-9]+-([a-z0-9_.][a-z0-9_.-]*)@users\.noreply\.[a-z0-9.-]+$`)

// NoreplyLogin is the username in a GitLab no-reply address, or "". GitLab
// does not link commit identities to accounts in its API; a no-reply
// address is the one link it writes into the commit itself. Anyone can
// write any address into a commit, so this can only name more authors,
// and more authors can only take approvals away.
func NoreplyLogin(email string) string {
	if m := noreplyRE.FindStringSubmatch(strings.TrimSpace(email)); m != nil {
		return m[1]
	}
	return ""
}

// coAuthors reads a commit message's Co-authored-by trailers, each linked
// to the username its no-reply address names, as for authors: a trailer
// "1005-bob@users.noreply.HOST" is bob, never a login "1005-bob".
func coAuthors(message string) []forge.Identity {
	ids := forge.CoAuthorTrailers(message)
	for i := range ids {
		ids[i].Login = NoreplyLogin(ids[i].Email)
	}
	return ids
}

func convertCommit(c *gl.Commit) forge.Commit {
	out := forge.Commit{
		SHA:       c.ID,
		Message:   c.Message,
		Author:    forge.Identity{Name: c.AuthorName, Email: c.AuthorEmail, Login: NoreplyLogin(c.AuthorEmail)},
		Committer: forge.Identity{Name: c.CommitterName, Email: c.CommitterEmail, Login: NoreplyLogin(c.CommitterEmail)},
		CoAuthors: coAuthors(c.Message),
		Parents:   append([]string(nil), c.ParentIDs...),
	}
	if c.AuthoredDate != nil {
		out.Author.Date = *c.AuthoredDate
	}
	if c.CommittedDate != nil {
		out.Committer.Date = *c.CommittedDate
	}
	return out
}

// Reviews returns the merge request's approvals, one APPROVED review per
// approver. GitLab does not record which commit an approval was given on,
// so each approval is bound to the head by time:
//
//   - GitLab makes a diff version of the merge request each time it takes
//     in a push, with the new head (head_commit_sha) and when it was made
//     (created_at). The head H has been the head continuously since the
//     oldest version of the newest run of versions whose head is H: a push
//     away and back (a force-push) makes a new version, so the run starts
//     again.
//   - An approval whose approved_at is at or after that version's
//     created_at was given while H was the head, and carries CommitSHA H
//     and SubmittedAt approved_at; any earlier approval carries "", so the
//     policy treats it as stale. Such an approval is still listed when
//     the project does not reset approvals on push, or when GitLab's
//     background reset after a push has not run yet.
//   - The merge request is read after the approvals and the versions; if
//     its head is no longer H (a push in between), no approval is stamped.
//
// This rule does not depend on the project's "Reset approvals when
// commits are added": with it or without it, on any tier, GitLab
// approvals given on the current head count.
//
// Older GitLab releases list approvals without approved_at; approvals
// without one fall back to the older rule: only when the project resets
// approvals on push is every listed approval taken as given on the head
// of the moment, and then only when the head read before listing the
// approvals is the head read after (a push between the reads would
// otherwise stamp approvals given on the old head with the new one). On
// tiers and instances without project approval settings (GitLab Free,
// where GET /projects/:id/approvals answers 404 or 403), such approvals
// are taken as not reset on push, so they never count. A reset GitLab
// has not run yet is invisible to this older rule.
//
// An approver that is the token's own user or a bot user (project and
// group access tokens, service accounts and other bots; see
// Users.GetUser's "bot") has User.Bot set, and the policy does not count
// it. Review.ID is the approver's user ID (approvals have no ID of their
// own).
func (f *Forge) Reviews(ctx context.Context, ref forge.PRRef) ([]forge.Review, error) {
	// The head before the approvals are listed, for the older rule.
	before, err := f.PullRequest(ctx, ref)
	if err != nil {
		return nil, err
	}
	approvals, err := f.approvals(ctx, ref)
	if err != nil {
		return nil, err
	}
	if len(approvals) == 0 {
		return nil, nil
	}
	timed, untimed := false, false
	for _, a := range approvals {
		if a.ApprovedAt != nil {
			timed = true
		} else {
			untimed = true
		}
	}
	// The head and since when it has been the head, for approvals with
	// approved_at.
	head, since := "", time.Time{}
	if timed {
		if head, since, err = f.HeadSince(ctx, ref); err != nil {
			return nil, err
		}
	}
	after, err := f.PullRequest(ctx, ref)
	if err != nil {
		return nil, err
	}
	if after.HeadSHA != head {
		head = ""
	}
	// The head every approval without approved_at was given on, if known.
	legacy := ""
	if untimed && before.HeadSHA == after.HeadSHA {
		reset, err := f.resetsApprovalsOnPush(ctx, ref.Repo)
		if err != nil {
			return nil, err
		}
		if reset {
			legacy = after.HeadSHA
		}
	}
	self, err := f.Self(ctx)
	if err != nil {
		return nil, err
	}
	var out []forge.Review
	for _, a := range approvals {
		u := forge.User{Login: a.User.Username, ID: a.User.ID}
		u.Bot = isSelf(self, gl.NoteAuthor{ID: a.User.ID, Username: a.User.Username})
		if !u.Bot {
			if u.Bot, err = f.isBotUser(ctx, a.User.ID); err != nil {
				return nil, err
			}
		}
		r := forge.Review{ID: a.User.ID, User: u, State: forge.ReviewApproved}
		switch {
		case a.ApprovedAt == nil:
			r.CommitSHA = legacy
		default:
			r.SubmittedAt = *a.ApprovedAt
			if head != "" && !a.ApprovedAt.Before(since) {
				r.CommitSHA = head
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// approverUser is one entry of approved_by in GET
// /projects/:id/merge_requests/:iid/approvals. Current GitLab adds
// approved_at, which client-go's MergeRequestApproverUser lacks; older
// GitLab leaves it out.
type approverUser struct {
	User       *gl.BasicUser `json:"user"`
	ApprovedAt *time.Time    `json:"approved_at"`
}

// approvals lists who approved the merge request and when, decoded here
// rather than by client-go so approved_at is kept. The request is made and
// sent by the client, with its token and error handling.
func (f *Forge) approvals(ctx context.Context, ref forge.PRRef) ([]approverUser, error) {
	path := fmt.Sprintf("projects/%s/merge_requests/%d/approvals", gl.PathEscape(pid(ref.Repo)), ref.Number)
	req, err := f.c.NewRequest(http.MethodGet, path, nil, []gl.RequestOptionFunc{gl.WithContext(ctx)})
	if err != nil {
		return nil, fmt.Errorf("gitlab: approvals of %s: %w", ref, err)
	}
	var resp struct {
		ApprovedBy []approverUser `json:"approved_by"`
	}
	if _, err := f.c.Do(req, &resp); err != nil {
		return nil, wrap(err, "approvals of %s", ref)
	}
	out := resp.ApprovedBy[:0]
	for _, a := range resp.ApprovedBy {
		if a.User != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// HeadSince implements forge.HeadClock from the merge request's diff
// versions, which GitLab makes as it takes in each push and which nothing
// gitward writes can move: it returns the head of the newest version and
// the created_at of the oldest version of the newest run with that head,
// since when the head has not changed. It returns "" when there is no
// version or that time is unknown. Reviews binds approvals to the head
// with it, and the core binds a bare /approve with it.
func (f *Forge) HeadSince(ctx context.Context, ref forge.PRRef) (string, time.Time, error) {
	opt := &gl.GetMergeRequestDiffVersionsOptions{ListOptions: gl.ListOptions{PerPage: perPage}}
	var all []*gl.MergeRequestDiffVersion
	for {
		page, resp, err := f.c.MergeRequests.GetMergeRequestDiffVersions(pid(ref.Repo), int64(ref.Number), opt, gl.WithContext(ctx))
		if err != nil {
			return "", time.Time{}, wrap(err, "diff versions of %s", ref)
		}
		for _, v := range page {
			if v != nil {
				all = append(all, v)
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	// GitLab lists versions newest first; sort by ID anyway, which GitLab
	// hands out in order, so the answer never rests on the list's order.
	slices.SortStableFunc(all, func(a, b *gl.MergeRequestDiffVersion) int { return cmp.Compare(b.ID, a.ID) })
	if len(all) == 0 || all[0].HeadCommitSHA == "" {
		return "", time.Time{}, nil
	}
	head := all[0].HeadCommitSHA
	var since *time.Time
	for _, v := range all {
		if v.HeadCommitSHA != head {
			break
		}
		since = v.CreatedAt
	}
	if since == nil {
		return "", time.Time{}, nil
	}
	return head, *since, nil
}

// resetsApprovalsOnPush reads the project's "Reset approvals when commits
// are added". GitLab Free and instances without project approval
// settings answer 404 or 403: approvals there are not reset on push.
func (f *Forge) resetsApprovalsOnPush(ctx context.Context, repo forge.Repo) (bool, error) {
	cfg, _, err := f.c.Projects.GetApprovalConfiguration(pid(repo), gl.WithContext(ctx))
	if err != nil {
		var rerr *gl.ErrorResponse
		if errors.Is(err, gl.ErrNotFound) || (errors.As(err, &rerr) && (rerr.HasStatusCode(http.StatusNotFound) || rerr.HasStatusCode(http.StatusForbidden))) {
			return false, nil
		}
		return false, wrap(err, "approval settings of %s", repo.FullName())
	}
	return cfg.ResetApprovalsOnPush, nil
}

// isBotUser reports whether user id is a bot user (GET /users/:id says
// "bot"). A user is made a bot or not when created, so the answer is
// cached; a failed read is not.
func (f *Forge) isBotUser(ctx context.Context, id int64) (bool, error) {
	f.botsMu.Lock()
	bot, ok := f.bots[id]
	f.botsMu.Unlock()
	if ok {
		return bot, nil
	}
	u, _, err := f.c.Users.GetUser(id, gl.GetUsersOptions{}, gl.WithContext(ctx))
	if err != nil {
		return false, wrap(err, "user %d", id)
	}
	f.botsMu.Lock()
	defer f.botsMu.Unlock()
	if f.bots == nil {
		f.bots = map[int64]bool{}
	}
	f.bots[id] = u.Bot
	return u.Bot, nil
}

// Comments returns the notes of a merge request or issue, oldest first,
// leaving out system notes (GitLab's own event entries).
//
// The notes are listed through REST, then GitLab's GraphQL API is asked
// what REST does not say (see graphql.go), and the answer fails the call
// when GraphQL fails or does not know a note REST listed (one deleted in
// between; notes of the token's own user are kept, as bot notes, since
// neither fact matters for them):
//
//   - Edited comes from the note's lastEditedAt, which only a change of
//     its body sets. updated_at is no sign of an edit: an award emoji,
//     such as the one gitward puts on every command, moves it too.
//   - User.Bot is set for notes of the token's own user (see Self), so
//     the core finds its sticky note among bot comments and a person's
//     note is never taken for gitward's, and for notes of bot users
//     (access tokens, service accounts), whose commands do not count.
func (f *Forge) Comments(ctx context.Context, t forge.Thread) ([]forge.Comment, error) {
	self, err := f.Self(ctx)
	if err != nil {
		return nil, err
	}
	lo := gl.ListOptions{PerPage: perPage}
	var notes []*gl.Note
	for {
		var page []*gl.Note
		var resp *gl.Response
		var err error
		if t.Issue {
			page, resp, err = f.c.Notes.ListIssueNotes(pid(t.Repo), int64(t.Number), &gl.ListIssueNotesOptions{
				ListOptions: lo, OrderBy: gl.Ptr("created_at"), Sort: gl.Ptr("asc"),
			}, gl.WithContext(ctx))
		} else {
			page, resp, err = f.c.Notes.ListMergeRequestNotes(pid(t.Repo), int64(t.Number), &gl.ListMergeRequestNotesOptions{
				ListOptions: lo, OrderBy: gl.Ptr("created_at"), Sort: gl.Ptr("asc"),
			}, gl.WithContext(ctx))
		}
		if err != nil {
			return nil, wrap(err, "list notes of %s", threadName(t))
		}
		for _, n := range page {
			if !n.System {
				notes = append(notes, n)
			}
		}
		if resp.NextPage == 0 {
			break
		}
		lo.Page = resp.NextPage
	}
	if len(notes) == 0 {
		return nil, nil
	}
	// After the REST list, so a note posted in between is only ignored.
	metas, err := f.noteMetas(ctx, t)
	if err != nil {
		return nil, err
	}
	out := make([]forge.Comment, 0, len(notes))
	for _, n := range notes {
		c := convertNote(n)
		own := isSelf(self, n.Author)
		m, ok := metas[n.ID]
		switch {
		case !ok && own:
			c.User.Bot, c.Edited = true, true
		case !ok:
			return nil, fmt.Errorf("gitlab: notes of %s: GraphQL does not show note %d by %s", threadName(t), n.ID, n.Author.Username)
		default:
			if m.author != nil && !strings.EqualFold(m.author.Username, n.Author.Username) {
				return nil, fmt.Errorf("gitlab: notes of %s: note %d is by %s in REST and by %s in GraphQL", threadName(t), n.ID, n.Author.Username, m.author.Username)
			}
			// GitLab shows no author when it hides one (a blocked or
			// deleted user's ghost): such a note cannot be a person's
			// command.
			c.User.Bot = own || m.author == nil || m.author.Bot
			c.Edited = edited(m.lastEditedAt, c.CreatedAt)
		}
		out = append(out, c)
	}
	return out, nil
}

// isSelf reports whether a note's author is the token's own user, by ID
// when both are known.
func isSelf(self forge.User, a gl.NoteAuthor) bool {
	if self.ID != 0 && a.ID != 0 {
		return self.ID == a.ID
	}
	return self.Login != "" && a.Username == self.Login
}

// convertNote converts a note as REST shows it. Edited is left false:
// REST cannot tell an edit from an award emoji (see Comments).
func convertNote(n *gl.Note) forge.Comment {
	c := forge.Comment{
		ID:   n.ID,
		User: forge.User{Login: n.Author.Username, ID: n.Author.ID},
		Body: n.Body,
	}
	if n.CreatedAt != nil {
		c.CreatedAt = *n.CreatedAt
	}
	if n.UpdatedAt != nil {
		c.UpdatedAt = *n.UpdatedAt
	}
	return c
}

// ChangedFiles returns the files the merge request changes. GitLab's diff
// list has no line counts; Additions and Deletions are counted from each
// file's diff when GitLab included it.
func (f *Forge) ChangedFiles(ctx context.Context, ref forge.PRRef) ([]forge.ChangedFile, error) {
	opt := &gl.ListMergeRequestDiffsOptions{ListOptions: gl.ListOptions{PerPage: perPage}}
	var out []forge.ChangedFile
	for {
		page, resp, err := f.c.MergeRequests.ListMergeRequestDiffs(pid(ref.Repo), int64(ref.Number), opt, gl.WithContext(ctx))
		if err != nil {
			return nil, wrap(err, "list changed files of %s", ref)
		}
		for _, d := range page {
			cf := forge.ChangedFile{Path: d.NewPath, Status: forge.FileModified}
			switch {
			case d.NewFile:
				cf.Status = forge.FileAdded
			case d.DeletedFile:
				cf.Status = forge.FileRemoved
				cf.Path = d.OldPath
			case d.RenamedFile:
				cf.Status = forge.FileRenamed
				cf.PreviousPath = d.OldPath
			}
			cf.Additions, cf.Deletions = countLines(d.Diff)
			out = append(out, cf)
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return out, nil
}

// countLines counts added and removed lines in a unified diff body.
func countLines(diff string) (add, del int) {
	for line := range strings.SplitSeq(diff, "\n") {
		switch {
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
		case strings.HasPrefix(line, "+"):
			add++
		case strings.HasPrefix(line, "-"):
			del++
		}
	}
	return add, del
}

// AccessPermission maps a GitLab access level onto forge permissions:
// Owner → admin, Maintainer → maintain, Developer → write, Reporter and
// Guest → read, anything lower → none.
func AccessPermission(level gl.AccessLevelValue) forge.Permission {
	switch {
	case level >= gl.OwnerPermissions:
		return forge.PermissionAdmin
	case level >= gl.MaintainerPermissions:
		return forge.PermissionMaintain
	case level >= gl.DeveloperPermissions:
		return forge.PermissionWrite
	case level >= gl.GuestPermissions:
		return forge.PermissionRead
	}
	return forge.PermissionNone
}

// Permission returns login's effective access to the project, inherited
// group memberships included. A user who is no member has none.
func (f *Forge) Permission(ctx context.Context, repo forge.Repo, login string) (forge.Permission, error) {
	id, err := f.userID(ctx, login)
	if err != nil {
		if isNotFound(err) {
			return forge.PermissionNone, nil
		}
		return forge.PermissionNone, err
	}
	m, _, err := f.c.ProjectMembers.GetInheritedProjectMember(pid(repo), id, gl.WithContext(ctx))
	if err != nil {
		werr := wrap(err, "membership of %s in %s", login, repo.FullName())
		if isNotFound(werr) {
			return forge.PermissionNone, nil
		}
		return forge.PermissionNone, werr
	}
	if m.State != "" && m.State != "active" {
		return forge.PermissionNone, nil
	}
	return AccessPermission(m.AccessLevel), nil
}

// TeamMember reports whether login is an active member, direct or
// inherited, of the group whose full path is team.
func (f *Forge) TeamMember(ctx context.Context, repo forge.Repo, team, login string) (bool, error) {
	id, err := f.userID(ctx, login)
	if err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, err
	}
	m, _, err := f.c.GroupMembers.GetInheritedGroupMember(team, id, gl.WithContext(ctx))
	if err != nil {
		werr := wrap(err, "membership of %s in group %s", login, team)
		if isNotFound(werr) {
			return false, nil
		}
		return false, werr
	}
	return m.State == "" || m.State == "active", nil
}

// File returns one file's raw content at sha; ErrNotFound when absent.
func (f *Forge) File(ctx context.Context, repo forge.Repo, sha, path string) ([]byte, error) {
	b, _, err := f.c.RepositoryFiles.GetRawFile(pid(repo), path, &gl.GetRawFileOptions{Ref: gl.Ptr(sha)}, gl.WithContext(ctx))
	if err != nil {
		return nil, wrap(err, "file %s at %s in %s", path, markdown.Short(sha), repo.FullName())
	}
	return b, nil
}

// Snapshot downloads the project's tar.gz archive at sha once, extracts it
// safely into the cache and returns it. GitLab's archive holds one top
// folder ("project-sha-sha/"), which extraction strips.
func (f *Forge) Snapshot(ctx context.Context, repo forge.Repo, sha string) (*snapshot.Snapshot, error) {
	if f.snapshots == nil {
		return nil, fmt.Errorf("gitlab: no snapshot cache configured")
	}
	key := "gitlab/" + f.host + "/" + repo.FullName() + "@" + sha
	return f.snapshots.Get(ctx, key, func(ctx context.Context) (io.ReadCloser, error) {
		opt := &gl.ArchiveOptions{Format: gl.Ptr("tar.gz"), SHA: gl.Ptr(sha)}
		// The archive streams through a pipe; an API error, such as a
		// 404, fails the read and so the download.
		r := download(func(w io.Writer) error {
			_, err := f.c.Repositories.StreamArchive(pid(repo), w, opt, gl.WithContext(ctx))
			return wrap(err, "archive of %s at %s", repo.FullName(), markdown.Short(sha))
		})
		return r, nil
	}, f.limits)
}

// CheckRuns returns gitward's commit statuses on sha as check runs, the
// latest status per name. States map: pending, created, waiting_for_resource
// and preparing → queued; running → in_progress; success, failed, canceled
// and skipped → completed with that conclusion. The external ID, when
// PublishCheck stored one, is read back from the description.
func (f *Forge) CheckRuns(ctx context.Context, repo forge.Repo, sha string) ([]forge.CheckRun, error) {
	opt := &gl.GetCommitStatusesOptions{ListOptions: gl.ListOptions{PerPage: perPage}}
	latest := map[string]*gl.CommitStatus{}
	var order []string
	for {
		page, resp, err := f.c.Commits.GetCommitStatuses(pid(repo), sha, opt, gl.WithContext(ctx))
		if err != nil {
			return nil, wrap(err, "statuses of %s at %s", repo.FullName(), markdown.Short(sha))
		}
		for _, s := range page {
			if !strings.HasPrefix(s.Name, StatusPrefix) {
				continue
			}
			prev, ok := latest[s.Name]
			if !ok {
				order = append(order, s.Name)
			}
			if !ok || s.ID > prev.ID {
				latest[s.Name] = s
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	out := make([]forge.CheckRun, 0, len(order))
	for _, name := range order {
		out = append(out, convertStatus(latest[name]))
	}
	return out, nil
}

// StatusPrefix is the prefix of every commit status name gitward owns;
// CheckRuns reads only these.
const StatusPrefix = "gitward/"

func convertStatus(s *gl.CommitStatus) forge.CheckRun {
	run := forge.CheckRun{ID: s.ID, Name: s.Name, HeadSHA: s.SHA, DetailsURL: s.TargetURL}
	run.Title, run.ExternalID = splitDescription(s.Description)
	switch gl.BuildStateValue(s.Status) {
	case gl.Running:
		run.Status = forge.CheckInProgress
	case gl.Success:
		run.Status, run.Conclusion = forge.CheckCompleted, forge.ConclusionSuccess
	case gl.Failed:
		run.Status, run.Conclusion = forge.CheckCompleted, forge.ConclusionFailure
	case gl.Canceled:
		run.Status, run.Conclusion = forge.CheckCompleted, forge.ConclusionCancelled
	case gl.Skipped:
		run.Status, run.Conclusion = forge.CheckCompleted, forge.ConclusionSkipped
	default:
		run.Status = forge.CheckQueued
	}
	// GitLab sets started_at only when a status goes running; created_at
	// is when this status was created. Setting a finished status again
	// creates a new one, so created_at is when gitward last evaluated
	// the commit, not when it first saw it: when the head arrived is
	// read from the diff versions instead (HeadSince).
	switch {
	case s.CreatedAt != nil:
		run.StartedAt = *s.CreatedAt
	case s.StartedAt != nil:
		run.StartedAt = *s.StartedAt
	}
	if s.FinishedAt != nil {
		run.CompletedAt = *s.FinishedAt
	}
	return run
}

// OpenPullRequests lists the project's open merge requests.
//
// GitLab's list leaves out diff_refs, so the base commit each merge
// request is compared against is read from the merge request itself: the
// resync loop compares it with the base its statuses were computed on.
func (f *Forge) OpenPullRequests(ctx context.Context, repo forge.Repo) ([]forge.PullRequest, error) {
	prs, err := f.listMRs(ctx, repo, &gl.ListProjectMergeRequestsOptions{State: gl.Ptr("opened")})
	if err != nil {
		return nil, err
	}
	for i := range prs {
		if prs[i].BaseSHA != "" {
			continue
		}
		full, err := f.PullRequest(ctx, prs[i].Ref)
		if err != nil {
			return nil, err
		}
		prs[i] = *full
	}
	return prs, nil
}

// MergedPullRequests lists the merge requests merged at or after since,
// oldest merge first. GitLab filters by last update, which merging sets,
// so the list holds every merge since then.
func (f *Forge) MergedPullRequests(ctx context.Context, repo forge.Repo, since time.Time) ([]forge.PullRequest, error) {
	prs, err := f.listMRs(ctx, repo, &gl.ListProjectMergeRequestsOptions{
		State: gl.Ptr("merged"), UpdatedAfter: gl.Ptr(since), OrderBy: gl.Ptr("updated_at"), Sort: gl.Ptr("asc"),
	})
	if err != nil {
		return nil, err
	}
	out := prs[:0]
	for _, pr := range prs {
		if pr.Merged && !pr.MergedAt.Before(since) {
			out = append(out, pr)
		}
	}
	slices.SortStableFunc(out, func(a, b forge.PullRequest) int { return a.MergedAt.Compare(b.MergedAt) })
	return out, nil
}

func (f *Forge) listMRs(ctx context.Context, repo forge.Repo, opt *gl.ListProjectMergeRequestsOptions) ([]forge.PullRequest, error) {
	opt.PerPage = perPage
	var out []forge.PullRequest
	for {
		page, resp, err := f.c.MergeRequests.ListProjectMergeRequests(pid(repo), opt, gl.WithContext(ctx))
		if err != nil {
			return nil, wrap(err, "list merge requests of %s", repo.FullName())
		}
		for _, mr := range page {
			out = append(out, convertBasic(repo, mr))
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return out, nil
}

// UserGPGKeys returns the public GPG keys login registered on GitLab.
// GitLab reports neither key ID nor fingerprint; callers derive them from
// Armored.
func (f *Forge) UserGPGKeys(ctx context.Context, repo forge.Repo, login string) ([]forge.GPGKey, error) {
	id, err := f.userID(ctx, login)
	if err != nil {
		return nil, err
	}
	keys, _, err := f.c.Users.ListGPGKeysForUser(id, gl.WithContext(ctx))
	if err != nil {
		return nil, wrap(err, "GPG keys of %s", login)
	}
	out := make([]forge.GPGKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, forge.GPGKey{Armored: k.Key})
	}
	return out, nil
}

// Commit returns one commit with its parents and signature verdict.
func (f *Forge) Commit(ctx context.Context, repo forge.Repo, sha string) (*forge.Commit, error) {
	c, _, err := f.c.Commits.GetCommit(pid(repo), sha, nil, gl.WithContext(ctx))
	if err != nil {
		return nil, wrap(err, "commit %s of %s", markdown.Short(sha), repo.FullName())
	}
	out := convertCommit(c)
	sig, err := f.signature(ctx, repo, out.SHA)
	if err != nil {
		return nil, err
	}
	out.Signature = sig
	return &out, nil
}

// PullRequestsForCommit lists the merge requests a commit belongs to.
func (f *Forge) PullRequestsForCommit(ctx context.Context, repo forge.Repo, sha string) ([]forge.PullRequest, error) {
	mrs, _, err := f.c.Commits.ListMergeRequestsByCommit(pid(repo), sha, gl.WithContext(ctx))
	if err != nil {
		return nil, wrap(err, "merge requests of commit %s", markdown.Short(sha))
	}
	out := make([]forge.PullRequest, 0, len(mrs))
	for _, mr := range mrs {
		out = append(out, convertBasic(repo, mr))
	}
	return out, nil
}

// IssuesLabelled lists the project's issues, open and closed, that carry
// label. GitLab issues and merge requests are separate, so none is left out.
func (f *Forge) IssuesLabelled(ctx context.Context, repo forge.Repo, label string) ([]forge.Issue, error) {
	opt := &gl.ListProjectIssuesOptions{
		ListOptions: gl.ListOptions{PerPage: perPage},
		Labels:      &gl.LabelOptions{label},
		State:       gl.Ptr("all"),
	}
	var out []forge.Issue
	for {
		page, resp, err := f.c.Issues.ListProjectIssues(pid(repo), opt, gl.WithContext(ctx))
		if err != nil {
			return nil, wrap(err, "issues labelled %q", label)
		}
		for _, is := range page {
			out = append(out, convertIssue(is))
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return out, nil
}

func convertIssue(is *gl.Issue) forge.Issue {
	state := is.State
	if state == "opened" {
		state = "open"
	}
	return forge.Issue{Number: int(is.IID), Title: is.Title, Body: is.Description, URL: is.WebURL, State: state, Labels: append([]string(nil), is.Labels...)}
}
