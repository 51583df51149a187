package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gitward/gitward/app"
	"github.com/gitward/gitward/capability/changecontrol"
	"github.com/gitward/gitward/capability/diff"
	"github.com/gitward/gitward/capability/drift"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge/snapshot"
	"github.com/gitward/gitward/handlers"
	"github.com/gitward/gitward/render"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
)

func newServeCommand(env config.LookupEnv) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the GitHub App and GitLab bot: receive webhooks, evaluate pull and merge requests, publish checks",
		Long: `Run the gitward server: the GitHub App, the GitLab bot, or both.

The config file is YAML; every setting can be overridden by a GITWARD_*
environment variable (gitward config schema --server lists the keys). The
GitHub App private key, the GitLab access tokens and the webhook secrets
come only from files or the environment. An invalid config stops gitward with exit code 2 and a message
naming the key and line.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadServer(path, env)
			if err != nil {
				return exitCode(2, fmt.Errorf("invalid server config:\n%w", err))
			}
			if !cfg.GitHub.Enabled() && !cfg.GitLab.Enabled() {
				return exitCode(2, errors.New("no forge configured: set github.app_id (or GITWARD_GITHUB_APP_ID) with its private key and webhook secret, or gitlab.hosts with their tokens and gitlab.webhook_secret_file"))
			}
			log := newLogger(cmd.ErrOrStderr(), cfg.Logging)
			opts, err := serverOptions(cfg, log)
			if err != nil {
				return exitCode(2, err)
			}
			srv, err := app.New(opts)
			if err != nil {
				return exitCode(2, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := srv.Run(ctx); err != nil {
				return exitCode(1, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "server config file (YAML)")
	return cmd
}

// serverOptions turns the server config into the app's options.
func serverOptions(cfg *config.Server, log zerolog.Logger) (app.Options, error) {
	dir := cfg.Snapshots.Dir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return app.Options{}, fmt.Errorf("snapshots.dir is not set and there is no user cache directory: %w", err)
		}
		dir = filepath.Join(base, "gitward", "snapshots")
	}
	var gitlabs []app.GitLabHost
	for _, h := range cfg.GitLab.Hosts {
		gitlabs = append(gitlabs, app.GitLabHost{BaseURL: h.BaseURL, Token: []byte(h.Token.Reveal())})
	}
	opts := app.Options{
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
		Capabilities:         capabilities(cfg),
		DriftScanInterval:    time.Duration(cfg.Drift.ScanInterval),
		DriftScanConcurrency: cfg.Drift.Concurrency,
		Clusters:             cfg.Clusters,
		Renderer:             render.NewRenderer(render.OptionsFrom(cfg.Render)),
		LeaderElection:       cfg.LeaderElection,
		Logger:               log,
	}
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
// rendered diff and change control share one renderer, so each app is
// rendered once per commit.
func capabilities(cfg *config.Server) []handlers.Capability {
	engine := &diff.Engine{Renderer: render.NewRenderer(render.OptionsFrom(cfg.Render))}
	caps := []handlers.Capability{diff.New(engine), changecontrol.New(engine)}
	if len(cfg.Clusters) > 0 {
		// Live drift needs clusters; without any, gitward/drift is not
		// published at all rather than always neutral.
		caps = append(caps, drift.New(engine, &drift.Connector{Config: cfg.Clusters}))
	}
	return caps
}

// cacheBytes maps the config's cache size, where 0 turns caching off, onto
// the app's, where 0 means the default and a negative value turns it off.
func cacheBytes(n config.ByteSize) int64 {
	if n == 0 {
		return -1
	}
	return int64(n)
}

// newLogger returns a zerolog logger in the configured format and level.
func newLogger(w io.Writer, cfg config.Logging) zerolog.Logger {
	if cfg.Format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339}
	}
	level, err := zerolog.ParseLevel(cfg.Level)
	if err != nil {
		level = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(level).With().Timestamp().Str("service", "gitward").Logger()
}
