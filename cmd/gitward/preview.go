package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gitward/gitward/checks/diff"
	"github.com/gitward/gitward/checks/drift"
	"github.com/gitward/gitward/checks/drift/verdict"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/render"
	"github.com/gitward/gitward/report"
	"github.com/spf13/cobra"
)

func newPreviewCommand() *cobra.Command {
	var (
		repoDir, base, head, format string
		kubeconfig, kubeContext     string
		limit                       int
	)
	cmd := &cobra.Command{
		Use:   "preview --repo DIR --base REV --head REV [--format markdown|json]",
		Short: "Print the rendered-diff comment and the change-control verdict gitward would give a change from base to head",
		Long: `Preview a change locally with the engine gitward runs on pull requests:
the apps the change affects (through the kustomize dependency graph) are
rendered at base and head and diffed per object, secrets by key only. The
policy (.gitward.yaml) is read at the base commit, as on a pull request.

Then the change-control rules are decided for what the repository can tell:
the signatures of the commits from base to head (against
signatures.allowed_signers when the policy names them, with OpenPGP keys
from your gpg keyring; otherwise with git verify-commit), who wrote them
(whose approvals will not count), and plaintext Secrets at head. Approvals
and requests for changes are shown as pending: only the pull request
decides them.

--format markdown prints exactly the comment, or comments, gitward would
post, then the change-control verdict; json prints both as data:
{"renderedDiff": ..., "changeControl": ...}.

Exit codes: 0 every affected app renders at head and every change-control
rule decided here holds; 1 an app does not render at head (the gitward/diff
check would fail) or a rule decided here fails (unsigned or unverified
commits, plaintext Secrets: gitward/change-control would fail); 2 an error.`,
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
			in := &diff.Inputs{Config: policy, Base: diff.Side{SHA: baseSHA, FS: baseTree}, Head: diff.Side{SHA: headSHA, FS: headTree}, Changed: changed}
			result, err := engine.Run(ctx, in)
			if err != nil {
				return exitCode(2, err)
			}
			control, err := localChangeControl(ctx, repo.git, engine, in)
			if err != nil {
				return exitCode(2, fmt.Errorf("change control: %w", err))
			}
			// With a cluster, the live section: what merging would change in
			// it, and how it already differs from git.
			var liveApps []verdict.App
			mode := policy.Drift.Mode
			if kubeconfig != "" || kubeContext != "" {
				cluster, err := connectCLI(kubeconfig, kubeContext, 30*time.Second)
				if err != nil {
					return exitCode(2, err)
				}
				capability := &drift.Capability{Engine: engine, Clusters: single{cluster}, Default: "cli"}
				if liveApps, err = capability.Compare(ctx, in); err != nil {
					return exitCode(2, err)
				}
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				both := struct {
					RenderedDiff  report.RenderedDiff `json:"renderedDiff"`
					ChangeControl changeControl       `json:"changeControl"`
					Live          []verdict.App       `json:"live,omitempty"`
				}{result, control, liveApps}
				if err := enc.Encode(both); err != nil {
					return exitCode(2, err)
				}
			} else {
				header, sections := report.RenderedDiffComment(result)
				bodies := report.Split(diff.Sticky.Marker, header, sections, limit)
				comment := strings.Join(bodies, "\n")
				sep := "\n"
				if strings.HasSuffix(comment, "\n\n") {
					sep = ""
				}
				text := comment + sep + control.markdown()
				if liveApps != nil {
					header, sections := report.LiveChanges(liveApps, mode)
					text += "\n" + strings.Join(report.Split(func(int, int) string { return "" }, header, sections, 1<<30), "")
				}
				if _, err := fmt.Fprint(out, text); err != nil {
					return exitCode(2, err)
				}
			}
			var findings []string
			for _, a := range result.Apps {
				if a.Failed() && a.FailedAt == "head" {
					findings = append(findings, a.Name+" does not render at head")
				}
			}
			if liveApps != nil {
				if v := verdict.Decide(liveApps, mode); v.Conclusion != "success" && v.Conclusion != "neutral" || len(v.Failed) > 0 || len(v.Unappliable) > 0 {
					findings = append(findings, "live: "+v.Title)
				}
			}
			if failed := control.failed(); len(failed) > 0 {
				findings = append(findings, "change control fails: "+strings.Join(failed, ", "))
			}
			if len(findings) > 0 {
				return exitCode(1, errors.New(strings.Join(findings, "; ")))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&repoDir, "repo", ".", "repository directory")
	cmd.Flags().StringVar(&base, "base", "", "base revision (the branch the change merges into)")
	cmd.Flags().StringVar(&head, "head", "", "head revision (the change)")
	cmd.Flags().StringVar(&format, "format", "markdown", "output format: markdown or json")
	cmd.Flags().IntVar(&limit, "comment-limit", 65536, "largest comment, in characters (GitHub's limit)")
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "compare with this cluster too: what merging changes there, and its drift from git")
	cmd.Flags().StringVar(&kubeContext, "context", "", "kubeconfig context for --kubeconfig (default: the current one)")
	return cmd
}

// single is one cluster for every app: the one the CLI flags name.
type single struct{ c *live.Cluster }

func (s single) Cluster(string) (*live.Cluster, error) { return s.c, nil }
