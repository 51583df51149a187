package forgetest

import (
	"bytes"
	"context"
	"fmt"
	"github.com/gitward/gitward/report/markdown"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/snapshot"
)

// enter records a call and returns the fault injected for it, if any, or
// the context's error. It runs with f.mu held.
func (f *Fake) enter(ctx context.Context, method string, args ...any) error {
	f.calls = append(f.calls, Call{Method: method, Args: args})
	if q := f.faults[method]; len(q) > 0 {
		f.faults[method] = q[1:]
		return fmt.Errorf("forgetest: %s: %w", method, q[0])
	}
	return ctx.Err()
}

// pull returns the repository and pull request ref names, following its
// branches while it is open. It runs with f.mu held.
func (f *Fake) pull(ref forge.PRRef) (*repo, *pull, error) {
	rp, err := f.repo(ref.Repo)
	if err != nil {
		return nil, nil, err
	}
	p := rp.pulls[ref.Number]
	if p == nil {
		return nil, nil, fmt.Errorf("forgetest: pull request %s: %w", ref, forge.ErrNotFound)
	}
	rp.follow(p)
	return rp, p, nil
}

// facts returns a copy of the pull request that shares nothing with it.
func (p *pull) facts() forge.PullRequest {
	out := p.PullRequest
	out.Labels = slices.Clone(p.Labels)
	return out
}

// PullRequest implements forge.Reader.
func (f *Fake) PullRequest(ctx context.Context, ref forge.PRRef) (*forge.PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "PullRequest", ref); err != nil {
		return nil, err
	}
	_, p, err := f.pull(ref)
	if err != nil {
		return nil, err
	}
	out := p.facts()
	return &out, nil
}

// Commits implements forge.Reader: the commits the head has and the base
// has not, parents first.
func (f *Fake) Commits(ctx context.Context, ref forge.PRRef) ([]forge.Commit, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "Commits", ref); err != nil {
		return nil, err
	}
	rp, p, err := f.pull(ref)
	if err != nil {
		return nil, err
	}
	var out []forge.Commit
	for _, sha := range rp.between(p.BaseSHA, p.HeadSHA) {
		out = append(out, f.linked(rp.commits[sha].Commit))
	}
	return out, nil
}

// Reviews implements forge.Reader.
func (f *Fake) Reviews(ctx context.Context, ref forge.PRRef) ([]forge.Review, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "Reviews", ref); err != nil {
		return nil, err
	}
	_, p, err := f.pull(ref)
	if err != nil {
		return nil, err
	}
	return slices.Clone(p.reviews), nil
}

// Comments implements forge.Reader.
func (f *Fake) Comments(ctx context.Context, t forge.Thread) ([]forge.Comment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "Comments", t); err != nil {
		return nil, err
	}
	rp, err := f.repo(t.Repo)
	if err != nil {
		return nil, err
	}
	if err := rp.hasThread(t); err != nil {
		return nil, err
	}
	var out []forge.Comment
	for _, c := range rp.comments {
		if c.thread.Number == t.Number && c.thread.Issue == t.Issue {
			out = append(out, c.Comment)
		}
	}
	return out, nil
}

// ChangedFiles implements forge.Reader: the files the head changed since
// it parted from the base.
func (f *Fake) ChangedFiles(ctx context.Context, ref forge.PRRef) ([]forge.ChangedFile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "ChangedFiles", ref); err != nil {
		return nil, err
	}
	rp, p, err := f.pull(ref)
	if err != nil {
		return nil, err
	}
	return rp.changes(p.BaseSHA, p.HeadSHA), nil
}

// Permission implements forge.Reader; a login without one has none.
func (f *Fake) Permission(ctx context.Context, r forge.Repo, login string) (forge.Permission, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "Permission", r, login); err != nil {
		return forge.PermissionNone, err
	}
	rp, err := f.repo(r)
	if err != nil {
		return forge.PermissionNone, err
	}
	return rp.perms[strings.ToLower(login)], nil
}

