package breakglass

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gitward/gitward/checks/changecontrol/policy"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
)

// Read reads the break-glass windows of repo at now from its open issues
// labelled with cfg's break-glass label. A /breakglass comment counts only
// if its writer may break glass under cfg now (MayBreakGlass).
func Read(ctx context.Context, f forge.Forge, repo forge.Repo, cfg *config.Repo, now time.Time) ([]Window, error) {
	if cfg == nil || !cfg.BreakGlass.Enabled() || cfg.BreakGlass.Label == "" {
		return nil, nil
	}
	issues, err := f.IssuesLabelled(ctx, repo, cfg.BreakGlass.Label)
	if err != nil {
		return nil, fmt.Errorf("list the break-glass issues: %w", err)
	}
	var ics []IssueComments
	for _, is := range issues {
		if !strings.EqualFold(is.State, "open") {
			continue
		}
		cs, err := f.Comments(ctx, forge.IssueThread(repo, is.Number))
		if err != nil {
			return nil, fmt.Errorf("read the comments of issue #%d: %w", is.Number, err)
		}
		ics = append(ics, IssueComments{Issue: is, Comments: cs})
	}
	may := map[string]bool{}
	var askErr error
	authorised := func(c forge.Comment) bool {
		login := strings.ToLower(c.User.Login)
		if ok, seen := may[login]; seen {
			return ok
		}
		refusal, err := MayBreakGlass(ctx, f, repo, cfg, c.User)
		if err != nil && askErr == nil {
			askErr = err
		}
		may[login] = err == nil && refusal == ""
		return may[login]
	}
	ws := Windows(ics, cfg.BreakGlass, now, authorised)
	if askErr != nil {
		return nil, askErr
	}
	return ws, nil
}

// MayBreakGlass reads user's permission on repo and their membership of
// cfg's responder teams, and answers with the policy's rule: "" when they
// may break glass, else why not.
func MayBreakGlass(ctx context.Context, f forge.Forge, repo forge.Repo, cfg *config.Repo, user forge.User) (string, error) {
	p, err := f.Permission(ctx, repo, user.Login)
	if err != nil {
		return "", fmt.Errorf("read @%s's permission: %w", user.Login, err)
	}
	teams := map[string]map[string]bool{}
	for _, team := range cfg.BreakGlass.Responders.Teams {
		in, err := f.TeamMember(ctx, repo, team, user.Login)
		if err != nil {
			return "", fmt.Errorf("read the members of team %s: %w", team, err)
		}
		teams[team] = map[string]bool{user.Login: in}
	}
	if err := policy.MayBreakGlass(cfg, user, p, teams); err != nil {
		return err.Error(), nil
	}
	return "", nil
}
