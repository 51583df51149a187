package handlers_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/forge/github/githubtest"
	"github.com/rs/zerolog"
)

// issueCommentEvent is the real issue_comment payload for comment id on
// issue number, an issue and not a pull request.
func (fx *ccFixture) issueCommentEvent(number int, body string, id int64, user, text string) []byte {
	return rewrite(fx.t, githubtest.Payload(fx.t, "issue_comment", "created.with-installation.payload.json"), map[string]any{
		"issue.number": number, "issue.body": body,
		"comment.id": id, "comment.body": text, "comment.user.login": user, "sender.login": user,
	})
}

func TestABreakGlassMergeGetsAPostIncidentReviewThatRecordsARetroactiveApproval(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 2, policy: withResponders})
	fx.gh.SetPermission(ccRepo, "oncall", "write")
	fx.gh.SetPermission(ccRepo, "reviewer", "write")
	fx.gh.SetPermission(ccRepo, "reader", "read")
	fx.post("oncall", "/breakglass database is down", time.Now().Add(-10*time.Minute))
	fx.gh.MergePullRequest(ccRepo, 2, ccMerge, mergedAt)

	h := fx.mergedHandler()
	ctx := zerolog.New(fx.log).WithContext(t.Context())
	for _, d := range []string{"d1", "d2"} {
		if err := h.Handle(ctx, "pull_request", d, mergedPayload(t)); err != nil {
			t.Fatal(err)
		}
	}
	var reviews []githubtest.Issue
	for _, is := range fx.gh.Issues(ccRepo) {
		if strings.HasPrefix(is.Title, "Post-incident review") {
			reviews = append(reviews, is)
		}
	}
	if len(reviews) != 1 {
		t.Fatalf("%d post-incident reviews after two deliveries, want 1", len(reviews))
	}
	issue := reviews[0]
	if issue.Title != "Post-incident review: #2 Scale podinfo" || !strings.Contains(strings.Join(issue.Labels, ","), "post-incident") || !strings.Contains(strings.Join(issue.Labels, ","), "break-glass") {
		t.Errorf("issue %q labelled %v", issue.Title, issue.Labels)
	}
	for _, want := range []string{"@oncall", "database is down", "https://github.com/Codertocat/Hello-World/pull/2", ccMerge, "`/approve`", "<!-- gitward:post-incident pr=2 -->"} {
		if !strings.Contains(issue.Body, want) {
			t.Errorf("issue body does not say %q:\n%s", want, issue.Body)
		}
	}
	recs := fx.ledger()
	if len(recs) != 1 || recs[0].BreakGlass == nil || !strings.HasSuffix(recs[0].BreakGlass.PostIncidentIssue, "/issues/"+itoa(issue.Number)) {
		t.Fatalf("ledger %+v does not link the review", recs)
	}

	say := func(user, text string) int64 {
		id := fx.gh.AddComment(ccRepo, issue.Number, githubtest.Comment{User: user, Body: text, CreatedAt: time.Now(), UpdatedAt: time.Now()})
		fx.deliver("issue_comment", fx.issueCommentEvent(issue.Number, issue.Body, id, user, text))
		return id
	}
	for user, why := range map[string]string{ccAuthor: "opened", "oncall": "broke glass", "reader": "read permission"} {
		id := say(user, "/approve")
		if r := fx.gh.Reactions(ccRepo, id); len(r) != 1 || r[0] != "confused" {
			t.Errorf("%s: reactions %v, want confused", user, r)
		}
		cs := fx.gh.Comments(ccRepo, issue.Number)
		if last := cs[len(cs)-1]; !strings.Contains(last.Body, "@"+user) || !strings.Contains(last.Body, why) {
			t.Errorf("%s was refused with %q, want it to say %q", user, last.Body, why)
		}
	}
	if n := len(fx.ledger()); n != 1 {
		t.Fatalf("%d records after refused approvals, want 1", n)
	}

	id := say("reviewer", "/approve")
	if r := fx.gh.Reactions(ccRepo, id); len(r) != 1 || r[0] != "+1" {
		t.Errorf("reviewer: reactions %v, want +1", r)
	}
	for _, is := range fx.gh.Issues(ccRepo) {
		if is.Number == issue.Number && is.State != "closed" {
			t.Errorf("the review is %s after the approval, want closed", is.State)
		}
	}
	recs = fx.ledger()
	if len(recs) != 2 {
		t.Fatalf("%d records, want the merge and the retroactive approval", len(recs))
	}
	if recs[0].Seq > recs[1].Seq {
		recs[0], recs[1] = recs[1], recs[0]
	}
	retro := recs[1]
	if retro.Kind != audit.KindRetroactive || retro.BreakGlass == nil || retro.BreakGlass.RetroactiveApproval == nil ||
		retro.BreakGlass.RetroactiveApproval.User != "reviewer" || retro.BreakGlass.RetroactiveApproval.ID != id ||
		retro.BreakGlass.PostIncidentIssue != recs[0].BreakGlass.PostIncidentIssue || retro.Covers[0] != ccMerge {
		t.Errorf("retroactive record = %+v break glass %+v", retro, retro.BreakGlass)
	}
	// The ledger still chains and reads under the schema.
	for _, r := range recs {
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", r.Describe(), err)
		}
	}
	enc, err := audit.Encode(recs[0])
	if err != nil || retro.PrevHash != audit.Hash(enc) || retro.Seq != 2 {
		t.Errorf("record 2 does not link to record 1: %v", err)
	}
	ev := audit.Evidences([]audit.Stored{{Record: recs[0]}, {Record: retro}})
	if len(ev) != 1 || ev[0].BreakGlass.RetroactiveApproval == nil || ev[0].BreakGlass.RetroactiveApproval.User != "reviewer" {
		t.Errorf("export does not show the retroactive approval with the change: %+v", ev)
	}

	// A second approval finds the review done.
	say("maintainer2", "/approve")
	if n := len(fx.ledger()); n != 2 {
		t.Errorf("%d records after a second approval, want 2", n)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
