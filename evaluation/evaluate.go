// Package evaluation runs gitward's checks on a pull request: the
// Evaluator re-reads the facts from the forge, loads the repository's
// policy from the base commit, runs each check (rendered diff, change
// control, drift) and publishes the sticky comment they add to.
//
// Webhooks are only hints. Every evaluation reads the current state of the
// pull request, so a duplicated, late or lost delivery does no harm; the
// resync loop re-evaluates pull requests whose checks are missing or stale
// (NeedsEvaluation).
package evaluation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
	"github.com/rs/zerolog"
)

// RepoConfigPath is where a repository keeps its gitward policy.
const RepoConfigPath = ".gitward.yaml"

// AuditKey marks log lines that record security-relevant events (an
// approval comment edited or deleted after it was posted) for log
// pipelines that keep an audit trail.
const AuditKey = "gitward_audit"

// Capability is one gitward feature that evaluates a pull request and
// publishes check runs on its head commit.
type Capability interface {
	// Name identifies the capability in logs.
	Name() string
	// Checks lists the check run names the capability publishes; the
	// resync loop re-evaluates a pull request when one is missing or stale.
	Checks() []string
	// Evaluate computes and publishes the capability's verdict.
	Evaluate(ctx context.Context, ev *Evaluation) error
}

// Evaluation is everything a capability is given about one pull request.
type Evaluation struct {
	Forge forge.Forge
	PR    *forge.PullRequest
	// Config is the repository policy read at PR.BaseSHA.
	Config *config.Repo
	// Started is when the evaluation began.
	Started time.Time
	// FirstSeen is when gitward first saw the head commit: the earliest
	// start of any of its check runs there, or Started when it has none.
	// GitHub no longer says when a commit was pushed; gitward publishes a
	// check within moments of the push event, so FirstSeen is a late
	// estimate of the push, never an early one — an approval written
	// before it cannot have been given on this head. HeadPushedAt prefers
	// the forge's own record where there is one.
	FirstSeen time.Time

	existing map[string]forge.CheckRun
	// reports keeps the completed checks published on a forge whose
	// checks show no text, for the sticky comment.
	reports map[string]forge.CheckRun
	comment []CommentPart
	changed *[]forge.ChangedFile
	shared  map[any]any // by *Shared
	closers []func()
}

// HeadPushedAt returns when the pull request's head arrived, never
// earlier than it did. A forge that records it (forge.HeadClock, such as
// GitLab's diff versions) answers from that record, which nothing gitward
// writes can move; when its record names another head than PR.HeadSHA (a
// push in between), the time is unknown and HeadPushedAt is zero. Other
// forges answer FirstSeen.
func (ev *Evaluation) HeadPushedAt(ctx context.Context) (time.Time, error) {
	clock, ok := ev.Forge.(forge.HeadClock)
	if !ok {
		return ev.FirstSeen, nil
	}
	head, since, err := clock.HeadSince(ctx, ev.PR.Ref)
	if err != nil {
		return time.Time{}, fmt.Errorf("when %s arrived on %s: %w", markdown.Short(ev.PR.HeadSHA), ev.PR.Ref, err)
	}
	if head != ev.PR.HeadSHA {
		return time.Time{}, nil
	}
	return since, nil
}

// ChangedFiles returns the files the pull request changes, read from the
// forge once per evaluation: every check that asks shares the answer.
func (ev *Evaluation) ChangedFiles(ctx context.Context) ([]forge.ChangedFile, error) {
	if ev.changed == nil {
		files, err := ev.Forge.ChangedFiles(ctx, ev.PR.Ref)
		if err != nil {
			return nil, err
		}
		ev.changed = &files
	}
	return *ev.changed, nil
}

// Shared is a value of type T that one evaluation computes once for all the
// checks that ask for it, such as the apps a change affects. Declare one
// package-level Shared per value; its address is its identity, so no two
// packages can collide and reading it needs no type assertion.
type Shared[T any] struct {
	// Name says what the value is, for errors.
	Name string
}

// Get returns the value ev keeps for s, making it with make the first
// time. An error is returned, not kept. Checks run one after another, so
// an Evaluation is not safe for concurrent use.
func (s *Shared[T]) Get(ev *Evaluation, make func() (T, error)) (T, error) {
	if v, ok := ev.shared[s]; ok {
		return v.(T), nil
	}
	v, err := make()
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%s: %w", s.Name, err)
	}
	if ev.shared == nil {
		ev.shared = map[any]any{}
	}
	ev.shared[s] = v
	return v, nil
}

// OnClose registers f to run when the evaluation ends, such as releasing a
// snapshot a shared value holds.
func (ev *Evaluation) OnClose(f func()) { ev.closers = append(ev.closers, f) }

