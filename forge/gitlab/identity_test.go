package gitlab_test

import (
	"testing"

	"github.com/gitward/gitward/forge/gitlab"
)

func TestNoreplyLogin(t *testing.T) {
	for email, want := range map[string]string{
		"1234567-alice@users.noreply.gitlab.com":      "alice",
		"42-bob.smith@users.noreply.gitlab.example":   "bob.smith",
		" 7-Carol_1@USERS.NOREPLY.gitlab.com ":        "Carol_1",
		"alice@example.com":                           "",
		"alice@users.noreply.gitlab.com":              "",
		"12345+alice@users.noreply.github.com":        "",
		"1-alice@users.noreply.gitlab.com.evil@x.com": "",
	} {
		if got := gitlab.NoreplyLogin(email); got != want {
			t.Errorf("NoreplyLogin(%q) = %q, want %q", email, got, want)
		}
	}
}
