package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitward/gitward/app"
	"github.com/gitward/gitward/internal/livetest"
	"github.com/gitward/gitward/live"
	"github.com/rs/zerolog"
)

func TestMain(m *testing.M) { livetest.Main(m) }

// gate is an Elector that leads once granted, until ctx ends.
type gate struct {
	grant   chan struct{}
	led     atomic.Int32
	stopped atomic.Bool
}

func (g *gate) Run(ctx context.Context, lead func(context.Context)) {
	select {
	case <-ctx.Done():
		return
	case <-g.grant:
	}
	g.led.Add(1)
	lead(ctx)
	g.stopped.Store(true)
}

type noClusters struct{}

func (noClusters) Cluster(name string) (*live.Cluster, error) {
	return nil, fmt.Errorf("no cluster %q", name)
}

// The drift scan runs only while the elector says this process leads, and
// stops with the server. The scan is seen in the double's request log: it
// reads the default branch's ref. The server's one resync pass at start
// reads two refs: the default branch (for the policy that names the audit
// ledger) and the ledger.
func TestDriftScanRunsOnlyWhileLeading(t *testing.T) {
	g := &gate{grant: make(chan struct{})}
	h := newHarness(t, func(o *app.Options) {
		o.DriftScanInterval = time.Hour
		o.ScanClusters = noClusters{}
		o.Elector = g
	})
	h.addRepo(7, "octo-org/scanned", "main")
	h.gh.SetTree("octo-org/scanned", "2222222222222222222222222222222222222222", map[string]string{"README.md": "hi\n"})
	h.gh.SetRef("octo-org/scanned", "heads/main", "2222222222222222222222222222222222222222")
	stop := h.serve()

	waitFor(t, "the resync pass", func() bool { return strings.Contains(h.metrics(), `gitward_resync_runs_total{outcome="success"} 1`) })
	time.Sleep(100 * time.Millisecond)
	if n := h.gh.Calls("git/get-ref"); n != 2 {
		t.Fatalf("read refs %d times without leading, want 2 (the resync's)", n)
	}
	close(g.grant)
	waitFor(t, "a drift scan", func() bool { return h.gh.Calls("git/get-ref") > 2 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !g.stopped.Load() {
		t.Error("the scan still runs after shutdown")
	}
}

// Two replicas campaign for one Lease on a real API server: one leads at a
// time, and when the leader stops (releasing the lease), the other takes
// over.
func TestLeaseElectorOneLeaderAtATime(t *testing.T) {
	cfg := livetest.Config(t)
	var (
		mu      sync.Mutex
		leading = map[string]bool{}
		started []string
		overlap bool
	)
	run := func(ctx context.Context, id string, wg *sync.WaitGroup) {
		defer wg.Done()
		e := &app.LeaseElector{
			Config: cfg, Namespace: "default", Name: "gitward-scan-test", Identity: id,
			LeaseDuration: 2 * time.Second, RenewDeadline: 1500 * time.Millisecond, RetryPeriod: 200 * time.Millisecond,
		}
		e.Run(zerolog.Nop().WithContext(ctx), func(lctx context.Context) {
			mu.Lock()
			for other, on := range leading {
				overlap = overlap || (on && other != id)
			}
			leading[id] = true
			started = append(started, id)
			mu.Unlock()
			<-lctx.Done()
			mu.Lock()
			leading[id] = false
			mu.Unlock()
		})
	}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	var wgA, wgB sync.WaitGroup
	wgA.Add(1)
	go run(ctxA, "a", &wgA)
	waitFor(t, "a to lead", func() bool { mu.Lock(); defer mu.Unlock(); return leading["a"] })
	wgB.Add(1)
	go run(ctxB, "b", &wgB)
	time.Sleep(3 * time.Second) // longer than the lease: b must still not lead
	mu.Lock()
	if leading["b"] || len(started) != 1 {
		t.Errorf("while a holds the lease: leaders started %v", started)
	}
	mu.Unlock()

	stopA()
	wgA.Wait()
	waitFor(t, "b to take over", func() bool { mu.Lock(); defer mu.Unlock(); return leading["b"] })
	stopB()
	wgB.Wait()
	mu.Lock()
	defer mu.Unlock()
	if overlap {
		t.Error("two leaders at once")
	}
	if fmt.Sprint(started) != "[a b]" {
		t.Errorf("leaders started %v", started)
	}
}
