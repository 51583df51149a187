package main

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/gitward/gitward/render"
	"github.com/spf13/cobra"
)

func newRenderCommand() *cobra.Command {
	var (
		repoDir string
		rev     string
		all     bool
	)
	cmd := &cobra.Command{
		Use:   "render [--repo DIR] [--rev REV] (PATH... | --all)",
		Short: "Print the YAML stream kustomize build prints for each app, rendered the way gitward renders",
		Long: `Render kustomizations in-process, exactly as gitward does on a pull request:
plugins, exec and KRM functions off, files only from inside the repository,
no remote bases. The output is what 'kustomize build' of the same kustomize
release prints. Without --rev the working tree is rendered; with it, the
commit, read through git archive.

Exit codes: 0 every app rendered, 2 an app failed or an error occurred.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return exitCode(2, errors.New("name the kustomization directories to render, or --all"))
			}
			repo, err := openLocal(repoDir)
			if err != nil {
				return exitCode(2, err)
			}
			defer repo.close()
			loaded, err := repo.loadApps(cmd.Context(), rev, args)
			if err != nil {
				return exitCode(2, err)
			}
			tree, apps := loaded.tree, loaded.apps
			g := render.BuildGraph(render.NewTree(tree), apps)
			r := render.NewRenderer(render.Options{})
			results, err := r.RenderAll(cmd.Context(), g, apps)
			if err != nil {
				return exitCode(2, err)
			}
			out := cmd.OutOrStdout()
			var failed []string
			first := true
			for _, res := range results {
				if res.Err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "gitward: %s: %v\n", res.App.Path, res.Err)
					failed = append(failed, res.App.Path)
					continue
				}
				if !first && len(res.YAML) > 0 {
					fmt.Fprintln(out, "---")
				}
				first = false
				if _, err := out.Write(res.YAML); err != nil {
					return exitCode(2, err)
				}
			}
			if len(failed) > 0 {
				return exitCode(2, fmt.Errorf("%d of %d apps did not render: %s", len(failed), len(results), strings.Join(failed, ", ")))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&repoDir, "repo", ".", "repository directory")
	cmd.Flags().StringVar(&rev, "rev", "", "commit to render (default: the working tree)")
	cmd.Flags().BoolVar(&all, "all", false, "render every app gitward discovers")
	return cmd
}

// pickApps returns the apps whose directories the arguments name, relative
// to the repository root or to the current directory.
func pickApps(repoDir string, apps []render.App, args []string) ([]render.App, error) {
	byPath := map[string]render.App{}
	for _, a := range apps {
		byPath[a.Path] = a
	}
	var out []render.App
	for _, arg := range args {
		p := filepath.ToSlash(filepath.Clean(arg))
		if abs, err := filepath.Abs(arg); err == nil {
			if rel, err := filepath.Rel(repoDir, abs); err == nil && !strings.HasPrefix(rel, "..") {
				p = filepath.ToSlash(rel)
			}
		}
		p = path.Clean(strings.TrimSuffix(p, "/kustomization.yaml"))
		a, ok := byPath[p]
		if !ok {
			a = render.App{Name: p, Path: p}
		}
		out = append(out, a)
	}
	return out, nil
}
