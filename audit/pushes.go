package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
	"github.com/rs/zerolog"
)

// UnreviewedLabel marks the issues gitward opens about pushes that
// bypassed review.
const UnreviewedLabel = "unreviewed-change"

// Pushes finds commits pushed to a protected branch that belong to no
// merged pull request — an administrator pushing past branch protection,
// say — records them in the audit ledger as unreviewed and opens an issue
// labelled unreviewed-change that names the pusher and the commits. A
// push is recorded and reported once, however often it is delivered.
type Pushes struct {
	// Version is gitward's version, written into each record.
	Version string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxCommits bounds how many commits of one push are examined, newest
	// first; zero means 250.
	MaxCommits int
	// Recheck is how long to wait before asking the forge again about
	// commits no merged pull request claims, before recording them as
	// unreviewed: forges link a merge commit to its pull request a moment
	// after the push that landed it (GitLab marks the merge request merged
	// after the push; GitHub's commit-to-pull-request index lags). Zero
	// means 15 seconds; negative, no second look.
	Recheck time.Duration

	marks Marks
}

// Pushed is one push to a branch, as the forges' webhooks tell it.
type Pushed struct {
	// Branch is the branch pushed to; Ref its full ref.
	Branch, Ref string
	// Before and After are where the branch stood; Before is ZeroSHA for
	// a new branch.
	Before, After string
	// Forced is set when the forge says the push was forced (GitLab does
	// not say).
	Forced bool
	// Pusher is the pusher's login, when the forge names one;
	// PusherName and PusherEmail the identity git was given.
	Pusher, PusherName, PusherEmail string
}

// ZeroSHA is what a push payload says for a branch that did not exist
// before or does not after.
const ZeroSHA = "0000000000000000000000000000000000000000"

// Check examines one push to a branch. The policy is read where the branch
// stood before the push, so a push cannot turn off its own report.
func (h *Pushes) Check(ctx context.Context, f forge.Forge, repo forge.Repo, p Pushed) error {
	branch := p.Branch
	log := zerolog.Ctx(ctx)
	policyAt := p.Before
	if policyAt == "" || policyAt == ZeroSHA {
		policyAt = p.After
	}
	cfg, err := evaluation.LoadRepoConfig(ctx, f, repo, policyAt)
	var invalid *evaluation.InvalidConfigError
	switch {
	case errors.As(err, &invalid):
		log.Warn().Err(err).Msg("Repository config is invalid; checking the push with the default policy")
		cfg = config.DefaultRepo()
	case err != nil:
		return fmt.Errorf("check the push to %s: %w", branch, err)
	}
	if !cfg.Audit.Protects(branch, repo.DefaultBranch) {
		log.Debug().Str("branch", branch).Msg("Push to a branch the policy does not protect")
		return nil
	}
	commits, truncated, err := h.walk(ctx, f, repo, p.Before, p.After)
	if err != nil {
		return fmt.Errorf("check the push to %s: %w", branch, err)
	}
	pushed := map[string]bool{}
	for _, c := range commits {
		pushed[c.SHA] = true
	}
	unreviewed, err := unclaimed(ctx, f, repo, branch, commits, pushed)
	if err != nil {
		return fmt.Errorf("check the push to %s: %w", branch, err)
	}
	if wait := h.recheck(); len(unreviewed) > 0 && wait > 0 {
		log.Debug().Int("unclaimed", len(unreviewed)).Dur("wait", wait).Msg("Commits no merged pull request claims yet; asking again before recording them")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		if unreviewed, err = unclaimed(ctx, f, repo, branch, unreviewed, pushed); err != nil {
			return fmt.Errorf("check the push to %s: %w", branch, err)
		}
	}
	if len(unreviewed) == 0 {
		log.Debug().Int("commits", len(commits)).Msg("Every pushed commit came from a merged pull request")
		return nil
	}

	pusher := p.PusherName
	if p.Pusher != "" {
		pusher = p.Pusher
	}
	rec := UnreviewedRecord(DirectPush{
		Repo: repo, Branch: branch, Ref: p.Ref, Before: p.Before, After: p.After,
		Pusher: pusher, PusherName: p.PusherName, PusherEmail: p.PusherEmail,
		Forced: p.Forced, Truncated: truncated, Unreviewed: unreviewed, Version: h.Version,
	})
	ledger := &Ledger{Branch: cfg.Audit.Branch, Now: h.Now, Marks: &h.marks}
	entry, err := ledger.Append(ctx, f, repo, rec)
	if err != nil {
		log.Error().Bool(evaluation.AuditKey, true).Err(err).Msg("Could not record an unreviewed push")
		return fmt.Errorf("record the unreviewed push to %s: %w", branch, err)
	}
	log.Warn().Bool(evaluation.AuditKey, true).
		Str("pusher", pusher).Str("branch", branch).Str("after", p.After).Int("unreviewed", len(unreviewed)).
		Int("record", entry.Seq).Bool("existing", entry.Existing).
		Msg("Commits reached a protected branch without review")
	return h.report(ctx, f, repo, cfg.Audit.Branch, branch, pusher, p, unreviewed, truncated, entry)
}

func (h *Pushes) recheck() time.Duration {
	if h.Recheck == 0 {
		return 15 * time.Second
	}
	return h.Recheck
}

