package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/report/markdown"
	"strings"
	"time"

	"github.com/gitward/gitward/breakglass"
	"github.com/gitward/gitward/checks/changecontrol/policy"
	"github.com/gitward/gitward/commands"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// IssueComment acts on comment commands in pull request conversations:
// /approve, /unapprove, /recheck, /breakglass and /gitward help. Only newly
// created comments act; editing or deleting a command comment later
// re-evaluates the pull request (the approval it gave no longer counts)
// and is logged under evaluation.AuditKey. Comments by bots, gitward's own included,
// are ignored.
//
// On a post-incident review issue gitward opened for a break-glass merge,
// /approve by an eligible person is recorded in the audit ledger as the
// change's retroactive approval, and the issue is closed. On any other
// issue, /breakglass by a responder opens or ends a break-glass window for
// manual changes to a cluster or app (see package breakglass).
type IssueComment struct {
	Forge     GitHubForge
	Evaluator *evaluation.Evaluator
	// Reviews records /approve in post-incident reviews.
	Reviews *audit.Reviews
}

// Handles implements githubapp.EventHandler.
func (h *IssueComment) Handles() []string { return []string{"issue_comment"} }

// commentEvent holds the fields of an issue_comment payload gitward reads.
type commentEvent struct {
	Issue *struct {
		Number      int             `json:"number"`
		Body        string          `json:"body"`
		PullRequest json.RawMessage `json:"pull_request"`
	} `json:"issue"`
	Comment *struct {
		ID        int64     `json:"id"`
		Body      string    `json:"body"`
		CreatedAt time.Time `json:"created_at"`
		UpdatedAt time.Time `json:"updated_at"`
		User      struct {
			Login string `json:"login"`
			ID    int64  `json:"id"`
			Type  string `json:"type"`
		} `json:"user"`
	} `json:"comment"`
	Sender struct {
		Login string `json:"login"`
		ID    int64  `json:"id"`
		Type  string `json:"type"`
	} `json:"sender"`
	Changes struct {
		Body *struct {
			From string `json:"from"`
		} `json:"body"`
	} `json:"changes"`
}

// Handle implements githubapp.EventHandler.
func (h *IssueComment) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	ev, err := decode(eventType, payload)
	if err != nil {
		return err
	}
	var ce commentEvent
	if err := json.Unmarshal(payload, &ce); err != nil {
		return fmt.Errorf("decode %s payload: %w", eventType, err)
	}
	installation, repo, err := ev.repo(eventType)
	if err != nil {
		return err
	}
	if ce.Issue == nil || ce.Comment == nil {
		return fmt.Errorf("%s payload has no issue or comment", eventType)
	}
	ctx, _ = githubapp.PreparePRContext(ctx, installation, repo, ce.Issue.Number)
	r := h.Forge.RepoFromEvent(installation, repo)
	n := Note{
		Thread:    forge.Thread{Repo: r, Number: ce.Issue.Number},
		IssueBody: ce.Issue.Body,
		Action:    NoteAction(ev.Action),
		Comment: forge.Comment{
			ID: ce.Comment.ID, Body: ce.Comment.Body, CreatedAt: ce.Comment.CreatedAt, UpdatedAt: ce.Comment.UpdatedAt,
			User: forge.User{Login: ce.Comment.User.Login, ID: ce.Comment.User.ID, Bot: ce.Comment.User.Type == "Bot"},
		},
		Sender: forge.User{Login: ce.Sender.Login, ID: ce.Sender.ID, Bot: ce.Sender.Type == "Bot"},
	}
	n.Thread.Issue = len(ce.Issue.PullRequest) == 0 || string(ce.Issue.PullRequest) == "null"
	if ce.Changes.Body != nil {
		n.OldBody, n.OldBodyKnown = ce.Changes.Body.From, true
	}
	return h.Act(ctx, h.Forge, n)
}

