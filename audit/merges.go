package audit

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gitward/gitward/checks/changecontrol/policy"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/render"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// Recorder writes the audit record of each pull request merged into a
// protected branch. The record carries change control's facts and verdict
// at merge time, read by Gather, and the digests of the affected apps
// rendered at the merge commit by Renderer.
type Recorder struct {
	// Gather reads change control's facts; without it the record says
	// they could not be read.
	Gather Gatherer
	// Renderer renders the affected apps; without it the record says
	// nothing was rendered.
	Renderer *render.Renderer
	// Reviews opens the post-incident review of a break-glass merge.
	Reviews *Reviews
	// Version is gitward's version, written into each record.
	Version string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Retries is how many more times gathering change control's facts is
	// tried after an error, waiting Backoff and then twice as long each
	// time, before the record is written with the error. Zero values mean
	// 2 retries from 2 seconds; a negative Retries means none.
	Retries int
	Backoff time.Duration
	// Lookback is how far before the ledger's last record RecordMissing
	// looks for merges without a record (records may land out of merge
	// order); zero means 24 hours.
	Lookback time.Duration
	// MaxRepairs bounds the records RecordMissing writes in one call;
	// zero means 20.
	MaxRepairs int

	marks Marks
	// settled remembers the merges RecordMissing found recorded or not
	// to be recorded, so a pass does not look them up again.
	mu      sync.Mutex
	settled map[string]time.Time
}

func (h *Recorder) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Record writes the audit record of a merged pull request, unless its
// base branch is not protected or it was recorded before. The policy,
// which says which branches are protected and where the ledger lives, is
// read at the pull request's base commit. Facts that cannot be read make
// the record say so rather than leave the merge unrecorded; only a record
// that cannot be written is an error.
func (h *Recorder) Record(ctx context.Context, f forge.Forge, ref forge.PRRef, mergedAt time.Time, mergedBy string) error {
	_, err := h.record(ctx, f, ref, mergedAt, mergedBy)
	return err
}

// record is Record, and reports whether it wrote a record.
func (h *Recorder) record(ctx context.Context, f forge.Forge, ref forge.PRRef, mergedAt time.Time, mergedBy string) (bool, error) {
	log := zerolog.Ctx(ctx)
	repo := ref.Repo
	pr, err := f.PullRequest(ctx, ref)
	if err != nil {
		return false, fmt.Errorf("record the merge of %s: %w", ref, err)
	}
	if !pr.Merged || pr.MergeSHA == "" {
		return false, fmt.Errorf("record the merge of %s: the forge does not report it merged", ref)
	}
	cfg, cfgErr := evaluation.LoadRepoConfig(ctx, f, repo, pr.BaseSHA)
	var invalid *evaluation.InvalidConfigError
	switch {
	case errors.As(cfgErr, &invalid):
		// A broken policy does not stop the record: the merge happened.
		cfg = config.DefaultRepo()
	case cfgErr != nil:
		return false, fmt.Errorf("record the merge of %s: %w", ref, cfgErr)
	}
	if !cfg.Audit.Protects(pr.BaseRef, repo.DefaultBranch) {
		log.Debug().Str("base", pr.BaseRef).Msg("Merged into a branch the policy does not protect; nothing to record")
		return false, nil
	}
	runs, err := f.CheckRuns(ctx, repo, pr.HeadSHA)
	if err != nil {
		return false, fmt.Errorf("record the merge of %s: %w", ref, err)
	}
	// The forge's own record of who merged and when wins over the
	// delivery's.
	if pr.MergedBy.Login != "" {
		mergedBy = pr.MergedBy.Login
	}
	if !pr.MergedAt.IsZero() {
		mergedAt = pr.MergedAt
	}
	m := Merge{Repo: repo, PR: *pr, MergedAt: mergedAt, MergedBy: mergedBy, CheckRuns: runs, Version: h.Version}

	ev := evaluation.New(f, pr, cfg, runs, h.now())
	defer ev.Close()
	if invalid != nil {
		facts := policy.Facts{ConfigError: invalid}
		m.Facts, m.Verdict = &facts, policy.Evaluate(facts)
	} else {
		facts, err := h.gather(ctx, ev)
		if err != nil {
			log.Error().Err(err).Msg("Could not gather change control's facts for the audit record; recording the error")
			m.VerdictErr = err
		} else {
			m.Facts, m.Verdict = &facts, policy.Evaluate(facts)
		}
	}
	if m.Landed, err = landedCommits(ctx, f, pr); err != nil {
		log.Warn().Err(err).Msg("Could not find the commits a squash or rebase landed; recording the merge commit alone")
		m.Landed = nil
	}
	m.Manifests = h.manifests(ctx, f, cfg, pr)

	rec := MergeRecord(m)
	if rec.BreakGlass != nil && rec.ChangeControl != nil && rec.ChangeControl.Conclusion == string(forge.ConclusionSuccess) {
		// The review is opened before the record is written, so the
		// record names it; a record written by an earlier delivery stays
		// as it was.
		var changed []string
		if m.Facts != nil {
			changed = m.Facts.ChangedFiles
		}
		issue, err := h.Reviews.Open(ctx, f, cfg, pr, &rec, changed)
		if err != nil {
			log.Error().Bool(evaluation.AuditKey, true).Err(err).Msg("Could not open the post-incident review of a break-glass merge; recording the merge without it")
		} else {
			rec.BreakGlass.PostIncidentIssue = issue.URL
			log.Info().Bool(evaluation.AuditKey, true).Int("issue", issue.Number).Msg("The post-incident review of a break-glass merge is open")
		}
	}
	entry, err := h.ledger(cfg).Append(ctx, f, repo, rec)
	if err != nil {
		log.Error().Bool(evaluation.AuditKey, true).Err(err).Msg("Could not write the audit record of a merge")
		return false, fmt.Errorf("record the merge of %s: %w", ref, err)
	}
	log.Info().Bool(evaluation.AuditKey, true).
		Int("record", entry.Seq).Str("path", entry.Path).Str("hash", entry.Hash).Bool("existing", entry.Existing).
		Str("merge_sha", pr.MergeSHA).Str("conclusion", string(m.Verdict.Conclusion)).
		Msg("Recorded a merge in the audit ledger")
	return !entry.Existing, nil
}

