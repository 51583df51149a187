package gitlab_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/gitlab"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
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

// TestCoAuthorsAreResolvedByTheirPrivateAddress: a Co-authored-by trailer
// naming GitLab's private commit address "ID-username@users.noreply.HOST"
// is that username, as for a commit's author; a trailer with any other
// address is linked to no account.
func TestCoAuthorsAreResolvedByTheirPrivateAddress(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	sha := fx.srv.Push(proj, int64(fx.iid), "pair on b\n\nCo-authored-by: Robert Tables <1005-bob@users.noreply.gitlab.example.com>\nCo-authored-by: Carol <carol@example.com>", map[string]string{"apps/b.yaml": "b: 2\n"})
	cs, err := fx.f.Commits(context.Background(), fx.ref)
	if err != nil {
		t.Fatal(err)
	}
	last := cs[len(cs)-1]
	want := []forge.Identity{
		{Name: "Robert Tables", Email: "1005-bob@users.noreply.gitlab.example.com", Login: "bob"},
		{Name: "Carol", Email: "carol@example.com"},
	}
	if last.SHA != sha || !slices.Equal(last.CoAuthors, want) {
		t.Fatalf("co-authors of %s = %+v, want %+v", last.SHA, last.CoAuthors, want)
	}
}
