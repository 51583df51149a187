package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// Resync makes gitward level-triggered. Neither GitHub nor GitLab
// redelivers failed webhooks, so deliveries are only hints: on an interval,
// and whenever a delivery could not be queued, Resync lists the open pull
// requests of every repository each forge can see and queues an evaluation
// for each whose checks are missing or stale on its head commit, and it
// writes the audit record of each recent merge the ledger lacks.
type Resync struct {
	Forges    []forge.Forge
	Evaluator *evaluation.Evaluator
	Pool      *Pool
	Metrics   *Metrics
	// Ledger writes missing audit records; nil writes none.
	Ledger LedgerRepairer
	// Interval between passes; zero runs a pass only when kicked.
	Interval time.Duration
	// Retry is the delay before another pass after a failed or cut-short
	// one; zero means one minute.
	Retry time.Duration
	// MinGap is the least time between the starts of two passes, so a burst
	// of kicks (a queue overflowing) cannot turn into a stream of API
	// calls; zero means ten seconds.
	MinGap time.Duration
	// Concurrency is how many repositories a pass reads at once; zero
	// means 2.
	Concurrency int

	kick chan struct{}
}

// LedgerRepairer writes the audit records of a repository's merges that
// have none; audit.Recorder is one.
type LedgerRepairer interface {
	RecordMissing(ctx context.Context, f forge.Forge, repo forge.Repo) (int, error)
}

// NewResync returns a resync loop; call Run to start it.
func NewResync(forges []forge.Forge, e *evaluation.Evaluator, p *Pool, m *Metrics, interval time.Duration) *Resync {
	return &Resync{Forges: forges, Evaluator: e, Pool: p, Metrics: m, Interval: interval, kick: make(chan struct{}, 1)}
}

// Kick asks for a pass soon. It never blocks; kicks made while one is
// pending are merged.
func (r *Resync) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run makes a pass at start, then on each interval or kick, until ctx ends.
func (r *Resync) Run(ctx context.Context) {
	log := zerolog.Ctx(ctx)
	retry := r.Retry
	if retry == 0 {
		retry = time.Minute
	}
	var tick <-chan time.Time
	if r.Interval > 0 {
		t := time.NewTicker(r.Interval)
		defer t.Stop()
		tick = t.C
	}
	gap := r.MinGap
	if gap == 0 {
		gap = 10 * time.Second
	}
	var again *time.Timer
	for {
		started := time.Now()
		queued, err := r.RunOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Error().Err(err).Int("queued", queued).Msg("Resync pass incomplete; retrying")
			if again == nil {
				again = time.AfterFunc(retry, r.Kick)
			} else {
				again.Reset(retry)
			}
		} else {
			log.Info().Int("queued", queued).Msg("Resync pass complete")
		}
		select {
		case <-ctx.Done():
			if again != nil {
				again.Stop()
			}
			return
		case <-tick:
		case <-r.kick:
		}
		if wait := gap - time.Since(started); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}
}

