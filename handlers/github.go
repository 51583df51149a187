package handlers

import (
	"encoding/json"
	"fmt"

	"github.com/gitward/gitward/forge"
	gh "github.com/google/go-github/v60/github"
)

// GitHubForge is the forge the GitHub event handlers act through: a
// forge.Forge that can also name a webhook's repository.
type GitHubForge interface {
	forge.Forge
	// RepoFromEvent converts a webhook's installation and repository.
	RepoFromEvent(installationID int64, r *gh.Repository) forge.Repo
}

// envelope holds the fields of a GitHub webhook payload that gitward reads.
// Decoding only these (rather than go-github's full event types) keeps an
// odd value in an unrelated field — a timestamp in another format, a field
// GitHub added — from making a delivery unreadable.
type envelope struct {
	Action       string `json:"action"`
	Number       int    `json:"number"`
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Repository *struct {
		Name          string `json:"name"`
		DefaultBranch string `json:"default_branch"`
		Owner         struct {
			Login string `json:"login"`
		} `json:"owner"`
	} `json:"repository"`
	PullRequest *struct {
		Number int `json:"number"`
	} `json:"pull_request"`
	Changes *struct {
		Base json.RawMessage `json:"base"`
	} `json:"changes"`
	CheckRun *struct {
		PullRequests []prNumber `json:"pull_requests"`
	} `json:"check_run"`
	CheckSuite *struct {
		PullRequests []prNumber `json:"pull_requests"`
	} `json:"check_suite"`
}

type prNumber struct {
	Number int `json:"number"`
}

// decode parses a webhook payload's envelope.
func decode(event string, payload []byte) (*envelope, error) {
	var ev envelope
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("decode %s payload: %w", event, err)
	}
	return &ev, nil
}

// repo checks that the payload names its installation and repository and
// returns them, the repository in go-github's form for go-githubapp's
// logging helpers.
func (ev *envelope) repo(event string) (int64, *gh.Repository, error) {
	switch {
	case ev.Installation == nil || ev.Installation.ID == 0:
		return 0, nil, fmt.Errorf("%s payload has no installation.id; is it a GitHub App webhook?", event)
	case ev.Repository == nil || ev.Repository.Name == "" || ev.Repository.Owner.Login == "":
		return 0, nil, fmt.Errorf("%s payload has no repository owner and name", event)
	}
	r := &gh.Repository{
		Name:  gh.String(ev.Repository.Name),
		Owner: &gh.User{Login: gh.String(ev.Repository.Owner.Login)},
	}
	if ev.Repository.DefaultBranch != "" {
		r.DefaultBranch = gh.String(ev.Repository.DefaultBranch)
	}
	return ev.Installation.ID, r, nil
}
