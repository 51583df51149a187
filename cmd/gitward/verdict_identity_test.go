package main

import (
	"testing"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
)

// TestLocalCommitsReadForgePrivateAddresses: the local verdict reads a
// GitHub or GitLab private commit address as its login, in commit
// identities and co-author trailers, as the server's adapters do, so it
// refuses the same approvals.
func TestLocalCommitsReadForgePrivateAddresses(t *testing.T) {
	commits := []forge.Commit{{
		SHA:       "0123456789abcdef0123456789abcdef01234567",
		Author:    forge.Identity{Name: "A", Email: "1001+alice@users.noreply.github.com"},
		Committer: forge.Identity{Name: "C", Email: "1005-carol@users.noreply.gitlab.example"},
		Message:   "scale\n\nCo-authored-by: Robert <42+bob@users.noreply.github.com>\nCo-authored-by: Dee <7-dave@users.noreply.gitlab.example>\n",
	}}
	got, err := localSignatures(t.Context(), nil, config.Signatures{}, commits)
	if err != nil {
		t.Fatal(err)
	}
	c := got[0]
	if c.Author.Login != "alice" || c.Committer.Login != "carol" {
		t.Errorf("author %q, committer %q; want alice and carol", c.Author.Login, c.Committer.Login)
	}
	if len(c.CoAuthors) != 2 || c.CoAuthors[0].Login != "bob" || c.CoAuthors[1].Login != "dave" {
		t.Errorf("co-authors %+v; want bob and dave", c.CoAuthors)
	}
}
