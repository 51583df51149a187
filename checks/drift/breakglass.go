package drift

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gitward/gitward/breakglass"
	"github.com/gitward/gitward/checks/changecontrol/policy"
	"github.com/gitward/gitward/checks/drift/verdict"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
)

// Windows reads the break-glass windows of repo at now from its open
// issues labelled with cfg's break-glass label. A /breakglass comment counts
// only if its writer may break glass under cfg now (write permission and a
// responder, by login or team).
func Windows(ctx context.Context, f forge.Forge, repo forge.Repo, cfg *config.Repo, now time.Time) ([]breakglass.Window, error) {
	if cfg == nil || !cfg.BreakGlass.Enabled() || cfg.BreakGlass.Label == "" {
		return nil, nil
	}
	issues, err := f.IssuesLabelled(ctx, repo, cfg.BreakGlass.Label)
	if err != nil {
		return nil, fmt.Errorf("list the break-glass issues: %w", err)
	}
	var ics []breakglass.IssueComments
	for _, is := range issues {
		if !strings.EqualFold(is.State, "open") {
			continue
		}
		cs, err := f.Comments(ctx, forge.IssueThread(repo, is.Number))
		if err != nil {
			return nil, fmt.Errorf("read the comments of issue #%d: %w", is.Number, err)
		}
		ics = append(ics, breakglass.IssueComments{Issue: is, Comments: cs})
	}
	may := map[string]bool{}
	var askErr error
	authorised := func(c forge.Comment) bool {
		login := strings.ToLower(c.User.Login)
		if ok, seen := may[login]; seen {
			return ok
		}
		ok, err := mayBreakGlass(ctx, f, repo, cfg, c.User)
		if err != nil && askErr == nil {
			askErr = err
		}
		may[login] = ok
		return ok
	}
	ws := breakglass.Windows(ics, cfg.BreakGlass, now, authorised)
	if askErr != nil {
		return nil, askErr
	}
	return ws, nil
}

func mayBreakGlass(ctx context.Context, f forge.Forge, repo forge.Repo, cfg *config.Repo, user forge.User) (bool, error) {
	p, err := f.Permission(ctx, repo, user.Login)
	if err != nil {
		return false, fmt.Errorf("read @%s's permission: %w", user.Login, err)
	}
	teams := map[string]map[string]bool{}
	for _, team := range cfg.BreakGlass.Responders.Teams {
		in, err := f.TeamMember(ctx, repo, team, user.Login)
		if err != nil {
			return false, fmt.Errorf("read the members of team %s: %w", team, err)
		}
		teams[team] = map[string]bool{user.Login: in}
	}
	return policy.MayBreakGlass(cfg, user, p, teams) == nil, nil
}

// MarkExpected sets Expected on the apps an active window covers, by app
// name or cluster; "#N" links the incident issue where the forge renders
// Markdown.
func MarkExpected(apps []verdict.App, windows []breakglass.Window, now time.Time) {
	active := breakglass.Active(windows, now)
	for i := range apps {
		if w, ok := breakglass.Covering(active, apps[i].Name, apps[i].Cluster); ok {
			apps[i].Expected = fmt.Sprintf("expected during incident #%d", w.Issue)
		}
	}
}
