package e2e

import (
	"strings"
	"testing"

	"github.com/gitward/gitward/forge/github/githubtest"
)

// Scenarios on GitHub, each a user story told through the double's user
// actions and read back from what gitward wrote.

const (
	changeControl = "gitward/change-control"
	diffCheck     = "gitward/diff"
)

// scale is a change of podinfo's replicas.
func scale(n int) Change {
	return Change{Message: "Scale podinfo", Files: map[string]string{"apps/podinfo/deployment.yaml": Deployment(n)}}
}

// wantCheck fails the test unless the pull request's head has exactly one
// completed check run name with conclusion, whose title or summary says
// each of says.
func wantCheck(t *testing.T, w *GitHubWorld, pr int, name, conclusion string, says ...string) Check {
	t.Helper()
	c := w.Check(pr, name)
	if c.Status != "completed" || c.Conclusion != conclusion {
		t.Fatalf("%s on #%d head %.7s: %s/%s %q, want completed/%s\n%s", name, pr, w.Head(pr), c.Status, c.Conclusion, c.Title, conclusion, c.Summary)
	}
	for _, s := range says {
		if !strings.Contains(c.Title+"\n"+c.Summary, s) {
			t.Errorf("%s on #%d: title %q and summary do not say %q\n%s", name, pr, c.Title, s, c.Summary)
		}
	}
	if c.Count != 1 {
		t.Errorf("%s on #%d: %d runs on the head, want one updated in place", name, pr, c.Count)
	}
	return c
}

func newWorld(t *testing.T) *GitHubWorld {
	t.Parallel()
	return NewGitHubWorld(t, WorldOptions{})
}

func TestAliceOpensBobApprovesTheCheckTurnsGreen(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure", "0 of 1")
	w.Approve("bob", pr)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success")
}

func TestAlicePushesAfterBobApprovedTheCheckTurnsRedAndBobsApproveTurnsItGreen(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Approve("bob", pr)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success")
	w.Push("alice", "scale", scale(4))
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure", "0 of 1")
	w.Comment("bob", pr, "/approve")
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success")
}

func TestAliceCannotApproveHerOwnChange(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Approve("alice", pr)
	w.Comment("alice", pr, "/approve")
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure", "0 of 1")
}

func TestACoAuthorsApprovalDoesNotCountAnotherReviewersDoes(t *testing.T) {
	w := newWorld(t)
	c := scale(3)
	c.Trailers = []string{"Co-authored-by: Bob <bob@example.com>"}
	pr := w.Propose("alice", "scale", c)
	w.Approve("bob", pr)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure", "bob")
	w.Approve("carol", pr)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success")
}

func TestACoAuthorsSlashApproveDoesNotCount(t *testing.T) {
	w := newWorld(t)
	c := scale(3)
	c.Trailers = []string{"Co-authored-by: Bob <bob@example.com>"}
	pr := w.Propose("alice", "scale", c)
	id := w.Comment("bob", pr, "/approve")
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure")
	for _, r := range w.GH.Reactions(RepoName, id) {
		if r == "+1" {
			t.Errorf("a co-author's /approve got 👍, which says it was accepted")
		}
	}
	if !strings.Contains(strings.Join(w.BotComments(pr), "\n"), "co-author") {
		t.Errorf("no reply tells bob why his /approve does not count; gitward wrote: %q", w.BotComments(pr))
	}
}

func TestTheCommittersApprovalDoesNotCount(t *testing.T) {
	w := newWorld(t)
	c := scale(3)
	c.Committer = "bob"
	pr := w.Propose("alice", "scale", c)
	w.Approve("bob", pr)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure")
}

func TestAnUnsignedCommitFailsEvenWhenApproved(t *testing.T) {
	w := newWorld(t)
	c := scale(3)
	c.SignedBy = "-"
	pr := w.Propose("alice", "scale", c)
	w.Approve("bob", pr)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure", "not signed")
}

func TestACommitSignedWithSomeoneElsesKeyFails(t *testing.T) {
	w := newWorld(t)
	c := scale(3)
	c.SignedBy = "mallory"
	pr := w.Propose("alice", "scale", c)
	w.Approve("bob", pr)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure")
}

func TestASignedApprovedChangeShowsTheRenderedDiffInOneStickyComment(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	w.Push("alice", "scale", scale(5))
	w.Approve("bob", pr)
	w.Comment("carol", pr, "looks fine")
	w.Idle()
	sticky := w.Sticky(pr)
	if len(sticky) != 1 {
		t.Fatalf("got %d sticky comments, want exactly one updated in place:\n%s", len(sticky), strings.Join(sticky, "\n----\n"))
	}
	for _, want := range []string{"podinfo", "replicas: 5"} {
		if !strings.Contains(sticky[0], want) {
			t.Errorf("the sticky comment does not show %q:\n%s", want, sticky[0])
		}
	}
	if strings.Contains(sticky[0], "replicas: 3") {
		t.Errorf("the sticky comment still shows the first push:\n%s", sticky[0])
	}
	wantCheck(t, w, pr, diffCheck, "success")
}