// Act handles one comment event through f: commands in a new comment on
// a pull request are answered and the pull request evaluated again; an
// edited or deleted command comment re-evaluates it; on issues, /approve
// in a post-incident review and /breakglass windows act.
func (h *IssueComment) Act(ctx context.Context, f forge.Forge, n Note) error {
	log := zerolog.Ctx(ctx)
	// A bot's comments never act or count. A bot that edits or deletes a
	// person's command comment still takes the approval away, so only a
	// new comment is judged by its sender.
	if n.Comment.User.Bot || (n.Action == NoteCreated && n.Sender.Bot) {
		log.Debug().Str("sender", n.Sender.Login).Msg("Ignoring a comment by a bot")
		return nil
	}
	if n.Thread.Issue {
		if n.Action == NoteCreated {
			if handled, err := h.Reviews.Approve(ctx, f, n.Thread, n.IssueBody, n.Comment); handled || err != nil {
				return err
			}
			if handled, err := h.breakGlassWindow(ctx, f, n); handled || err != nil {
				return err
			}
		}
		log.Debug().Msg("Comment on an issue, not a pull request; no pull request command applies")
		return nil
	}
	ref := forge.PRRef{Repo: n.Thread.Repo, Number: n.Thread.Number}

	switch n.Action {
	case NoteCreated:
		cmds := commands.Parse(n.Comment.Body, commands.OnPullRequest)
		if len(cmds) == 0 {
			return nil
		}
		evaluate, err := h.answer(ctx, f, ref, n, cmds)
		if err != nil {
			return err
		}
		if !evaluate {
			return nil
		}
	case NoteEdited, NoteDeleted:
		old := n.Comment.Body
		if n.Action == NoteEdited {
			old = n.OldBody
		}
		switch {
		case n.Action == NoteEdited && !n.OldBodyKnown && !hasCommands(n.Comment.Body):
			// The forge does not say what the comment said before (GitLab):
			// it may have been an approval, so evaluate again.
			log.Debug().Int64("comment_id", n.Comment.ID).Msg("A comment was edited and its earlier text is unknown; evaluating again")
		case !hasCommands(old) && !hasCommands(n.Comment.Body):
			return nil
		default:
			log.Warn().Bool(evaluation.AuditKey, true).
				Str("action", string(n.Action)).Str("user", n.Comment.User.Login).Str("sender", n.Sender.Login).
				Int64("comment_id", n.Comment.ID).
				Msgf("A command comment was %s after it was posted; commands act only when posted, and an approval it gave no longer counts", n.Action)
		}
	default:
		return nil
	}
	return h.Evaluator.Evaluate(ctx, f, ref)
}

// hasCommands reports whether a body holds any command.
func hasCommands(body string) bool { return len(commands.Parse(body, commands.OnPullRequest)) > 0 }