// Close ends the evaluation, running what OnClose registered, last first.
// The Evaluator calls it; code that builds an Evaluation itself must too.
func (ev *Evaluation) Close() {
	for i := len(ev.closers) - 1; i >= 0; i-- {
		ev.closers[i]()
	}
	ev.closers, ev.shared, ev.changed = nil, nil, nil
}

// ExternalIDPrefix marks check runs gitward owns; the rest of the external
// ID records what the verdict was computed from: the base SHA, and the pull
// request's updated_at, which GitHub moves on every review, comment, label
// and edit.
const ExternalIDPrefix = "gitward/v1 base="

// ExternalID returns the external ID for a check run computed against base
// when the pull request was last updated at updated.
func ExternalID(baseSHA string, updated time.Time) string {
	id := ExternalIDPrefix + baseSHA
	if !updated.IsZero() {
		id += " updated=" + updated.UTC().Format(time.RFC3339)
	}
	return id
}

// parseExternalID reads what ExternalID wrote; ok is false for check runs
// that are not gitward's.
func parseExternalID(id string) (base string, updated time.Time, ok bool) {
	rest, found := strings.CutPrefix(id, ExternalIDPrefix)
	if !found {
		return "", time.Time{}, false
	}
	base, stamp, _ := strings.Cut(rest, " updated=")
	if stamp != "" {
		updated, _ = time.Parse(time.RFC3339, stamp)
	}
	return base, updated, true
}

// CheckRun returns a check run for name on the pull request's head, carrying
// the ID of the run gitward already published there (so republishing updates
// it instead of adding a duplicate) and the base SHA it was computed against.
func (ev *Evaluation) CheckRun(name string) forge.CheckRun {
	run := forge.CheckRun{
		Name:       name,
		HeadSHA:    ev.PR.HeadSHA,
		ExternalID: ExternalID(ev.PR.BaseSHA, ev.PR.UpdatedAt),
		StartedAt:  ev.Started,
	}
	if prev, ok := ev.existing[name]; ok {
		run.ID = prev.ID
	}
	if !ev.Forge.Limits().CheckText {
		// The check shows one line; its report is in the sticky comment
		// on the pull request, where the check links.
		run.DetailsURL = ev.PR.URL
	}
	return run
}

// Publish publishes a check run and remembers its ID for later updates in
// the same evaluation.
func (ev *Evaluation) Publish(ctx context.Context, run forge.CheckRun) error {
	out, err := ev.Forge.PublishCheck(ctx, ev.PR.Ref.Repo, run)
	if err != nil {
		return err
	}
	ev.existing[run.Name] = out
	if !ev.Forge.Limits().CheckText && run.Status == forge.CheckCompleted {
		if ev.reports == nil {
			ev.reports = map[string]forge.CheckRun{}
		}
		ev.reports[run.Name] = run
	}
	return nil
}

// Evaluator runs every capability on a pull request.
type Evaluator struct {
	Capabilities []Capability
	// StaleAfter is how long a check may stay queued or in progress before
	// the resync loop considers the evaluation lost; zero means 15 minutes.
	StaleAfter time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// CommentLimit caps the sticky comment's parts, in characters; zero
	// means the forge's own limit.
	CommentLimit int
	// Retries is how many more times a failing capability is run before
	// its checks fail with the reason; Backoff is the first wait, doubled
	// each time. Zero values mean 2 retries from 2 seconds; a negative
	// Retries means none.
	Retries int
	Backoff time.Duration

	// running serialises evaluations of one pull request in this process,
	// so two deliveries for it cannot both create its check runs.
	running keyLock
}

func (e *Evaluator) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Checks lists the check run names all capabilities publish.
func (e *Evaluator) Checks() []string {
	var out []string
	for _, c := range e.Capabilities {
		out = append(out, c.Checks()...)
	}
	return out
}

