// Package app wires gitward together: configuration to forge clients to
// event handlers to the HTTP server that receives webhooks and serves
// /healthz, /readyz and /metrics, plus the worker pool, the resync loop and
// graceful shutdown.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gitward/gitward/config"
	ghforge "github.com/gitward/gitward/forge/github"
	"github.com/gitward/gitward/forge/snapshot"
	"github.com/gitward/gitward/handlers"
	"github.com/gitward/gitward/render"
	"github.com/gitward/gitward/scan"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// Version is gitward's version, set at build time.
var Version = "dev"

// Options is everything a Server needs. The serve command fills it from
// config.Server; tests fill it directly.
type Options struct {
	// Address to listen on, such as ":8080".
	Address string
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout bound
	// one HTTP request and an idle connection; zero means the defaults of
	// config.Server.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// ShutdownGrace is how long shutdown waits for in-flight work.
	ShutdownGrace time.Duration
	// MaxWebhookBytes caps a webhook body; zero means GitHub's 25 MB.
	MaxWebhookBytes int64

	// GitHub App identity and endpoints. WebURL and V3APIURL point at
	// GitHub Enterprise Server when set to its addresses.
	GitHubAppID         int64
	GitHubPrivateKey    []byte
	GitHubWebhookSecret []byte
	// GitLabWebhookSecret is the secret token of GitLab webhooks; set only
	// when GitLab hosts are configured, it turns on /api/gitlab/hook.
	GitLabWebhookSecret []byte
	GitHubWebURL        string
	GitHubV3APIURL      string
	GitHubV4APIURL      string
	// GitHubTimeout bounds one GitHub API request; zero means 30 s.
	GitHubTimeout time.Duration
	// GitHubTransport, when set, replaces the HTTP transport to GitHub.
	GitHubTransport http.RoundTripper
	// GitHubCacheBytes bounds the in-memory cache of GitHub responses;
	// zero means 50 MiB, a negative value turns caching off.
	GitHubCacheBytes int64

	Workers   int
	QueueSize int
	// ResyncInterval between resync passes; zero disables the timer (kicks
	// still run passes).
	ResyncInterval time.Duration
	// ResyncConcurrency is how many repositories a resync pass reads at
	// once; zero means 2.
	ResyncConcurrency int
	// StaleAfter is how long a check may stay unfinished before the resync
	// loop evaluates its pull request again.
	StaleAfter time.Duration

	SnapshotDir      string
	SnapshotMaxBytes int64
	SnapshotLimits   snapshot.Limits

	// Capabilities evaluate pull requests; each later feature adds one.
	Capabilities []handlers.Capability

	// DriftScanInterval is the time between drift scans of the default
	// branches (package scan); zero turns the scan off.
	DriftScanInterval time.Duration
	// DriftScanConcurrency is how many repositories a scan reads at once;
	// zero means 4.
	DriftScanConcurrency int
	// Clusters are the server configuration's clusters: the drift scan
	// compares apps with them, and leader election outside a pod holds
	// its Lease on the first. Without any (and no ScanClusters), there is
	// no drift scan.
	Clusters []config.Cluster
	// ScanClusters, when set, replaces the connections to Clusters.
	ScanClusters scan.Clusters
	// Renderer renders apps for the drift scan; nil uses one without a
	// cache.
	Renderer *render.Renderer
	// LeaderElection, when enabled, lets only the holder of a Kubernetes
	// Lease run the drift scan.
	LeaderElection config.LeaderElection
	// Elector, when set, replaces the election LeaderElection configures.
	Elector Elector

	Logger zerolog.Logger
}

// Server is one running gitward process.
type Server struct {
	opts    Options
	log     zerolog.Logger
	metrics *Metrics
	pool    *Pool
	resync  *Resync
	scanner *scan.Scanner
	elector Elector
	forge   *ghforge.Forge
	handler http.Handler

	ready    atomic.Bool
	stopping atomic.Bool
}