// TeamMember implements forge.Reader; a team named without its
// organisation is the repository owner's.
func (f *Fake) TeamMember(ctx context.Context, r forge.Repo, team, login string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "TeamMember", r, team, login); err != nil {
		return false, err
	}
	if !strings.Contains(team, "/") {
		team = r.Owner + "/" + team
	}
	return f.teams[team][strings.ToLower(login)], nil
}

// File implements forge.Reader. ref is a SHA or a branch.
func (f *Fake) File(ctx context.Context, r forge.Repo, ref, path string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "File", r, ref, path); err != nil {
		return nil, err
	}
	rp, err := f.repo(r)
	if err != nil {
		return nil, err
	}
	sha, ok := rp.resolve(ref)
	if !ok {
		return nil, fmt.Errorf("forgetest: read %s at %s: no commit: %w", path, markdown.Short(ref), forge.ErrNotFound)
	}
	files := rp.commits[sha].files
	if content, ok := files[path]; ok {
		return []byte(content), nil
	}
	for p := range files {
		if strings.HasPrefix(p, strings.TrimSuffix(path, "/")+"/") {
			return nil, fmt.Errorf("forgetest: read %s at %s: is a directory", path, markdown.Short(ref))
		}
	}
	return nil, fmt.Errorf("forgetest: read %s at %s: %w", path, markdown.Short(ref), forge.ErrNotFound)
}

// Snapshot implements forge.Reader: the tree at sha, archived and
// extracted through the snapshot cache as the adapters do.
func (f *Fake) Snapshot(ctx context.Context, r forge.Repo, sha string) (*snapshot.Snapshot, error) {
	f.mu.Lock()
	err := f.enter(ctx, "Snapshot", r, sha)
	var c *commit
	if err == nil {
		var rp *repo
		if rp, err = f.repo(r); err == nil {
			c = rp.commits[sha]
		}
	}
	f.mu.Unlock()
	switch {
	case err != nil:
		return nil, err
	case !isSHA(sha):
		return nil, fmt.Errorf("forgetest: snapshot of %s: %q is not a commit SHA", r.FullName(), sha)
	case c == nil:
		return nil, fmt.Errorf("forgetest: snapshot of %s at %s: %w", r.FullName(), markdown.Short(sha), forge.ErrNotFound)
	}
	return f.snapshots.Get(ctx, r.String()+"@"+sha, func(context.Context) (io.ReadCloser, error) {
		data, err := tarball(r.Owner+"-"+r.Name+"-"+markdown.Short(sha), c.files)
		return io.NopCloser(bytes.NewReader(data)), err
	}, snapshot.Limits{})
}

// CheckRuns implements forge.Reader: the fake's own runs on sha, newest
// first.
func (f *Fake) CheckRuns(ctx context.Context, r forge.Repo, sha string) ([]forge.CheckRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "CheckRuns", r, sha); err != nil {
		return nil, err
	}
	rp, err := f.repo(r)
	if err != nil {
		return nil, err
	}
	var out []forge.CheckRun
	for i := len(rp.checks) - 1; i >= 0; i-- {
		if run := rp.checks[i]; run.HeadSHA == sha && run.AppID == AppID {
			out = append(out, copyRun(*run))
		}
	}
	return out, nil
}

func copyRun(run forge.CheckRun) forge.CheckRun {
	run.Annotations = slices.Clone(run.Annotations)
	return run
}

// OpenPullRequests implements forge.Reader.
func (f *Fake) OpenPullRequests(ctx context.Context, r forge.Repo) ([]forge.PullRequest, error) {
	return f.pulls(ctx, "OpenPullRequests", r, func(_ *repo, p *pull) bool { return p.State == forge.PROpen })
}

// MergedPullRequests lists the pull requests merged at or after since,
// oldest merge first, as the adapters' MergeLister does.
func (f *Fake) MergedPullRequests(ctx context.Context, r forge.Repo, since time.Time) ([]forge.PullRequest, error) {
	out, err := f.pulls(ctx, "MergedPullRequests", r, func(_ *repo, p *pull) bool { return p.Merged && !p.MergedAt.Before(since) })
	sort.SliceStable(out, func(i, j int) bool { return out[i].MergedAt.Before(out[j].MergedAt) })
	return out, err
}

