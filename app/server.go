// Package app wires gitward together: configuration to forge clients to
// event handlers to the HTTP server that receives webhooks and serves
// /healthz, /readyz and /metrics, plus the worker pool, the resync loop and
// graceful shutdown.
package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/gitward/gitward/audit"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	ghforge "github.com/gitward/gitward/forge/github"
	glforge "github.com/gitward/gitward/forge/gitlab"
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
	// GitLabHosts are the GitLab instances gitward serves, each through
	// its own access token. With any, /api/gitlab/hook takes deliveries
	// authenticated by GitLabWebhookSecret.
	GitLabHosts         []GitLabHost
	GitLabWebhookSecret []byte
	// GitLabTransport, when set, replaces the HTTP transport to GitLab.
	GitLabTransport http.RoundTripper
	GitHubWebURL    string
	GitHubV3APIURL  string
	GitHubV4APIURL  string
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
	// PushRecheck is how long the push check waits before asking the forge
	// again about commits no merged pull request claims; zero means 15
	// seconds, negative none.
	PushRecheck time.Duration

	SnapshotDir      string
	SnapshotMaxBytes int64
	SnapshotLimits   snapshot.Limits

	// Capabilities evaluate pull requests; each later feature adds one.
	Capabilities []evaluation.Capability
	// Gatherer reads change control's facts for the audit record of a
	// merge and for post-incident reviews: the change-control check among
	// Capabilities. Without it, records say the facts could not be read.
	Gatherer audit.Gatherer

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

// GitLabHost is one GitLab instance gitward serves.
type GitLabHost struct {
	// BaseURL is the instance's address, such as https://gitlab.com/.
	BaseURL string
	// Token is a project or group access token with the api scope.
	Token []byte
}

// Server is one running gitward process.
type Server struct {
	opts     Options
	log      zerolog.Logger
	metrics  *Metrics
	pool     *Pool
	resync   *Resync
	scanners []*scan.Scanner
	elector  Elector
	// forge is the GitHub App, nil when only GitLab is served; forges
	// are every forge served, GitHub first.
	forge   *ghforge.Forge
	gitlabs map[string]*glforge.Forge
	forges  []forge.Forge
	handler http.Handler

	ready    atomic.Bool
	stopping atomic.Bool
}

