package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/gitward/gitward/report/markdown"
	"github.com/rs/zerolog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gitward/gitward/breakglass"
	"github.com/gitward/gitward/capture"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/render"
)

// Label marks drift-capture pull requests.
const Label = "drift-capture"

// BranchPrefix starts the name of every capture branch.
const BranchPrefix = "gitward/drift-capture/"

// Clusters connects to the clusters of the server configuration; the drift
// capability's Connector is one.
type Clusters interface {
	Cluster(name string) (*live.Cluster, error)
}

// Action is what a scan did for one app.
type Action string

const (
	// Clean: nothing drifted, or nothing that can be written back.
	Clean Action = "nothing to capture"
	// Opened: a capture pull request was opened.
	Opened Action = "opened"
	// Updated: the capture branch got a new commit, or the body changed.
	Updated Action = "updated"
	// Unchanged: the open capture pull request already holds the drift.
	Unchanged Action = "unchanged"
	// BackingOff: an earlier failure's backoff has not passed; not tried.
	BackingOff Action = "backing off"
	// Failed: the capture failed; Err says why.
	Failed Action = "failed"
	// WindowOpen: a break-glass window covers the app, so its drift is
	// expected; it is captured when the window closes.
	WindowOpen Action = "break-glass window open"
)

// Result is the outcome of one app of one scan.
type Result struct {
	Repo    string
	App     string
	Cluster string
	Action  Action
	// PR is the capture pull request's number, when there is one.
	PR  int
	Err error
}

// Capturer scans repositories' default branches and keeps their capture
// pull requests. It is safe for concurrent use on different repositories.
type Capturer struct {
	Forge    forge.Forge
	Clusters Clusters
	// Renderer renders apps; nil uses one without a cache.
	Renderer *render.Renderer
	// MinBackoff is the wait after an app's first failure, doubled with
	// each failure in a row up to MaxBackoff; zero means one minute and
	// one hour.
	MinBackoff, MaxBackoff time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Incident returns the incident link of a capture, "" when there is
	// none. When it is nil or returns "", a capture of an app covered by a
	// break-glass window that has ended names that window's incident issue.
	Incident func(repo forge.Repo, app render.App) string

	mu       sync.Mutex
	failures map[string]failure
}

type failure struct {
	count int
	until time.Time
}

func (c *Capturer) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// backingOff reports whether key failed and its backoff has not passed.
func (c *Capturer) backingOff(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.failures[key]
	return ok && c.now().Before(f.until)
}

// record notes a failure (err != nil) or a success of key.
func (c *Capturer) record(key string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		delete(c.failures, key)
		return
	}
	lo, hi := c.MinBackoff, c.MaxBackoff
	if lo <= 0 {
		lo = time.Minute
	}
	if hi <= 0 {
		hi = time.Hour
	}
	f := c.failures[key]
	f.count++
	wait := lo
	for i := 1; i < f.count && wait < hi; i++ {
		wait *= 2
	}
	wait = min(wait, hi)
	f.until = c.now().Add(wait)
	if c.failures == nil {
		c.failures = map[string]failure{}
	}
	c.failures[key] = f
}

// Branch is the capture branch of an app.
func Branch(app string) string { return BranchPrefix + sanitise(app) }

var unsafeRef = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// sanitise makes an app name one safe component of a branch name.
func sanitise(name string) string {
	s := unsafeRef.ReplaceAllString(name, "-")
	s = strings.Trim(strings.ReplaceAll(s, "..", "-"), ".-")
	s = strings.TrimSuffix(s, ".lock")
	if s == "" {
		s = "app"
	}
	return s
}

