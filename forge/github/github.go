// Package github is gitward's GitHub adapter: it implements forge.Forge for a
// GitHub App installation on github.com or GitHub Enterprise Server, on top
// of go-githubapp's ClientCreator (installation tokens, HTTP caching).
package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/snapshot"
	"github.com/gitward/gitward/report/markdown"
	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
)

// Limits from GitHub's documentation that the adapter enforces before
// sending, so an oversized report fails here with a clear message rather
// than as a 422 from GitHub.
const (
	// MaxCommentChars is the largest issue or pull request comment body.
	MaxCommentChars = 65536
	// MaxCheckOutputChars is the largest check run summary or text.
	MaxCheckOutputChars = 65535
	// MaxAnnotationsPerRequest is how many annotations one check run create
	// or update request may carry.
	MaxAnnotationsPerRequest = 50
)

const perPage = 100

// Forge is the GitHub implementation of forge.Forge. It is safe for
// concurrent use.
type Forge struct {
	clients   githubapp.ClientCreator
	appID     int64
	host      string
	snapshots *snapshot.Cache
	limits    snapshot.Limits
	download  *http.Client
	fresh     freshClients
}

// Options configure a Forge.
type Options struct {
	// AppID is the GitHub App's ID; only check runs of this app are read.
	AppID int64
	// WebURL is GitHub's web address, used to name the host in repository
	// keys ("https://github.com/" or the Enterprise Server address).
	WebURL string
	// Snapshots caches repository trees; required for Snapshot.
	Snapshots *snapshot.Cache
	// Limits bound each downloaded archive.
	Limits snapshot.Limits
	// DownloadTimeout bounds one archive download; zero means 5 minutes.
	DownloadTimeout time.Duration
}

// New returns a Forge that acts through the installations of one GitHub App.
func New(clients githubapp.ClientCreator, opts Options) *Forge {
	host := "github.com"
	if u, err := url.Parse(opts.WebURL); err == nil && u.Host != "" {
		host = u.Host
	}
	timeout := opts.DownloadTimeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	return &Forge{
		clients:   clients,
		appID:     opts.AppID,
		host:      host,
		snapshots: opts.Snapshots,
		limits:    opts.Limits,
		download:  &http.Client{Timeout: timeout},
	}
}

var _ forge.Forge = (*Forge)(nil)

// client returns the installation's API client for everything but the
// reads immutableClient serves: its GETs are revalidated with GitHub (see
// fresh.go), so no verdict is built on a cached answer.
func (f *Forge) client(repo forge.Repo) (*gh.Client, error) {
	c, err := f.immutableClient(repo)
	if err != nil {
		return nil, err
	}
	return f.fresh.of(repo.InstallationID, c), nil
}

// immutableClient returns the installation's client as the client creator
// made it, whose response cache may answer from memory while GitHub's
// Cache-Control allows. Use it only for reads addressed by commit SHA.
func (f *Forge) immutableClient(repo forge.Repo) (*gh.Client, error) {
	if repo.InstallationID == 0 {
		return nil, fmt.Errorf("github: repository %s has no installation ID", repo.FullName())
	}
	c, err := f.clients.NewInstallationClient(repo.InstallationID)
	if err != nil {
		return nil, fmt.Errorf("github: client for installation %d: %w", repo.InstallationID, err)
	}
	return c, nil
}

// wrap adds context to an API error and maps 404 and 409/422 conflicts onto
// forge.ErrNotFound and forge.ErrConflict.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf(format, args...)
	var rerr *gh.ErrorResponse
	if errors.As(err, &rerr) && rerr.Response != nil {
		switch rerr.Response.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("github: %s: %w (%v)", msg, forge.ErrNotFound, err)
		case http.StatusConflict:
			return fmt.Errorf("github: %s: %w (%v)", msg, forge.ErrConflict, err)
		}
	}
	return fmt.Errorf("github: %s: %w", msg, err)
}

