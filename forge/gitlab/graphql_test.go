package gitlab_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/gitlab"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
	gl "gitlab.com/gitlab-org/api/client-go"
)

const escProj = "/api/v4/projects/platform%2Finfra%2Fgitops"

func commentByID(t *testing.T, cs []forge.Comment, id int64) forge.Comment {
	t.Helper()
	for _, c := range cs {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no comment %d in %+v", id, cs)
	return forge.Comment{}
}

// TestReactedCommandIsNotEdited: gitward's award emoji moves the note's
// updated_at, as on GitLab, and that is no edit.
func TestReactedCommandIsNotEdited(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	for _, issue := range []bool{false, true} {
		th, id := fx.ref.Thread(), int64(0)
		if issue {
			iid := fx.srv.AddIssue(proj, "incident")
			th = forge.IssueThread(repo, int(iid))
			id = fx.srv.AddIssueNote(proj, iid, "bob", "/breakglass web scaling up for 30m")
		} else {
			id = fx.srv.AddNote(proj, int64(fx.iid), "bob", "/approve", false)
		}
		time.Sleep(2 * time.Millisecond)
		if err := fx.f.React(ctx, th, id, "+1"); err != nil {
			t.Fatal(err)
		}
		var notes []gitlabNote
		if issue {
			notes = notesOf(fx.srv.IssueNotes(proj, int64(th.Number)))
		} else {
			notes = notesOf(fx.srv.Notes(proj, int64(fx.iid)))
		}
		if n := notes[len(notes)-1]; !n.updated.After(n.created) {
			t.Fatalf("issue=%v: the award did not move updated_at: %+v", issue, n)
		}
		cs, err := fx.f.Comments(ctx, th)
		if err != nil {
			t.Fatal(err)
		}
		if c := commentByID(t, cs, id); c.Edited || c.User.Bot || !c.UpdatedAt.After(c.CreatedAt) {
			t.Fatalf("issue=%v: reacted-to command = %+v, want not edited", issue, c)
		}
	}
}

type gitlabNote struct{ created, updated time.Time }

func notesOf(ns []gl.Note) []gitlabNote {
	var out []gitlabNote
	for _, n := range ns {
		out = append(out, gitlabNote{created: *n.CreatedAt, updated: *n.UpdatedAt})
	}
	return out
}

func TestChangedBodyIsEdited(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	th := fx.ref.Thread()
	quick := fx.srv.AddNote(proj, int64(fx.iid), "bob", "LGTM", false)
	fx.srv.EditNote(proj, quick, "/approve") // within the second it was posted
	later := fx.srv.AddNote(proj, int64(fx.iid), "alice", "/approve", false)
	same := fx.srv.AddNote(proj, int64(fx.iid), "bob", "/unapprove", false)
	fx.srv.EditNote(proj, same, "/unapprove") // the same body: no edit, as on GitLab
	own, err := fx.f.CreateComment(ctx, th, "sticky v1")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // a lastEditedAt a second or more after the note
	fx.srv.EditNote(proj, later, "/approve abc123")
	if err := fx.f.EditComment(ctx, th, own.ID, "sticky v2"); err != nil {
		t.Fatal(err)
	}
	cs, err := fx.f.Comments(ctx, th)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]bool{quick: true, later: true, same: false, own.ID: true} {
		if c := commentByID(t, cs, id); c.Edited != want {
			t.Errorf("note %d %q: Edited = %v, want %v", id, c.Body, c.Edited, want)
		}
	}
	if _, ok := fx.srv.LastEditedAt(same); ok {
		t.Error("the double recorded an edit that changed nothing")
	}
}

func TestEditedComparesAtGraphQLsPrecision(t *testing.T) {
	created := time.Date(2025, 3, 1, 12, 0, 0, 500_000_000, time.UTC) // REST: milliseconds
	at := func(t time.Time) *time.Time { return &t }
	for _, tc := range []struct {
		last *time.Time
		want bool
	}{
		{nil, false},
		{at(created.Add(-time.Second).Truncate(time.Second)), false}, // before the note: no edit of it
		{at(created.Truncate(time.Second)), true},                    // the same second: cannot tell, so edited
		{at(created.Add(time.Second).Truncate(time.Second)), true},
	} {
		if got := gitlab.Edited(tc.last, created); got != tc.want {
			t.Errorf("edited(%v, %v) = %v, want %v", tc.last, created, got, tc.want)
		}
	}
}

func TestCommentsOfBotUsersAreBot(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	fx.srv.AddBot("project_42_bot_1f2e")
	fx.srv.AddBot("renovate-bot")
	token := fx.srv.AddNote(proj, int64(fx.iid), "project_42_bot_1f2e", "/approve", false)
	renovate := fx.srv.AddNote(proj, int64(fx.iid), "renovate-bot", "/breakglass web hotfix for 1h", false)
	person := fx.srv.AddNote(proj, int64(fx.iid), "bob", "/approve", false)
	cs, err := fx.f.Comments(context.Background(), fx.ref.Thread())
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]bool{token: true, renovate: true, person: false} {
		if c := commentByID(t, cs, id); c.User.Bot != want {
			t.Errorf("note by %s: Bot = %v, want %v", c.User.Login, c.User.Bot, want)
		}
	}
}