// PullRequestsForCommit implements forge.Reader: the pull requests sha is
// a commit of, and the one it is the merge of.
func (f *Fake) PullRequestsForCommit(ctx context.Context, r forge.Repo, sha string) ([]forge.PullRequest, error) {
	return f.pulls(ctx, "PullRequestsForCommit", r, func(rp *repo, p *pull) bool {
		return p.MergeSHA == sha || slices.Contains(rp.between(p.BaseSHA, p.HeadSHA), sha)
	})
}

// pulls lists the pull requests that keep says, by number.
func (f *Fake) pulls(ctx context.Context, method string, r forge.Repo, keep func(*repo, *pull) bool) ([]forge.PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, method, r); err != nil {
		return nil, err
	}
	rp, err := f.repo(r)
	if err != nil {
		return nil, err
	}
	var out []forge.PullRequest
	for n := 1; n <= rp.last; n++ {
		if p := rp.pulls[n]; p != nil {
			if rp.follow(p); keep(rp, p) {
				out = append(out, p.facts())
			}
		}
	}
	return out, nil
}

// UserGPGKeys implements forge.Reader.
func (f *Fake) UserGPGKeys(ctx context.Context, r forge.Repo, login string) ([]forge.GPGKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "UserGPGKeys", r, login); err != nil {
		return nil, err
	}
	return slices.Clone(f.gpgKeys[login]), nil
}

// Commit implements forge.Reader.
func (f *Fake) Commit(ctx context.Context, r forge.Repo, sha string) (*forge.Commit, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "Commit", r, sha); err != nil {
		return nil, err
	}
	rp, err := f.repo(r)
	if err != nil {
		return nil, err
	}
	c := rp.commits[sha]
	if c == nil {
		return nil, fmt.Errorf("forgetest: commit %s: %w", markdown.Short(sha), forge.ErrNotFound)
	}
	out := f.linked(c.Commit)
	return &out, nil
}

// IssuesLabelled implements forge.Reader.
func (f *Fake) IssuesLabelled(ctx context.Context, r forge.Repo, label string) ([]forge.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "IssuesLabelled", r, label); err != nil {
		return nil, err
	}
	rp, err := f.repo(r)
	if err != nil {
		return nil, err
	}
	var out []forge.Issue
	for n := 1; n <= rp.last; n++ {
		if is := rp.issues[n]; is != nil && contains(is.Labels, label) {
			c := *is
			c.Labels = slices.Clone(is.Labels)
			out = append(out, c)
		}
	}
	return out, nil
}

// Repositories implements forge.Forge.
func (f *Fake) Repositories(ctx context.Context) ([]forge.Repo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "Repositories"); err != nil {
		return nil, err
	}
	var out []forge.Repo
	for _, name := range sortedKeys(f.repos) {
		out = append(out, f.repos[name].info)
	}
	return out, nil
}

// Limits implements forge.Forge.
func (f *Fake) Limits() forge.Limits {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limits
}

// WithHeadClock returns the fake as a forge that also says when each head
// of a pull request arrived (forge.HeadClock), as GitLab does; the fake
// itself does not, as GitHub does not.
func (f *Fake) WithHeadClock() forge.Forge { return clocked{f} }

type clocked struct{ *Fake }

var _ forge.HeadClock = clocked{}

// HeadSince implements forge.HeadClock from the moves of the head branch:
// since when it has pointed at the head without a break.
func (c clocked) HeadSince(ctx context.Context, ref forge.PRRef) (string, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.enter(ctx, "HeadSince", ref); err != nil {
		return "", time.Time{}, err
	}
	rp, p, err := c.pull(ref)
	if err != nil {
		return "", time.Time{}, err
	}
	var since time.Time
	moves := rp.moves[p.HeadRef]
	for i := len(moves) - 1; i >= 0 && moves[i].sha == p.HeadSHA; i-- {
		since = moves[i].at
	}
	if since.IsZero() {
		return "", time.Time{}, nil
	}
	return p.HeadSHA, since, nil
}
