package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/gitward/gitward/checks/drift"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/scan"
	"github.com/rs/zerolog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Elector decides whether this process runs the drift scan.
type Elector interface {
	// Run calls lead each time this process becomes the leader, with a
	// context that ends when leadership is lost, and returns once ctx has
	// ended and lead has returned.
	Run(ctx context.Context, lead func(ctx context.Context))
}

// Alone is the Elector of a single process: it always leads.
type Alone struct{}

// Run implements Elector.
func (Alone) Run(ctx context.Context, lead func(context.Context)) { lead(ctx) }

// LeaseElector leads while it holds a Kubernetes Lease, through client-go's
// leader election: of several replicas, one scans.
type LeaseElector struct {
	// Config reaches the API server holding the Lease.
	Config *rest.Config
	// Namespace and Name are the Lease's.
	Namespace, Name string
	// Identity names this process in the Lease; "" means the host name
	// (the pod's name) with a random suffix.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod are client-go's.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// Run implements Elector. It campaigns again after losing the lease, until
// ctx ends; on ctx ending it releases the lease, so another replica takes
// over without waiting for it to expire.
func (e *LeaseElector) Run(ctx context.Context, lead func(context.Context)) {
	log := zerolog.Ctx(ctx)
	client, err := coordinationv1.NewForConfig(e.Config)
	if err != nil {
		log.Error().Err(err).Msg("Leader election: no client; the drift scan does not run")
		return
	}
	id := e.Identity
	if id == "" {
		id = identity()
	}
	for ctx.Err() == nil {
		// client-go runs OnStartedLeading in a goroutine it does not wait
		// for; the leader's scan is tracked here instead, so that Run
		// returns only after it has ended, and a lost leader's scan does
		// not overlap the next leader's.
		var (
			mu      sync.Mutex
			stopped bool
			running sync.WaitGroup
		)
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: &resourcelock.LeaseLock{
				LeaseMeta:  metav1.ObjectMeta{Namespace: e.Namespace, Name: e.Name},
				Client:     client,
				LockConfig: resourcelock.ResourceLockConfig{Identity: id},
			},
			Name:            e.Name,
			LeaseDuration:   e.LeaseDuration,
			RenewDeadline:   e.RenewDeadline,
			RetryPeriod:     e.RetryPeriod,
			ReleaseOnCancel: true,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(lctx context.Context) {
					mu.Lock()
					if stopped {
						mu.Unlock()
						return
					}
					running.Add(1)
					mu.Unlock()
					defer running.Done()
					log.Info().Str("lease", e.Namespace+"/"+e.Name).Str("identity", id).Msg("Leader election: leading; running the drift scan")
					lead(lctx)
				},
				OnStoppedLeading: func() {},
			},
		})
		if err != nil {
			log.Error().Err(err).Msg("Leader election: bad settings; the drift scan does not run")
			return
		}
		le.Run(ctx)
		mu.Lock()
		stopped = true
		mu.Unlock()
		running.Wait()
		if ctx.Err() == nil {
			// Lost the lease: campaign again after a pause.
			log.Warn().Str("lease", e.Namespace+"/"+e.Name).Msg("Leader election: not leading; campaigning again")
			select {
			case <-ctx.Done():
			case <-time.After(e.RetryPeriod):
			}
		}
	}
}

func identity() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "gitward"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return host + "_" + hex.EncodeToString(b)
}

// LeaseConfig picks the API server that holds the leader Lease: the pod's
// own cluster through its service account when gitward runs in a pod (the
// replicas that compete are pods of one Deployment, so that is the cluster
// they share), else the first cluster of the server configuration, through
// its kubeconfig and context.
func LeaseConfig(clusters []config.Cluster) (*rest.Config, error) {
	cfg, err := rest.InClusterConfig()
	if err == nil {
		return cfg, nil
	}
	if !errors.Is(err, rest.ErrNotInCluster) {
		return nil, fmt.Errorf("leader election: in-cluster credentials: %w", err)
	}
	if len(clusters) == 0 || clusters[0].InCluster {
		return nil, errors.New("leader election needs a Kubernetes API server: run gitward in a pod, or configure a cluster with a kubeconfig (the first one holds the lease)")
	}
	c := clusters[0]
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: c.Kubeconfig}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: c.Context}
	cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("leader election: cluster %s: kubeconfig %s: %w", c.Name, c.Kubeconfig, err)
	}
	return cfg, nil
}

// newScan builds the drift scan from opts, one scanner per forge: none
// when it is off (no interval, or no clusters to compare with).
func newScan(opts Options, s *Server) ([]*scan.Scanner, Elector, error) {
	if opts.DriftScanInterval <= 0 {
		return nil, nil, nil
	}
	clusters := opts.ScanClusters
	if clusters == nil {
		if len(opts.Clusters) == 0 {
			return nil, nil, nil
		}
		clusters = &drift.Connector{Config: opts.Clusters}
	}
	var scanners []*scan.Scanner
	for _, f := range s.forges {
		scanners = append(scanners, &scan.Scanner{
			Interval:    opts.DriftScanInterval,
			Concurrency: opts.DriftScanConcurrency,
			Capturer:    &scan.Capturer{Forge: f, Clusters: clusters, Renderer: opts.Renderer},
		})
	}
	elector := opts.Elector
	switch {
	case elector != nil:
	case !opts.LeaderElection.Enabled:
		elector = Alone{}
	default:
		le := opts.LeaderElection
		cfg, err := LeaseConfig(opts.Clusters)
		if err != nil {
			return nil, nil, err
		}
		elector = &LeaseElector{
			Config:        cfg,
			Namespace:     le.Namespace,
			Name:          le.Name,
			LeaseDuration: time.Duration(le.LeaseDuration),
			RenewDeadline: time.Duration(le.RenewDeadline),
			RetryPeriod:   time.Duration(le.RetryPeriod),
		}
	}
	return scanners, elector, nil
}

// runScan runs the drift scan of every forge while this process leads,
// until ctx ends.
func (s *Server) runScan(ctx context.Context) {
	s.elector.Run(ctx, func(ctx context.Context) {
		var wg sync.WaitGroup
		for _, sc := range s.scanners {
			wg.Add(1)
			go func() { defer wg.Done(); sc.Run(ctx) }()
		}
		wg.Wait()
	})
}