// Evaluate re-reads the pull request and runs every capability on it.
// A repository config that does not parse fails every check with the parse
// error; a capability that fails fails its own checks with the reason. Only
// forge errors that prevent publishing any verdict are returned.
func (e *Evaluator) Evaluate(ctx context.Context, f forge.Forge, ref forge.PRRef) error {
	log := zerolog.Ctx(ctx)
	if len(e.Capabilities) == 0 {
		return nil
	}
	defer e.running.lock(ref.Repo.String() + "#" + strconv.Itoa(ref.Number))()
	pr, err := f.PullRequest(ctx, ref)
	if err != nil {
		return fmt.Errorf("evaluate %s: %w", ref, err)
	}
	if pr.State != forge.PROpen {
		log.Debug().Str("state", string(pr.State)).Msg("Pull request is not open; nothing to evaluate")
		return nil
	}
	runs, err := f.CheckRuns(ctx, ref.Repo, pr.HeadSHA)
	if err != nil {
		return fmt.Errorf("evaluate %s: %w", ref, err)
	}
	ev := New(f, pr, nil, runs, e.now())
	defer ev.Close()

	cfg, cfgErr := LoadRepoConfig(ctx, f, ref.Repo, pr.BaseSHA)
	if cfgErr != nil {
		var invalid *InvalidConfigError
		if !errors.As(cfgErr, &invalid) {
			// The forge could not be read: publish nothing green, and let
			// the error (and the resync loop) bring the evaluation back.
			return fmt.Errorf("evaluate %s: %w", ref, cfgErr)
		}
		log.Warn().Err(cfgErr).Msg("Repository config is invalid; failing every check")
		var errs []error
		for _, name := range e.Checks() {
			run := ev.CheckRun(name)
			run.Status = forge.CheckCompleted
			run.Conclusion = forge.ConclusionFailure
			run.Title = fmt.Sprintf("%s at the base commit is invalid", RepoConfigPath)
			run.Summary = invalid.Summary()
			run.Annotations = invalid.Annotations()
			if err := ev.Publish(ctx, run); err != nil {
				errs = append(errs, err)
			}
		}
		if err := e.publishComment(ctx, ev); err != nil && !errors.Is(err, errStaleHead) {
			errs = append(errs, fmt.Errorf("publish the comment on %s: %w", ref, err))
		}
		return errors.Join(errs...)
	}
	ev.Config = cfg
	defer func() {
		log.Info().
			Str("head_sha", pr.HeadSHA).
			Str("base_sha", pr.BaseSHA).
			Dur("elapsed", e.now().Sub(ev.Started)).
			Msg("Evaluated pull request")
	}()

	var errs []error
	for _, c := range e.Capabilities {
		if err := ctx.Err(); err != nil {
			return err
		}
		cerr := e.evaluateWithRetries(ctx, c, ev)
		if cerr == nil {
			continue
		}
		if ctx.Err() != nil {
			// Cancelled (shutdown): no verdict was reached, so publish
			// none; the check stays missing or unfinished and the resync
			// loop evaluates the pull request again.
			return fmt.Errorf("%s on %s: %w", c.Name(), ref, cerr)
		}
		log.Error().Err(cerr).Str("capability", c.Name()).Msg("Capability failed; failing its checks")
		for _, name := range c.Checks() {
			run := ev.CheckRun(name)
			run.Status = forge.CheckCompleted
			run.Conclusion = forge.ConclusionFailure
			run.Title = "gitward could not evaluate this pull request"
			run.Summary = fmt.Sprintf("%s failed, so this check cannot pass:\n\n```\n%s\n```\n\nPush again or re-run the check once the cause is fixed.", c.Name(), cerr)
			if err := ev.Publish(ctx, run); err != nil {
				errs = append(errs, err)
			}
		}
		errs = append(errs, fmt.Errorf("%s on %s: %w", c.Name(), ref, cerr))
	}
	if err := e.publishComment(ctx, ev); err != nil && !errors.Is(err, errStaleHead) {
		errs = append(errs, fmt.Errorf("publish the comment on %s: %w", ref, err))
	}
	return errors.Join(errs...)
}

// evaluateWithRetries runs a capability, and again after a backoff when it
// fails, so a passing forge error does not fail a check. Capabilities are
// idempotent: each run re-reads the facts and republishes in place.
func (e *Evaluator) evaluateWithRetries(ctx context.Context, c Capability, ev *Evaluation) error {
	return Retry(ctx, e.Retries, e.Backoff, func() error { return c.Evaluate(ctx, ev) },
		func(attempt int, wait time.Duration, err error) {
			zerolog.Ctx(ctx).Warn().Err(err).Str("capability", c.Name()).Int("attempt", attempt).Dur("retry_in", wait).Msg("Capability failed; retrying")
		})
}

