package handlers

import (
	"context"

	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// Installation asks for a resync when the app gains repositories, so pull
// requests that were open before the app was installed get their checks.
type Installation struct {
	// Resync is called, without blocking, to schedule a resync pass.
	Resync func()
}

// Handles implements githubapp.EventHandler.
func (h *Installation) Handles() []string {
	return []string{"installation", "installation_repositories"}
}

// Handle implements githubapp.EventHandler.
func (h *Installation) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var action string
	var id int64
	switch eventType {
	case "installation":
		var ev gh.InstallationEvent
		if err := decode(eventType, payload, &ev); err != nil {
			return err
		}
		action, id = ev.GetAction(), ev.GetInstallation().GetID()
	case "installation_repositories":
		var ev gh.InstallationRepositoriesEvent
		if err := decode(eventType, payload, &ev); err != nil {
			return err
		}
		action, id = ev.GetAction(), ev.GetInstallation().GetID()
	}
	log := zerolog.Ctx(ctx).With().Int64(githubapp.LogKeyInstallationID, id).Str("action", action).Logger()
	switch action {
	case "created", "added", "unsuspend", "new_permissions_accepted":
		log.Info().Msg("Installation gained access; scheduling a resync")
		if h.Resync != nil {
			h.Resync()
		}
	default:
		log.Info().Msg("Installation event needs no action")
	}
	return nil
}
