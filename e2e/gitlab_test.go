package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gitward/gitward/internal/livetest"
	"k8s.io/client-go/dynamic"
)

// Scenarios on GitLab, the same user stories as on GitHub where GitLab
// behaves the same, told through the GitLab double's user actions and read
// back from gitward's commit statuses and notes.

// wantStatus fails the test unless the merge request's head has
// gitward's status name in state, its description saying each of says.
func wantStatus(t *testing.T, w *GitLabWorld, pr int, name, state string, says ...string) Check {
	t.Helper()
	c := w.Check(pr, name)
	if c.Conclusion != state {
		t.Fatalf("%s on !%d head %.7s: %q %q, want %s", name, pr, w.Head(pr), c.Conclusion, c.Title, state)
	}
	for _, s := range says {
		if !strings.Contains(c.Title, s) {
			t.Errorf("%s on !%d: description %q does not say %q", name, pr, c.Title, s)
		}
	}
	return c
}

func newGitLabWorld(t *testing.T) *GitLabWorld {
	t.Parallel()
	return NewGitLabWorld(t, WorldOptions{})
}

// awards returns the emoji gitward awarded a note.
func (w *GitLabWorld) awards(note int64) []string { return w.GL.Awards(note) }

func TestGitLabAliceOpensBobApprovesTheStatusTurnsGreen(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed", "0 of 1")
	w.Approve("bob", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success")
	wantStatus(t, w, pr, diffCheck, "success")
}

func TestGitLabAlicePushesAfterBobApprovedTheStatusTurnsRedAndBobsApproveTurnsItGreen(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Approve("bob", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success")
	// GitLab keeps bob's approval listed (the project does not reset
	// approvals on push), but it was given before the new head.
	w.Push("alice", "scale", scale(4))
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed", "0 of 1")
	w.Comment("bob", pr, "/gitward approve")
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success")
	// Revoking and giving the approval again on the new head counts too.
	w.Comment("bob", pr, "/gitward unapprove")
	w.Unapprove("bob", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed", "0 of 1")
	w.Approve("bob", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success")
}

func TestGitLabAliceCannotApproveHerOwnChange(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Approve("alice", pr)
	id := w.Comment("alice", pr, "/gitward approve")
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed", "0 of 1")
	if got := w.awards(id); !contains(got, "confused") || contains(got, "thumbsup") {
		t.Errorf("awards on alice's own /gitward approve: %v, want confused", got)
	}
}

func TestGitLabTheCommittersApprovalDoesNotCount(t *testing.T) {
	w := newGitLabWorld(t)
	c := scale(3)
	c.Committer = "bob"
	pr := w.Propose("alice", "scale", c)
	w.Approve("bob", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed", "0 of 1")
	w.Approve("carol", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success")
}

func TestGitLabAnotherAuthorsCommitExcludesThemFromApproving(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Push("bob", "scale", Change{Message: "Tune", Files: map[string]string{"apps/podinfo/note.txt": "tuned"}})
	w.Approve("bob", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed", "0 of 1")
	w.Approve("carol", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success")
}

func TestGitLabACoAuthorNamedByPrivateCommitAddressCannotApprove(t *testing.T) {
	w := newGitLabWorld(t)
	c := scale(3)
	// The name is no login: only the address says who bob is.
	c.Trailers = []string{"Co-authored-by: Robert Tables <" + w.Users["bob"].Email + ">"}
	pr := w.Propose("alice", "scale", c)
	w.Approve("bob", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed", "0 of 1")
	w.Approve("carol", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success")
}

func TestGitLabAnUnsignedCommitFailsEvenWhenApproved(t *testing.T) {
	w := newGitLabWorld(t)
	c := scale(3)
	c.SignedBy = "-"
	pr := w.Propose("alice", "scale", c)
	w.Approve("bob", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed", "sign")
}

func TestGitLabACommitSignedWithSomeoneElsesKeyFails(t *testing.T) {
	w := newGitLabWorld(t)
	c := scale(3)
	c.SignedBy = "mallory"
	pr := w.Propose("alice", "scale", c)
	w.Approve("bob", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed")
}

func TestGitLabSlashApproveIsAcceptedWithAThumbsUpAndUnapproveWithdrawsIt(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	id := w.Comment("bob", pr, "/gitward approve")
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success")
	if got := w.awards(id); !contains(got, "thumbsup") {
		t.Errorf("awards on bob's /gitward approve: %v, want thumbsup", got)
	}
	w.Comment("bob", pr, "/gitward unapprove")
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed", "0 of 1")
}

func TestGitLabEditingAnApproveNoteWithdrawsIt(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	id := w.Comment("bob", pr, "/gitward approve")
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success")
	w.EditComment("bob", id, "on second thought, not yet")
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed", "0 of 1")
}

func TestGitLabABareApproveSurvivesARecheck(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	w.Comment("bob", pr, "/gitward approve")
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success")
	w.Comment("carol", pr, "/gitward recheck")
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success")
	w.Comment("alice", pr, "/gitward recheck")
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success")
}

func TestGitLabOnlyMembersWhoMayMergeCanApprove(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	outsider := w.Comment("mallory", pr, "/gitward approve")
	reporter := w.Comment("rita", pr, "/gitward approve")
	w.Approve("rita", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed", "0 of 1")
	for who, id := range map[string]int64{"mallory": outsider, "rita": reporter} {
		if got := w.awards(id); contains(got, "thumbsup") {
			t.Errorf("%s's /gitward approve got %v, want it refused", who, got)
		}
		replied := false
		for _, n := range w.BotNotes(pr) {
			replied = replied || strings.HasPrefix(n, "@"+who)
		}
		if !replied {
			t.Errorf("gitward did not tell %s why the approval was refused: %q", who, w.BotNotes(pr))
		}
	}
}

func TestGitLabAMergeRequestCannotWeakenItsOwnPolicy(t *testing.T) {
	w := newGitLabWorld(t)
	base := w.GL.Files(RepoName, Main)[".gitward.yaml"]
	weak := strings.Replace(base, "required: 1", "required: 0", 1)
	pr := w.Propose("alice", "weaken", Change{Message: "Need no approvals", Files: map[string]string{
		".gitward.yaml":                weak,
		"apps/podinfo/deployment.yaml": Deployment(9),
	}})
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed", "0 of 1")
}

func TestGitLabAPlaintextSecretFailsAndIsNeverShown(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "secret", Change{Message: "Add a token", Files: map[string]string{
		"apps/podinfo/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: podinfo\nresources:\n  - deployment.yaml\n  - secret.yaml\n",
		"apps/podinfo/secret.yaml":        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  token: hunter2-very-secret\n",
	}})
	w.Approve("bob", pr)
	w.Idle()
	c := wantStatus(t, w, pr, changeControl, "failed", "plaintext")
	notes := w.BotNotes(pr)
	named := false
	for _, body := range append(notes, c.Title) {
		named = named || strings.Contains(body, "apps/podinfo/secret.yaml")
		if strings.Contains(body, "hunter2") {
			t.Fatalf("gitward leaked the secret's value:\n%s", body)
		}
	}
	if !named {
		t.Errorf("no note names the file with the Secret: %q", notes)
	}
	for _, g := range w.Gitward {
		if strings.Contains(g.Logs.String(), "hunter2") {
			t.Fatal("gitward's log carries the secret's value")
		}
	}
}

func TestGitLabOneStickyNoteIsUpdatedInPlace(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	w.Push("alice", "scale", scale(5))
	w.Approve("bob", pr)
	w.Comment("carol", pr, "looks fine")
	w.Idle()
	sticky := w.Sticky(pr)
	if len(sticky) != 1 {
		t.Fatalf("got %d sticky notes, want exactly one updated in place:\n%s", len(sticky), strings.Join(sticky, "\n----\n"))
	}
	for _, want := range []string{"podinfo", "replicas: 5", "`gitward/change-control`"} {
		if !strings.Contains(sticky[0], want) {
			t.Errorf("the sticky note does not show %q:\n%s", want, sticky[0])
		}
	}
	if strings.Contains(sticky[0], "replicas: 3") {
		t.Errorf("the sticky note still shows the first push:\n%s", sticky[0])
	}
	wantStatus(t, w, pr, diffCheck, "success")
	wantStatus(t, w, pr, changeControl, "success")
}

func TestGitLabBreakGlassByAResponderPassesLabelledAndOthersAreRefused(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "hotfix", scale(6))
	w.Idle()
	refused := w.Comment("bob", pr, "/gitward breakglass trust me")
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed")
	if got := w.awards(refused); contains(got, "thumbsup") {
		t.Errorf("bob's /gitward breakglass got %v, want it refused", got)
	}
	w.Comment("dave", pr, "/gitward breakglass checkout is down, scaling up")
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success", "Break-glass by @dave")
	if got := w.GL.MergeRequest(RepoName, int64(pr)).Labels; !contains(got, "break-glass") {
		t.Errorf("labels %v, want break-glass", got)
	}
}

func TestGitLabABreakGlassMergeOpensAPostIncidentReviewThatAnApprovalCloses(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "hotfix", scale(6))
	w.Idle()
	w.Comment("dave", pr, "/gitward breakglass checkout is down")
	w.Idle()
	w.Merge("dave", pr)
	w.Idle()
	reviews := w.Issues("post-incident")
	if len(reviews) != 1 || !strings.HasPrefix(reviews[0].Title, "Post-incident review") {
		t.Fatalf("post-incident review issues: %+v", reviews)
	}
	if recs := w.Ledger(); len(recs) != 1 {
		t.Fatalf("ledger has %d records after the merge, want 1", len(recs))
	}
	review := int(reviews[0].IID)
	own := w.IssueComment("dave", review, "/approve")
	w.Idle()
	if got := w.awards(own); contains(got, "thumbsup") {
		t.Errorf("the responder approved their own break-glass: %v", got)
	}
	w.IssueComment("bob", review, "/approve")
	w.Idle()
	if recs := w.Ledger(); len(recs) != 2 {
		t.Fatalf("ledger has %d records after the post-incident approval, want 2 (the merge and its retroactive review)", len(recs))
	}
	if st := w.GL.Issue(RepoName, int64(review)).State; st != "closed" {
		t.Errorf("the post-incident review is %s, want closed", st)
	}
}

func TestGitLabEachMergeWritesOneLedgerRecordAndTheChainVerifies(t *testing.T) {
	w := newGitLabWorld(t)
	var prs []int
	for i, branch := range []string{"one", "two", "three"} {
		pr := w.Propose("alice", branch, Change{Message: "Add config " + branch, Files: map[string]string{"apps/podinfo/" + branch + ".txt": branch}})
		w.Approve([]string{"bob", "carol", "bob"}[i], pr)
		prs = append(prs, pr)
	}
	w.Idle()
	for _, pr := range prs {
		wantStatus(t, w, pr, changeControl, "success")
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
	if n := len(w.Issues("unreviewed-change")); n != 0 {
		t.Errorf("merges were reported as %d unreviewed pushes", n)
	}
}

func TestGitLabADirectPushToMainIsReportedAndRecorded(t *testing.T) {
	w := newGitLabWorld(t)
	w.Push("alice", Main, scale(7))
	w.Idle()
	found := false
	for _, is := range w.GL.Issues(RepoName) {
		found = found || strings.Contains(is.Title, "Unreviewed change pushed to main by @alice")
	}
	if !found {
		t.Errorf("no issue about alice's direct push; issues: %+v", w.GL.Issues(RepoName))
	}
	if recs := w.Ledger(); len(recs) != 1 {
		t.Errorf("ledger has %d records, want the unreviewed push", len(recs))
	}
}

func TestGitLabResyncRepairsALostPush(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Approve("bob", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success")
	w.GL.SendWebhooks("", "") // GitLab's deliveries are lost
	head := w.Push("alice", "scale", scale(4))
	w.Idle()
	if c := w.CheckOn(head, changeControl); c.Conclusion != "" {
		t.Fatalf("gitward set a status on %.7s without any delivery: %+v", head, c)
	}
	w.Deliver(w.Gitward[0])
	w.Resync()
	wantStatus(t, w, pr, changeControl, "failed", "0 of 1")
}

func TestGitLabAWebhookWithoutTheSecretTokenIsRefused(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	// bob's approval as GitLab sent it, replayed by someone who does not
	// know the hook's secret token.
	w.GL.SendWebhooks("", "")
	w.Approve("bob", pr)
	sent := w.GL.Deliveries()
	approved := sent[len(sent)-1]
	for _, token := range []string{"", "not-the-token"} {
		req, err := http.NewRequest(http.MethodPost, w.Gitward[0].URL+"/api/gitlab/hook", bytes.NewReader(approved.Payload))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Gitlab-Event", approved.Event)
		if token != "" {
			req.Header.Set("X-Gitlab-Token", token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("a delivery with token %q got %d, want 401", token, res.StatusCode)
		}
	}
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed", "0 of 1")
}

func TestGitLabACoAuthorNamedByLoginCannotApprove(t *testing.T) {
	w := newGitLabWorld(t)
	c := scale(3)
	c.Trailers = []string{"Co-authored-by: Bob <bob@example.com>"}
	pr := w.Propose("alice", "scale", c)
	w.Approve("bob", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "failed", "0 of 1")
	w.Approve("carol", pr)
	w.Idle()
	wantStatus(t, w, pr, changeControl, "success")
}

// glDriftWorld is the GitLab world with the test cluster configured on the
// server and apps/** mapped to it in enforce mode; podinfo runs in the
// cluster as main describes it, applied by a person with kubectl.
func glDriftWorld(t *testing.T) (*GitLabWorld, dynamic.Interface, string) {
	t.Helper()
	kubeconfig := livetest.Kubeconfig(t)
	dyn, err := dynamic.NewForConfig(livetest.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("podinfo-gl-%d", nsSeq.Add(1))
	apply(t, dyn, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+ns+"\n")
	apply(t, dyn, strings.Replace(Deployment(2), "name: podinfo\n", "name: podinfo\n  namespace: "+ns+"\n", 1))
	policy := DefaultPolicy + "clusters:\n  - name: test\n    paths: [\"apps/**\"]\ndrift:\n  mode: enforce\n"
	app := PodinfoApp(2)
	app["apps/podinfo/kustomization.yaml"] = strings.Replace(app["apps/podinfo/kustomization.yaml"], "namespace: podinfo", "namespace: "+ns, 1)
	w := NewGitLabWorld(t, WorldOptions{Policy: policy, Files: app, Start: StartOptions{
		Clusters: fmt.Sprintf("clusters:\n  - name: test\n    kubeconfig: %s\n", kubeconfig),
	}})
	return w, dyn, ns
}

func TestGitLabAChangeToWhatRunsAsMainSaysPassesTheDriftStatus(t *testing.T) {
	t.Parallel()
	w, _, _ := glDriftWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	wantStatus(t, w, pr, driftCheck, "success")
}

func TestGitLabAManualScaleInTheClusterShowsAsDriftOnTheNextMergeRequest(t *testing.T) {
	t.Parallel()
	w, dyn, ns := glDriftWorld(t)
	scaleLive(t, dyn, ns, 5)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	wantStatus(t, w, pr, driftCheck, "failed")
	sticky := w.Sticky(pr)
	if len(sticky) != 1 || !strings.Contains(sticky[0], "kubectl-scale") {
		t.Errorf("the sticky note does not name who changed podinfo (kubectl-scale):\n%s", strings.Join(sticky, "\n----\n"))
	}
}

func TestGitLabAPlanTheClusterRefusesIsNeverGreen(t *testing.T) {
	t.Parallel()
	w, _, _ := glDriftWorld(t)
	pr := w.Propose("alice", "negative", scale(-1))
	w.Idle()
	wantStatus(t, w, pr, driftCheck, "failed")
}

func TestGitLabAPipelineCIStartsLaterGetsGitwardsStatuses(t *testing.T) {
	w := newGitLabWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Approve("bob", pr)
	w.Idle()
	head := w.Head(pr)
	for _, mrPipeline := range []bool{false, true} {
		id := w.GL.As("alice").StartPipeline(RepoName, int64(pr), mrPipeline)
		w.Idle()
		got := map[string]string{}
		for _, st := range w.GL.PipelineStatuses(RepoName, head, id) {
			got[st.Name] = st.Status
		}
		if got[changeControl] != "success" || got[diffCheck] != "success" {
			t.Errorf("statuses in the pipeline CI started (merge request pipeline: %v) = %v, want gitward's, green", mrPipeline, got)
		}
	}
}
