package gitlab_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
)

func countRequests(srv *gitlabtest.Server, req string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r == req {
			n++
		}
	}
	return n
}

func TestSelfIsReadOnceAndErrorsAreNotCached(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	fx.srv.FailNext(http.MethodGet, "/api/v4/user", http.StatusForbidden)
	if _, err := fx.f.Self(ctx); err == nil {
		t.Fatal("Self succeeded on a failing GET /user")
	}
	var wg sync.WaitGroup
	users := make([]forge.User, 8)
	errs := make([]error, 8)
	for i := range users {
		wg.Go(func() { users[i], errs[i] = fx.f.Self(ctx) })
	}
	wg.Wait()
	for i, u := range users {
		if errs[i] != nil || u.Login != gitlabtest.DefaultSelf || u.ID == 0 || !u.Bot {
			t.Fatalf("Self = %+v, %v", u, errs[i])
		}
	}
	before := countRequests(fx.srv, "GET /api/v4/user")
	if u, err := fx.f.Self(ctx); err != nil || u.Login != gitlabtest.DefaultSelf {
		t.Fatalf("Self = %+v, %v", u, err)
	}
	if after := countRequests(fx.srv, "GET /api/v4/user"); after != before {
		t.Fatalf("Self read GET /user again: %d requests, then %d", before, after)
	}
}

func TestCommentsMarkTheTokensOwnNotesAsBot(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	th := fx.ref.Thread()
	c, err := fx.f.CreateComment(ctx, th, "sticky")
	if err != nil {
		t.Fatal(err)
	}
	if !c.User.Bot || c.User.Login != gitlabtest.DefaultSelf {
		t.Fatalf("created comment = %+v", c)
	}
	// A person quoting the sticky note's marker is still a person.
	fx.srv.AddNote(proj, int64(fx.iid), "bob", "sticky", false)
	cs, err := fx.f.Comments(ctx, th)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || !cs[0].User.Bot || cs[0].User.Login != gitlabtest.DefaultSelf || cs[1].User.Bot {
		t.Fatalf("comments = %+v", cs)
	}
}

func TestCommentsFollowAConfiguredSelf(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	fx.srv.SetSelf("alice") // a person's token: alice is no bot user
	fx.srv.AddNote(proj, int64(fx.iid), "alice", "by the token", false)
	fx.srv.AddNote(proj, int64(fx.iid), "bob", "by a person", false)
	// No longer the token's user, but still a bot user, as GraphQL says.
	fx.srv.AddNote(proj, int64(fx.iid), gitlabtest.DefaultSelf, "by another bot", false)
	cs, err := fx.f.Comments(context.Background(), fx.ref.Thread())
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 || !cs[0].User.Bot || cs[1].User.Bot || !cs[2].User.Bot {
		t.Fatalf("comments = %+v", cs)
	}
}

func TestCommentsFailWhenSelfIsUnknown(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	fx.srv.FailNext(http.MethodGet, "/api/v4/user", http.StatusForbidden)
	if _, err := fx.f.Comments(context.Background(), fx.ref.Thread()); err == nil {
		t.Fatal("Comments succeeded without knowing which notes are its own")
	}
}