// Repo scans one repository's default branch at its head. Failures of
// single apps are in their Result; the error is for what stops the whole
// repository (its branch, configuration or snapshot cannot be read).
func (c *Capturer) Repo(ctx context.Context, repo forge.Repo) ([]Result, error) {
	base := repo.DefaultBranch
	if base == "" {
		return nil, fmt.Errorf("scan %s: the default branch is not known", repo.FullName())
	}
	head, err := c.Forge.BranchHead(ctx, repo, base)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", repo.FullName(), err)
	}
	cfg, err := evaluation.LoadRepoConfig(ctx, c.Forge, repo, head)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", repo.FullName(), err)
	}
	if !mapsClusters(cfg) {
		return nil, nil // no app is mapped to a cluster: nothing to download
	}
	snap, err := c.Forge.Snapshot(ctx, repo, head)
	if err != nil {
		return nil, fmt.Errorf("scan %s: download %s: %w", repo.FullName(), markdown.Short(head), err)
	}
	defer snap.Release()
	apps, err := render.Discover(snap.FS(), cfg)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", repo.FullName(), err)
	}
	graph := render.BuildGraph(render.NewTree(snap.FS()), apps)
	// Break-glass windows: while one is open over an app its drift is
	// expected and not captured; once it has ended the capture names the
	// incident. If they cannot be read, apps are captured unlinked.
	now := c.now()
	windows, err := breakglass.Read(ctx, c.Forge, repo, cfg, now)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("repo", repo.FullName()).Msg("Could not read the break-glass windows; capturing drift without linking incidents")
	}
	active := breakglass.Active(windows, now)
	var out []Result
	for _, app := range apps {
		if app.Cluster == "" {
			continue
		}
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		r := Result{Repo: repo.FullName(), App: app.Name, Cluster: app.Cluster}
		key := repo.FullName() + "\x00" + app.Name + "\x00" + app.Cluster
		if _, ok := breakglass.Covering(active, app.Name, app.Cluster); ok {
			r.Action = WindowOpen
			out = append(out, r)
			continue
		}
		if c.backingOff(key) {
			r.Action = BackingOff
			out = append(out, r)
			continue
		}
		r.Action, r.PR, r.Err = c.app(ctx, repo, head, app, graph, cfg.Drift.Ignore, ended(windows, app))
		if r.Err != nil {
			r.Action = Failed
		}
		c.record(key, r.Err)
		out = append(out, r)
	}
	return out, nil
}

// ended returns the incident link of the latest ended break-glass window
// over app, "" when there is none.
func ended(windows []breakglass.Window, app render.App) string {
	var last *breakglass.Window
	for i, w := range windows {
		if !w.Ended.IsZero() && breakglass.Covers(w, app.Name, app.Cluster) && (last == nil || w.Ended.After(last.Ended)) {
			last = &windows[i]
		}
	}
	if last == nil {
		return ""
	}
	link := fmt.Sprintf("#%d", last.Issue)
	if last.URL != "" {
		link = fmt.Sprintf("[#%d](%s)", last.Issue, last.URL)
	}
	return fmt.Sprintf("%s — break-glass window for `%s` by @%s: %s", link, last.Scope, last.Who, last.Reason)
}

// mapsClusters reports whether the configuration can map an app to a
// cluster.
func mapsClusters(cfg *config.Repo) bool {
	if len(cfg.Clusters) > 0 {
		return true
	}
	for _, a := range cfg.Apps {
		if a.Cluster != "" {
			return true
		}
	}
	return false
}

// app captures one app and keeps its capture pull request.
func (c *Capturer) app(ctx context.Context, repo forge.Repo, head string, app render.App, graph *render.Graph, rules []config.IgnoreRule, incident string) (Action, int, error) {
	cluster, err := c.Clusters.Cluster(app.Cluster)
	if err != nil {
		return Failed, 0, err
	}
	ch, err := capture.Plan(ctx, capture.Input{App: app, Graph: graph, Renderer: c.Renderer, Cluster: cluster, Rules: rules})
	if err != nil {
		return Failed, 0, err
	}
	if len(ch.Files) == 0 {
		return Clean, 0, nil
	}
	if c.Incident != nil {
		if link := c.Incident(repo, app); link != "" {
			incident = link
		}
	}
	return c.publish(ctx, repo, head, ch, incident)
}

