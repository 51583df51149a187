package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/gitward/gitward/capture"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/render"
	"github.com/spf13/cobra"
)

func newCaptureCommand() *cobra.Command {
	var repoDir, kubeconfig, kubeContext string
	var write bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "capture [--repo DIR] [--kubeconfig F] [--context C] APP [--write]",
		Short: "Write what the cluster runs for an app back into its sources",
		Long: `Compare the app's render of the working tree with the cluster, as gitward
drift does, and write each drifted field back into git: in place in the
file that declares the object; as an images: or replicas: entry of the
app's kustomization when the object comes from a base other apps share; else
as a strategic-merge patch file added to the app's directory. A base other
apps read is never edited. Each change is verified by rendering it: the
captured objects must match the cluster, and nothing else may change.
Fields hidden by the ignore rules of .gitward.yaml are not captured, and a
Secret's values never are.

The patch is printed on stdout (git apply reads it), what was captured and
refused on stderr. --write writes the patch into the working tree, unless
something was refused.

APP is the app's directory, or its name in .gitward.yaml. The cluster comes
from --kubeconfig and --context, or from $KUBECONFIG / ~/.kube/config.

Exit codes: 0 nothing to capture, 1 a patch was produced (and, with
--write, written), 2 an object cannot be captured, or an error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			repo, err := openLocal(repoDir)
			if err != nil {
				return exitCode(2, err)
			}
			defer repo.close()
			tree, err := repo.worktree()
			if err != nil {
				return exitCode(2, err)
			}
			policy, err := repoPolicy(tree)
			if err != nil {
				return exitCode(2, err)
			}
			apps, err := render.Discover(tree, policy)
			if err != nil {
				return exitCode(2, err)
			}
			app, err := findApp(repo.dir, apps, args[0])
			if err != nil {
				return exitCode(2, err)
			}
			cluster, err := connectCLI(kubeconfig, kubeContext, timeout)
			if err != nil {
				return exitCode(2, err)
			}
			ch, err := capture.Plan(cmd.Context(), capture.Input{
				App:     app,
				Graph:   render.BuildGraph(render.NewTree(tree), apps),
				Cluster: cluster,
				Rules:   policy.Drift.Ignore,
			})
			if err != nil {
				return exitCode(2, err)
			}
			if _, err := fmt.Fprint(cmd.OutOrStdout(), ch.Diff); err != nil {
				return exitCode(2, err)
			}
			errw := cmd.ErrOrStderr()
			for _, c := range ch.Captured {
				fmt.Fprintln(errw, "captured", c)
			}
			for _, h := range ch.Hidden {
				fmt.Fprintf(errw, "not captured: %s\n", h)
			}
			for _, r := range ch.Refusals {
				fmt.Fprintln(errw, "refused", r)
			}
			switch {
			case len(ch.Refusals) > 0:
				return exitCode(2, fmt.Errorf("%s: %d drifted objects cannot be captured; nothing was written", app.Path, len(ch.Refusals)))
			case len(ch.Files) == 0:
				fmt.Fprintf(errw, "%s: nothing to capture\n", app.Path)
				return nil
			case write:
				if err := writeFiles(repo.dir, ch.Files); err != nil {
					return exitCode(2, err)
				}
				return exitCode(1, fmt.Errorf("%s: captured %d fields into %d files, written to the working tree", app.Path, len(ch.Captured), len(ch.Files)))
			}
			return exitCode(1, fmt.Errorf("%s: captured %d fields into %d files; --write writes them", app.Path, len(ch.Captured), len(ch.Files)))
		},
	}
	cmd.Flags().StringVar(&repoDir, "repo", ".", "repository directory")
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	cmd.Flags().StringVar(&kubeContext, "context", "", "kubeconfig context (default: the current one)")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "timeout of each request to the cluster")
	cmd.Flags().BoolVar(&write, "write", false, "write the patch into the working tree")
	return cmd
}

// findApp returns the app named by arg: its name in .gitward.yaml, or its
// directory relative to the repository or to the current directory.
func findApp(repoDir string, apps []render.App, arg string) (render.App, error) {
	for _, a := range apps {
		if a.Name == arg {
			return a, nil
		}
	}
	picked, err := pickApps(repoDir, apps, []string{arg})
	if err != nil {
		return render.App{}, err
	}
	for _, a := range apps {
		if a.Path == picked[0].Path {
			return a, nil
		}
	}
	return render.App{}, fmt.Errorf("%s is not an app of the repository: no kustomization there, or .gitward.yaml does not list it", arg)
}

// writeFiles writes a capture's files into the working tree at dir,
// through an os.Root so that nothing outside it is reached, keeping the
// permissions of files it replaces.
func writeFiles(dir string, files []forge.FileChange) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, f := range files {
		mode := fs.FileMode(0o644)
		if info, err := root.Stat(f.Path); err == nil {
			mode = info.Mode().Perm()
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := root.WriteFile(f.Path, f.Content, mode); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	return nil
}
