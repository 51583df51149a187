package app

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// ErrQueueFull is returned when the work queue has no room. The work is not
// lost: the resync loop finds every pull request whose checks are missing or
// stale and evaluates it again.
var ErrQueueFull = errors.New("work queue is full")

// ErrShuttingDown is returned for work submitted after shutdown began.
var ErrShuttingDown = errors.New("server is shutting down")

// Job is one unit of work run by the pool.
type Job struct {
	// Kind names the work for metrics and logs: a webhook event type, or
	// "resync".
	Kind string
	// Key, when set, deduplicates work: a job whose key is already queued
	// or running is dropped as redundant (not as lost: the queued one will
	// read the same, newer facts).
	Key string
	Run func(ctx context.Context) error
}

// Pool is a bounded worker pool. It implements go-githubapp's Scheduler, so
// the webhook dispatcher enqueues events into it, and it runs resync work
// too. Shutdown stops intake and drains what was accepted.
type Pool struct {
	queue   chan queued
	metrics *Metrics
	base    context.Context
	cancel  context.CancelFunc

	mu      sync.Mutex
	closed  bool
	pending map[string]bool
	active  int            // jobs queued or running
	wg      sync.WaitGroup // workers
	onFull  func()
}

type queued struct {
	ctx context.Context
	job Job
	at  time.Time
}

// NewPool starts workers that take jobs from a queue of queueSize. onFull,
// if set, is called (without blocking) each time a job is refused because
// the queue is full, so the caller can schedule a resync.
func NewPool(workers, queueSize int, m *Metrics, onFull func()) *Pool {
	if workers < 1 {
		workers = 1
	}
	if queueSize < 0 {
		queueSize = 0
	}
	base, cancel := context.WithCancel(context.Background())
	p := &Pool{
		queue:   make(chan queued, queueSize),
		metrics: m,
		base:    base,
		cancel:  cancel,
		pending: map[string]bool{},
		onFull:  onFull,
	}
	m.QueueCapacity.Set(float64(queueSize))
	for i := 0; i < workers; i++ {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

// Schedule implements githubapp.Scheduler: it enqueues one webhook delivery.
// The job's context keeps the request's logger but not its deadline or
// cancellation: work outlives the HTTP response.
func (p *Pool) Schedule(ctx context.Context, d githubapp.Dispatch) error {
	logger := *zerolog.Ctx(ctx)
	err := p.Submit(logger.WithContext(context.Background()), Job{
		Kind: d.EventType,
		Run: func(ctx context.Context) error {
			return d.Handler.Handle(ctx, d.EventType, d.DeliveryID, d.Payload)
		},
	})
	if errors.Is(err, ErrQueueFull) || errors.Is(err, ErrShuttingDown) {
		// go-githubapp answers 503 for this error.
		return fmt.Errorf("%w: %w", githubapp.ErrCapacityExceeded, err)
	}
	return err
}

// Submit enqueues a job without blocking. It returns ErrQueueFull when the
// queue has no room and ErrShuttingDown after Shutdown began. A job whose Key
// is already pending is accepted and dropped.
func (p *Pool) Submit(ctx context.Context, job Job) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrShuttingDown
	}
	if job.Key != "" && p.pending[job.Key] {
		p.metrics.JobsDeduplicated.WithLabelValues(job.Kind).Inc()
		return nil
	}
	select {
	case p.queue <- queued{ctx: ctx, job: job, at: time.Now()}:
		if job.Key != "" {
			p.pending[job.Key] = true
		}
		p.active++
		p.metrics.QueueDepth.Set(float64(len(p.queue)))
		return nil
	default:
		p.metrics.QueueRejected.WithLabelValues(job.Kind).Inc()
		if p.onFull != nil {
			go p.onFull()
		}
		return ErrQueueFull
	}
}

// Pending reports whether a job with this key is queued or running.
func (p *Pool) Pending(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending[key]
}

func (p *Pool) work() {
	defer p.wg.Done()
	for q := range p.queue {
		p.metrics.QueueDepth.Set(float64(len(p.queue)))
		p.metrics.QueueWait.Observe(time.Since(q.at).Seconds())
		p.run(q)
		p.mu.Lock()
		if q.job.Key != "" {
			delete(p.pending, q.job.Key)
		}
		p.active--
		p.mu.Unlock()
	}
}

// run executes one job with a context that is cancelled only when a
// shutdown's grace period runs out; a panic is recovered, logged and counted
// as an error.
func (p *Pool) run(q queued) {
	ctx, cancel := mergeCancel(q.ctx, p.base)
	defer cancel()
	start := time.Now()
	outcome := "success"
	defer func() {
		if r := recover(); r != nil {
			outcome = "panic"
			zerolog.Ctx(ctx).Error().
				Str("job", q.job.Kind).
				Str("panic", fmt.Sprint(r)).
				Str("stack", string(debug.Stack())).
				Msg("Job panicked")
		}
		p.metrics.HandlerLatency.WithLabelValues(q.job.Kind, outcome).Observe(time.Since(start).Seconds())
	}()
	if err := q.job.Run(ctx); err != nil {
		outcome = "error"
		zerolog.Ctx(ctx).Error().Err(err).Str("job", q.job.Kind).Msg("Job failed")
	}
}

// Shutdown stops intake and waits for queued and running jobs to finish.
// When ctx ends first, running jobs are cancelled and Shutdown waits for
// them to return before reporting ctx's error.
func (p *Pool) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.queue)
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		p.cancel()
		return nil
	case <-ctx.Done():
		p.cancel()
		<-done
		return fmt.Errorf("drain work queue: %w", ctx.Err())
	}
}

// Idle reports whether no job is queued or running, so a caller that has
// had every delivery answered knows the work they caused is done.
func (p *Pool) Idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.active == 0
}

// Accepting reports whether the pool still takes work.
func (p *Pool) Accepting() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.closed
}

// mergeCancel returns a context carrying a's values that is cancelled when
// either a or b is.
func mergeCancel(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(a)
	stop := context.AfterFunc(b, cancel)
	return ctx, func() { stop(); cancel() }
}