// RunOnce makes one pass and returns how many evaluations it queued. A pass
// continues past a repository it cannot read and reports every such error;
// it stops early, with ErrQueueFull, when the queue has no room, so the
// next pass picks up the rest.
func (r *Resync) RunOnce(ctx context.Context) (int, error) {
	if len(r.Evaluator.Checks()) == 0 && r.Ledger == nil {
		r.Metrics.ResyncRuns.WithLabelValues("success").Inc()
		r.Metrics.ResyncLast.SetToCurrentTime()
		return 0, nil
	}
	type target struct {
		f    forge.Forge
		repo forge.Repo
	}
	var repos []target
	var listErrs []error
	for _, f := range r.Forges {
		rs, err := f.Repositories(ctx)
		if err != nil {
			// One forge out of reach does not stop the others' pass.
			listErrs = append(listErrs, fmt.Errorf("resync: %w", err))
			continue
		}
		for _, repo := range rs {
			repos = append(repos, target{f, repo})
		}
	}
	if len(listErrs) == len(r.Forges) && len(listErrs) > 0 {
		r.Metrics.ResyncRuns.WithLabelValues("error").Inc()
		return 0, errors.Join(listErrs...)
	}
	workers := r.Concurrency
	if workers < 1 {
		workers = 2
	}
	var (
		mu     sync.Mutex
		queued int
		errs   = listErrs
		full   error
	)
	next := make(chan target)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range next {
				n, err := r.syncRepo(ctx, t.f, t.repo)
				mu.Lock()
				queued += n
				switch {
				case errors.Is(err, ErrQueueFull) || errors.Is(err, ErrShuttingDown):
					full = err
				case err != nil:
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	for _, repo := range repos {
		mu.Lock()
		stop := full != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		next <- repo
	}
	close(next)
	wg.Wait()
	if full != nil {
		r.Metrics.ResyncRuns.WithLabelValues("cut_short").Inc()
		return queued, fmt.Errorf("resync: %w after queueing %d evaluations", full, queued)
	}
	if err := ctx.Err(); err != nil {
		return queued, err
	}
	if err := errors.Join(errs...); err != nil {
		r.Metrics.ResyncRuns.WithLabelValues("error").Inc()
		return queued, err
	}
	r.Metrics.ResyncRuns.WithLabelValues("success").Inc()
	r.Metrics.ResyncLast.SetToCurrentTime()
	return queued, nil
}

// syncRepo writes the repository's missing audit records and queues
// evaluations for its open pull requests whose checks are missing or
// stale.
func (r *Resync) syncRepo(ctx context.Context, f forge.Forge, repo forge.Repo) (int, error) {
	var ledgerErr error
	if r.Ledger != nil {
		if n, err := r.Ledger.RecordMissing(ctx, f, repo); err != nil {
			ledgerErr = fmt.Errorf("resync %s: %w", repo.FullName(), err)
		} else if n > 0 {
			zerolog.Ctx(ctx).Info().Str("repository", repo.FullName()).Int("records", n).Msg("Resync wrote missing audit records")
		}
	}
	if len(r.Evaluator.Checks()) == 0 {
		return 0, ledgerErr
	}
	queued, err := r.evaluate(ctx, f, repo)
	return queued, errors.Join(err, ledgerErr)
}

// evaluate queues evaluations for one repository's open pull requests whose
// checks are missing or stale. It stops at the first refusal by the pool.
func (r *Resync) evaluate(ctx context.Context, f forge.Forge, repo forge.Repo) (int, error) {
	log := zerolog.Ctx(ctx)
	prs, err := f.OpenPullRequests(ctx, repo)
	if err != nil {
		return 0, fmt.Errorf("resync %s: %w", repo.FullName(), err)
	}
	queued := 0
	var errs []error
	for _, pr := range prs {
		if ctx.Err() != nil {
			return queued, ctx.Err()
		}
		key := repo.String() + "#" + strconv.Itoa(pr.Ref.Number) + "@" + pr.HeadSHA
		if r.Pool.Pending(key) {
			continue
		}
		runs, err := f.CheckRuns(ctx, repo, pr.HeadSHA)
		if err != nil {
			errs = append(errs, fmt.Errorf("resync %s: %w", pr.Ref, err))
			continue
		}
		need, why := r.Evaluator.NeedsEvaluation(pr, runs)
		if !need {
			continue
		}
		ref := pr.Ref
		prlog := log.With().
			Str(githubapp.LogKeyRepositoryOwner, repo.Owner).
			Str(githubapp.LogKeyRepositoryName, repo.Name).
			Int(githubapp.LogKeyPRNum, ref.Number).
			Int64(githubapp.LogKeyInstallationID, repo.InstallationID).
			Logger()
		err = r.Pool.Submit(prlog.WithContext(context.Background()), Job{
			Kind: "resync",
			Key:  key,
			Run: func(ctx context.Context) error {
				return r.Evaluator.Evaluate(ctx, f, ref)
			},
		})
		if err != nil {
			return queued, err
		}
		prlog.Info().Str("reason", why).Msg("Resync queued an evaluation")
		r.Metrics.ResyncQueued.Inc()
		queued++
	}
	return queued, errors.Join(errs...)
}
