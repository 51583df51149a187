package app

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gitward/gitward/checks/changecontrol"
	"github.com/gitward/gitward/checks/diff"
	"github.com/gitward/gitward/checks/drift"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge/snapshot"
	"github.com/gitward/gitward/render"
	"github.com/rs/zerolog"
)

// OptionsFromConfig turns the server config into a Server's options, as
// `gitward serve` runs it: every capability, with drift when clusters are
// configured.
func OptionsFromConfig(cfg *config.Server, log zerolog.Logger) (Options, error) {
	dir := cfg.Snapshots.Dir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return Options{}, fmt.Errorf("snapshots.dir is not set and there is no user cache directory: %w", err)
		}
		dir = filepath.Join(base, "gitward", "snapshots")
	}
	var gitlabs []GitLabHost
	for _, h := range cfg.GitLab.Hosts {
		gitlabs = append(gitlabs, GitLabHost{BaseURL: h.BaseURL, Token: []byte(h.Token.Reveal())})
	}
	renderer := render.NewRenderer(render.OptionsFrom(cfg.Render))
	opts := Options{
		Address:           cfg.HTTP.Address,
		ReadHeaderTimeout: time.Duration(cfg.HTTP.ReadHeaderTimeout),
		ReadTimeout:       time.Duration(cfg.HTTP.ReadTimeout),
		IdleTimeout:       time.Duration(cfg.HTTP.IdleTimeout),
		WriteTimeout:      time.Duration(cfg.HTTP.WriteTimeout),
		ShutdownGrace:     time.Duration(cfg.HTTP.ShutdownGracePeriod),
		MaxWebhookBytes:   int64(cfg.HTTP.MaxWebhookBody),
		GitHubWebURL:      cfg.GitHub.WebURL,
		GitHubV3APIURL:    cfg.GitHub.V3APIURL,
		GitHubV4APIURL:    cfg.GitHub.V4APIURL,
		GitHubCacheBytes:  cacheBytes(cfg.GitHub.HTTPCacheSize),
		Workers:           cfg.Workers.Count,
		QueueSize:         cfg.Workers.QueueSize,
		ResyncInterval:    time.Duration(cfg.Resync.Interval),
		ResyncConcurrency: cfg.Resync.RepoConcurrency,
		SnapshotDir:       dir,
		SnapshotMaxBytes:  int64(cfg.Snapshots.CacheSize),
		SnapshotLimits: snapshot.Limits{
			MaxBytes:     int64(cfg.Snapshots.MaxSize),
			MaxFiles:     cfg.Snapshots.MaxFiles,
			MaxFileBytes: int64(cfg.Snapshots.MaxFileSize),
		},
		DriftScanInterval:    time.Duration(cfg.Drift.ScanInterval),
		DriftScanConcurrency: cfg.Drift.Concurrency,
		Clusters:             cfg.Clusters,
		Renderer:             renderer,
		LeaderElection:       cfg.LeaderElection,
		Logger:               log,
	}
	opts.Capabilities, opts.Gatherer = capabilities(cfg, renderer)
	if cfg.GitHub.Enabled() {
		opts.GitHubAppID = cfg.GitHub.AppID
		opts.GitHubPrivateKey = []byte(cfg.GitHub.PrivateKey.Reveal())
		opts.GitHubWebhookSecret = []byte(cfg.GitHub.WebhookSecret.Reveal())
	}
	if cfg.GitLab.Enabled() {
		opts.GitLabHosts = gitlabs
		opts.GitLabWebhookSecret = []byte(cfg.GitLab.WebhookSecret.Reveal())
	}
	return opts, nil
}

// capabilities are the evaluations gitward runs on each pull request. The
// rendered diff, change control and drift share the server's one renderer
// (its cache and its bound on concurrent renders), so each app is rendered
// once per commit. The change-control check is returned on its own too: it
// gathers the facts of merge records and post-incident reviews.
func capabilities(cfg *config.Server, renderer *render.Renderer) ([]evaluation.Capability, *changecontrol.Capability) {
	engine := &diff.Engine{Renderer: renderer}
	cc := changecontrol.New(engine)
	caps := []evaluation.Capability{diff.New(engine), cc}
	if len(cfg.Clusters) > 0 {
		// Live drift needs clusters; without any, gitward/drift is not
		// published at all rather than always neutral.
		caps = append(caps, drift.New(engine, &drift.Connector{Config: cfg.Clusters}))
	}
	return caps, cc
}

// cacheBytes maps the config's cache size, where 0 turns caching off, onto
// the app's, where 0 means the default and a negative value turns it off.
func cacheBytes(n config.ByteSize) int64 {
	if n == 0 {
		return -1
	}
	return int64(n)
}
