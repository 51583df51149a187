package handlers

import (
	"context"
	"errors"

	"github.com/gitward/gitward/forge"
	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
)

// CheckRerun re-evaluates the pull requests of a check run or check suite
// when someone presses "Re-run" on it in GitHub.
type CheckRerun struct {
	Forge     GitHubForge
	Evaluator *Evaluator
}

// Handles implements githubapp.EventHandler.
func (h *CheckRerun) Handles() []string { return []string{"check_run", "check_suite"} }

// Handle implements githubapp.EventHandler.
func (h *CheckRerun) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var (
		inst    *gh.Installation
		repo    *gh.Repository
		action  string
		numbers []int
	)
	switch eventType {
	case "check_run":
		var ev gh.CheckRunEvent
		if err := decode(eventType, payload, &ev); err != nil {
			return err
		}
		inst, repo, action = ev.Installation, ev.Repo, ev.GetAction()
		for _, pr := range ev.GetCheckRun().PullRequests {
			numbers = append(numbers, pr.GetNumber())
		}
	case "check_suite":
		var ev gh.CheckSuiteEvent
		if err := decode(eventType, payload, &ev); err != nil {
			return err
		}
		inst, repo, action = ev.Installation, ev.Repo, ev.GetAction()
		for _, pr := range ev.GetCheckSuite().PullRequests {
			numbers = append(numbers, pr.GetNumber())
		}
	default:
		return nil
	}
	if action != "rerequested" {
		return nil
	}
	if err := requireRepo(eventType, inst, repo); err != nil {
		return err
	}
	ctx, log := githubapp.PrepareRepoContext(ctx, inst.GetID(), repo)
	if len(numbers) == 0 {
		log.Info().Msg("Re-run requested for a commit with no open pull request in this repository")
		return nil
	}
	r := h.Forge.RepoFromEvent(inst.GetID(), repo)
	var errs []error
	for _, n := range numbers {
		prctx, _ := githubapp.PreparePRContext(ctx, inst.GetID(), repo, n)
		errs = append(errs, h.Evaluator.Evaluate(prctx, h.Forge, forge.PRRef{Repo: r, Number: n}))
	}
	return errors.Join(errs...)
}