// unclaimed returns the commits that no pull request merged into branch
// claims. A claim counts only when the pull request's merge commit (or
// squash, or last rebased commit) is one of the pushed commits. GitLab
// marks a merge request merged when its head is pushed straight to the
// target branch, with no merge commit: that claims nothing, and the push
// is recorded as unreviewed. (GitHub names the pushed head as the merge
// commit of such a pull request, so there the claim stands; the pull
// request's own merge record in the ledger shows its change-control
// verdict.)
func unclaimed(ctx context.Context, f forge.Forge, repo forge.Repo, branch string, commits []forge.Commit, pushed map[string]bool) ([]forge.Commit, error) {
	var out []forge.Commit
	for _, c := range commits {
		prs, err := f.PullRequestsForCommit(ctx, repo, c.SHA)
		if err != nil {
			return nil, err
		}
		reviewed := false
		for _, pr := range prs {
			reviewed = reviewed || pr.Merged && pr.BaseRef == branch && pr.MergeSHA != "" && pushed[pr.MergeSHA]
		}
		if !reviewed {
			out = append(out, c)
		}
	}
	return out, nil
}

// walk lists the first-parent commits from after back to before, oldest
// first, at most MaxCommits of them; truncated is set when it stopped
// early. A new branch (before is zero) or a forced push is walked back to
// the root or the bound.
func (h *Pushes) walk(ctx context.Context, f forge.Forge, repo forge.Repo, before, after string) ([]forge.Commit, bool, error) {
	limit := h.MaxCommits
	if limit <= 0 {
		limit = 250
	}
	var out []forge.Commit
	for sha := after; sha != "" && sha != before; {
		if len(out) == limit {
			return out, true, nil
		}
		c, err := f.Commit(ctx, repo, sha)
		if err != nil {
			return nil, false, err
		}
		out = append([]forge.Commit{*c}, out...)
		sha = ""
		if len(c.Parents) > 0 {
			sha = c.Parents[0]
		}
	}
	return out, false, nil
}

// unreviewedMarker identifies the issue about one push, so a redelivered
// push finds it instead of opening another.
func unreviewedMarker(after string) string {
	return "<!-- gitward:unreviewed-push " + after + " -->"
}

// report opens the issue about an unreviewed push, unless one is open or
// closed already.
func (h *Pushes) report(ctx context.Context, f forge.Forge, repo forge.Repo, ledgerBranch, branch, pusher string, p Pushed, commits []forge.Commit, truncated bool, entry Entry) error {
	log := zerolog.Ctx(ctx)
	marker := unreviewedMarker(p.After)
	issues, err := f.IssuesLabelled(ctx, repo, UnreviewedLabel)
	if err != nil {
		return fmt.Errorf("look for the issue about the push to %s: %w", branch, err)
	}
	for _, is := range issues {
		if strings.Contains(is.Body, marker) {
			log.Debug().Int("issue", is.Number).Msg("The unreviewed push was reported before")
			return nil
		}
	}
	if ledgerBranch == "" {
		ledgerBranch = DefaultBranch
	}
	var b strings.Builder
	fmt.Fprintf(&b, "@%s pushed %s to `%s` that belong to no merged pull request, so nobody reviewed %s before %s reached the branch.\n\n",
		pusher, markdown.Count(len(commits), "commit", "commits"), branch, them(len(commits)), they(len(commits)))
	b.WriteString("| Commit | Author | Signature | Subject |\n|---|---|---|---|\n")
	for _, c := range commits {
		author := c.Author.Name + " <" + c.Author.Email + ">"
		if c.Author.Login != "" {
			author = "@" + c.Author.Login
		}
		sig := "unsigned"
		switch {
		case c.Signature.Verified:
			sig = "verified"
		case c.Signature.Signature != "":
			sig = "not verified (" + c.Signature.Reason + ")"
		}
		subject, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", markdown.Short(c.SHA), markdown.Cell(author), sig, markdown.Cell(Scrub(subject)))
	}
	if truncated {
		fmt.Fprintf(&b, "\nThe push held more commits than gitward examines; older ones were not checked.\n")
	}
	forced := ""
	if p.Forced {
		forced = " (a forced push)"
	}
	fmt.Fprintf(&b, "\nPushed by @%s as %s <%s>, `%s` → `%s`%s.\n", pusher, p.PusherName, p.PusherEmail, markdown.Short(p.Before), markdown.Short(p.After), forced)
	fmt.Fprintf(&b, "Recorded as unreviewed in the audit ledger: `%s` on branch `%s` (%s).\n\n", entry.Path, ledgerBranch, entry.Hash)
	b.WriteString("Review these commits after the fact, or revert them through a pull request, and say here who reviewed them and why the process was bypassed.\n\n")
	b.WriteString(marker + "\n")
	issue, err := f.CreateIssue(ctx, repo, forge.Issue{
		Title:  fmt.Sprintf("Unreviewed change pushed to %s by @%s", branch, pusher),
		Body:   b.String(),
		Labels: []string{UnreviewedLabel},
	})
	if err != nil {
		return fmt.Errorf("report the unreviewed push to %s: %w", branch, err)
	}
	log.Warn().Bool(evaluation.AuditKey, true).Int("issue", issue.Number).Msg("Opened an issue about an unreviewed push")
	return nil
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

func they(n int) string {
	if n == 1 {
		return "it"
	}
	return "they"
}
