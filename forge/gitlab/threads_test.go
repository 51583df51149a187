package gitlab_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
	gl "gitlab.com/gitlab-org/api/client-go"
)

func TestIssueNotesCRUDAndReactions(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	iid := fx.srv.AddIssue(proj, "incident review")
	th := forge.IssueThread(repo, int(iid))
	c, err := fx.f.CreateComment(ctx, th, "sticky v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.f.EditComment(ctx, th, c.ID, "sticky v2"); err != nil {
		t.Fatal(err)
	}
	cmd := fx.srv.AddIssueNote(proj, iid, "bob", "/ack")
	cs, err := fx.f.Comments(ctx, th)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].ID != c.ID || cs[0].Body != "sticky v2" || cs[1].ID != cmd || cs[1].User.Login != "bob" {
		t.Fatalf("comments = %+v", cs)
	}
	for _, r := range []string{"+1", "+1", "eyes"} {
		if err := fx.f.React(ctx, th, cmd, r); err != nil {
			t.Fatalf("React(%s): %v", r, err)
		}
	}
	if got := fx.srv.Awards(cmd); !slices.Equal(got, []string{"thumbsup", "eyes"}) {
		t.Fatalf("awards = %v", got)
	}
	if err := fx.f.React(ctx, th, 999999, "+1"); err == nil {
		t.Fatal("award on a note that does not exist succeeded")
	}
	if err := fx.f.DeleteComment(ctx, th, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := fx.f.DeleteComment(ctx, th, c.ID); err != nil {
		t.Fatalf("deleting a deleted note: %v", err)
	}
	if n := fx.srv.IssueNotes(proj, iid); len(n) != 1 || n[0].ID != cmd || n[0].NoteableType != "Issue" {
		t.Fatalf("issue notes after delete = %+v", n)
	}
}

func TestMergeRequestAwardOnMissingNoteIsAnError(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	if err := fx.f.React(context.Background(), fx.ref.Thread(), 999999, "+1"); err == nil {
		t.Fatal("award on a note that does not exist succeeded")
	}
}

func TestIssueLabels(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	iid := fx.srv.AddIssue(proj, "incident review", "incident")
	th := forge.IssueThread(repo, int(iid))
	if err := fx.f.AddLabels(ctx, th, "post-incident", "incident"); err != nil {
		t.Fatal(err)
	}
	if err := fx.f.RemoveLabel(ctx, th, "incident"); err != nil {
		t.Fatal(err)
	}
	if err := fx.f.RemoveLabel(ctx, th, "absent"); err != nil {
		t.Fatal(err)
	}
	if l := fx.srv.Issue(proj, iid).Labels; !slices.Equal(l, gl.Labels{"post-incident"}) {
		t.Fatalf("issue labels = %v", l)
	}
	if l := fx.srv.MergeRequest(proj, int64(fx.iid)).Labels; !slices.Equal(l, gl.Labels{"env:prod"}) {
		t.Fatalf("merge request labels changed: %v", l)
	}
	got, err := fx.f.IssuesLabelled(ctx, repo, "post-incident")
	if err != nil || len(got) != 1 || got[0].Number != int(iid) {
		t.Fatalf("IssuesLabelled = %+v, %v", got, err)
	}
}

// TestMergeRequestAndIssueOfTheSameNumberAreApart: !1 and #1 both exist in
// one project, and nothing addressed to one reaches the other.
func TestMergeRequestAndIssueOfTheSameNumberAreApart(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	iid := fx.srv.AddIssue(proj, "incident review")
	if int(iid) != fx.iid {
		t.Fatalf("issue #%d and merge request !%d: the test needs equal numbers", iid, fx.iid)
	}
	mrT, isT := fx.ref.Thread(), forge.IssueThread(repo, int(iid))
	mrNote := fx.srv.AddNote(proj, int64(fx.iid), "bob", "on the merge request", false)
	isNote := fx.srv.AddIssueNote(proj, iid, "bob", "on the issue")

	for _, tc := range []struct {
		th   forge.Thread
		want int64
	}{{mrT, mrNote}, {isT, isNote}} {
		cs, err := fx.f.Comments(ctx, tc.th)
		if err != nil || len(cs) != 1 || cs[0].ID != tc.want {
			t.Fatalf("Comments(%+v) = %+v, %v; want only note %d", tc.th, cs, err, tc.want)
		}
	}
	// A note of one thread cannot be edited, awarded or deleted through
	// the other.
	if err := fx.f.EditComment(ctx, isT, mrNote, "x"); err == nil {
		t.Error("edited a merge request note through the issue")
	}
	if err := fx.f.React(ctx, mrT, isNote, "eyes"); err == nil {
		t.Error("awarded an issue note through the merge request")
	}
	if err := fx.f.DeleteComment(ctx, isT, mrNote); err != nil {
		t.Fatal(err) // an absent note is not an error
	}
	if n := fx.srv.Notes(proj, int64(fx.iid)); len(n) != 1 || n[0].Body != "on the merge request" {
		t.Fatalf("merge request notes = %+v", n)
	}

	c, err := fx.f.CreateComment(ctx, isT, "issue only")
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.f.AddLabels(ctx, isT, "issue-only"); err != nil {
		t.Fatal(err)
	}
	if n := fx.srv.Notes(proj, int64(fx.iid)); len(n) != 1 {
		t.Fatalf("an issue note reached the merge request: %+v", n)
	}
	if n := fx.srv.IssueNotes(proj, iid); len(n) != 2 || n[1].ID != c.ID {
		t.Fatalf("issue notes = %+v", n)
	}
	if l := fx.srv.MergeRequest(proj, int64(fx.iid)).Labels; slices.Contains(l, "issue-only") {
		t.Fatalf("an issue label reached the merge request: %v", l)
	}
	if l := fx.srv.Issue(proj, iid).Labels; !slices.Equal(l, gl.Labels{"issue-only"}) {
		t.Fatalf("issue labels = %v", l)
	}
}