// New builds a Server from opts. It checks the GitHub App credentials and
// the GitLab hosts and prepares clients, but contacts nothing until Run.
// GitHub is served when GitHubAppID is set; at least one forge must be.
func New(opts Options) (*Server, error) {
	github := opts.GitHubAppID > 0 || len(opts.GitHubPrivateKey) > 0 || len(opts.GitHubWebhookSecret) > 0
	switch {
	case !github && len(opts.GitLabHosts) == 0:
		return nil, errors.New("no forge configured: set the GitHub App ID, key and webhook secret, or GitLab hosts")
	case github && opts.GitHubAppID <= 0:
		return nil, errors.New("github app ID is not set")
	case github && len(opts.GitHubPrivateKey) == 0:
		return nil, errors.New("github app private key is not set")
	case github && len(opts.GitHubWebhookSecret) == 0:
		return nil, errors.New("github webhook secret is not set")
	case len(opts.GitLabHosts) > 0 && len(opts.GitLabWebhookSecret) == 0:
		return nil, errors.New("gitlab webhook secret token is not set")
	}
	if err := checkGitLabHosts(opts.GitLabHosts); err != nil {
		return nil, err
	}
	// Zero values take the config's defaults, so a default lives in one
	// place: the config's struct tags.
	def := config.DefaultServer()
	orDefault(&opts.GitHubTimeout, 30*time.Second) // not configurable
	orDefault(&opts.ShutdownGrace, time.Duration(def.HTTP.ShutdownGracePeriod))
	orDefault(&opts.ReadHeaderTimeout, time.Duration(def.HTTP.ReadHeaderTimeout))
	orDefault(&opts.IdleTimeout, time.Duration(def.HTTP.IdleTimeout))
	orDefault(&opts.GitHubCacheBytes, int64(def.GitHub.HTTPCacheSize))
	s := &Server{opts: opts, log: opts.Logger, metrics: NewMetrics()}

	var cache *snapshot.Cache
	if opts.SnapshotDir != "" {
		var err error
		cache, err = snapshot.NewCache(opts.SnapshotDir, opts.SnapshotMaxBytes)
		if err != nil {
			return nil, fmt.Errorf("snapshot cache: %w", err)
		}
	}
	if github {
		f, err := s.newGitHub(opts, cache)
		if err != nil {
			return nil, err
		}
		s.forge = f
		s.forges = append(s.forges, f)
	}
	var err error
	if s.gitlabs, err = newGitLabs(opts, cache, s.metrics); err != nil {
		return nil, err
	}
	for _, h := range opts.GitLabHosts {
		s.forges = append(s.forges, s.gitlabs[gitlabHost(h.BaseURL)])
	}

	// Each forge's comment limit applies to its own pull requests
	// (forge.Limits), so the evaluator sets none.
	evaluator := &evaluation.Evaluator{Capabilities: opts.Capabilities, StaleAfter: opts.StaleAfter}
	var resync *Resync
	s.pool = NewPool(opts.Workers, opts.QueueSize, s.metrics, func() {
		if resync != nil {
			resync.Kick()
		}
	})
	resync = NewResync(s.forges, evaluator, s.pool, s.metrics, opts.ResyncInterval)
	resync.Concurrency = opts.ResyncConcurrency
	s.resync = resync
	if s.scanners, s.elector, err = newScan(opts, s); err != nil {
		return nil, err
	}

	// One set of handlers serves both forges: the GitHub ones decode
	// GitHub's payloads, handlers.GitLab decodes GitLab's and calls the
	// same code. Each keeps its own dedup marks for the audit ledger.
	reviews := &audit.Reviews{Gather: opts.Gatherer, Version: Version}
	recorder := &audit.Recorder{Gather: opts.Gatherer, Renderer: opts.Renderer, Reviews: reviews, Version: Version}
	resync.Ledger = recorder
	merged := &handlers.Merged{PullRequest: handlers.PullRequest{Forge: s.forge, Evaluator: evaluator}, Recorder: recorder}
	push := &handlers.Push{Forge: s.forge, Pushes: &audit.Pushes{Version: Version, Recheck: opts.PushRecheck}}
	comments := &handlers.IssueComment{Forge: s.forge, Evaluator: evaluator, Reviews: reviews}
	mux := http.NewServeMux()
	if github {
		eventHandlers := []githubapp.EventHandler{
			merged, push,
			&handlers.CheckRerun{Forge: s.forge, Evaluator: evaluator},
			&handlers.PullRequestReview{Forge: s.forge, Evaluator: evaluator},
			comments,
			&handlers.Installation{Resync: resync.Kick},
		}
		mux.Handle("/api/github/hook", newGitHubWebhook(opts.GitHubWebhookSecret, opts.MaxWebhookBytes, eventHandlers, s.pool, s.metrics))
	}
	if len(s.gitlabs) > 0 {
		gl := &handlers.GitLab{Forges: map[string]forge.Forge{}, Evaluator: evaluator, Merged: merged, Push: push, Comments: comments}
		for host, f := range s.gitlabs {
			gl.Forges[host] = f
		}
		mux.Handle("/api/gitlab/hook", NewGitLabWebhook(opts.GitLabWebhookSecret, opts.MaxWebhookBytes, s.metrics, gl, s.pool))
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

// Forge returns the server's GitHub adapter, nil when GitHub is not
// served.
func (s *Server) Forge() *ghforge.Forge { return s.forge }

// GitLab returns the adapter of the GitLab instance at host (as in a
// project's web URL), or nil.
func (s *Server) GitLab(host string) *glforge.Forge { return s.gitlabs[host] }

// Scanners returns the drift scans of the forges served, none when the
// scan is off.
func (s *Server) Scanners() []*scan.Scanner { return s.scanners }

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
		// Webhook headers are a few hundred bytes; a megabyte (Go's
		// default) of them from an unauthenticated client is refused.
		MaxHeaderBytes: maxHeaderBytes,
		BaseContext:    func(net.Listener) context.Context { return s.log.WithContext(context.Background()) },
	}
	runCtx, stopLoops := context.WithCancel(s.log.WithContext(context.Background()))
	defer stopLoops()
	var loops sync.WaitGroup
	loops.Add(1)
	go func() { defer loops.Done(); s.resync.Run(runCtx) }()
	if len(s.scanners) > 0 {
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

// orDefault sets *v to def when it is zero.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// maxHeaderBytes bounds the request headers the server reads.
const maxHeaderBytes = 64 << 10