// MergeLister is a forge that lists the pull requests merged since a
// time, oldest merge first; the GitHub and GitLab adapters are.
type MergeLister interface {
	MergedPullRequests(ctx context.Context, repo forge.Repo, since time.Time) ([]forge.PullRequest, error)
}

// RecordMissing makes the ledger level-triggered: it writes the record of
// every merge that has none, whatever kept it from being written when the
// merge happened (a failed write, a crash, a lost webhook). It lists the
// pull requests merged since Lookback before the ledger's last record was
// written (before now for a ledger not started yet), and records those
// the ledger does not hold, oldest merge first, at most MaxRepairs of
// them, stopping at the first that cannot be written so the next call
// resumes in merge order. It returns how many it recorded. Two replicas
// doing this at once write one record per merge: Append records a subject
// once, on a compare-and-swap of the ledger branch.
func (h *Recorder) RecordMissing(ctx context.Context, f forge.Forge, repo forge.Repo) (int, error) {
	log := zerolog.Ctx(ctx)
	lister, ok := f.(MergeLister)
	if !ok {
		return 0, fmt.Errorf("record missing merges of %s: the forge cannot list merged pull requests", repo.FullName())
	}
	ledger, err := h.ledgerOf(ctx, f, repo)
	if err != nil {
		return 0, fmt.Errorf("record missing merges of %s: %w", repo.FullName(), err)
	}
	head, last, ok, err := ledger.Last(ctx, f, repo)
	if err != nil {
		return 0, fmt.Errorf("record missing merges of %s: %w", repo.FullName(), err)
	}
	lookback := h.Lookback
	if lookback <= 0 {
		lookback = 24 * time.Hour
	}
	since := h.now().Add(-lookback)
	if ok {
		since = last.RecordedAt.Add(-lookback)
	}
	prs, err := lister.MergedPullRequests(ctx, repo, since)
	if err != nil {
		return 0, fmt.Errorf("record missing merges of %s: %w", repo.FullName(), err)
	}
	sort.SliceStable(prs, func(i, j int) bool {
		if prs[i].MergedAt.Equal(prs[j].MergedAt) {
			return prs[i].Ref.Number < prs[j].Ref.Number
		}
		return prs[i].MergedAt.Before(prs[j].MergedAt)
	})
	limit := h.MaxRepairs
	if limit <= 0 {
		limit = 20
	}
	h.forget(repo, since)
	written := 0
	for _, pr := range prs {
		if written >= limit {
			log.Info().Int("recorded", written).Msg("Recorded the most merges one pass may; the next pass records the rest")
			break
		}
		subject := fmt.Sprintf("pr-%d", pr.Ref.Number)
		key := repo.String() + "#" + subject
		if h.isSettled(key) {
			continue
		}
		if head != "" {
			held, err := ledger.Holds(ctx, f, repo, head, subject)
			if err != nil {
				return written, fmt.Errorf("record missing merges of %s: %w", repo.FullName(), err)
			}
			if held {
				h.settle(key, pr.MergedAt)
				continue
			}
		}
		log.Warn().Bool(evaluation.AuditKey, true).Int(githubapp.LogKeyPRNum, pr.Ref.Number).Time("merged_at", pr.MergedAt).
			Msg("A merge has no audit record; writing it now")
		wrote, err := h.record(ctx, f, pr.Ref, pr.MergedAt, pr.MergedBy.Login)
		if err != nil {
			return written, err
		}
		h.settle(key, pr.MergedAt)
		if wrote {
			written++
		}
	}
	return written, nil
}

