package scan

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Scanner runs the Capturer over every repository the forge can see, on an
// interval.
type Scanner struct {
	Capturer *Capturer
	// Interval between scans; zero or less turns scanning off.
	Interval time.Duration
	// Concurrency is how many repositories are scanned at once; zero
	// means 4.
	Concurrency int
}

// Run scans at once, then every Interval, until ctx ends. With no
// Interval it returns at once.
func (s *Scanner) Run(ctx context.Context) {
	if s.Interval <= 0 {
		return
	}
	log := zerolog.Ctx(ctx)
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		results, err := s.RunOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		ev := log.Info()
		if err != nil {
			ev = log.Error().Err(err)
		}
		counts := map[Action]int{}
		for _, r := range results {
			counts[r.Action]++
			if r.Err != nil {
				log.Warn().Err(r.Err).Str("repository", r.Repo).Str("app", r.App).Str("cluster", r.Cluster).Msg("Drift capture failed; backing off")
			}
		}
		ev.Int("apps", len(results)).Int("opened", counts[Opened]).Int("updated", counts[Updated]).
			Int("unchanged", counts[Unchanged]).Int("failed", counts[Failed]).Int("backing_off", counts[BackingOff]).
			Msg("Drift scan complete")
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce scans every repository once. It goes on past a repository it
// cannot scan and returns every such error.
func (s *Scanner) RunOnce(ctx context.Context) ([]Result, error) {
	repos, err := s.Capturer.Forge.Repositories(ctx)
	if err != nil {
		return nil, err
	}
	workers := s.Concurrency
	if workers < 1 {
		workers = 4
	}
	var (
		mu   sync.Mutex
		out  []Result
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, workers)
	for _, repo := range repos {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			res, err := s.Capturer.Repo(ctx, repo)
			mu.Lock()
			defer mu.Unlock()
			out = append(out, res...)
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, errors.Join(errs...)
}