// publish writes the capture onto the app's branch and keeps its pull
// request, without a commit or an edit when nothing changed.
func (c *Capturer) publish(ctx context.Context, repo forge.Repo, head string, ch *capture.Change, incident string) (Action, int, error) {
	base := repo.DefaultBranch
	branch := Branch(ch.App.Name)
	title := Title(ch.App)
	body := Body(ch, incident)
	action := Unchanged

	pr, err := c.Forge.FindPullRequest(ctx, repo, branch, base)
	if errors.Is(err, forge.ErrNotFound) {
		pr, err = nil, nil
	}
	if err != nil {
		return Failed, 0, err
	}

	branchHead, err := c.Forge.BranchHead(ctx, repo, branch)
	switch {
	case errors.Is(err, forge.ErrNotFound):
		if _, err := c.Forge.CommitToBranch(ctx, repo, forge.BranchCommit{
			Branch: branch, Parent: head, Message: CommitMessage(ch), Files: ch.Files,
		}); err != nil {
			return Failed, 0, fmt.Errorf("create %s: %w", branch, err)
		}
		action = Updated
	case err != nil:
		return Failed, 0, err
	default:
		files := ch.Files
		if pr != nil {
			// Files an earlier capture wrote that this one does not go
			// back to what the default branch holds.
			if files, err = c.withReverts(ctx, repo, head, pr.Ref, files); err != nil {
				return Failed, 0, err
			}
		}
		stale, err := c.differs(ctx, repo, branchHead, files)
		if err != nil {
			return Failed, 0, err
		}
		if len(stale) > 0 {
			if _, err := c.Forge.CommitToBranch(ctx, repo, forge.BranchCommit{
				Branch: branch, ExpectedHead: branchHead, Message: CommitMessage(ch), Files: stale,
			}); err != nil {
				return Failed, 0, fmt.Errorf("update %s: %w", branch, err)
			}
			action = Updated
		}
	}

	if pr == nil {
		created, err := c.Forge.CreatePullRequest(ctx, repo, forge.NewPullRequest{
			Title: title, Body: body, Head: branch, Base: base, Labels: []string{Label},
		})
		if err != nil {
			n := 0
			if created != nil {
				n = created.Ref.Number
			}
			return Failed, n, err
		}
		return Opened, created.Ref.Number, nil
	}
	if pr.Title != title || pr.Body != forge.Inert(body) {
		if err := c.Forge.UpdatePullRequest(ctx, pr.Ref, title, body); err != nil {
			return Failed, pr.Ref.Number, err
		}
		action = Updated
	}
	if !slices.Contains(pr.Labels, Label) {
		if err := c.Forge.AddLabels(ctx, pr.Ref.Thread(), Label); err != nil {
			return Failed, pr.Ref.Number, err
		}
	}
	return action, pr.Ref.Number, nil
}

// withReverts adds to files the paths the open capture pull request
// changes that files leaves out, with their content at head (nil when
// head lacks them).
func (c *Capturer) withReverts(ctx context.Context, repo forge.Repo, head string, ref forge.PRRef, files []forge.FileChange) ([]forge.FileChange, error) {
	changed, err := c.Forge.ChangedFiles(ctx, ref)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, f := range files {
		want[f.Path] = true
	}
	out := append([]forge.FileChange(nil), files...)
	for _, cf := range changed {
		if want[cf.Path] {
			continue
		}
		data, err := c.file(ctx, repo, head, cf.Path)
		if err != nil {
			return nil, err
		}
		out = append(out, forge.FileChange{Path: cf.Path, Content: data})
		want[cf.Path] = true
	}
	return out, nil
}

// differs returns the files whose content at sha is not what they hold.
func (c *Capturer) differs(ctx context.Context, repo forge.Repo, sha string, files []forge.FileChange) ([]forge.FileChange, error) {
	var out []forge.FileChange
	for _, f := range files {
		have, err := c.file(ctx, repo, sha, f.Path)
		if err != nil {
			return nil, err
		}
		if (have == nil) != (f.Content == nil) || !bytes.Equal(have, f.Content) {
			out = append(out, f)
		}
	}
	return out, nil
}

// file reads a file at sha; nil when it does not exist.
func (c *Capturer) file(ctx context.Context, repo forge.Repo, sha, path string) ([]byte, error) {
	data, err := c.Forge.File(ctx, repo, sha, path)
	if errors.Is(err, forge.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}
