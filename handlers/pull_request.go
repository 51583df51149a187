package handlers

import (
	"context"
	"fmt"
	"github.com/gitward/gitward/evaluation"

	"github.com/gitward/gitward/forge"
	"github.com/palantir/go-githubapp/githubapp"
)

// PullRequest evaluates a pull request when it is opened, gets new commits,
// is reopened, leaves draft, or is retargeted to another base branch.
type PullRequest struct {
	Forge     GitHubForge
	Evaluator *evaluation.Evaluator
}

// Handles implements githubapp.EventHandler.
func (h *PullRequest) Handles() []string { return []string{"pull_request"} }

// Handle implements githubapp.EventHandler.
func (h *PullRequest) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	ev, err := decode(eventType, payload)
	if err != nil {
		return err
	}
	installation, repo, err := ev.repo(eventType)
	if err != nil {
		return err
	}
	number := ev.Number
	if number == 0 && ev.PullRequest != nil {
		number = ev.PullRequest.Number
	}
	if number == 0 {
		return fmt.Errorf("%s payload has no pull request number", eventType)
	}
	ctx, log := githubapp.PreparePRContext(ctx, installation, repo, number)
	if !evaluatesOn(ev) {
		log.Debug().Str("action", ev.Action).Msg("Pull request action needs no evaluation")
		return nil
	}
	ref := forge.PRRef{Repo: h.Forge.RepoFromEvent(installation, repo), Number: number}
	return h.Evaluator.Evaluate(ctx, h.Forge, ref)
}

// evaluatesOn lists the actions that can change a verdict.
func evaluatesOn(ev *envelope) bool {
	switch ev.Action {
	case "opened", "synchronize", "reopened", "ready_for_review":
		return true
	case "edited":
		// Only a new base branch changes the policy or the diff; a new
		// title or body does not.
		return ev.Changes != nil && len(ev.Changes.Base) > 0 && string(ev.Changes.Base) != "null"
	}
	return false
}
