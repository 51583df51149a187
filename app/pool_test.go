package app_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gitward/gitward/app"
	"github.com/rs/zerolog"
)

func TestPoolDropsDuplicateKeysWhilePending(t *testing.T) {
	m := app.NewMetrics()
	p := app.NewPool(1, 10, m, nil)
	release := make(chan struct{})
	var runs atomic.Int32
	job := app.Job{Kind: "resync", Key: "o/r#1@abc", Run: func(context.Context) error {
		runs.Add(1)
		<-release
		return nil
	}}
	for i := 0; i < 3; i++ {
		if err := p.Submit(context.Background(), job); err != nil {
			t.Fatal(err)
		}
	}
	if !p.Pending(job.Key) {
		t.Error("the key is not pending while its job runs")
	}
	close(release)
	if err := p.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("ran %d times, want once", n)
	}
	if p.Pending(job.Key) {
		t.Error("the key is still pending after its job finished")
	}
}

func TestPoolSurvivesPanickingJobs(t *testing.T) {
	m := app.NewMetrics()
	var logs syncBuffer
	p := app.NewPool(1, 10, m, nil)
	var after atomic.Bool
	ctx := zerolog.New(&logs).WithContext(context.Background())
	_ = p.Submit(ctx, app.Job{Kind: "pull_request", Run: func(context.Context) error { panic("boom") }})
	_ = p.Submit(ctx, app.Job{Kind: "pull_request", Run: func(context.Context) error { after.Store(true); return nil }})
	if err := p.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !after.Load() {
		t.Error("the worker died with the panicking job")
	}
	if !strings.Contains(logs.String(), `"panic":"boom"`) {
		t.Errorf("panic not logged: %s", logs.String())
	}
}

func TestPoolRefusesWorkWhenFullOrStopping(t *testing.T) {
	m := app.NewMetrics()
	full := make(chan struct{}, 1)
	p := app.NewPool(1, 1, m, func() { full <- struct{}{} })
	release := make(chan struct{})
	started := make(chan struct{})
	block := app.Job{Kind: "k", Run: func(context.Context) error { close(started); <-release; return nil }}
	noop := app.Job{Kind: "k", Run: func(context.Context) error { return nil }}
	if err := p.Submit(context.Background(), block); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := p.Submit(context.Background(), noop); err != nil {
		t.Fatal(err)
	}
	if err := p.Submit(context.Background(), noop); !errors.Is(err, app.ErrQueueFull) {
		t.Fatalf("third job: %v, want ErrQueueFull", err)
	}
	<-full // the pool told its owner, so a resync can pick the work up
	close(release)
	if err := p.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := p.Submit(context.Background(), noop); !errors.Is(err, app.ErrShuttingDown) {
		t.Errorf("after shutdown: %v, want ErrShuttingDown", err)
	}
}