func TestChangesRequestedAfterAnApprovalTurnTheCheckRed(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Approve("bob", pr)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success")
	w.Review("bob", pr, githubtest.RequestChanges)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure")
}

func TestDismissingTheRequestForChangesTurnsTheCheckGreen(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	block := w.Review("carol", pr, githubtest.RequestChanges)
	w.Approve("bob", pr)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure")
	w.Dismiss("dave", pr, block)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success")
}

func TestADismissedApprovalNoLongerCounts(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	review := w.Review("bob", pr, githubtest.Approve)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success")
	w.Dismiss("dave", pr, review)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure")
}

func TestSlashApproveIsAcceptedWithAThumbsUp(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	id := w.Comment("bob", pr, "/approve")
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success")
	if got := w.GH.Reactions(RepoName, id); !contains(got, "+1") {
		t.Errorf("reactions on bob's /approve: %v, want +1", got)
	}
}

func TestSlashUnapproveWithdrawsTheApproval(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	w.Comment("bob", pr, "/approve")
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success")
	w.Comment("bob", pr, "/unapprove")
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure")
}

func TestEditingAnApproveCommentWithdrawsIt(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	id := w.Comment("bob", pr, "/approve")
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success")
	w.EditComment("bob", id, "on second thought, not yet")
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure")
}

func TestDeletingAnApproveCommentWithdrawsIt(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	id := w.Comment("bob", pr, "/approve")
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success")
	w.DeleteComment("bob", id)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure")
}

func TestMalloryWithoutWriteAccessCannotApprove(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	id := w.Comment("mallory", pr, "/approve")
	w.Approve("mallory", pr)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure", "0 of 1")
	if got := w.GH.Reactions(RepoName, id); contains(got, "+1") {
		t.Errorf("mallory's /approve got %v, want no 👍", got)
	}
	replied := false
	for _, c := range w.BotComments(pr) {
		replied = replied || strings.Contains(c, "@mallory")
	}
	if !replied {
		t.Errorf("gitward did not tell mallory why her /approve was refused: %q", w.BotComments(pr))
	}
}

func TestSlashRecheckPicksUpAnApprovalWhoseWebhookWasLost(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	w.GH.SetDeliveryFault(func(event, action string) int {
		if event == "pull_request_review" {
			return 0
		}
		return 1
	})
	w.Approve("bob", pr)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure")
	w.Comment("carol", pr, "/recheck")
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success")
}

func TestResyncRepairsALostPush(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Approve("bob", pr)
	w.Idle()
	w.GH.SetDeliveryFault(func(string, string) int { return 0 })
	head := w.Push("alice", "scale", scale(4))
	w.Idle()
	if c := w.CheckOn(head, changeControl); c.Status != "" {
		t.Fatalf("gitward checked %.7s without any delivery: %+v", head, c)
	}
	w.GH.SetDeliveryFault(nil)
	w.Resync()
	wantCheck(t, w, pr, changeControl, "failure", "0 of 1")
}

func TestDuplicatedDeliveriesLeaveOneCheckAndOneStickyComment(t *testing.T) {
	w := newWorld(t)
	w.GH.SetDeliveryFault(func(string, string) int { return 3 })
	pr := w.Propose("alice", "scale", scale(3))
	w.Approve("bob", pr)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success")
	wantCheck(t, w, pr, diffCheck, "success")
	if n := len(w.Sticky(pr)); n != 1 {
		t.Errorf("got %d sticky comments, want 1", n)
	}
}

func TestAPullRequestCannotWeakenItsOwnPolicy(t *testing.T) {
	w := newWorld(t)
	base := w.GH.Files(RepoName, Main)[".gitward.yaml"]
	weak := strings.Replace(base, "required: 1", "required: 0", 1)
	pr := w.Propose("alice", "weaken", Change{Message: "Need no approvals", Files: map[string]string{
		".gitward.yaml":                weak,
		"apps/podinfo/deployment.yaml": Deployment(9),
	}})
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure", "0 of 1")
}

func TestAPlaintextSecretFailsNamingItsFile(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "secret", Change{Message: "Add a token", Files: map[string]string{
		"apps/podinfo/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: podinfo\nresources:\n  - deployment.yaml\n  - secret.yaml\n",
		"apps/podinfo/secret.yaml":        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  token: hunter2-very-secret\n",
	}})
	w.Approve("bob", pr)
	w.Idle()
	c := wantCheck(t, w, pr, changeControl, "failure", "apps/podinfo/secret.yaml")
	for _, body := range append(w.BotComments(pr), c.Title, c.Summary, c.Text) {
		if strings.Contains(body, "hunter2") {
			t.Fatalf("gitward leaked the secret's value:\n%s", body)
		}
	}
}

