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

// decode parses a webhook payload into v and checks the fields every
// handler relies on, so a malformed payload is an error that names what is
// missing rather than a nil dereference later.
func decode(event string, payload []byte, v any) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("decode %s payload: %w", event, err)
	}
	return nil
}

// requireRepo checks that a payload names its installation and repository.
func requireRepo(event string, inst *gh.Installation, repo *gh.Repository) error {
	switch {
	case inst.GetID() == 0:
		return fmt.Errorf("%s payload has no installation.id; is it a GitHub App webhook?", event)
	case repo.GetName() == "" || repo.GetOwner().GetLogin() == "":
		return fmt.Errorf("%s payload has no repository owner and name", event)
	}
	return nil
}
