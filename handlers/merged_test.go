package handlers_test

import (
	"context"
	"fmt"
	"github.com/gitward/gitward/evaluation/evaluationtest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge/github/githubtest"
	"github.com/gitward/gitward/handlers"
	"github.com/gitward/gitward/render"
	"github.com/rs/zerolog"
)

// ccMerge is the merge commit the real closed payload names.
const ccMerge = "c4295bd74fb0f4fda03689c3df3f2803b658fd85"

var mergedAt = time.Date(2025, 6, 3, 10, 0, 0, 0, time.UTC)

// mergedPayload is the real pull_request closed payload, rewritten to the
// merge GitHub would report: merged, when and by whom.
func mergedPayload(t *testing.T) []byte {
	return rewrite(t, githubtest.Payload(t, "pull_request", "closed.payload.json"), map[string]any{
		"pull_request.merged":    true,
		"pull_request.merged_at": mergedAt.Format(time.RFC3339),
		"pull_request.merged_by": map[string]any{"login": "maintainer", "id": 77, "type": "User"},
	})
}

// mergedHandler wraps the fixture's evaluator as the server does.
func (fx *ccFixture) mergedHandler() *handlers.Merged {
	return &handlers.Merged{
		PullRequest: handlers.PullRequest{Forge: fx.f, Evaluator: fx.comments.Evaluator},
		Recorder: &audit.Recorder{
			Gather: fx.gather, Renderer: fx.renderer, Reviews: fx.comments.Reviews,
			Version: "v1.2.3-test", Backoff: time.Millisecond,
		},
	}
}

// ledger reads every record on the ledger branch's tip.
func (fx *ccFixture) ledger() []audit.Record {
	fx.t.Helper()
	var out []audit.Record
	for path, content := range fx.gh.Files(ccRepo, audit.DefaultBranch) {
		if !strings.HasPrefix(path, audit.RecordsDir+"/") {
			continue
		}
		rec, err := audit.Decode([]byte(strings.TrimSuffix(content, "\n")))
		if err != nil {
			fx.t.Fatalf("%s: %v", path, err)
		}
		out = append(out, rec)
	}
	return out
}

