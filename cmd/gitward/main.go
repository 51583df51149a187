// Command gitward is the one gitward binary: the GitHub App server and the
// command-line tools that share its engine.
//
// Exit codes follow kubectl diff: 0 success, 1 a finding (a diff, drift, a
// failed check), 2 an error, including invalid configuration.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gitward/gitward/config"
	"github.com/spf13/cobra"
)

// exitError carries a process exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode wraps err so main exits with code.
func exitCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit code. Commands
// read GITWARD_* variables through env and write to stdout and stderr; serve
// stops when ctx ends, as on SIGINT or SIGTERM.
func run(ctx context.Context, args []string, env config.LookupEnv, stdout, stderr io.Writer) int {
	root := newRootCommand(env)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "gitward:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 2
}

func newRootCommand(env config.LookupEnv) *cobra.Command {
	root := &cobra.Command{
		Use:           "gitward",
		Short:         "Change control for GitOps repositories",
		Long:          "gitward renders what a pull request does to Kubernetes manifests and to the live cluster, and decides whether it may merge.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(env), newRenderCommand(), newPreviewCommand(), newDriftCommand(), newCaptureCommand(), newAuditCommand(), newConfigCommand(env), newVersionCommand())
	return root
}