// answer acknowledges each command of a new comment — a reaction, and a
// reply with the reason for every refused one — and reports whether the
// pull request must be evaluated again. The policy re-checks everything
// when it evaluates; these answers only tell the writer at once.
func (h *IssueComment) answer(ctx context.Context, f forge.Forge, ref forge.PRRef, n Note, cmds []commands.Command) (bool, error) {
	log := zerolog.Ctx(ctx)
	user := forge.User{Login: n.Comment.User.Login}
	pr, err := f.PullRequest(ctx, ref)
	if err != nil {
		return false, err
	}
	cfg, cfgErr := evaluation.LoadRepoConfig(ctx, f, ref.Repo, pr.BaseSHA)
	var invalid *evaluation.InvalidConfigError
	if cfgErr != nil && !errors.As(cfgErr, &invalid) {
		return false, cfgErr
	}

	var replies []string
	refused, evaluate := false, false
	for _, cmd := range cmds {
		reason := ""
		switch {
		case cmd.Err != nil:
			reason = cmd.Err.Error()
		case cmd.Name == commands.Help:
			replies = append(replies, commands.HelpText)
			continue
		case cmd.Name == commands.Recheck || cmd.Name == commands.Unapprove:
			evaluate = true
		case cfgErr != nil:
			reason = fmt.Sprintf("`%s` cannot act: %s at the base commit is invalid; fix it on the base branch first", cmd.Name, evaluation.RepoConfigPath)
			evaluate = true
		case cmd.Name == commands.Approve:
			evaluate = true
			switch {
			case !cfg.Commands.Approve:
				reason = "`/approve` is turned off by this repository's policy (commands.approve); approve with a review instead"
			case cmd.SHA != "" && !strings.HasPrefix(pr.HeadSHA, cmd.SHA):
				reason = fmt.Sprintf("`/approve %s` names a commit that is not the head of this pull request (`%s`); approvals are bound to the head", cmd.SHA, markdown.Short(pr.HeadSHA))
			default:
				if reason, err = mayApprove(ctx, f, ref, pr, cfg, user); err != nil {
					return false, err
				}
			}
		case cmd.Name == commands.BreakGlass:
			evaluate = true
			if reason, err = breakglass.MayBreakGlass(ctx, f, ref.Repo, cfg, user); err != nil {
				return false, err
			}
		}
		if reason != "" {
			refused = true
			replies = append(replies, fmt.Sprintf("%s was not accepted: %s", markdown.Code(markdown.Clip(cmd.Text, 80)), reason))
			log.Info().Str("command", string(cmd.Name)).Str("user", user.Login).Str("reason", reason).Msg("Refused a comment command")
		}
	}
	reaction := commands.Accepted
	switch {
	case refused:
		reaction = commands.Refused
	case !evaluate:
		reaction = commands.Seen
	}
	if err := f.React(ctx, n.Thread, n.Comment.ID, reaction); err != nil {
		return false, err
	}
	if len(replies) > 0 {
		body := fmt.Sprintf("@%s\n\n%s", user.Login, strings.Join(replies, "\n\n"))
		if _, err := f.CreateComment(ctx, n.Thread, body); err != nil {
			return false, err
		}
	}
	return evaluate, nil
}

// mayApprove asks the policy whether user may approve the head of pr, from
// the forge's facts about its commits and the user's permission: the
// answer the verdict will give. It returns "" when they may.
func mayApprove(ctx context.Context, f forge.Forge, ref forge.PRRef, pr *forge.PullRequest, cfg *config.Repo, user forge.User) (string, error) {
	perm, err := f.Permission(ctx, ref.Repo, user.Login)
	if err != nil {
		return "", err
	}
	facts := policy.Facts{
		Config:      cfg,
		PR:          policy.PullRequest{Author: pr.Author.Login, BaseRef: pr.BaseRef, BaseSHA: pr.BaseSHA, HeadSHA: pr.HeadSHA},
		Permissions: map[string]forge.Permission{user.Login: perm},
	}
	// What the pull request alone shows answers at once, before its
	// commits (and their co-authors) are read.
	if why := policy.MayApprove(facts, user); why != "" {
		return why, nil
	}
	commits, err := f.Commits(ctx, ref)
	if err != nil {
		return "", err
	}
	for _, c := range commits {
		facts.Commits = append(facts.Commits, policy.NewCommit(c, policy.SignatureVerdict{}))
	}
	return policy.MayApprove(facts, user), nil
}

