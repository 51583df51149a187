package handlers

import (
	"context"
	"fmt"
	"github.com/gitward/gitward/evaluation"

	"github.com/gitward/gitward/forge"
	"github.com/palantir/go-githubapp/githubapp"
)

// PullRequestReview re-evaluates a pull request when a review is submitted,
// edited or dismissed: approvals and requests for changes are facts of the
// change-control verdict.
type PullRequestReview struct {
	Forge     GitHubForge
	Evaluator *evaluation.Evaluator
}

// Handles implements githubapp.EventHandler.
func (h *PullRequestReview) Handles() []string { return []string{"pull_request_review"} }

// Handle implements githubapp.EventHandler.
func (h *PullRequestReview) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	ev, err := decode(eventType, payload)
	if err != nil {
		return err
	}
	installation, repo, err := ev.repo(eventType)
	if err != nil {
		return err
	}
	if ev.PullRequest == nil || ev.PullRequest.Number == 0 {
		return fmt.Errorf("%s payload has no pull request number", eventType)
	}
	ctx, log := githubapp.PreparePRContext(ctx, installation, repo, ev.PullRequest.Number)
	switch ev.Action {
	case "submitted", "edited", "dismissed":
	default:
		log.Debug().Str("action", ev.Action).Msg("Review action needs no evaluation")
		return nil
	}
	ref := forge.PRRef{Repo: h.Forge.RepoFromEvent(installation, repo), Number: ev.PullRequest.Number}
	return h.Evaluator.Evaluate(ctx, h.Forge, ref)
}
