package report_test

import (
	"strings"
	"testing"

	"github.com/gitward/gitward/forge"
	ghforge "github.com/gitward/gitward/forge/github"
	"github.com/gitward/gitward/forge/github/githubtest"
)

func newForge(t *testing.T) (*ghforge.Forge, *githubtest.Server, forge.PRRef) {
	t.Helper()
	gh := githubtest.New(t)
	clients := gh.ClientCreator(t)
	gh.AddInstallation(7, "octo-org")
	gh.AddRepo(7, "octo-org", "clusters", "main")
	n := gh.AddPullRequest("octo-org/clusters", githubtest.PullRequest{Author: "alice", BaseSHA: strings.Repeat("1", 40), HeadRef: "x", HeadSHA: strings.Repeat("2", 40)})
	repo := forge.Repo{Host: "github.com", Owner: "octo-org", Name: "clusters", InstallationID: 7}
	return ghforge.New(clients, ghforge.Options{AppID: githubtest.DefaultAppID}), gh, forge.PRRef{Repo: repo, Number: n}
}

func bodies(parts ...string) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = sticky.Marker(i+1, len(parts)) + p
	}
	return out
}

func publish(t *testing.T, f *ghforge.Forge, pr forge.PRRef, b []string) {
	t.Helper()
	existing, err := f.Comments(t.Context(), pr.Thread())
	if err != nil {
		t.Fatal(err)
	}
	if err := sticky.Publish(t.Context(), f, pr.Thread(), existing, b); err != nil {
		t.Fatal(err)
	}
}

func texts(gh *githubtest.Server, pr forge.PRRef) []string {
	var out []string
	for _, c := range gh.Comments("octo-org/clusters", pr.Number) {
		out = append(out, c.User+": "+c.Body)
	}
	return out
}

func TestStickyCommentIsEditedInPlaceAndTrimmed(t *testing.T) {
	f, gh, pr := newForge(t)
	publish(t, f, pr, bodies("one", "two", "three"))
	first := gh.Comments("octo-org/clusters", pr.Number)
	if len(first) != 3 {
		t.Fatalf("got %d comments, want 3 parts", len(first))
	}

	gh.ResetRequests()
	publish(t, f, pr, bodies("one", "two", "three"))
	if n := gh.Calls("issues/update-comment") + gh.Calls("issues/create-comment") + gh.Calls("issues/delete-comment"); n != 0 {
		t.Errorf("republishing the same text made %d writes", n)
	}

	publish(t, f, pr, bodies("uno"))
	got := gh.Comments("octo-org/clusters", pr.Number)
	if len(got) != 1 {
		t.Fatalf("after shrinking: %v", texts(gh, pr))
	}
	if got[0].ID != first[0].ID || got[0].Body != sticky.Marker(1, 1)+"uno" {
		t.Errorf("part 1 was not edited in place: %+v", got[0])
	}

	publish(t, f, pr, nil)
	if got := gh.Comments("octo-org/clusters", pr.Number); len(got) != 0 {
		t.Errorf("publishing nothing left %v", texts(gh, pr))
	}
}

func TestStickyIgnoresPeopleAndOtherKinds(t *testing.T) {
	f, gh, pr := newForge(t)
	gh.AddComment("octo-org/clusters", pr.Number, githubtest.Comment{User: "mallory", Body: sticky.Marker(1, 1) + "fake verdict"})
	other := githubtestBot(gh, pr, "<!-- gitward:change-control part 1 of 1 -->\nmine")
	publish(t, f, pr, bodies("real"))
	got := gh.Comments("octo-org/clusters", pr.Number)
	if len(got) != 3 {
		t.Fatalf("comments: %v", texts(gh, pr))
	}
	if got[0].Body != sticky.Marker(1, 1)+"fake verdict" {
		t.Errorf("a person's comment was edited")
	}
	if got[1].ID != other || !strings.HasSuffix(got[1].Body, "mine") {
		t.Errorf("another kind of gitward comment was touched")
	}
	if got[2].User != "gitward[bot]" || got[2].Body != sticky.Marker(1, 1)+"real" {
		t.Errorf("gitward's comment = %+v", got[2])
	}
}

func TestStickyRemovesDuplicatePartsFromARace(t *testing.T) {
	f, gh, pr := newForge(t)
	publish(t, f, pr, bodies("a"))
	// A second replica, racing, posted the same part again.
	if _, err := f.CreateComment(t.Context(), pr.Thread(), sticky.Marker(1, 1)+"a"); err != nil {
		t.Fatal(err)
	}
	publish(t, f, pr, bodies("b"))
	got := gh.Comments("octo-org/clusters", pr.Number)
	if len(got) != 1 || got[0].Body != sticky.Marker(1, 1)+"b" {
		t.Errorf("comments: %v", texts(gh, pr))
	}
}

// githubtestBot posts a comment as gitward itself through the API.
func githubtestBot(gh *githubtest.Server, pr forge.PRRef, body string) int64 {
	return gh.AddComment("octo-org/clusters", pr.Number, githubtest.Comment{User: "gitward[bot]", Body: body})
}

// TestStickyCommentWithASlashLineIsNotEditedAgain: the forge stores a
// body as the adapter sent it, with lines that start with "/" made inert;
// publishing the same body again compares with that form and edits
// nothing.
func TestStickyCommentWithASlashLineIsNotEditedAgain(t *testing.T) {
	f, gh, pr := newForge(t)
	b := bodies("reason given:\n/merge\n")
	publish(t, f, pr, b)
	if got := gh.Comments("octo-org/clusters", pr.Number); len(got) != 1 || !strings.Contains(got[0].Body, `\/merge`) {
		t.Fatalf("comments = %+v", got)
	}
	gh.ResetRequests()
	publish(t, f, pr, b)
	if n := gh.Calls("issues/update-comment") + gh.Calls("issues/create-comment"); n != 0 {
		t.Errorf("%d writes to publish an unchanged comment again", n)
	}
}
