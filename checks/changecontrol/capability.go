// Package changecontrol is gitward's change-control capability: it gathers
// the facts of a pull request from the forge (commits and their signatures,
// reviews, comment commands, permissions, team memberships, the rendered
// Secrets at head), hands them to the pure policy in checks/changecontrol,
// and publishes the verdict as the gitward/change-control check run — the
// required status check protected branches name.
package changecontrol

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/gitward/gitward/checks/changecontrol/policy"
	"github.com/gitward/gitward/checks/diff"
	"github.com/gitward/gitward/commands"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
	"github.com/gitward/gitward/signatures"
	"github.com/rs/zerolog"
)

// CheckName is the required status check.
const CheckName = "gitward/change-control"

// Capability evaluates change control on pull requests.
type Capability struct {
	// Engine renders the head for the plaintext-secrets rule; share it
	// with the diff capability so renders are cached once.
	Engine *diff.Engine
	// Verifier checks commit signatures when allowed signers are set; nil
	// uses signatures.Verify's defaults.
	Verifier *signatures.Verifier
}

// New returns the capability.
func New(e *diff.Engine) *Capability { return &Capability{Engine: e} }

// Name implements evaluation.Capability.
func (c *Capability) Name() string { return "change control" }

// Checks implements evaluation.Capability.
func (c *Capability) Checks() []string { return []string{CheckName} }

// Evaluate gathers the facts, decides and publishes. Any error while
// gathering facts is returned, so the check never turns green on partial
// facts: the evaluator retries and then fails the check with the reason.
func (c *Capability) Evaluate(ctx context.Context, ev *evaluation.Evaluation) error {
	run := ev.CheckRun(CheckName)
	run.Status = forge.CheckInProgress
	run.Title = "Evaluating change control"
	run.Summary = fmt.Sprintf("Checking signatures, approvals and secrets on `%s`.", markdown.Short(ev.PR.HeadSHA))
	if err := ev.Publish(ctx, run); err != nil {
		return err
	}
	facts, err := c.Gather(ctx, ev)
	if err != nil {
		return err
	}
	verdict := policy.Evaluate(facts)
	logVerdict(ctx, ev, verdict)

	if facts.BreakGlass != nil && ev.Config != nil {
		label := ev.Config.BreakGlass.Label
		if !slices.Contains(ev.PR.Labels, label) {
			if err := ev.Forge.AddLabels(ctx, ev.PR.Ref.Thread(), label); err != nil {
				return err
			}
		}
	}
	run = ev.CheckRun(CheckName)
	run.Status = forge.CheckCompleted
	run.Conclusion = verdict.Conclusion
	run.Title = verdict.Title
	run.Summary = verdict.Summary
	run.Annotations = verdict.Annotations
	return ev.Publish(ctx, run)
}

