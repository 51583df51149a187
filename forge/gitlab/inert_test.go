package gitlab_test

import (
	"strings"
	"testing"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
)

// TestBodiesNeverCarryQuickActions: text gitward sends (notes, issue and
// merge request descriptions) can quote what people wrote; a line of it
// starting with "/" would run as a GitLab quick action by gitward's token.
// The adapter escapes such lines outside code.
func TestBodiesNeverCarryQuickActions(t *testing.T) {
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := t.Context()
	hostile := "Reason given:\n/merge\n/approve\n```\n/kept-in-code\n```\n"
	c, err := fx.f.CreateComment(ctx, fx.ref.Thread(), hostile)
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.f.EditComment(ctx, fx.ref.Thread(), c.ID, hostile+"/label ~x\n"); err != nil {
		t.Fatal(err)
	}
	is, err := fx.f.CreateIssue(ctx, repo, forge.Issue{Title: "review", Body: hostile})
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.f.UpdatePullRequest(ctx, fx.ref, "t", hostile); err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{
		"note":        fx.srv.Notes(proj, int64(fx.iid))[0].Body,
		"issue":       fx.srv.Issue(proj, int64(is.Number)).Description,
		"description": fx.srv.MergeRequest(proj, int64(fx.iid)).Description,
	}
	for what, body := range bodies {
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "/") && line != "/kept-in-code" {
				t.Errorf("the %s has a quick action line %q:\n%s", what, line, body)
			}
		}
		if !strings.Contains(body, `\/merge`) || !strings.Contains(body, "\n/kept-in-code\n") {
			t.Errorf("the %s does not read as written:\n%s", what, body)
		}
	}
}
