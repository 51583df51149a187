package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gitward/gitward/audit"
	"github.com/palantir/go-githubapp/githubapp"
)

// Push hands each push to a branch to the audit's check for commits that
// bypassed review.
type Push struct {
	Forge  GitHubForge
	Pushes *audit.Pushes
}

// Handles implements githubapp.EventHandler.
func (h *Push) Handles() []string { return []string{"push"} }

// pushEvent holds the fields of a push payload gitward reads.
type pushEvent struct {
	Ref     string `json:"ref"`
	Before  string `json:"before"`
	After   string `json:"after"`
	Deleted bool   `json:"deleted"`
	Forced  bool   `json:"forced"`
	Pusher  struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"pusher"`
	Sender *struct {
		Login string `json:"login"`
	} `json:"sender"`
}

// Handle implements githubapp.EventHandler.
func (h *Push) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	ev, err := decode(eventType, payload)
	if err != nil {
		return err
	}
	installation, ghRepo, err := ev.repo(eventType)
	if err != nil {
		return err
	}
	var p pushEvent
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Errorf("decode %s payload: %w", eventType, err)
	}
	ctx, log := githubapp.PrepareRepoContext(ctx, installation, ghRepo)
	branch, isBranch := strings.CutPrefix(p.Ref, "refs/heads/")
	switch {
	case !isBranch:
		log.Debug().Str("ref", p.Ref).Msg("Push to a ref that is not a branch; nothing to check")
		return nil
	case p.Deleted || p.After == "" || p.After == audit.ZeroSHA:
		log.Debug().Str("ref", p.Ref).Msg("Branch deleted; nothing to check")
		return nil
	}
	repo := h.Forge.RepoFromEvent(installation, ghRepo)
	pushed := audit.Pushed{Branch: branch, Ref: p.Ref, Before: p.Before, After: p.After, Forced: p.Forced, PusherName: p.Pusher.Name, PusherEmail: p.Pusher.Email}
	if p.Sender != nil {
		pushed.Pusher = p.Sender.Login
	}
	return h.Pushes.Check(ctx, h.Forge, repo, pushed)
}
