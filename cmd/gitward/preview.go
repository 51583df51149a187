package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gitward/gitward/capability/diff"
	"github.com/gitward/gitward/render"
	"github.com/gitward/gitward/report"
	"github.com/spf13/cobra"
)

func newPreviewCommand() *cobra.Command {
	var (
		repoDir, base, head, format string
		limit                       int
	)
	cmd := &cobra.Command{
		Use:   "preview --repo DIR --base REV --head REV [--format markdown|json]",
		Short: "Print the rendered-diff comment gitward would post for a change from base to head",
		Long: `Preview a change locally with the engine gitward runs on pull requests:
the apps the change affects (through the kustomize dependency graph) are
rendered at base and head and diffed per object, secrets by key only. The
policy (.gitward.yaml) is read at the base commit, as on a pull request.

--format markdown prints exactly the comment, or comments, gitward would
post; json prints the same result as data.

Exit codes: 0 every affected app renders at head, 1 an app does not (the
gitward/diff check would fail), 2 an error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if base == "" || head == "" {
				return exitCode(2, fmt.Errorf("--base and --head are required"))
			}
			if format != "markdown" && format != "json" {
				return exitCode(2, fmt.Errorf("--format must be markdown or json, not %q", format))
			}
			repo, err := openLocal(repoDir)
			if err != nil {
				return exitCode(2, err)
			}
			defer repo.close()
			ctx := cmd.Context()
			baseTree, baseSHA, err := repo.commit(ctx, base)
			if err != nil {
				return exitCode(2, err)
			}
			headTree, headSHA, err := repo.commit(ctx, head)
			if err != nil {
				return exitCode(2, err)
			}
			policy, err := repoPolicy(baseTree)
			if err != nil {
				return exitCode(2, fmt.Errorf("policy at base %s: %w", base, err))
			}
			changed, err := repo.git.ChangedFiles(ctx, baseSHA, headSHA)
			if err != nil {
				return exitCode(2, err)
			}
			engine := &diff.Engine{Renderer: render.NewRenderer(render.Options{CacheSize: 256 << 20})}
			result, err := engine.Run(ctx, policy, diff.Side{SHA: baseSHA, FS: baseTree}, diff.Side{SHA: headSHA, FS: headTree}, changed)
			if err != nil {
				return exitCode(2, err)
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(result); err != nil {
					return exitCode(2, err)
				}
			} else {
				header, sections := report.RenderedDiffComment(result)
				bodies := report.Split(diff.Sticky.Marker, header, sections, limit)
				if _, err := fmt.Fprint(out, strings.Join(bodies, "\n")); err != nil {
					return exitCode(2, err)
				}
			}
			for _, a := range result.Apps {
				if a.Failed() && a.FailedAt == "head" {
					return exitCode(1, fmt.Errorf("%s does not render at head", a.Name))
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&repoDir, "repo", ".", "repository directory")
	cmd.Flags().StringVar(&base, "base", "", "base revision (the branch the change merges into)")
	cmd.Flags().StringVar(&head, "head", "", "head revision (the change)")
	cmd.Flags().StringVar(&format, "format", "markdown", "output format: markdown or json")
	cmd.Flags().IntVar(&limit, "comment-limit", 65536, "largest comment, in characters (GitHub's limit)")
	return cmd
}
