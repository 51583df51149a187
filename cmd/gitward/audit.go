package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/report/markdown"
	"github.com/spf13/cobra"
)

func newAuditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify the audit ledger in a clone, and export change-management evidence from it",
		Long: `gitward records every change that reaches a protected branch in a ledger it
keeps on a branch of the repository (gitward/audit by default): one record per
merged pull request, and one per push that bypassed review, each linked to
the one before by its SHA-256. These commands read that ledger from a local
clone with git, and trust nothing but what git holds.`,
	}
	cmd.AddCommand(newAuditVerifyCommand(), newAuditExportCommand())
	return cmd
}

func newAuditVerifyCommand() *cobra.Command {
	var repoDir, ledger, branch, since, expectTip string
	cmd := &cobra.Command{
		Use:   "verify [--repo DIR] [--branch gitward/audit] [--default-branch main] [--since REV]",
		Short: "Check the ledger's hash chain and that every commit on the default branch is covered by a record",
		Long: `Walk the ledger branch commit by commit and check that it is one linear chain
from a root commit, that each commit adds exactly one record and changes
nothing before it, that each record reads under the schema in the canonical
form gitward writes and hashes to what its commit says, and that the records
are numbered without gaps, in order, each naming the hash of the one before.
Then check that every first-parent commit of the default branch is covered by
a record: a merge's commits, or a push recorded as unreviewed. Without
--since, the check starts at the oldest commit a record covers.

Fetch both branches first (git fetch origin gitward/audit main); a fresh
clone's origin/ branches are read when there is no local branch.

Exit codes: 0 the ledger is intact and covers the branch, 1 a problem was
found (each is printed, naming the record or commit), 2 an error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := filepath.Abs(repoDir)
			if err != nil {
				return exitCode(2, err)
			}
			rep, err := audit.Clone{Dir: dir}.Verify(cmd.Context(), audit.VerifyOptions{Ledger: ledger, Branch: branch, Since: since})
			if err != nil {
				return exitCode(2, err)
			}
			out := cmd.OutOrStdout()
			for _, f := range rep.All() {
				fmt.Fprintln(out, f)
			}
			from := "since the first commit a record covers"
			if since != "" {
				from = "after " + since
			}
			if !rep.Intact() {
				return exitCode(1, fmt.Errorf("%s in the ledger %s and the coverage of %s (%d records, %d commits %s)",
					markdown.Count(len(rep.All()), "problem", "problems"), rep.Ledger, rep.Branch, len(rep.Records), rep.Commits, from))
			}
			tip, tipHash := "empty", ""
			if t := rep.Tip(); t != nil {
				tip, tipHash = t.Describe()+", "+t.Hash, t.Hash
			}
			if expectTip != "" && !strings.EqualFold(strings.TrimPrefix(expectTip, "sha256:"), strings.TrimPrefix(tipHash, "sha256:")) {
				// A ledger rewritten from the first record on, every hash
				// recomputed, is only caught against a tip kept elsewhere.
				fmt.Fprintf(out, "the ledger's tip is %s, not the expected %s: the ledger was rewritten or has not been fetched\n", tip, expectTip)
				return exitCode(1, fmt.Errorf("ledger %s does not end at the expected record", rep.Ledger))
			}
			fmt.Fprintf(out, "ledger %s: %s, hash chain intact; tip %s\n", rep.Ledger, markdown.Count(len(rep.Records), "record", "records"), tip)
			fmt.Fprintf(out, "%s: %s %s, each covered by a record\n", rep.Branch, markdown.Count(rep.Commits, "first-parent commit", "first-parent commits"), from)
			return nil
		},
	}
	cmd.Flags().StringVar(&repoDir, "repo", ".", "the local clone")
	cmd.Flags().StringVar(&ledger, "branch", audit.DefaultBranch, "the ledger branch")
	cmd.Flags().StringVar(&branch, "default-branch", "", "the protected branch to check coverage of (default: origin's default branch, else main)")
	cmd.Flags().StringVar(&since, "since", "", "check only the commits after this revision of the default branch")
	cmd.Flags().StringVar(&expectTip, "expect-tip", "", "the tip record hash kept from an earlier verify, to detect a ledger rewritten with every hash recomputed")
	return cmd
}

func newAuditExportCommand() *cobra.Command {
	var repoDir, ledger, since, until, format string
	cmd := &cobra.Command{
		Use:   "export [--repo DIR] --since DATE [--until DATE] [--format csv|json|markdown]",
		Short: "Write change-management evidence (SOC 2 CC8.1) for the changes in a period",
		Long: `Write, for each change recorded in the period, the evidence an auditor asks
for: the pull request, its merge commit, author, each approval (by review or
/approve, on which commit, when), the separation-of-duties verdict, the
commits' signatures, the change-control conclusion, and break-glass use with
its post-incident review and retroactive approval; pushes that bypassed
review are listed as such. DATE is 2006-01-02 or an RFC 3339 time; --until
takes the whole of a day it names.

The ledger's hash chain is verified first: evidence is not exported from a
ledger that does not verify.

Exit codes: 0 written, 1 the ledger does not verify, 2 an error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(audit.Formats, format) {
				return exitCode(2, fmt.Errorf("--format %q: use one of %s", format, strings.Join(audit.Formats, ", ")))
			}
			from, err := parseDate(since, false)
			if err != nil {
				return exitCode(2, fmt.Errorf("--since: %w", err))
			}
			to, err := parseDate(until, true)
			if err != nil {
				return exitCode(2, fmt.Errorf("--until: %w", err))
			}
			dir, err := filepath.Abs(repoDir)
			if err != nil {
				return exitCode(2, err)
			}
			clone := audit.Clone{Dir: dir}
			ref, _, err := clone.Resolve(cmd.Context(), ledger)
			if err != nil {
				return exitCode(2, fmt.Errorf("ledger: %w", err))
			}
			commits, err := clone.LedgerCommits(cmd.Context(), ref)
			if err != nil {
				return exitCode(2, err)
			}
			v := audit.VerifyLedger(commits)
			if len(v.Findings) > 0 {
				for _, f := range v.Findings {
					fmt.Fprintln(cmd.ErrOrStderr(), f)
				}
				return exitCode(1, fmt.Errorf("the ledger %s does not verify (%s); no evidence was exported: run gitward audit verify", ledger, markdown.Count(len(v.Findings), "problem", "problems")))
			}
			h := audit.ExportHeader{Branch: ledger, Records: len(v.Records), Since: from, Until: to}
			if tip := v.Tip(); tip != nil {
				h.Repository, h.Tip = tip.Repository, tip.Hash
			}
			// A retroactive approval is shown with the change it approves.
			changes := audit.Evidences(audit.Select(v.Records, from, to))
			if err := audit.Export(cmd.OutOrStdout(), format, h, changes); err != nil {
				return exitCode(2, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&repoDir, "repo", ".", "the local clone")
	cmd.Flags().StringVar(&ledger, "branch", audit.DefaultBranch, "the ledger branch")
	cmd.Flags().StringVar(&since, "since", "", "the first day (or time) of the period (required)")
	cmd.Flags().StringVar(&until, "until", "", "the last day (or time) of the period; default: now")
	cmd.Flags().StringVar(&format, "format", "markdown", "csv, json or markdown")
	_ = cmd.MarkFlagRequired("since")
	return cmd
}

// parseDate reads 2006-01-02 (in UTC) or an RFC 3339 time. A day as the
// end of a period means the end of that day; "" is an open end.
func parseDate(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, errors.New("want a date such as 2025-06-01 or a time such as 2025-06-01T09:00:00Z, got " + s)
	}
	if end {
		t = t.Add(24*time.Hour - time.Second)
	}
	return t, nil
}
