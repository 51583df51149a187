package handlers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/forge/github/githubtest"
)

func TestBreakGlassWindowOnAnIncidentIssue(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 2, policy: withResponders + "  max_window: 2h\n"})
	fx.gh.SetRef(ccRepo, "heads/master", ccBase)
	fx.gh.SetPermission(ccRepo, "oncall", "write")
	fx.gh.SetPermission(ccRepo, "reviewer", "write")
	incident := fx.gh.AddIssue(ccRepo, githubtest.Issue{Title: "Payments are down", Body: "pager", Author: "oncall", State: "open"})
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

	say := func(user, text string) (int64, string) {
		t.Helper()
		id := fx.gh.AddComment(ccRepo, incident, githubtest.Comment{User: user, Body: text, CreatedAt: at, UpdatedAt: at})
		payload := rewrite(t, fx.issueCommentEvent(incident, "pager", id, user, text), map[string]any{"comment.created_at": at.Format(time.RFC3339)})
		fx.deliver("issue_comment", payload)
		cs := fx.gh.Comments(ccRepo, incident)
		return id, cs[len(cs)-1].Body
	}
	reaction := func(id int64) string {
		r := fx.gh.Reactions(ccRepo, id)
		if len(r) != 1 {
			return strings.Join(r, ",")
		}
		return r[0]
	}

	// Someone who is not a responder is refused, and the issue stays unlabelled.
	id, reply := say("reviewer", "/breakglass prod failing over the database")
	if reaction(id) != "confused" || !strings.Contains(reply, "@reviewer") || !strings.Contains(reply, "not accepted") {
		t.Errorf("non-responder: reaction %q, reply %q", reaction(id), reply)
	}
	if l := fx.gh.Labels(ccRepo, incident); len(l) != 0 {
		t.Errorf("issue labelled %v after a refused /breakglass", l)
	}

	// A responder opens a window with the default length.
	id, reply = say("oncall", "/breakglass prod failing over the database")
	want := "Break-glass window open for prod until 2026-03-01 11:00 (UTC): drift there is reported as expected, linked to this issue; when it closes gitward opens a capture pull request."
	if reaction(id) != "+1" || !strings.Contains(reply, want) {
		t.Errorf("responder: reaction %q, reply %q", reaction(id), reply)
	}
	if l := fx.gh.Labels(ccRepo, incident); len(l) != 1 || l[0] != "break-glass" {
		t.Errorf("issue labelled %v, want break-glass", l)
	}

	// Too long a window is cut to max_window, and the reply says so.
	id, reply = say("oncall", "/breakglass payments rolling back for 10h")
	if reaction(id) != "+1" || !strings.Contains(reply, "max_window") || !strings.Contains(reply, "until 2026-03-01 12:00 (UTC)") {
		t.Errorf("long window: reaction %q, reply %q", reaction(id), reply)
	}

	// A malformed command is refused with the form to write.
	id, reply = say("oncall", "/breakglass prod")
	if reaction(id) != "confused" || !strings.Contains(reply, "cluster or app") {
		t.Errorf("malformed: reaction %q, reply %q", reaction(id), reply)
	}

	// /breakglass end closes it.
	id, reply = say("oncall", "/breakglass end")
	if reaction(id) != "+1" || !strings.Contains(reply, "window closed") {
		t.Errorf("end: reaction %q, reply %q", reaction(id), reply)
	}

	// Ordinary comments get no answer.
	n := len(fx.gh.Comments(ccRepo, incident))
	id, _ = say("oncall", "rolled back, watching")
	if len(fx.gh.Comments(ccRepo, incident)) != n+1 || reaction(id) != "" {
		t.Errorf("an ordinary comment was answered")
	}
}