// breakGlassWindow answers /breakglass on an issue (an incident ticket):
// by a responder, "/breakglass <cluster-or-app> <reason> [for DURATION]"
// opens a window in which drift there is expected, and "/breakglass end"
// closes it. The window itself is read from the issue's comments by
// package breakglass; this only labels the issue, so it is found, and
// answers. The policy is the one on the default branch. It reports
// whether the comment held /breakglass.
func (h *IssueComment) breakGlassWindow(ctx context.Context, f forge.Forge, n Note) (bool, error) {
	repo, number := n.Thread.Repo, n.Thread.Number
	var cmds []commands.Command
	for _, c := range commands.Parse(n.Comment.Body, commands.OnIssue) {
		if c.Name == commands.BreakGlass {
			cmds = append(cmds, c)
		}
	}
	// A post-incident review is not an incident ticket.
	if len(cmds) == 0 || audit.ReviewMarker.MatchString(n.IssueBody) {
		return false, nil
	}
	log := zerolog.Ctx(ctx)
	user := forge.User{Login: n.Comment.User.Login}
	at := n.Comment.CreatedAt
	if at.IsZero() {
		at = time.Now()
	}
	cfg, refusal, err := h.defaultBranchConfig(ctx, f, repo)
	if err != nil {
		return true, err
	}
	if refusal == "" {
		if refusal, err = breakglass.MayBreakGlass(ctx, f, repo, cfg, user); err != nil {
			return true, err
		}
	}
	var replies []string
	refused, opened := false, false
	for _, cmd := range cmds {
		reason := refusal
		if cmd.Err != nil {
			reason = cmd.Err.Error()
		}
		if reason != "" {
			refused = true
			replies = append(replies, fmt.Sprintf("%s was not accepted: %s", markdown.Code(markdown.Clip(cmd.Text, 80)), reason))
			log.Info().Str("command", string(cmd.Name)).Str("user", user.Login).Str("reason", reason).Msg("Refused a break-glass window")
			continue
		}
		args := cmd.BreakGlass
		if args.End {
			replies = append(replies, "Break-glass window closed: drift in its scope is judged again, and gitward captures it into a pull request linked to this issue.")
			log.Info().Bool(evaluation.AuditKey, true).Str("user", user.Login).Int("issue", number).Msg("Break-glass window ended")
			continue
		}
		d, capped := breakglass.Length(args.Window, cfg.BreakGlass)
		msg := ""
		if capped {
			msg = fmt.Sprintf("`for %s` is longer than this repository's break_glass.max_window (%s), so the window is %s. ", args.Window, time.Duration(cfg.BreakGlass.MaxWindow), d)
		}
		msg += fmt.Sprintf("Break-glass window open for %s until %s (UTC): drift there is reported as expected, linked to this issue; when it closes gitward opens a capture pull request.",
			args.Scope, at.Add(d).UTC().Format("2006-01-02 15:04"))
		replies = append(replies, msg)
		opened = true
		log.Info().Bool(evaluation.AuditKey, true).Str("user", user.Login).Int("issue", number).Str("scope", args.Scope).Str("reason", args.Reason).Dur("window", d).Msg("Break-glass window opened")
	}
	if opened && cfg.BreakGlass.Label != "" {
		if err := f.AddLabels(ctx, n.Thread, cfg.BreakGlass.Label); err != nil {
			return true, err
		}
	}
	reaction := commands.Accepted
	if refused {
		reaction = commands.Refused
	}
	if err := f.React(ctx, n.Thread, n.Comment.ID, reaction); err != nil {
		return true, err
	}
	body := fmt.Sprintf("@%s\n\n%s", user.Login, strings.Join(replies, "\n\n"))
	if _, err := f.CreateComment(ctx, n.Thread, body); err != nil {
		return true, err
	}
	return true, nil
}

// defaultBranchConfig reads the policy at the head of the default branch;
// refusal says why a command cannot act when there is none to read.
func (h *IssueComment) defaultBranchConfig(ctx context.Context, f forge.Forge, repo forge.Repo) (cfg *config.Repo, refusal string, err error) {
	if repo.DefaultBranch == "" {
		return nil, "the repository's default branch is unknown, so its break-glass policy cannot be read", nil
	}
	head, err := f.BranchHead(ctx, repo, repo.DefaultBranch)
	if err != nil {
		return nil, "", fmt.Errorf("read the head of %s: %w", repo.DefaultBranch, err)
	}
	cfg, err = evaluation.LoadRepoConfig(ctx, f, repo, head)
	var invalid *evaluation.InvalidConfigError
	if errors.As(err, &invalid) {
		return nil, fmt.Sprintf("%s on %s is invalid; fix it there first", evaluation.RepoConfigPath, repo.DefaultBranch), nil
	}
	return cfg, "", err
}
