package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/forge"
	"github.com/palantir/go-githubapp/githubapp"
)

// Merged hands each merge of a pull request to the audit's Recorder, and
// every other pull_request action to the PullRequest handler it wraps:
// go-githubapp dispatches an event type to one handler only.
type Merged struct {
	PullRequest
	Recorder *audit.Recorder
}

// Handles implements githubapp.EventHandler.
func (h *Merged) Handles() []string { return []string{"pull_request"} }

// mergedEvent holds what a pull_request payload says about a merge.
type mergedEvent struct {
	Action      string `json:"action"`
	PullRequest *struct {
		Number   int        `json:"number"`
		Merged   bool       `json:"merged"`
		MergedAt *time.Time `json:"merged_at"`
		MergedBy *struct {
			Login string `json:"login"`
		} `json:"merged_by"`
	} `json:"pull_request"`
}

// Handle implements githubapp.EventHandler.
func (h *Merged) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var m mergedEvent
	if err := json.Unmarshal(payload, &m); err != nil || m.Action != "closed" || m.PullRequest == nil || !m.PullRequest.Merged {
		return h.PullRequest.Handle(ctx, eventType, deliveryID, payload)
	}
	ev, err := decode(eventType, payload)
	if err != nil {
		return err
	}
	installation, repo, err := ev.repo(eventType)
	if err != nil {
		return err
	}
	number := m.PullRequest.Number
	if number == 0 {
		return fmt.Errorf("%s payload has no pull request number", eventType)
	}
	ctx, _ = githubapp.PreparePRContext(ctx, installation, repo, number)
	ref := forge.PRRef{Repo: h.Forge.RepoFromEvent(installation, repo), Number: number}
	var mergedAt time.Time
	if m.PullRequest.MergedAt != nil {
		mergedAt = *m.PullRequest.MergedAt
	}
	mergedBy := ""
	if m.PullRequest.MergedBy != nil {
		mergedBy = m.PullRequest.MergedBy.Login
	}
	return h.Recorder.Record(ctx, h.Forge, ref, mergedAt, mergedBy)
}