func TestBreakGlassByAResponderTurnsTheCheckGreenAndLabelsThePullRequest(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "hotfix", scale(6))
	w.Idle()
	w.Comment("dave", pr, "/breakglass checkout is down, scaling up")
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success", "Break-glass by @dave")
	if got := w.GH.Labels(RepoName, pr); !contains(got, "break-glass") {
		t.Errorf("labels %v, want break-glass", got)
	}
}

func TestBreakGlassBySomeoneWhoIsNoResponderIsRefused(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "hotfix", scale(6))
	w.Idle()
	id := w.Comment("bob", pr, "/breakglass trust me")
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure")
	if got := w.GH.Reactions(RepoName, id); contains(got, "+1") {
		t.Errorf("bob's /breakglass got %v, want it refused", got)
	}
}

func TestABreakGlassMergeOpensAPostIncidentReviewThatAnApprovalCloses(t *testing.T) {
	w := newWorld(t)
	pr := w.Propose("alice", "hotfix", scale(6))
	w.Idle()
	w.Comment("dave", pr, "/breakglass checkout is down")
	w.Idle()
	w.Merge("dave", pr)
	w.Idle()
	var review githubtest.Issue
	for _, is := range w.Issues() {
		if strings.HasPrefix(is.Title, "Post-incident review") {
			review = is
		}
	}
	if review.Number == 0 {
		t.Fatalf("no post-incident review issue; issues: %+v", w.Issues())
	}
	recs := w.Ledger()
	if len(recs) != 1 {
		t.Fatalf("ledger has %d records after the merge, want 1", len(recs))
	}
	w.Comment("bob", review.Number, "/approve")
	w.Idle()
	recs = w.Ledger()
	if len(recs) != 2 {
		t.Fatalf("ledger has %d records after the post-incident approval, want 2 (the merge and its retroactive review)", len(recs))
	}
}

func TestEachMergeWritesOneLedgerRecordAndTheChainVerifies(t *testing.T) {
	w := newWorld(t)
	var prs []int
	for i, branch := range []string{"one", "two", "three"} {
		pr := w.Propose("alice", branch, Change{Message: "Add config " + branch, Files: map[string]string{"apps/podinfo/" + branch + ".txt": branch}})
		w.Approve([]string{"bob", "carol", "bob"}[i], pr)
		prs = append(prs, pr)
	}
	w.Idle()
	for _, pr := range prs {
		wantCheck(t, w, pr, changeControl, "success")
		w.Merge("carol", pr)
	}
	w.Idle()
	recs := w.Ledger()
	if len(recs) != len(prs) {
		t.Fatalf("ledger has %d records, want one per merge (%d)", len(recs), len(prs))
	}
	for i, r := range recs {
		if r.Seq != i+1 {
			t.Errorf("record %d has seq %d", i, r.Seq)
		}
	}
}

func TestADirectPushToMainIsReportedAndRecorded(t *testing.T) {
	w := newWorld(t)
	w.Push("alice", Main, scale(7))
	w.Idle()
	found := false
	for _, is := range w.Issues() {
		found = found || strings.Contains(is.Title, "Unreviewed change pushed to main by @alice")
	}
	if !found {
		t.Errorf("no issue about alice's direct push; issues: %+v", w.Issues())
	}
	if recs := w.Ledger(); len(recs) != 1 {
		t.Errorf("ledger has %d records, want the unreviewed push", len(recs))
	}
}

func TestAForgedWebhookIsRefused(t *testing.T) {
	w := newWorld(t)
	req := githubtest.SignedRequest(t, w.Gitward[0].URL+"/api/github/hook", "issue_comment", githubtest.Payload(t, "issue_comment", "created.payload.json"), "not-the-secret")
	res, err := w.GH.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 && res.StatusCode != 403 && res.StatusCode != 400 {
		t.Errorf("a forged delivery got %d, want it refused", res.StatusCode)
	}
}

func TestTwoReplicasServingTheSameRepositoryAgree(t *testing.T) {
	w := newWorld(t)
	second := w.Start()
	pr := w.Propose("alice", "scale", scale(3))
	w.Deliver(w.Gitward[0])
	w.Approve("bob", pr)
	w.Deliver(second)
	w.Comment("carol", pr, "/recheck")
	w.Idle()
	// Two replicas racing on one head may each create a run of the same
	// name; the newest is the one GitHub shows and requires.
	if c := w.Check(pr, changeControl); c.Conclusion != "success" {
		t.Errorf("the newest %s is %s %q, want success", changeControl, c.Conclusion, c.Title)
	}
	if n := len(w.Sticky(pr)); n != 1 {
		t.Errorf("got %d sticky comments from two replicas, want 1", n)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
