package policy

import (
	"fmt"
	"strings"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
)

// MayBreakGlass decides whether user may use /breakglass under cfg: they
// must be a person, have write permission or more, and be one of
// break_glass.responders, by login or through a team. teams maps each
// responder team, spelled as in .gitward.yaml, to its members. The error is
// written as a reply to the person who asked.
func MayBreakGlass(cfg *config.Repo, user forge.User, perm forge.Permission, teams map[string]map[string]bool) error {
	if cfg == nil {
		return fmt.Errorf("break-glass is unavailable: the repository configuration could not be read")
	}
	bg := cfg.BreakGlass
	if !bg.Enabled() {
		return fmt.Errorf("break-glass is off in this repository: %s names no break_glass.responders", config.RepoFile)
	}
	if isBot(user) {
		return fmt.Errorf("bots cannot break glass")
	}
	if why := lacksWrite(perm, "breaking glass"); why != "" {
		return fmt.Errorf("@%s %s", user.Login, why)
	}
	for _, u := range bg.Responders.Users {
		if strings.EqualFold(u, user.Login) {
			return nil
		}
	}
	for _, t := range bg.Responders.Teams {
		for team, members := range teams {
			if !strings.EqualFold(team, t) {
				continue
			}
			for login, in := range members {
				if in && strings.EqualFold(login, user.Login) {
					return nil
				}
			}
		}
	}
	var who []string
	for _, u := range bg.Responders.Users {
		who = append(who, "@"+u)
	}
	if len(bg.Responders.Teams) > 0 {
		who = append(who, teamList(bg.Responders.Teams))
	}
	return fmt.Errorf("@%s is not a break-glass responder; %s may break glass (break_glass.responders in %s)",
		user.Login, joinOr(who), config.RepoFile)
}