// podinfoDigest renders the podinfo app as the head (and so the merge)
// holds it, independently of the handler.
func podinfoDigest(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"apps/podinfo/kustomization.yaml": "resources:\n  - deployment.yaml\n",
		"apps/podinfo/deployment.yaml":    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\nspec:\n  replicas: 2\n",
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fsys := os.DirFS(dir)
	apps, err := render.Discover(fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := render.BuildGraph(render.NewTree(fsys), apps)
	res, err := render.NewRenderer(render.Options{}).Render(context.Background(), g, apps[0])
	if err != nil || res.Err != nil {
		t.Fatalf("render podinfo: %v %v", err, res.Err)
	}
	return audit.Digest(res.YAML)
}

func TestAMergedPullRequestIsRecorded(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 2, policy: oneApproval})
	approvedAt := time.Now().Add(-30 * time.Minute)
	fx.gh.SetPermission(ccRepo, "reviewer", "write")
	reviewID := fx.gh.AddReview(ccRepo, 2, githubtest.Review{User: "reviewer", State: "APPROVED", CommitID: ccHead, SubmittedAt: approvedAt})
	fx.gh.AddCheckRun(ccRepo, githubtest.CheckRun{Name: "gitward/diff", HeadSHA: ccHead, Conclusion: "success", Title: "1 app changes", Summary: "apps/podinfo: Deployment podinfo changes"})
	fx.gh.AddCheckRun(ccRepo, githubtest.CheckRun{Name: ccCheck, HeadSHA: ccHead, Conclusion: "success", Title: "1 of 1 approvals", Summary: "All rules hold."})
	fx.gh.MergePullRequest(ccRepo, 2, ccMerge, mergedAt)

	h := fx.mergedHandler()
	ctx := zerolog.New(fx.log).WithContext(t.Context())
	if err := h.Handle(ctx, "pull_request", "d1", mergedPayload(t)); err != nil {
		t.Fatal(err)
	}
	recs := fx.ledger()
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	rec := recs[0]
	if rec.Kind != audit.KindMerge || rec.Seq != 1 || rec.PrevHash != "" || rec.GitwardVersion != "v1.2.3-test" ||
		rec.Repository != "github.com/Codertocat/Hello-World" || rec.Branch != "master" {
		t.Errorf("record header = %+v", rec)
	}
	wantPR := audit.PullRequest{
		Number: 2, Title: "Scale podinfo", URL: "https://github.com/Codertocat/Hello-World/pull/2", Author: ccAuthor,
		BaseRef: "master", BaseSHA: ccBase, HeadSHA: ccHead, MergeSHA: ccMerge, MergedAt: mergedAt, MergedBy: "maintainer",
	}
	if !reflect.DeepEqual(*rec.PullRequest, wantPR) {
		t.Errorf("pull request = %+v\nwant %+v", *rec.PullRequest, wantPR)
	}
	if !reflect.DeepEqual(rec.Covers, []string{ccMerge}) {
		t.Errorf("covers = %v, want the merge commit", rec.Covers)
	}
	if len(rec.Commits) != 1 || rec.Commits[0].SHA != ccHead || !rec.Commits[0].Signature.Verified || rec.Commits[0].Author.Login != ccAuthor || rec.Commits[0].Subject != "Scale podinfo to 2" {
		t.Errorf("commits = %+v", rec.Commits)
	}
	wantApproval := audit.Approval{User: "reviewer", Via: "review", ID: reviewID, SHA: ccHead, At: approvedAt.UTC().Truncate(time.Second)}
	if len(rec.Approvals) != 1 || rec.Approvals[0] != wantApproval {
		t.Errorf("approvals = %+v, want %+v", rec.Approvals, wantApproval)
	}
	cc := rec.ChangeControl
	if cc.Conclusion != "success" || cc.Error != "" || !cc.SeparationOfDuties.OK || cc.SeparationOfDuties.Name != "separation of duties" {
		t.Errorf("change control = %+v", cc)
	}
	wantChecks := []audit.Check{
		{Name: "gitward/diff", Conclusion: "success", Title: "1 app changes", Summary: "apps/podinfo: Deployment podinfo changes"},
		{Name: "gitward/drift", Conclusion: audit.ConclusionMissing},
		{Name: ccCheck, Conclusion: "success", Title: "1 of 1 approvals", Summary: "All rules hold."},
	}
	if !reflect.DeepEqual(rec.Checks, wantChecks) {
		t.Errorf("checks = %+v\nwant %+v", rec.Checks, wantChecks)
	}
	wantManifests := audit.Manifests{SHA: ccMerge, Apps: []audit.RenderedApp{{Name: "apps/podinfo", Path: "apps/podinfo", Digest: podinfoDigest(t)}}}
	if !reflect.DeepEqual(*rec.Manifests, wantManifests) {
		t.Errorf("manifests = %+v\nwant %+v", *rec.Manifests, wantManifests)
	}
	if rec.BreakGlass != nil || rec.DriftCapture != "" {
		t.Errorf("break glass %+v, drift capture %q; want none", rec.BreakGlass, rec.DriftCapture)
	}
	if !strings.Contains(fx.log.String(), "Recorded a merge in the audit ledger") || len(fx.auditLines()) == 0 {
		t.Errorf("no audit log line:\n%s", fx.log.String())
	}

	// GitHub redelivers the event: the merge is not recorded twice.
	if err := h.Handle(ctx, "pull_request", "d2", mergedPayload(t)); err != nil {
		t.Fatal(err)
	}
	if n := len(fx.ledger()); n != 1 {
		t.Errorf("%d records after a redelivery, want 1", n)
	}
	if n := fx.gh.Calls("git/update-ref") + fx.gh.Calls("git/create-ref"); n != 1 {
		t.Errorf("the ledger ref was written %d times, want once", n)
	}
}

