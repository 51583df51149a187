package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/render"
	"github.com/spf13/cobra"
)

func newDriftCommand() *cobra.Command {
	var repoDir, rev, kubeconfig, kubeContext string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "drift [--repo DIR] [--rev REV] [--kubeconfig F] [--context C] [APP...]",
		Short: "Show how the live cluster differs from what git renders, and who changed it",
		Long: `Render the apps (all, or those named by path) at a commit or the working
tree, dry-run apply them to the cluster with server-side apply (field
manager gitward, nothing is changed), and report every field whose live
value differs from git, attributed to the field managers that own it live.
Objects missing from the cluster are drift too. The ignore rules of
.gitward.yaml (drift.ignore) hide expected differences and are counted.

The cluster comes from --kubeconfig and --context, or from $KUBECONFIG /
~/.kube/config and its current context.

Exit codes, like kubectl diff: 0 no drift, 1 drift, 2 an error (including
a cluster that cannot be reached or refuses gitward).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			repo, err := openLocal(repoDir)
			if err != nil {
				return exitCode(2, err)
			}
			defer repo.close()
			loaded, err := repo.loadApps(cmd.Context(), rev, args)
			if err != nil {
				return exitCode(2, err)
			}
			tree, policy, apps := loaded.tree, loaded.policy, loaded.apps
			cluster, err := connectCLI(kubeconfig, kubeContext, timeout)
			if err != nil {
				return exitCode(2, err)
			}
			g := render.BuildGraph(render.NewTree(tree), apps)
			results, err := render.NewRenderer(render.Options{}).RenderAll(cmd.Context(), g, apps)
			if err != nil {
				return exitCode(2, err)
			}
			out := cmd.OutOrStdout()
			drifted, failed := 0, 0
			for _, res := range results {
				if res.Err != nil {
					fmt.Fprintf(out, "%s: does not render: %v\n\n", res.App.Path, res.Err)
					failed++
					continue
				}
				objs, err := live.Decode(res.YAML)
				if err != nil {
					fmt.Fprintf(out, "%s: the render cannot be read: %v\n\n", res.App.Path, err)
					failed++
					continue
				}
				result, err := live.Drift(cmd.Context(), cluster, objs, res.App.Namespace, policy.Drift.Ignore...)
				if err != nil {
					return exitCode(2, err)
				}
				if printDrift(out, res.App, result) {
					drifted++
				}
				if result.Err() != nil {
					failed++
				}
			}
			switch {
			case failed > 0:
				return exitCode(2, fmt.Errorf("%d of %d apps could not be compared", failed, len(results)))
			case drifted > 0:
				return exitCode(1, fmt.Errorf("%d of %d apps drifted from git", drifted, len(results)))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&repoDir, "repo", ".", "repository directory")
	cmd.Flags().StringVar(&rev, "rev", "", "commit to compare (default: the working tree)")
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	cmd.Flags().StringVar(&kubeContext, "context", "", "kubeconfig context (default: the current one)")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "timeout of each request to the cluster")
	return cmd
}

// connectCLI connects to the cluster the flags, $KUBECONFIG or
// ~/.kube/config name.
func connectCLI(kubeconfig, kubeContext string, timeout time.Duration) (*live.Cluster, error) {
	if kubeconfig == "" {
		if env := os.Getenv("KUBECONFIG"); env != "" {
			kubeconfig = filepath.SplitList(env)[0]
		} else if home, err := os.UserHomeDir(); err == nil {
			kubeconfig = filepath.Join(home, ".kube", "config")
		}
	}
	if _, err := os.Stat(kubeconfig); err != nil {
		return nil, fmt.Errorf("no kubeconfig: %w (pass --kubeconfig)", err)
	}
	name := kubeContext
	if name == "" {
		name = "current context of " + kubeconfig
	}
	return live.Connect(config.Cluster{Name: name, Kubeconfig: kubeconfig, Context: kubeContext, Timeout: config.Duration(timeout)})
}

// printDrift writes one app's drift and reports whether there was any.
func printDrift(w io.Writer, app render.App, r *live.Result) bool {
	var lines []string
	for _, o := range r.Objects {
		if o.Action == live.Unchanged {
			continue
		}
		ns := ""
		if o.ID.Namespace != "" {
			ns = o.ID.Namespace + "/"
		}
		line := fmt.Sprintf("  %s %s%s: %s", o.ID.Kind, ns, o.ID.Name, o.Action)
		if o.Note != "" {
			line += " (" + o.Note + ")"
		}
		if o.Err != nil {
			line += ": " + o.Err.Error()
		}
		lines = append(lines, line)
		for _, f := range o.Fields {
			lines = append(lines, "    "+f.String())
		}
	}
	for _, h := range r.Hidden {
		lines = append(lines, "  "+h.String())
	}
	drifted := false
	for _, o := range r.Objects {
		switch o.Action {
		case live.Changed, live.Missing:
			drifted = true
		}
	}
	state := "no drift"
	if drifted {
		state = "drift"
	}
	fmt.Fprintf(w, "%s (%s): %s\n", app.Path, r.Cluster, state)
	if len(lines) > 0 {
		fmt.Fprintln(w, strings.Join(lines, "\n"))
	}
	fmt.Fprintln(w)
	return drifted
}