// Repositories lists every repository of every installation of the app.
func (f *Forge) Repositories(ctx context.Context) ([]forge.Repo, error) {
	app, err := f.clients.NewAppClient()
	if err != nil {
		return nil, fmt.Errorf("github: app client: %w", err)
	}
	app = f.fresh.of(0, app)
	var installs []*gh.Installation
	opt := &gh.ListOptions{PerPage: perPage}
	for {
		page, resp, err := app.Apps.ListInstallations(ctx, opt)
		if err != nil {
			return nil, wrap(err, "list installations")
		}
		installs = append(installs, page...)
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	var repos []forge.Repo
	for _, inst := range installs {
		if inst.SuspendedAt != nil {
			continue
		}
		c, err := f.client(forge.Repo{Owner: inst.GetAccount().GetLogin(), InstallationID: inst.GetID()})
		if err != nil {
			return nil, err
		}
		opt := &gh.ListOptions{PerPage: perPage}
		for {
			list, resp, err := c.Apps.ListRepos(ctx, opt)
			if err != nil {
				return nil, wrap(err, "list repositories of installation %d", inst.GetID())
			}
			for _, r := range list.Repositories {
				if r.GetArchived() {
					continue
				}
				repos = append(repos, f.repo(inst.GetID(), r))
			}
			if resp.NextPage == 0 {
				break
			}
			opt.Page = resp.NextPage
		}
	}
	return repos, nil
}

func (f *Forge) repo(installationID int64, r *gh.Repository) forge.Repo {
	return forge.Repo{
		Host:           f.host,
		Owner:          r.GetOwner().GetLogin(),
		Name:           r.GetName(),
		InstallationID: installationID,
		DefaultBranch:  r.GetDefaultBranch(),
	}
}

// RepoFromEvent converts a webhook's repository and installation into a
// forge.Repo.
func (f *Forge) RepoFromEvent(installationID int64, r *gh.Repository) forge.Repo {
	return f.repo(installationID, r)
}

// PullRequest returns one pull request.
func (f *Forge) PullRequest(ctx context.Context, ref forge.PRRef) (*forge.PullRequest, error) {
	c, err := f.client(ref.Repo)
	if err != nil {
		return nil, err
	}
	pr, _, err := c.PullRequests.Get(ctx, ref.Repo.Owner, ref.Repo.Name, ref.Number)
	if err != nil {
		return nil, wrap(err, "get pull request %s", ref)
	}
	out := convertPR(ref.Repo, pr)
	return &out, nil
}

// ConvertPullRequest turns a go-github pull request, as found in webhook
// payloads, into forge facts.
func ConvertPullRequest(repo forge.Repo, pr *gh.PullRequest) forge.PullRequest {
	return convertPR(repo, pr)
}

func convertPR(repo forge.Repo, pr *gh.PullRequest) forge.PullRequest {
	out := forge.PullRequest{
		Ref:       forge.PRRef{Repo: repo, Number: pr.GetNumber()},
		Title:     pr.GetTitle(),
		Body:      pr.GetBody(),
		URL:       pr.GetHTMLURL(),
		Author:    convertUser(pr.GetUser()),
		State:     forge.PRState(pr.GetState()),
		Draft:     pr.GetDraft(),
		Merged:    pr.GetMerged(),
		BaseRef:   pr.GetBase().GetRef(),
		BaseSHA:   pr.GetBase().GetSHA(),
		HeadRef:   pr.GetHead().GetRef(),
		HeadSHA:   pr.GetHead().GetSHA(),
		HeadRepo:  pr.GetHead().GetRepo().GetFullName(),
		CreatedAt: pr.GetCreatedAt().Time,
		UpdatedAt: pr.GetUpdatedAt().Time,
	}
	if out.Merged {
		out.MergeSHA = pr.GetMergeCommitSHA()
		out.MergedAt = pr.GetMergedAt().Time
		if u := pr.GetMergedBy(); u != nil {
			out.MergedBy = forge.User{Login: u.GetLogin(), ID: u.GetID(), Bot: u.GetType() == "Bot"}
		}
	}
	for _, l := range pr.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out
}

func convertUser(u *gh.User) forge.User {
	return forge.User{Login: u.GetLogin(), ID: u.GetID(), Bot: u.GetType() == "Bot"}
}

// GitHub's caps on listing a pull request's commits and files: the lists
// stop there, while the pull request's "commits" and "changed_files" still
// count everything.
const (
	maxListedCommits = 250
	maxListedFiles   = 3000
)

// Commits returns the pull request's commits with GitHub's signature
// verification, oldest first. GitHub lists at most 250 commits of a pull
// request; when it has more, the commits past the list cannot be checked
// and the answer is an error, never a partial list.
func (f *Forge) Commits(ctx context.Context, ref forge.PRRef) ([]forge.Commit, error) {
	c, err := f.client(ref.Repo)
	if err != nil {
		return nil, err
	}
	var out []forge.Commit
	opt := &gh.ListOptions{PerPage: perPage}
	for {
		page, resp, err := c.PullRequests.ListCommits(ctx, ref.Repo.Owner, ref.Repo.Name, ref.Number, opt)
		if err != nil {
			return nil, wrap(err, "list commits of %s", ref)
		}
		for _, rc := range page {
			out = append(out, convertCommit(rc))
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if err := f.complete(ctx, c, ref, len(out), maxListedCommits, "commits", (*gh.PullRequest).GetCommits); err != nil {
		return nil, err
	}
	if err := f.resolveIdentities(ctx, ref, out); err != nil {
		return nil, err
	}
	return out, nil
}

// complete reports an error when a list of a pull request's items that
// reached GitHub's cap is shorter than the count the pull request gives.
func (f *Forge) complete(ctx context.Context, c *gh.Client, ref forge.PRRef, listed, limit int, what string, count func(*gh.PullRequest) int) error {
	if listed < limit {
		return nil
	}
	pr, _, err := c.PullRequests.Get(ctx, ref.Repo.Owner, ref.Repo.Name, ref.Number)
	if err != nil {
		return wrap(err, "count the %s of %s", what, ref)
	}
	if total := count(pr); total != listed {
		return fmt.Errorf("github: %s has %d %s, and GitHub lists only the first %d, so the rest cannot be checked; split the change into smaller pull requests", ref, total, what, limit)
	}
	return nil
}

func convertCommit(rc *gh.RepositoryCommit) forge.Commit {
	cm := rc.GetCommit()
	out := forge.Commit{
		SHA:     rc.GetSHA(),
		Message: cm.GetMessage(),
		Author: forge.Identity{
			Name:  cm.GetAuthor().GetName(),
			Email: cm.GetAuthor().GetEmail(),
			Login: rc.GetAuthor().GetLogin(),
			Date:  cm.GetAuthor().GetDate().Time,
		},
		Committer: forge.Identity{
			Name:  cm.GetCommitter().GetName(),
			Email: cm.GetCommitter().GetEmail(),
			Login: rc.GetCommitter().GetLogin(),
			Date:  cm.GetCommitter().GetDate().Time,
		},
	}
	for _, p := range rc.Parents {
		out.Parents = append(out.Parents, p.GetSHA())
	}
	if v := cm.GetVerification(); v != nil {
		out.Signature = forge.Signature{
			Verified:  v.GetVerified(),
			Reason:    v.GetReason(),
			Signature: v.GetSignature(),
			Payload:   v.GetPayload(),
		}
	}
	return out
}

// Reviews returns every review of the pull request.
func (f *Forge) Reviews(ctx context.Context, ref forge.PRRef) ([]forge.Review, error) {
	c, err := f.client(ref.Repo)
	if err != nil {
		return nil, err
	}
	var out []forge.Review
	opt := &gh.ListOptions{PerPage: perPage}
	for {
		page, resp, err := c.PullRequests.ListReviews(ctx, ref.Repo.Owner, ref.Repo.Name, ref.Number, opt)
		if err != nil {
			return nil, wrap(err, "list reviews of %s", ref)
		}
		for _, r := range page {
			out = append(out, forge.Review{
				ID:          r.GetID(),
				User:        convertUser(r.GetUser()),
				State:       forge.ReviewState(r.GetState()),
				Body:        r.GetBody(),
				CommitSHA:   r.GetCommitID(),
				SubmittedAt: r.GetSubmittedAt().Time,
			})
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return out, nil
}

// Comments returns the conversation comments of a pull request or issue.
func (f *Forge) Comments(ctx context.Context, ref forge.Thread) ([]forge.Comment, error) {
	c, err := f.client(ref.Repo)
	if err != nil {
		return nil, err
	}
	var out []forge.Comment
	opt := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: perPage}}
	for {
		page, resp, err := c.Issues.ListComments(ctx, ref.Repo.Owner, ref.Repo.Name, ref.Number, opt)
		if err != nil {
			return nil, wrap(err, "list comments of %s", ref)
		}
		for _, cm := range page {
			out = append(out, convertComment(cm))
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return out, nil
}

func convertComment(cm *gh.IssueComment) forge.Comment {
	return forge.Comment{
		ID:        cm.GetID(),
		User:      convertUser(cm.GetUser()),
		Body:      cm.GetBody(),
		URL:       cm.GetHTMLURL(),
		CreatedAt: cm.GetCreatedAt().Time,
		UpdatedAt: cm.GetUpdatedAt().Time,
		// GitHub moves updated_at only when the body changes; reactions
		// do not touch it.
		Edited: cm.GetUpdatedAt().After(cm.GetCreatedAt().Time),
	}
}

// ChangedFiles returns the files the pull request changes. GitHub lists at
// most 3000; when it changes more, the files past the list cannot be
// checked and the answer is an error, never a partial list.
func (f *Forge) ChangedFiles(ctx context.Context, ref forge.PRRef) ([]forge.ChangedFile, error) {
	c, err := f.client(ref.Repo)
	if err != nil {
		return nil, err
	}
	var out []forge.ChangedFile
	opt := &gh.ListOptions{PerPage: perPage}
	for {
		page, resp, err := c.PullRequests.ListFiles(ctx, ref.Repo.Owner, ref.Repo.Name, ref.Number, opt)
		if err != nil {
			return nil, wrap(err, "list files of %s", ref)
		}
		for _, cf := range page {
			out = append(out, forge.ChangedFile{
				Path:         cf.GetFilename(),
				PreviousPath: cf.GetPreviousFilename(),
				Status:       forge.FileStatus(cf.GetStatus()),
				Additions:    cf.GetAdditions(),
				Deletions:    cf.GetDeletions(),
			})
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if err := f.complete(ctx, c, ref, len(out), maxListedFiles, "changed files", (*gh.PullRequest).GetChangedFiles); err != nil {
		return nil, err
	}
	return out, nil
}

// Permission returns a user's permission on the repository; a user who is
// not a collaborator has none.
func (f *Forge) Permission(ctx context.Context, repo forge.Repo, login string) (forge.Permission, error) {
	c, err := f.client(repo)
	if err != nil {
		return forge.PermissionNone, err
	}
	lvl, _, err := c.Repositories.GetPermissionLevel(ctx, repo.Owner, repo.Name, login)
	if err != nil {
		err = wrap(err, "permission of %s on %s", login, repo.FullName())
		if errors.Is(err, forge.ErrNotFound) {
			return forge.PermissionNone, nil
		}
		return forge.PermissionNone, err
	}
	// role_name distinguishes triage and maintain; permission folds them
	// into read and write.
	if p, perr := forge.ParsePermission(lvl.GetUser().GetRoleName()); perr == nil && lvl.GetUser().GetRoleName() != "" {
		return p, nil
	}
	p, err := forge.ParsePermission(lvl.GetPermission())
	if err != nil {
		return forge.PermissionNone, fmt.Errorf("github: permission of %s on %s: %w", login, repo.FullName(), err)
	}
	return p, nil
}

// TeamMember reports whether login is an active member of "org/slug".
func (f *Forge) TeamMember(ctx context.Context, repo forge.Repo, team, login string) (bool, error) {
	org, slug, ok := strings.Cut(team, "/")
	if !ok {
		org, slug = repo.Owner, team
	}
	c, err := f.client(repo)
	if err != nil {
		return false, err
	}
	m, _, err := c.Teams.GetTeamMembershipBySlug(ctx, org, slug, login)
	if err != nil {
		err = wrap(err, "membership of %s in team %s/%s", login, org, slug)
		if errors.Is(err, forge.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	return m.GetState() == "active", nil
}

// File returns one file at a commit, or an error wrapping forge.ErrNotFound.
func (f *Forge) File(ctx context.Context, repo forge.Repo, sha, path string) ([]byte, error) {
	client := f.client
	if isSHA(sha) {
		client = f.immutableClient // a file at a commit never changes
	}
	c, err := client(repo)
	if err != nil {
		return nil, err
	}
	fc, _, _, err := c.Repositories.GetContents(ctx, repo.Owner, repo.Name, path, &gh.RepositoryContentGetOptions{Ref: sha})
	if err != nil {
		return nil, wrap(err, "read %s at %s", path, markdown.Short(sha))
	}
	if fc == nil {
		return nil, fmt.Errorf("github: read %s at %s: is a directory", path, markdown.Short(sha))
	}
	if fc.GetType() != "file" {
		return nil, fmt.Errorf("github: read %s at %s: is a %s, not a file", path, markdown.Short(sha), fc.GetType())
	}
	s, err := fc.GetContent()
	if err != nil {
		return nil, fmt.Errorf("github: read %s at %s: %w", path, markdown.Short(sha), err)
	}
	return []byte(s), nil
}

// Snapshot downloads the repository tarball at sha once, extracts it safely
// into the snapshot cache and returns it.
func (f *Forge) Snapshot(ctx context.Context, repo forge.Repo, sha string) (*snapshot.Snapshot, error) {
	if f.snapshots == nil {
		return nil, errors.New("github: no snapshot cache configured")
	}
	if !isSHA(sha) {
		return nil, fmt.Errorf("github: snapshot of %s: %q is not a commit SHA", repo.FullName(), sha)
	}
	key := repo.String() + "@" + sha
	return f.snapshots.Get(ctx, key, func(ctx context.Context) (io.ReadCloser, error) {
		c, err := f.client(repo)
		if err != nil {
			return nil, err
		}
		link, linkResp, err := c.Repositories.GetArchiveLink(ctx, repo.Owner, repo.Name, gh.Tarball, &gh.RepositoryContentGetOptions{Ref: sha}, 0)
		if err != nil {
			// GetArchiveLink reports any answer but a redirect as a bare
			// status; classify it as other calls are (404, rate limit).
			if linkResp != nil && linkResp.Response != nil {
				if rerr := gh.CheckResponse(linkResp.Response); rerr != nil {
					err = rerr
				}
			}
			return nil, wrap(err, "archive link for %s at %s", repo.FullName(), markdown.Short(sha))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, link.String(), nil)
		if err != nil {
			return nil, err
		}
		resp, err := f.download.Do(req)
		if err != nil {
			return nil, fmt.Errorf("github: download archive of %s at %s: %w", repo.FullName(), markdown.Short(sha), redactURLError(err))
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("github: download archive of %s at %s: %s", repo.FullName(), markdown.Short(sha), resp.Status)
		}
		return resp.Body, nil
	}, f.limits)
}

// redactURLError drops the URL from a transport error: archive links carry
// a short-lived token in their query.
func redactURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%s: %w", uerr.Op, uerr.Err)
	}
	return err
}

// CheckRuns returns this app's check runs on a commit.
func (f *Forge) CheckRuns(ctx context.Context, repo forge.Repo, sha string) ([]forge.CheckRun, error) {
	c, err := f.client(repo)
	if err != nil {
		return nil, err
	}
	opt := &gh.ListCheckRunsOptions{Filter: gh.String("all"), ListOptions: gh.ListOptions{PerPage: perPage}}
	if f.appID != 0 {
		opt.AppID = gh.Int64(f.appID)
	}
	var out []forge.CheckRun
	for {
		res, resp, err := c.Checks.ListCheckRunsForRef(ctx, repo.Owner, repo.Name, sha, opt)
		if err != nil {
			return nil, wrap(err, "list check runs on %s", markdown.Short(sha))
		}
		for _, cr := range res.CheckRuns {
			if f.appID != 0 && cr.GetApp().GetID() != 0 && cr.GetApp().GetID() != f.appID {
				continue
			}
			out = append(out, convertCheckRun(cr))
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return out, nil
}

func convertCheckRun(cr *gh.CheckRun) forge.CheckRun {
	return forge.CheckRun{
		ID:          cr.GetID(),
		Name:        cr.GetName(),
		HeadSHA:     cr.GetHeadSHA(),
		AppID:       cr.GetApp().GetID(),
		Status:      forge.CheckStatus(cr.GetStatus()),
		Conclusion:  forge.Conclusion(cr.GetConclusion()),
		ExternalID:  cr.GetExternalID(),
		Title:       cr.GetOutput().GetTitle(),
		Summary:     cr.GetOutput().GetSummary(),
		Text:        cr.GetOutput().GetText(),
		DetailsURL:  cr.GetDetailsURL(),
		StartedAt:   cr.GetStartedAt().Time,
		CompletedAt: cr.GetCompletedAt().Time,
	}
}

// OpenPullRequests lists the repository's open pull requests.
func (f *Forge) OpenPullRequests(ctx context.Context, repo forge.Repo) ([]forge.PullRequest, error) {
	return f.listPulls(ctx, repo, &gh.PullRequestListOptions{State: "open"})
}

// UserGPGKeys returns the OpenPGP public keys login registered on GitHub.
// GitHub does not report fingerprints; Fingerprint is left empty.
func (f *Forge) UserGPGKeys(ctx context.Context, repo forge.Repo, login string) ([]forge.GPGKey, error) {
	if login == "" || login == "." || login == ".." || strings.ContainsAny(login, "/?#% \t\n") {
		return nil, fmt.Errorf("github: list GPG keys: %q is not a GitHub login", login)
	}
	c, err := f.client(repo)
	if err != nil {
		return nil, err
	}
	var out []forge.GPGKey
	opt := &gh.ListOptions{PerPage: perPage}
	for {
		page, resp, err := c.Users.ListGPGKeys(ctx, login, opt)
		if err != nil {
			return nil, wrap(err, "list GPG keys of %s", login)
		}
		for _, k := range page {
			out = append(out, forge.GPGKey{KeyID: strings.ToUpper(k.GetKeyID()), Armored: k.GetRawKey()})
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return out, nil
}

func (f *Forge) listPulls(ctx context.Context, repo forge.Repo, opt *gh.PullRequestListOptions) ([]forge.PullRequest, error) {
	c, err := f.client(repo)
	if err != nil {
		return nil, err
	}
	opt.ListOptions = gh.ListOptions{PerPage: perPage}
	var out []forge.PullRequest
	for {
		page, resp, err := c.PullRequests.List(ctx, repo.Owner, repo.Name, opt)
		if err != nil {
			return nil, wrap(err, "list pull requests of %s", repo.FullName())
		}
		for _, pr := range page {
			out = append(out, convertPR(repo, pr))
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return out, nil
}

func isSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