func TestAMergeByBreakingGlassRecordsTheBreakGlass(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 2, policy: withResponders})
	fx.gh.SetPermission(ccRepo, "oncall", "write")
	at := time.Now().Add(-10 * time.Minute)
	id := fx.post("oncall", "/breakglass database is down", at)
	fx.gh.MergePullRequest(ccRepo, 2, ccMerge, mergedAt)

	if err := fx.mergedHandler().Handle(t.Context(), "pull_request", "d", mergedPayload(t)); err != nil {
		t.Fatal(err)
	}
	recs := fx.ledger()
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	bg := recs[0].BreakGlass
	want := audit.BreakGlass{User: "oncall", Reason: "database is down", CommentID: id, At: at.UTC().Truncate(time.Second), Decisive: true,
		PostIncidentIssue: "https://github.com/Codertocat/Hello-World/issues/3"}
	if bg == nil || *bg != want {
		t.Fatalf("break glass = %+v, want %+v", bg, want)
	}
	if cc := recs[0].ChangeControl; cc.Conclusion != "success" || len(recs[0].Approvals) != 0 {
		t.Errorf("change control %+v with approvals %v: break-glass passed it without approvals", cc, recs[0].Approvals)
	}
}

func TestMergesIntoUnprotectedBranchesAreNotRecorded(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 2, policy: oneApproval + "audit:\n  protected_branches: [\"release/*\"]\n"})
	fx.gh.MergePullRequest(ccRepo, 2, ccMerge, mergedAt)
	if err := fx.mergedHandler().Handle(t.Context(), "pull_request", "d", mergedPayload(t)); err != nil {
		t.Fatal(err)
	}
	if ref := fx.gh.Ref(ccRepo, "heads/"+audit.DefaultBranch); ref != "" {
		t.Errorf("a merge into master was recorded although only release/* is protected")
	}
}

func TestAMergeWithAnInvalidPolicyIsStillRecorded(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 2, policy: "version: 1\napprovals:\n  required: lots\n"})
	fx.gh.MergePullRequest(ccRepo, 2, ccMerge, mergedAt)
	if err := fx.mergedHandler().Handle(t.Context(), "pull_request", "d", mergedPayload(t)); err != nil {
		t.Fatal(err)
	}
	recs := fx.ledger()
	if len(recs) != 1 {
		t.Fatalf("%d records, want the merge recorded with the broken policy", len(recs))
	}
	cc := recs[0].ChangeControl
	if cc.Conclusion != "failure" || len(cc.Rules) != 1 || !strings.Contains(cc.Rules[0].Reason, ".gitward.yaml") {
		t.Errorf("change control = %+v", cc)
	}
}

func TestMergedHandsOtherActionsToThePullRequestHandler(t *testing.T) {
	f, gh, _ := newForge(t)
	c := &evaluationtest.Check{ID: "cc", Runs: []string{"gitward/change-control"}}
	h := &handlers.Merged{PullRequest: handlers.PullRequest{Forge: f, Evaluator: &evaluation.Evaluator{Capabilities: []evaluation.Capability{c}}}}
	opened := githubtest.Payload(t, "pull_request", "opened.payload.json")
	_, head := seedFromPayload(t, gh, opened)
	if err := h.Handle(t.Context(), "pull_request", "d", opened); err != nil {
		t.Fatal(err)
	}
	if c.Got == nil || len(gh.CheckRuns("Codertocat/Hello-World", head)) != 1 {
		t.Error("an opened pull request was not evaluated")
	}
	c.Got = nil
	if err := h.Handle(t.Context(), "pull_request", "d", githubtest.Payload(t, "pull_request", "closed.payload.json")); err != nil {
		t.Fatal(err)
	}
	if c.Got != nil || gh.Ref("Codertocat/Hello-World", "heads/"+audit.DefaultBranch) != "" {
		t.Error("a pull request closed without merging was evaluated or recorded")
	}
}

// repairingHandler is a merge handler whose clock stands an hour after
// the fixture's merges, as a resync soon after them would.
func (fx *ccFixture) repairingHandler() *handlers.Merged {
	h := fx.mergedHandler()
	h.Recorder.Now = func() time.Time { return mergedAt.Add(time.Hour) }
	return h
}

