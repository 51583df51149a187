package github_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/github"
	"github.com/gitward/gitward/forge/github/githubtest"
)

// newGraphQLForge is newForge with the adapter built on the double's own
// ClientCreator, which names both the REST and the GraphQL address, as the
// server's configuration does.
func newGraphQLForge(t *testing.T) (*github.Forge, *githubtest.Server) {
	t.Helper()
	srv := githubtest.New(t)
	srv.AddInstallation(1, "acme")
	srv.AddRepo(1, "acme", "gitops", "main")
	return github.New(srv.ClientCreator(t), github.Options{AppID: githubtest.DefaultAppID}), srv
}

// TestCoAuthorsAreLinkedAsGitHubCreditsThem: each Co-authored-by trailer
// is the account GitHub links its e-mail to (GraphQL Commit.authors), even
// when neither the trailer's name nor its e-mail spells the login; a
// GitHub private address is the login it names; any other is linked to
// nobody.
func TestCoAuthorsAreLinkedAsGitHubCreditsThem(t *testing.T) {
	f, srv := newGraphQLForge(t)
	ref := addPR(srv)
	when := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	srv.AddUser("bob", 4242)
	srv.AddUserEmail("carol-w", "c.wu@home.example")
	alice := githubtest.Identity{Name: "Alice", Email: "alice@example.com", Login: "alice", Date: when}
	srv.AddCommit(repoName, 7, githubtest.Commit{SHA: sha(1), Author: alice, Committer: alice, Message: "Scale web"})
	srv.AddCommit(repoName, 7, githubtest.Commit{SHA: sha(2), Author: alice, Committer: alice,
		Message: "Pair on the limits\n\nCo-authored-by: Wu C. <C.Wu@home.example>\nCo-authored-by: Robert <4242+bob@users.noreply.github.com>\nCo-authored-by: Dan <dan@nowhere.example>"})
	unlinked := githubtest.Identity{Name: "Erin", Email: "77+erin@users.noreply.github.com", Date: when}
	srv.AddCommit(repoName, 7, githubtest.Commit{SHA: sha(3), Author: unlinked, Committer: unlinked, Message: "Tidy"})

	cs, err := f.Commits(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 || cs[0].CoAuthors != nil {
		t.Fatalf("commits = %+v", cs)
	}
	want := []forge.Identity{
		{Name: "Wu C.", Email: "C.Wu@home.example", Login: "carol-w"},
		{Name: "Robert", Email: "4242+bob@users.noreply.github.com", Login: "bob"},
		{Name: "Dan", Email: "dan@nowhere.example"},
	}
	if !slices.Equal(cs[1].CoAuthors, want) {
		t.Errorf("co-authors = %+v\nwant %+v", cs[1].CoAuthors, want)
	}
	if cs[2].Author.Login != "erin" || cs[2].Committer.Login != "erin" {
		t.Errorf("an identity with a GitHub private address: author %+v, committer %+v", cs[2].Author, cs[2].Committer)
	}
	if n := srv.Calls("graphql"); n != 1 {
		t.Errorf("made %d GraphQL requests, want 1", n)
	}
}

// TestCoAuthorsAreNotAskedForWithoutTrailers: a pull request whose
// commits name no co-author costs no GraphQL request.
func TestCoAuthorsAreNotAskedForWithoutTrailers(t *testing.T) {
	f, srv := newGraphQLForge(t)
	ref := addPR(srv)
	alice := githubtest.Identity{Name: "Alice", Email: "alice@example.com", Login: "alice", Date: time.Now()}
	srv.AddCommit(repoName, 7, githubtest.Commit{SHA: sha(1), Author: alice, Committer: alice, Message: "Scale web"})
	if _, err := f.Commits(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls("graphql"); n != 0 {
		t.Errorf("made %d GraphQL requests, want none", n)
	}
}

// TestCoAuthorsThatCannotBeReadFailClosed: when GitHub does not answer
// which accounts a trailer names, the commits are not returned, rather
// than returned with co-authors linked to nobody.
func TestCoAuthorsThatCannotBeReadFailClosed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(srv *githubtest.Server)
		want  string
	}{
		{"a server error", func(srv *githubtest.Server) { srv.FailNext("POST", "/graphql", http.StatusBadGateway, 1) }, "502"},
		{"a spent GraphQL rate limit", func(srv *githubtest.Server) { srv.SetGraphQLRateLimitRemaining(0) }, "rate limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newGraphQLForge(t)
			ref := addPR(srv)
			alice := githubtest.Identity{Name: "Alice", Email: "alice@example.com", Login: "alice", Date: time.Now()}
			srv.AddCommit(repoName, 7, githubtest.Commit{SHA: sha(1), Author: alice, Committer: alice,
				Message: "Pair\n\nCo-authored-by: Carol <c@home.example>"})
			tc.fault(srv)
			cs, err := f.Commits(context.Background(), ref)
			if err == nil || !strings.Contains(err.Error(), "co-author") && !strings.Contains(err.Error(), "commit authors") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Commits = %+v, %v; want an error about the commit authors saying %q", cs, err, tc.want)
			}
		})
	}
}

// TestTheGraphQLDoubleAnswersAsGitHubDoes: unknown fields, a connection
// without a page size and an unknown pull request get GitHub's errors.
func TestTheGraphQLDoubleAnswersAsGitHubDoes(t *testing.T) {
	_, srv := newGraphQLForge(t)
	addPR(srv)
	token := srv.InstallationToken(1)
	post := func(query string) (data map[string]any, errs []map[string]any) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Authorization", "bearer "+token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-RateLimit-Resource") != "graphql" {
			t.Fatalf("status %d, rate-limit resource %q", resp.StatusCode, resp.Header.Get("X-RateLimit-Resource"))
		}
		var out struct {
			Data   map[string]any   `json:"data"`
			Errors []map[string]any `json:"errors"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out.Data, out.Errors
	}

	if _, errs := post(`{ repository(owner: "acme", name: "gitops") { pullRequest(number: 7) { coauthors } } }`); len(errs) != 1 || !strings.Contains(errs[0]["message"].(string), "coauthors") {
		t.Errorf("an unknown field: errors %v", errs)
	}
	if _, errs := post(`{ repository(owner: "acme", name: "gitops") { pullRequest(number: 7) { commits { totalCount } } } }`); len(errs) != 1 || errs[0]["type"] != "MISSING_PAGINATION_BOUNDARIES" {
		t.Errorf("a connection without first or last: errors %v", errs)
	}
	data, errs := post(`{ repository(owner: "acme", name: "gitops") { pullRequest(number: 99) { number } } }`)
	if len(errs) != 1 || errs[0]["type"] != "NOT_FOUND" || data["repository"].(map[string]any)["pullRequest"] != nil {
		t.Errorf("an unknown pull request: data %v, errors %v", data, errs)
	}
}
