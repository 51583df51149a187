package handlers

import (
	"context"
	"fmt"

	"github.com/gitward/gitward/forge"
	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
)

// PullRequest evaluates a pull request when it is opened, gets new commits,
// is reopened, leaves draft, or is retargeted to another base branch.
type PullRequest struct {
	Forge     GitHubForge
	Evaluator *Evaluator
}

// Handles implements githubapp.EventHandler.
func (h *PullRequest) Handles() []string { return []string{"pull_request"} }

// Handle implements githubapp.EventHandler.
func (h *PullRequest) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev gh.PullRequestEvent
	if err := decode(eventType, payload, &ev); err != nil {
		return err
	}
	if err := requireRepo(eventType, ev.Installation, ev.Repo); err != nil {
		return err
	}
	if ev.GetNumber() == 0 && ev.GetPullRequest().GetNumber() == 0 {
		return fmt.Errorf("%s payload has no pull request number", eventType)
	}
	number := ev.GetNumber()
	if number == 0 {
		number = ev.GetPullRequest().GetNumber()
	}
	ctx, log := githubapp.PreparePRContext(ctx, ev.GetInstallation().GetID(), ev.GetRepo(), number)
	if !evaluatesOn(ev) {
		log.Debug().Str("action", ev.GetAction()).Msg("Pull request action needs no evaluation")
		return nil
	}
	ref := forge.PRRef{Repo: h.Forge.RepoFromEvent(ev.GetInstallation().GetID(), ev.GetRepo()), Number: number}
	return h.Evaluator.Evaluate(ctx, h.Forge, ref)
}

// evaluatesOn lists the actions that can change a verdict.
func evaluatesOn(ev gh.PullRequestEvent) bool {
	switch ev.GetAction() {
	case "opened", "synchronize", "reopened", "ready_for_review":
		return true
	case "edited":
		// Only a new base branch changes the policy or the diff; a new
		// title or body does not.
		return ev.GetChanges().GetBase() != nil
	}
	return false
}