// Retry runs do, and again while it fails: at most retries more times,
// first after wait, then twice as long each time. Zero values mean 2
// retries from 2 seconds; a negative retries means none. failed, when set,
// hears of each failure that is retried. It returns do's last error.
func Retry(ctx context.Context, retries int, wait time.Duration, do func() error, failed func(attempt int, wait time.Duration, err error)) error {
	if retries == 0 {
		retries = 2
	}
	if wait == 0 {
		wait = 2 * time.Second
	}
	for attempt := 0; ; attempt++ {
		err := do()
		if err == nil || attempt >= retries || ctx.Err() != nil {
			return err
		}
		if failed != nil {
			failed(attempt+1, wait, err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// New starts evaluating pr, whose head carries runs, under cfg.
// FirstSeen is the earliest start of a run there, or started.
func New(f forge.Forge, pr *forge.PullRequest, cfg *config.Repo, runs []forge.CheckRun, started time.Time) *Evaluation {
	ev := &Evaluation{Forge: f, PR: pr, Config: cfg, Started: started, FirstSeen: started, existing: latestByName(runs)}
	for _, r := range runs {
		if !r.StartedAt.IsZero() && r.StartedAt.Before(ev.FirstSeen) {
			ev.FirstSeen = r.StartedAt
		}
	}
	return ev
}

// latestByName keeps the newest run of each name.
func latestByName(runs []forge.CheckRun) map[string]forge.CheckRun {
	out := map[string]forge.CheckRun{}
	for _, r := range runs {
		if prev, ok := out[r.Name]; ok && prev.ID > r.ID {
			continue
		}
		out[r.Name] = r
	}
	return out
}

// NeedsEvaluation reports whether a pull request's checks are missing or
// stale on its head commit, and why. A check is stale when it was computed
// against another base commit (the base branch, and so the policy, moved),
// before the pull request's last update (a review or comment whose webhook
// was lost), or has been queued or in progress for longer than StaleAfter
// (the replica evaluating it died).
func (e *Evaluator) NeedsEvaluation(pr forge.PullRequest, runs []forge.CheckRun) (bool, string) {
	stale := e.StaleAfter
	if stale == 0 {
		stale = 15 * time.Minute
	}
	latest := latestByName(runs)
	for _, name := range e.Checks() {
		run, ok := latest[name]
		base, updated, ours := parseExternalID(run.ExternalID)
		switch {
		case !ok:
			return true, fmt.Sprintf("check %s is missing on %s", name, markdown.Short(pr.HeadSHA))
		case !ours || base != pr.BaseSHA:
			return true, fmt.Sprintf("check %s was computed against another base than %s", name, markdown.Short(pr.BaseSHA))
		case pr.UpdatedAt.Truncate(time.Second).After(updated):
			return true, fmt.Sprintf("check %s predates the pull request's update at %s", name, pr.UpdatedAt.UTC().Format(time.RFC3339))
		case run.Status != forge.CheckCompleted && !run.StartedAt.IsZero() && e.now().Sub(run.StartedAt) > stale:
			return true, fmt.Sprintf("check %s has been %s since %s", name, run.Status, run.StartedAt.UTC().Format(time.RFC3339))
		}
	}
	return false, ""
}

// InvalidConfigError is a repository config that does not parse or
// validate. Its message names the file, line and key.
type InvalidConfigError struct {
	SHA string
	Err error
}

func (e *InvalidConfigError) Error() string {
	return fmt.Sprintf("%s at %s: %v", RepoConfigPath, markdown.Short(e.SHA), e.Err)
}

func (e *InvalidConfigError) Unwrap() error { return e.Err }

// Summary explains the problem in Markdown for a check run.
func (e *InvalidConfigError) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gitward reads its policy from `%s` on the base branch (commit %s), and that file is invalid, so no check can pass until it is fixed on the base branch:\n\n```\n%s\n```\n", RepoConfigPath, markdown.Short(e.SHA), e.Err)
	b.WriteString("\nRun `gitward config validate .gitward.yaml` locally to check a fix.")
	return b.String()
}

// Annotations points each problem that names a line of the file at it.
func (e *InvalidConfigError) Annotations() []forge.Annotation {
	var out []forge.Annotation
	var list config.Errors
	if !errors.As(e.Err, &list) {
		return nil
	}
	for _, pe := range list {
		if pe.Line == 0 {
			continue
		}
		msg := pe.Msg
		if pe.Path != "" {
			msg = pe.Path + ": " + msg
		}
		out = append(out, forge.Annotation{
			Path: RepoConfigPath, StartLine: pe.Line, EndLine: pe.Line,
			Level: forge.AnnotationFailure, Title: "Invalid gitward config", Message: msg,
		})
	}
	return out
}

// LoadRepoConfig reads .gitward.yaml at sha (always the pull request's base
// commit: a pull request cannot change its own rules). An absent file gives
// the secure defaults; an invalid one an *InvalidConfigError.
func LoadRepoConfig(ctx context.Context, f forge.Reader, repo forge.Repo, sha string) (*config.Repo, error) {
	data, err := f.File(ctx, repo, sha, RepoConfigPath)
	if errors.Is(err, forge.ErrNotFound) {
		return config.DefaultRepo(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", RepoConfigPath, markdown.Short(sha), err)
	}
	cfg, err := config.ParseRepo(RepoConfigPath, data)
	if err != nil {
		return nil, &InvalidConfigError{SHA: sha, Err: err}
	}
	return cfg, nil
}
