package audit

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gitward/gitward/checks/changecontrol/policy"
	"github.com/gitward/gitward/commands"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
	"github.com/rs/zerolog"
)

// Reviews opens the post-incident review of each pull request merged by
// breaking glass, and records the retroactive approval given there.
type Reviews struct {
	// Gather reads a pull request's change-control facts, to judge who
	// may approve it; without it nobody's eligibility can be judged.
	Gather Gatherer
	// Version is gitward's version, written into each record.
	Version string
}

// Gatherer reads the change-control facts of a pull request; the
// change-control check is one.
type Gatherer interface {
	Gather(ctx context.Context, ev *evaluation.Evaluation) (policy.Facts, error)
}

// PostIncidentLabel marks the post-incident review issue gitward opens
// for each pull request merged by breaking glass.
const PostIncidentLabel = "post-incident"

// postIncidentMarker identifies the review of one pull request, so a
// redelivered merge finds it instead of opening another.
func postIncidentMarker(number int) string {
	return fmt.Sprintf("<!-- gitward:post-incident pr=%d -->", number)
}

// ReviewMarker finds the marker of a post-incident review in an issue's
// description.
var ReviewMarker = regexp.MustCompile(`<!-- gitward:post-incident pr=([0-9]+) -->`)

// Open finds or opens the post-incident review of a pull request
// merged by breaking glass, and returns it.
func (r *Reviews) Open(ctx context.Context, f forge.Forge, cfg *config.Repo, pr *forge.PullRequest, rec *Record, changed []string) (forge.Issue, error) {
	repo := pr.Ref.Repo
	marker := postIncidentMarker(pr.Ref.Number)
	issues, err := f.IssuesLabelled(ctx, repo, PostIncidentLabel)
	if err != nil {
		return forge.Issue{}, fmt.Errorf("look for the post-incident review of %s: %w", pr.Ref, err)
	}
	for _, is := range issues {
		if strings.Contains(is.Body, marker) {
			return is, nil
		}
	}
	bg := rec.BreakGlass
	diffLink := pr.URL
	if comments, err := f.Comments(ctx, pr.Ref.Thread()); err == nil {
		if parts, _ := evaluation.Sticky.Parts(comments); parts[1].URL != "" {
			diffLink = parts[1].URL
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "@%s broke glass on %s, so it merged without the approvals change control asks for.\n\n", bg.User, pr.URL)
	fmt.Fprintf(&b, "- **Who:** @%s\n- **Why:** %s\n- **When:** %s\n", bg.User, markdown.Cell(Scrub(bg.Reason)), bg.At.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "- **Pull request:** %s (%s)\n- **Merge commit:** `%s`\n- **Rendered diff:** %s\n\n", pr.URL, markdown.Cell(pr.Title), pr.MergeSHA, diffLink)
	b.WriteString("**Retroactive approval.** Review the change and comment `/approve` here. " + eligibility(cfg, bg.User, changed) + "\n\n")
	b.WriteString("gitward records the approval in the audit ledger and closes this issue.\n\n")
	b.WriteString(marker + "\n")
	labels := []string{PostIncidentLabel}
	if cfg.BreakGlass.Label != "" {
		labels = append(labels, cfg.BreakGlass.Label)
	}
	issue, err := f.CreateIssue(ctx, repo, forge.Issue{
		Title:  fmt.Sprintf("Post-incident review: %s %s", prRef(f, pr.Ref.Number), pr.Title),
		Body:   b.String(),
		Labels: labels,
	})
	if err != nil {
		return forge.Issue{}, fmt.Errorf("open the post-incident review of %s: %w", pr.Ref, err)
	}
	return issue, nil
}

// eligibility says in words who may approve a change retroactively.
func eligibility(cfg *config.Repo, responder string, changed []string) string {
	out := fmt.Sprintf("Anyone with write permission may approve who did not author, commit or co-author the change, except @%s who broke glass", responder)
	if cfg.SeparationOfDuties.AllowSelfApproval {
		out = fmt.Sprintf("Anyone with write permission may approve except @%s who broke glass", responder)
	}
	for _, r := range policy.RestrictedRules(cfg, changed) {
		out += fmt.Sprintf("; for rule %q only %s may approve", r.Name, policy.WhoMay(&r))
	}
	return out + "."
}

// Approve acts on a new comment in an issue: /approve in a post-incident
// review records the retroactive approval and closes the review. thread
// is the issue, issueBody its description as the delivery gave it. It
// reports false when the comment is not /approve in a review.
func (r *Reviews) Approve(ctx context.Context, f forge.Forge, thread forge.Thread, issueBody string, c forge.Comment) (bool, error) {
	if r == nil {
		// Unwired, it still answers: without Gather it refuses, saying why.
		r = &Reviews{}
	}
	repo, number := thread.Repo, thread.Number
	log := zerolog.Ctx(ctx)
	approve := false
	for _, c := range commands.Parse(c.Body, commands.OnIssue) {
		approve = approve || c.Name == commands.Approve && c.Err == nil
	}
	// Only an issue whose body carries the marker is looked up; the
	// forge's copy, not the payload's, is what counts.
	if !approve || !ReviewMarker.MatchString(issueBody) {
		return false, nil
	}
	issues, err := f.IssuesLabelled(ctx, repo, PostIncidentLabel)
	if err != nil {
		return false, err
	}
	var issue *forge.Issue
	for i := range issues {
		if issues[i].Number == number {
			issue = &issues[i]
		}
	}
	if issue == nil {
		return false, nil
	}
	m := ReviewMarker.FindStringSubmatch(issue.Body)
	if m == nil {
		return false, nil
	}
	prNumber, _ := strconv.Atoi(m[1])
	// What goes into the ledger comes from the forge's copy of the
	// comment, not the delivery's: a delivery is only as trustworthy as
	// the webhook secret, which on GitLab is a token every project
	// maintainer who set up the hook has seen.
	comment, err := findComment(ctx, f, thread, c.ID)
	if errors.Is(err, forge.ErrNotFound) {
		log.Info().Int64("comment_id", c.ID).Msg("The /approve comment is gone; nothing to record")
		return true, nil
	}
	if err != nil {
		return true, err
	}
	stillApproves := false
	for _, c := range commands.Parse(comment.Body, commands.OnIssue) {
		stillApproves = stillApproves || c.Name == commands.Approve && c.Err == nil
	}
	if comment.User.Bot || comment.Edited || !stillApproves {
		log.Warn().Bool(evaluation.AuditKey, true).Int64("comment_id", comment.ID).Str("user", comment.User.Login).
			Msg("A post-incident /approve delivery does not match the comment on the forge; nothing recorded")
		return true, nil
	}
	c = comment
	user := c.User.Login
	ref := forge.PRRef{Repo: repo, Number: prNumber}

	reason, rec, cfg, err := r.retroactiveReason(ctx, f, ref, issue, user)
	if err != nil {
		return true, err
	}
	if reason != "" {
		log.Info().Str("user", user).Str("reason", reason).Msg("Refused a retroactive approval")
		if err := f.React(ctx, thread, c.ID, commands.Refused); err != nil {
			return true, err
		}
		_, err := f.CreateComment(ctx, thread, fmt.Sprintf("@%s\n\n`/approve` was not accepted: %s", user, reason))
		return true, err
	}
	at := c.CreatedAt
	if at.IsZero() {
		at = time.Now()
	}
	approval := Approval{User: user, Via: "command", ID: c.ID, SHA: rec.PullRequest.HeadSHA, At: at}
	ledger := &Ledger{Branch: cfg.Audit.Branch}
	entry, err := ledger.Append(ctx, f, repo, RetroactiveRecord(rec, issue.URL, approval, r.Version))
	if err != nil {
		log.Error().Bool(evaluation.AuditKey, true).Err(err).Msg("Could not record a retroactive approval")
		return true, err
	}
	log.Info().Bool(evaluation.AuditKey, true).Str("user", user).Int("pr", prNumber).Int("record", entry.Seq).Bool("existing", entry.Existing).
		Msg("Recorded a retroactive approval of a break-glass merge")
	if err := f.React(ctx, thread, c.ID, commands.Accepted); err != nil {
		return true, err
	}
	body := fmt.Sprintf("@%s approved %s retroactively. Recorded in the audit ledger as `%s` (%s); closing this review.", user, prRef(f, prNumber), entry.Path, entry.Hash)
	if _, err := f.CreateComment(ctx, thread, body); err != nil {
		return true, err
	}
	return true, f.CloseIssue(ctx, repo, number)
}

// retroactiveReason decides whether user may approve the change a
// post-incident review is about, with the same rules as an approval on the
// pull request, and returns the merge's audit record. The reason is ""
// when they may.
func (r *Reviews) retroactiveReason(ctx context.Context, f forge.Forge, ref forge.PRRef, issue *forge.Issue, user string) (string, Record, *config.Repo, error) {
	repo := ref.Repo
	pr, err := f.PullRequest(ctx, ref)
	if err != nil {
		return "", Record{}, nil, err
	}
	cfg, err := evaluation.LoadRepoConfig(ctx, f, repo, pr.BaseSHA)
	var invalid *evaluation.InvalidConfigError
	switch {
	case errors.As(err, &invalid):
		return fmt.Sprintf("%s at the base commit of %s is invalid, so nobody's eligibility can be judged", evaluation.RepoConfigPath, prRef(f, ref.Number)), Record{}, nil, nil
	case err != nil:
		return "", Record{}, nil, err
	}
	ledger := &Ledger{Branch: cfg.Audit.Branch}
	if done, ok, err := ledger.Lookup(ctx, f, repo, fmt.Sprintf("retro-pr-%d", ref.Number)); err != nil {
		return "", Record{}, nil, err
	} else if ok && done.BreakGlass != nil && done.BreakGlass.RetroactiveApproval != nil {
		return fmt.Sprintf("@%s already approved %s retroactively", done.BreakGlass.RetroactiveApproval.User, prRef(f, ref.Number)), Record{}, nil, nil
	}
	stored, ok, err := ledger.Lookup(ctx, f, repo, fmt.Sprintf("pr-%d", ref.Number))
	if err != nil {
		return "", Record{}, nil, err
	}
	if !ok || stored.BreakGlass == nil {
		return fmt.Sprintf("the audit ledger holds no break-glass merge of %s to approve", prRef(f, ref.Number)), Record{}, nil, nil
	}
	rec := stored.Record
	if strings.EqualFold(user, rec.BreakGlass.User) {
		return fmt.Sprintf("@%s broke glass on %s; the responder cannot approve their own break-glass", user, prRef(f, ref.Number)), rec, cfg, nil
	}
	perm, err := f.Permission(ctx, repo, user)
	if err != nil {
		return "", rec, cfg, err
	}
	me := forge.User{Login: user}
	perms := map[string]forge.Permission{user: perm}
	// What the pull request alone shows answers at once, before its
	// commits are gathered.
	if why := policy.MayApprove(policy.Facts{Config: cfg, PR: policy.PullRequest{Author: pr.Author.Login}, Permissions: perms}, me); why != "" {
		return why, rec, cfg, nil
	}

	// The policy judges the approval as if it had been given on the pull
	// request's head: separation of duties and path rules as there.
	g := r.Gather
	if g == nil {
		return "gitward runs without the change-control capability, so eligibility cannot be judged", rec, cfg, nil
	}
	runs, err := f.CheckRuns(ctx, repo, pr.HeadSHA)
	if err != nil {
		return "", rec, cfg, err
	}
	ev := evaluation.New(f, pr, cfg, runs, time.Now())
	defer ev.Close()
	facts, err := g.Gather(ctx, ev)
	if err != nil {
		return "", rec, cfg, err
	}
	facts.Permissions = perms
	if why := policy.MayApprove(facts, me); why != "" {
		return why, rec, cfg, nil
	}
	facts.Reviews, facts.Unapprovals, facts.BreakGlass = nil, nil, nil
	facts.Approvals = []policy.CommandApproval{{User: me, SHA: pr.HeadSHA, CreatedAt: time.Now()}}
	facts.HeadPushedAt = time.Time{}
	facts.Teams = map[string]map[string]bool{}
	restricted := policy.RestrictedRules(cfg, facts.ChangedFiles)
	for _, r := range restricted {
		for _, t := range r.Teams {
			in, err := f.TeamMember(ctx, repo, t, user)
			if err != nil {
				return "", rec, cfg, err
			}
			facts.Teams[t] = map[string]bool{user: in, strings.ToLower(user): in}
		}
	}
	v := policy.Evaluate(facts)
	for _, ig := range v.Ignored {
		if strings.EqualFold(ig.User, user) {
			return ig.Reason, rec, cfg, nil
		}
	}
	counted := false
	for _, a := range v.Approvers {
		counted = counted || strings.EqualFold(a.User, user)
	}
	if !counted {
		return fmt.Sprintf("@%s's approval would not count on %s", user, prRef(f, ref.Number)), rec, cfg, nil
	}
	for _, r := range restricted {
		ok := false
		for _, u := range r.Users {
			ok = ok || strings.EqualFold(u, user)
		}
		for _, t := range r.Teams {
			ok = ok || facts.Teams[t][user]
		}
		if !ok {
			return fmt.Sprintf("the change touches paths of rule %q, which only %s may approve", r.Name, policy.WhoMay(&r)), rec, cfg, nil
		}
	}
	return "", rec, cfg, nil
}

// findComment reads comment id of thread t from the forge.
func findComment(ctx context.Context, f forge.Forge, t forge.Thread, id int64) (forge.Comment, error) {
	cs, err := f.Comments(ctx, t)
	if err != nil {
		return forge.Comment{}, err
	}
	for _, c := range cs {
		if c.ID == id {
			return c, nil
		}
	}
	return forge.Comment{}, fmt.Errorf("comment %d of %s: %w", id, t, forge.ErrNotFound)
}

// prRef writes pull request number as the forge's Markdown refers to it.
func prRef(f forge.Forge, number int) string {
	prefix := f.Limits().PullRequestPrefix
	if prefix == "" {
		prefix = "#"
	}
	return fmt.Sprintf("%s%d", prefix, number)
}
