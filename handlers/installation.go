package handlers

import (
	"context"

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
	ev, err := decode(eventType, payload)
	if err != nil {
		return err
	}
	action := ev.Action
	var id int64
	if ev.Installation != nil {
		id = ev.Installation.ID
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
