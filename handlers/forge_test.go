package handlers_test

import (
	"testing"

	"github.com/gitward/gitward/forge"
	ghforge "github.com/gitward/gitward/forge/github"
	"github.com/gitward/gitward/forge/github/githubtest"
)

// newForge returns the GitHub adapter over a GitHub double holding the
// octo-org/clusters repository in installation 7.
func newForge(t *testing.T) (*ghforge.Forge, *githubtest.Server, forge.Repo) {
	t.Helper()
	gh := githubtest.New(t)
	gh.AddInstallation(7, "octo-org")
	gh.AddRepo(7, "octo-org", "clusters", "main")
	f := ghforge.New(gh.ClientCreator(t), ghforge.Options{AppID: githubtest.DefaultAppID})
	return f, gh, forge.Repo{Host: "github.com", Owner: "octo-org", Name: "clusters", InstallationID: 7, DefaultBranch: "main"}
}