// New builds a Server from opts. It checks the GitHub App credentials and
// prepares clients, but contacts nothing until Run.
func New(opts Options) (*Server, error) {
	if opts.GitHubAppID <= 0 {
		return nil, errors.New("github app ID is not set")
	}
	if len(opts.GitHubPrivateKey) == 0 {
		return nil, errors.New("github app private key is not set")
	}
	if len(opts.GitHubWebhookSecret) == 0 {
		return nil, errors.New("github webhook secret is not set")
	}
	if opts.GitHubTimeout == 0 {
		opts.GitHubTimeout = 30 * time.Second
	}
	if opts.ShutdownGrace == 0 {
		opts.ShutdownGrace = 30 * time.Second
	}
	if opts.ReadHeaderTimeout == 0 {
		opts.ReadHeaderTimeout = 10 * time.Second
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 2 * time.Minute
	}
	if opts.GitHubCacheBytes == 0 {
		opts.GitHubCacheBytes = 50 << 20
	}
	s := &Server{opts: opts, log: opts.Logger, metrics: NewMetrics()}

	cfg := githubapp.Config{WebURL: opts.GitHubWebURL, V3APIURL: opts.GitHubV3APIURL, V4APIURL: opts.GitHubV4APIURL}
	cfg.App.IntegrationID = opts.GitHubAppID
	cfg.App.PrivateKey = string(opts.GitHubPrivateKey)
	cfg.App.WebhookSecret = string(opts.GitHubWebhookSecret)
	// One byte budget for cached GitHub responses, with a separate view
	// per client (and so per installation).
	httpCache := newBoundedCache(opts.GitHubCacheBytes)
	clientOpts := []githubapp.ClientOption{
		githubapp.WithClientUserAgent("gitward/" + Version),
		githubapp.WithClientTimeout(opts.GitHubTimeout),
		githubapp.WithClientMiddleware(s.metrics.GitHubMiddleware()),
	}
	if opts.GitHubCacheBytes > 0 {
		clientOpts = append(clientOpts, githubapp.WithClientCaching(false, httpCache.view))
	}
	if opts.GitHubTransport != nil {
		clientOpts = append(clientOpts, githubapp.WithTransport(opts.GitHubTransport))
	}
	clients, err := githubapp.NewDefaultCachingClientCreator(cfg, clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("github clients: %w", err)
	}
	if _, err := clients.NewAppClient(); err != nil {
		return nil, fmt.Errorf("github app private key: %w", err)
	}

	var cache *snapshot.Cache
	if opts.SnapshotDir != "" {
		cache, err = snapshot.NewCache(opts.SnapshotDir, opts.SnapshotMaxBytes)
		if err != nil {
			return nil, fmt.Errorf("snapshot cache: %w", err)
		}
	}
	s.forge = ghforge.New(clients, ghforge.Options{
		AppID:     opts.GitHubAppID,
		WebURL:    opts.GitHubWebURL,
		Snapshots: cache,
		Limits:    opts.SnapshotLimits,
	})

	evaluator := &handlers.Evaluator{Capabilities: opts.Capabilities, StaleAfter: opts.StaleAfter}
	var resync *Resync
	s.pool = NewPool(opts.Workers, opts.QueueSize, s.metrics, func() {
		if resync != nil {
			resync.Kick()
		}
	})
	resync = NewResync(s.forge, evaluator, s.pool, s.metrics, opts.ResyncInterval)
	resync.Concurrency = opts.ResyncConcurrency
	s.resync = resync
	if s.scanner, s.elector, err = newScan(opts, s); err != nil {
		return nil, err
	}

	eventHandlers := []githubapp.EventHandler{
		&handlers.Merged{PullRequest: handlers.PullRequest{Forge: s.forge, Evaluator: evaluator}, Version: Version},
		&handlers.Push{Forge: s.forge, Version: Version},
		&handlers.CheckRerun{Forge: s.forge, Evaluator: evaluator},
		&handlers.PullRequestReview{Forge: s.forge, Evaluator: evaluator},
		&handlers.IssueComment{Forge: s.forge, Evaluator: evaluator, Version: Version},
		&handlers.Installation{Resync: resync.Kick},
	}
	mux := http.NewServeMux()
	mux.Handle("/api/github/hook", newGitHubWebhook(opts.GitHubWebhookSecret, opts.MaxWebhookBytes, eventHandlers, s.pool, s.metrics))
	if len(opts.GitLabWebhookSecret) > 0 {
		mux.Handle("/api/gitlab/hook", NewGitLabWebhook(opts.GitLabWebhookSecret, opts.MaxWebhookBytes, s.metrics))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics.Handler())
	s.handler = withLogger(s.log, mux)
	return s, nil
}

// Handler is the server's HTTP handler, for tests that drive it in-process.
func (s *Server) Handler() http.Handler { return s.handler }

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Resync returns the server's resync loop.
func (s *Server) Resync() *Resync { return s.resync }

// Forge returns the server's GitHub adapter.
func (s *Server) Forge() *ghforge.Forge { return s.forge }

// Pool returns the server's worker pool.
func (s *Server) Pool() *Pool { return s.pool }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !s.ready.Load() || s.stopping.Load() || !s.pool.Accepting() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready")
		return
	}
	fmt.Fprintln(w, "ok")
}

// withLogger puts the server's logger in each request's context, where
// go-githubapp and the handlers add delivery, installation, repository and
// pull request keys to it.
func withLogger(log zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(log.WithContext(r.Context())))
	})
}

// Run listens on opts.Address until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Address)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.Address, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends. Shutdown then stops accepting requests
// (readyz turns 503 first), lets in-flight requests finish, stops the resync
// loop and the drift scan and drains the work queue, all within ShutdownGrace.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadTimeout:       s.opts.ReadTimeout,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		BaseContext:       func(net.Listener) context.Context { return s.log.WithContext(context.Background()) },
	}
	runCtx, stopLoops := context.WithCancel(s.log.WithContext(context.Background()))
	defer stopLoops()
	var loops sync.WaitGroup
	loops.Add(1)
	go func() { defer loops.Done(); s.resync.Run(runCtx) }()
	if s.scanner != nil {
		loops.Add(1)
		go func() { defer loops.Done(); s.runScan(runCtx) }()
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.ready.Store(true)
	s.log.Info().Str("address", ln.Addr().String()).Str("version", Version).Msg("gitward is serving")

	select {
	case err := <-errc:
		stopLoops()
		loops.Wait()
		_ = s.pool.Shutdown(context.Background())
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}

	s.stopping.Store(true)
	s.log.Info().Dur("grace", s.opts.ShutdownGrace).Msg("Shutting down: draining requests and queued work")
	graceCtx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownGrace)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(graceCtx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	stopLoops()
	loops.Wait()
	if err := s.pool.Shutdown(graceCtx); err != nil {
		errs = append(errs, err)
	}
	s.log.Info().Msg("Shutdown complete")
	return errors.Join(errs...)
}