func TestCommentsFollowEveryGraphQLPage(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	fx.srv.SetGraphQLPageSize(2)
	fx.srv.AddBot("renovate-bot")
	var ids []int64
	for i := range 5 {
		user := "bob"
		if i == 4 {
			user = "renovate-bot"
		}
		ids = append(ids, fx.srv.AddNote(proj, int64(fx.iid), user, "/approve", false))
	}
	fx.srv.AddNote(proj, int64(fx.iid), "bob", "added 1 commit", true)
	fx.srv.EditNote(proj, ids[3], "/approve x")
	before := countRequests(fx.srv, "POST /api/graphql")
	cs, err := fx.f.Comments(context.Background(), fx.ref.Thread())
	if err != nil {
		t.Fatal(err)
	}
	if n := countRequests(fx.srv, "POST /api/graphql") - before; n != 3 {
		t.Errorf("%d GraphQL pages read, want 3 (6 notes, 2 a page)", n)
	}
	if len(cs) != 5 || !commentByID(t, cs, ids[3]).Edited || commentByID(t, cs, ids[2]).Edited || !commentByID(t, cs, ids[4]).User.Bot {
		t.Fatalf("comments = %+v", cs)
	}
}

// TestCommentsFailClosedWithoutGraphQL: without GraphQL's word, no note is
// guessed unedited or a person's.
func TestCommentsFailClosedWithoutGraphQL(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	fx.srv.AddNote(proj, int64(fx.iid), "bob", "/approve", false)
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound} {
		fx.srv.FailNext(http.MethodPost, "/api/graphql", status)
		if cs, err := fx.f.Comments(ctx, fx.ref.Thread()); err == nil || errors.Is(err, forge.ErrNotFound) {
			t.Fatalf("GraphQL %d: Comments = %+v, %v; want an error, not ErrNotFound", status, cs, err)
		}
	}
	fx.srv.FailNextGraphQL("Query has complexity of 300, which exceeds max complexity of 250")
	if cs, err := fx.f.Comments(ctx, fx.ref.Thread()); err == nil || !strings.Contains(err.Error(), "exceeds max complexity") {
		t.Fatalf("GraphQL error: Comments = %+v, %v; want the error", cs, err)
	}
	// A note GraphQL does not show (deleted between the two reads).
	fx.srv.AfterNext(http.MethodGet, escProj+"/merge_requests/1/notes", func() {
		n := fx.srv.AddNote(proj, int64(fx.iid), "alice", "x", false)
		if _, err := fx.srv.Client().Notes.DeleteMergeRequestNote(proj, int64(fx.iid), n, nil); err != nil {
			t.Error(err)
		}
	})
	if _, err := fx.f.Comments(ctx, fx.ref.Thread()); err != nil {
		t.Fatalf("a note posted and deleted between the reads: %v", err)
	}
	first := fx.srv.Notes(proj, int64(fx.iid))[0].ID
	fx.srv.AfterNext(http.MethodGet, escProj+"/merge_requests/1/notes", func() {
		if _, err := fx.srv.Client().Notes.DeleteMergeRequestNote(proj, int64(fx.iid), first, nil); err != nil {
			t.Error(err)
		}
	})
	if cs, err := fx.f.Comments(ctx, fx.ref.Thread()); err == nil || !strings.Contains(err.Error(), "GraphQL does not show note") {
		t.Fatalf("a listed note GraphQL does not show: %+v, %v", cs, err)
	}
	// The merge request GraphQL cannot see.
	if _, err := fx.f.Comments(ctx, forge.PRRef{Repo: repo, Number: 99}.Thread()); err == nil {
		t.Fatal("Comments of a missing merge request succeeded")
	}
}

func TestGraphQLPathBesideTheAPI(t *testing.T) {
	for base, want := range map[string]string{
		"https://gitlab.example.com/api/v4/":      "/api/graphql",
		"https://example.com/gitlab/api/v4/":      "/gitlab/api/graphql",
		"https://example.com/gitlab/api/v4":       "/gitlab/api/graphql",
		"https://example.com/git/lab/api/v4/":     "/git/lab/api/graphql",
		"https://gitlab.example.com:8443/api/v4/": "/api/graphql",
	} {
		u, _ := url.Parse(base)
		if got := gitlab.GraphQLPath(u); got != want {
			t.Errorf("GraphQLPath(%s) = %s, want %s", base, got, want)
		}
	}
}

func TestApprovalsOfBotUsersAreBot(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{ResetApprovalsOnPush: true})
	ctx := context.Background()
	fx.srv.AddBot("project_42_bot_1f2e")
	fx.srv.Approve(proj, int64(fx.iid), "project_42_bot_1f2e")
	fx.srv.Approve(proj, int64(fx.iid), "bob")
	fx.srv.Approve(proj, int64(fx.iid), gitlabtest.DefaultSelf)
	for range 2 {
		rs, err := fx.f.Reviews(ctx, fx.ref)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 3 || !rs[0].User.Bot || rs[1].User.Bot || rs[1].User.Login != "bob" || !rs[2].User.Bot {
			t.Fatalf("reviews = %+v", rs)
		}
	}
	// Whether a user is a bot is read once per user.
	n := 0
	for _, r := range fx.srv.Requests() {
		if strings.HasPrefix(r, "GET /api/v4/users/") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d user reads, want 2 (bob and the bot; gitward's own user is known)", n)
	}
}

// TestNoteWithoutAnAuthorIsNoPersons: GitLab shows no author for a note of
// a deleted user; such a note cannot carry a person's command.
func TestNoteWithoutAnAuthorIsNoPersons(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	fx.srv.AddUser("eve")
	id := fx.srv.AddNote(proj, int64(fx.iid), "eve", "/gitward approve", false)
	fx.srv.DeleteUser("eve")
	cs, err := fx.f.Comments(t.Context(), fx.ref.Thread())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.ID == id && !c.User.Bot {
			t.Errorf("a note without an author counts as a person's: %+v", c)
		}
	}
}