func TestAMergeWhoseRecordCouldNotBeWrittenIsRecordedByTheResync(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 2, policy: oneApproval})
	fx.gh.MergePullRequest(ccRepo, 2, ccMerge, mergedAt)
	h := fx.repairingHandler()
	ctx := zerolog.New(fx.log).WithContext(t.Context())

	// GitHub fails the write that starts the ledger.
	fx.gh.FailNext("POST", "/repos/{owner}/{repo}/git/refs", 502, 1)
	if err := h.Handle(ctx, "pull_request", "d1", mergedPayload(t)); err == nil {
		t.Fatal("the merge was reported recorded though its write failed")
	}
	if n := len(fx.ledger()); n != 0 {
		t.Fatalf("%d records after a failed write", n)
	}

	n, err := h.Recorder.RecordMissing(ctx, fx.f, fx.repo)
	if err != nil || n != 1 {
		t.Fatalf("RecordMissing = %d, %v; want the one merge recorded", n, err)
	}
	recs := fx.ledger()
	if len(recs) != 1 || recs[0].PullRequest.Number != 2 || !recs[0].PullRequest.MergedAt.Equal(mergedAt) || recs[0].PullRequest.MergeSHA != ccMerge {
		t.Fatalf("records = %+v, want the merge of #2", recs)
	}
	// The next pass, and a second replica's, find nothing to do.
	if n, err := h.Recorder.RecordMissing(ctx, fx.f, fx.repo); err != nil || n != 0 {
		t.Errorf("second pass = %d, %v; want 0", n, err)
	}
	if n, err := fx.repairingHandler().Recorder.RecordMissing(ctx, fx.f, fx.repo); err != nil || n != 0 {
		t.Errorf("another replica's pass = %d, %v; want 0", n, err)
	}
	if n := len(fx.ledger()); n != 1 {
		t.Errorf("%d records, want 1", n)
	}
}

func TestTheResyncRecordsMissingMergesInMergeOrderBoundedPerPass(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 2, policy: oneApproval + "audit:\n  protected_branches: [master]\n"})
	// Pull requests 3 to 6 merge, in the order 5, 2, 6, 3 (4 goes into a
	// branch the policy does not protect); no webhook arrives.
	for _, n := range []int{3, 4, 5, 6} {
		base := "master"
		if n == 4 {
			base = "scratch"
		}
		fx.gh.AddPullRequest(ccRepo, githubtest.PullRequest{
			Number: n, Title: fmt.Sprintf("change %d", n), Author: ccAuthor,
			BaseRef: base, BaseSHA: ccBase, HeadRef: fmt.Sprintf("change-%d", n), HeadSHA: ccHead,
		})
	}
	order := []int{5, 2, 4, 6, 3}
	for i, n := range order {
		fx.gh.MergePullRequest(ccRepo, n, fmt.Sprintf("%040x", 0xa0+n), mergedAt.Add(time.Duration(i)*time.Minute))
	}
	// Something merged long before the ledger's window is not looked at.
	fx.gh.AddPullRequest(ccRepo, githubtest.PullRequest{Number: 7, Title: "old", Author: ccAuthor, BaseRef: "master", BaseSHA: ccBase, HeadRef: "old", HeadSHA: ccHead})
	fx.gh.MergePullRequest(ccRepo, 7, fmt.Sprintf("%040x", 0xa7), mergedAt.Add(-72*time.Hour))
	fx.gh.SetRef(ccRepo, "heads/master", fmt.Sprintf("%040x", 0xa0+3))

	h := fx.repairingHandler()
	h.Recorder.MaxRepairs = 2
	ctx := t.Context()
	if n, err := h.Recorder.RecordMissing(ctx, fx.f, fx.repo); err != nil || n != 2 {
		t.Fatalf("first pass = %d, %v; want 2 (the bound)", n, err)
	}
	if n, err := h.Recorder.RecordMissing(ctx, fx.f, fx.repo); err != nil || n != 2 {
		t.Fatalf("second pass = %d, %v; want the other 2", n, err)
	}
	if n, err := h.Recorder.RecordMissing(ctx, fx.f, fx.repo); err != nil || n != 0 {
		t.Fatalf("third pass = %d, %v; want nothing left", n, err)
	}
	recs := fx.ledger()
	sort.Slice(recs, func(i, j int) bool { return recs[i].Seq < recs[j].Seq })
	var got []int
	for _, r := range recs {
		got = append(got, r.PullRequest.Number)
	}
	if want := []int{5, 2, 6, 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("recorded %v, want %v: each protected merge once, in merge order", got, want)
	}
}
