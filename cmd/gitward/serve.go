package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gitward/gitward/app"
	"github.com/gitward/gitward/config"
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
	return app.OptionsFromConfig(cfg, log)
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