// ledgerOf is the ledger the policy on the default branch names.
func (h *Recorder) ledgerOf(ctx context.Context, f forge.Forge, repo forge.Repo) (*Ledger, error) {
	tip, err := f.BranchHead(ctx, repo, repo.DefaultBranch)
	if errors.Is(err, forge.ErrNotFound) {
		// An empty repository: its policy is the default one.
		return h.ledger(config.DefaultRepo()), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the default branch %s: %w", repo.DefaultBranch, err)
	}
	cfg, err := evaluation.LoadRepoConfig(ctx, f, repo, tip)
	var invalid *evaluation.InvalidConfigError
	switch {
	case errors.As(err, &invalid):
		cfg = config.DefaultRepo()
	case err != nil:
		return nil, err
	}
	return h.ledger(cfg), nil
}

// ledger is the ledger cfg names, remembering this handler's marks.
func (h *Recorder) ledger(cfg *config.Repo) *Ledger {
	return &Ledger{Branch: cfg.Audit.Branch, Now: h.Now, Marks: &h.marks}
}

func (h *Recorder) isSettled(key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.settled[key]
	return ok
}

func (h *Recorder) settle(key string, mergedAt time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.settled == nil {
		h.settled = map[string]time.Time{}
	}
	h.settled[key] = mergedAt
}

// forget drops the repository's settled merges from before since, which
// no pass lists any more.
func (h *Recorder) forget(repo forge.Repo, since time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, at := range h.settled {
		if strings.HasPrefix(k, repo.String()+"#") && at.Before(since) {
			delete(h.settled, k)
		}
	}
}

// gather reads change control's facts with the capability that gathers
// them, retrying a failing read.
func (h *Recorder) gather(ctx context.Context, ev *evaluation.Evaluation) (policy.Facts, error) {
	g := h.Gather
	if g == nil {
		return policy.Facts{}, errors.New("gitward runs without the change-control check")
	}
	var facts policy.Facts
	err := evaluation.Retry(ctx, h.Retries, h.Backoff, func() error {
		var err error
		facts, err = g.Gather(ctx, ev)
		return err
	}, nil)
	return facts, err
}

// manifests renders the affected apps at the merge commit.
func (h *Recorder) manifests(ctx context.Context, f forge.Forge, cfg *config.Repo, pr *forge.PullRequest) Manifests {
	out := Manifests{SHA: pr.MergeSHA}
	r := h.Renderer
	if r == nil {
		out.Error = "gitward runs without a renderer, so nothing was rendered"
		return out
	}
	changed, err := f.ChangedFiles(ctx, pr.Ref)
	if err != nil {
		out.Error = "the changed files could not be read: " + err.Error()
		return out
	}
	paths := forge.Paths(changed)
	snap, err := f.Snapshot(ctx, pr.Ref.Repo, pr.MergeSHA)
	if err != nil {
		out.Error = "the merge commit could not be read: " + err.Error()
		return out
	}
	defer snap.Release()
	m, err := RenderManifests(ctx, r, cfg, pr.MergeSHA, snap.FS(), paths)
	if err != nil {
		m.Error = err.Error()
	}
	return m
}

// landedCommits lists the first-parent commits a merge put on the base
// branch, oldest first: the merge commit of a merge, the one commit of a
// squash, or each commit a rebase wrote — walked back from the merge SHA
// while GitHub says they came from this pull request.
func landedCommits(ctx context.Context, f forge.Forge, pr *forge.PullRequest) ([]string, error) {
	repo := pr.Ref.Repo
	landed := []string{pr.MergeSHA}
	merge, err := f.Commit(ctx, repo, pr.MergeSHA)
	if err != nil {
		return nil, err
	}
	if len(merge.Parents) != 1 {
		return landed, nil
	}
	commits, err := f.Commits(ctx, pr.Ref)
	if err != nil {
		return nil, err
	}
	sha := merge.Parents[0]
	for i := 1; i < len(commits); i++ {
		prs, err := f.PullRequestsForCommit(ctx, repo, sha)
		if err != nil {
			return nil, err
		}
		ours := false
		for _, p := range prs {
			ours = ours || p.Ref.Number == pr.Ref.Number
		}
		if !ours {
			break
		}
		landed = append([]string{sha}, landed...)
		c, err := f.Commit(ctx, repo, sha)
		if err != nil {
			return nil, err
		}
		if len(c.Parents) != 1 {
			break
		}
		sha = c.Parents[0]
	}
	return landed, nil
}
