package handlers

import (
	"context"
	"errors"
	"github.com/gitward/gitward/evaluation"

	"github.com/gitward/gitward/forge"
	"github.com/palantir/go-githubapp/githubapp"
)

// CheckRerun re-evaluates the pull requests of a check run or check suite
// when someone presses "Re-run" on it in GitHub.
type CheckRerun struct {
	Forge     GitHubForge
	Evaluator *evaluation.Evaluator
}

// Handles implements githubapp.EventHandler.
func (h *CheckRerun) Handles() []string { return []string{"check_run", "check_suite"} }

// Handle implements githubapp.EventHandler.
func (h *CheckRerun) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	ev, err := decode(eventType, payload)
	if err != nil {
		return err
	}
	if ev.Action != "rerequested" {
		return nil
	}
	var prs []prNumber
	switch {
	case eventType == "check_run" && ev.CheckRun != nil:
		prs = ev.CheckRun.PullRequests
	case eventType == "check_suite" && ev.CheckSuite != nil:
		prs = ev.CheckSuite.PullRequests
	}
	installation, repo, err := ev.repo(eventType)
	if err != nil {
		return err
	}
	ctx, log := githubapp.PrepareRepoContext(ctx, installation, repo)
	if len(prs) == 0 {
		log.Info().Msg("Re-run requested for a commit with no open pull request in this repository")
		return nil
	}
	r := h.Forge.RepoFromEvent(installation, repo)
	var errs []error
	for _, pr := range prs {
		prctx, _ := githubapp.PreparePRContext(ctx, installation, repo, pr.Number)
		errs = append(errs, h.Evaluator.Evaluate(prctx, h.Forge, forge.PRRef{Repo: r, Number: pr.Number}))
	}
	return errors.Join(errs...)
}