// Gather reads every fact the policy needs for one pull request.
func (c *Capability) Gather(ctx context.Context, ev *evaluation.Evaluation) (policy.Facts, error) {
	f, pr, cfg := ev.Forge, ev.PR, ev.Config
	repo := pr.Ref.Repo
	facts := policy.Facts{
		Config: cfg,
		PR: policy.PullRequest{
			Author: pr.Author.Login, BaseRef: pr.BaseRef, BaseSHA: pr.BaseSHA, HeadSHA: pr.HeadSHA,
		},
		Permissions: map[string]forge.Permission{},
		Teams:       map[string]map[string]bool{},
	}
	pushed, err := ev.HeadPushedAt(ctx)
	if err != nil {
		return facts, err
	}
	facts.HeadPushedAt = pushed

	commits, err := f.Commits(ctx, pr.Ref)
	if err != nil {
		return facts, err
	}
	if facts.Commits, err = c.signatures(ctx, f, repo, cfg, commits); err != nil {
		return facts, err
	}
	if facts.Reviews, err = f.Reviews(ctx, pr.Ref); err != nil {
		return facts, err
	}
	comments, err := f.Comments(ctx, pr.Ref.Thread())
	if err != nil {
		return facts, err
	}
	var breakGlass []policy.BreakGlassUse
	var breakGlassUsers []forge.User
	for _, cm := range comments {
		if cm.User.Bot {
			continue
		}
		edited := cm.Edited
		for _, cmd := range commands.Parse(cm.Body, commands.OnPullRequest) {
			if cmd.Err != nil {
				continue
			}
			switch cmd.Name {
			case commands.Approve:
				facts.Approvals = append(facts.Approvals, policy.CommandApproval{
					User: cm.User, CommentID: cm.ID, SHA: cmd.SHA, CreatedAt: cm.CreatedAt, Edited: edited,
				})
			case commands.Unapprove:
				facts.Unapprovals = append(facts.Unapprovals, policy.CommandUse{User: cm.User, CommentID: cm.ID, CreatedAt: cm.CreatedAt})
			case commands.BreakGlass:
				if edited || cmd.BreakGlass.End {
					continue // an edited break-glass comment could have changed its reason after the fact
				}
				breakGlass = append(breakGlass, policy.BreakGlassUse{User: cm.User.Login, Reason: cmd.BreakGlass.Reason, CommentID: cm.ID, At: cm.CreatedAt})
				breakGlassUsers = append(breakGlassUsers, cm.User)
			}
		}
	}
	changed, err := ev.ChangedFiles(ctx)
	if err != nil {
		return facts, err
	}
	facts.ChangedFiles = forge.Paths(changed)

	// Permissions and team memberships of everyone whose approval or
	// break-glass could count.
	people := map[string]bool{}
	for _, r := range facts.Reviews {
		people[r.User.Login] = !r.User.Bot
	}
	for _, a := range facts.Approvals {
		people[a.User.Login] = true
	}
	for _, u := range breakGlassUsers {
		people[u.Login] = true
	}
	logins := sortedTrue(people)
	for _, login := range logins {
		p, err := f.Permission(ctx, repo, login)
		if err != nil {
			return facts, err
		}
		facts.Permissions[login] = p
	}
	if cfg != nil {
		for _, team := range namedTeams(cfg) {
			members := map[string]bool{}
			for _, login := range logins {
				ok, err := f.TeamMember(ctx, repo, team, login)
				if err != nil {
					return facts, err
				}
				if ok {
					members[login] = true
				}
			}
			facts.Teams[team] = members
		}
		// The first authorised /breakglass counts; later ones by others are
		// recorded in their comments but change nothing.
		for i, use := range breakGlass {
			u := breakGlassUsers[i]
			if policy.MayBreakGlass(cfg, u, facts.Permissions[u.Login], facts.Teams) == nil {
				facts.BreakGlass = &use
				break
			}
		}
	}

	if cfg == nil || cfg.Secrets.ForbidPlaintext {
		snaps, err := c.secrets(ctx, ev)
		if err != nil {
			return facts, err
		}
		facts.PlaintextSecrets = snaps
	}
	return facts, nil
}

// signatures turns commits into the policy's form, verifying signatures
// against the allowed signers when the policy names them.
func (c *Capability) signatures(ctx context.Context, f forge.Forge, repo forge.Repo, cfg *config.Repo, commits []forge.Commit) ([]policy.Commit, error) {
	var signers config.AllowedSigners
	if cfg != nil {
		signers = cfg.Signatures.AllowedSigners
	}
	var logins []string
	for _, cm := range commits {
		logins = append(logins, cm.Author.Login, cm.Committer.Login)
	}
	keys := signatures.NewForgeKeys(f, repo, logins...)
	verifier := c.Verifier
	if verifier == nil {
		verifier = &signatures.Verifier{}
	}
	out := make([]policy.Commit, 0, len(commits))
	for _, cm := range commits {
		res := verifier.Verify(ctx, cm, signers, keys)
		if res.Err != nil {
			return nil, fmt.Errorf("verify the signature of commit %s: %w", markdown.Short(cm.SHA), res.Err)
		}
		out = append(out, policy.NewCommit(cm, policy.SignatureVerdict{
			Signed: res.Signed, Verified: res.Verified, Reason: res.Reason, Signer: res.Signer, WebCommit: res.WebCommit,
		}))
	}
	return out, nil
}

// namedTeams lists every team the policy names, in approval rules and as
// break-glass responders.
func namedTeams(cfg *config.Repo) []string {
	set := map[string]bool{}
	for _, r := range cfg.Approvals.Rules {
		for _, t := range r.Teams {
			set[t] = true
		}
	}
	for _, t := range cfg.BreakGlass.Responders.Teams {
		set[t] = true
	}
	return sortedTrue(set)
}

// logVerdict writes approvals that did not count because their comment was
// edited under the audit key, so a rewritten /approve leaves a trace.
func logVerdict(ctx context.Context, ev *evaluation.Evaluation, v policy.Verdict) {
	log := zerolog.Ctx(ctx)
	for _, ig := range v.Ignored {
		if strings.Contains(ig.Reason, "edited") {
			log.Warn().Bool(evaluation.AuditKey, true).
				Str("user", ig.User).Int64("comment_id", ig.ID).Str("head_sha", ev.PR.HeadSHA).
				Str("reason", ig.Reason).
				Msg("An approval comment was edited after it was posted; it no longer counts")
		}
	}
	log.Info().Str("conclusion", string(v.Conclusion)).Str("title", v.Title).Int("approvals", len(v.Approvers)).Msg("Change-control verdict")
}

func sortedTrue(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v && k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
