package app_test

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/app"
	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/github/githubtest"
)

const repoName = "octo-org/clusters"

// sha makes a 40-hex commit ID from a short tag.
func sha(tag string) string {
	return fmt.Sprintf("%x", sha1.Sum([]byte(tag)))
}

// addPR seeds an open pull request on repoName.
func (h *harness) addPR(number int, base, head string) {
	h.addRepo(7, repoName, "main")
	h.gh.AddPullRequest(repoName, githubtest.PullRequest{
		Number: number, Title: fmt.Sprintf("change %d", number), Author: "alice",
		BaseRef: "main", BaseSHA: base, HeadRef: fmt.Sprintf("change-%d", number), HeadSHA: head,
	})
}

func (h *harness) resyncOnce(t *testing.T) int {
	t.Helper()
	n, err := h.srv.Resync().RunOnce(t.Context())
	if err != nil {
		t.Fatalf("resync: %v", err)
	}
	return n
}

func TestResyncEvaluatesPullRequestsWhoseChecksAreMissingOrStale(t *testing.T) {
	h := newHarness(t)
	h.addPR(1, sha("base"), sha("head-1")) // checks missing
	h.addPR(2, sha("base"), sha("head-2")) // fresh checks
	h.addPR(3, sha("base"), sha("head-3")) // stuck in progress
	h.addPR(4, sha("base"), sha("head-4")) // computed against an older base

	// Publish the state the other pull requests are in, through the real
	// API, as an earlier gitward process would have.
	publish := func(head, base string, status forge.CheckStatus, started time.Time) {
		t.Helper()
		run := forge.CheckRun{
			Name: "gitward/change-control", HeadSHA: head, Status: status,
			ExternalID: evaluation.ExternalID(base, time.Now().Add(time.Hour)), StartedAt: started, Title: "t", Summary: "s",
		}
		if status == forge.CheckCompleted {
			run.Conclusion = forge.ConclusionSuccess
		}
		if _, err := h.srv.Forge().PublishCheck(t.Context(), h.repo(), run); err != nil {
			t.Fatal(err)
		}
	}
	publish(sha("head-2"), sha("base"), forge.CheckCompleted, time.Now())
	publish(sha("head-3"), sha("base"), forge.CheckInProgress, time.Now().Add(-time.Hour))
	publish(sha("head-4"), sha("old-base"), forge.CheckCompleted, time.Now())

	if n := h.resyncOnce(t); n != 3 {
		t.Fatalf("resync queued %d evaluations, want 3", n)
	}
	if err := h.srv.Pool().Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := map[int]bool{}
	for _, e := range h.cap.evaluations() {
		got[e.Number] = true
	}
	if !got[1] || got[2] || !got[3] || !got[4] {
		t.Errorf("evaluated pull requests %v, want 1, 3 and 4", got)
	}
	for _, n := range []int{1, 3, 4} {
		runs := h.gh.CheckRuns(repoName, sha(fmt.Sprintf("head-%d", n)))
		if len(runs) != 1 || runs[0].Conclusion != "success" {
			t.Errorf("pull request %d: check runs %+v, want one completed run updated in place", n, runs)
		}
	}
}

func TestResyncAfterAnEvaluationFindsNothingToDo(t *testing.T) {
	h := newHarness(t)
	h.addPR(1, sha("base"), sha("head"))
	if n := h.resyncOnce(t); n != 1 {
		t.Fatalf("first pass queued %d, want 1", n)
	}
	waitFor(t, "the evaluation", func() bool { return len(h.gh.CheckRuns(repoName, sha("head"))) == 1 })
	waitFor(t, "the job to finish", func() bool { return len(h.cap.evaluations()) == 1 })
	if n := h.resyncOnce(t); n != 0 {
		t.Errorf("second pass queued %d evaluations of an up-to-date pull request", n)
	}
}

func TestResyncSkipsClosedPullRequestsAndSuspendedInstallations(t *testing.T) {
	h := newHarness(t)
	h.addPR(1, sha("base"), sha("head-1"))
	h.gh.AddPullRequest(repoName, githubtest.PullRequest{Number: 2, Author: "bob", BaseRef: "main", BaseSHA: sha("base"), HeadRef: "x", HeadSHA: sha("head-2"), State: "closed"})
	h.addRepo(9, "suspended-org/clusters", "main")
	h.gh.AddPullRequest("suspended-org/clusters", githubtest.PullRequest{Number: 1, Author: "eve", BaseSHA: sha("b"), HeadRef: "y", HeadSHA: sha("h")})
	h.gh.SuspendInstallation(9)
	if n := h.resyncOnce(t); n != 1 {
		t.Fatalf("resync queued %d, want only the open pull request of the active installation", n)
	}
}

func TestResyncReportsForgeErrorsAndContinues(t *testing.T) {
	h := newHarness(t)
	h.addPR(1, sha("base"), sha("head"))
	h.gh.FailNext("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", http.StatusBadGateway, 1)
	n, err := h.srv.Resync().RunOnce(t.Context())
	if err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("resync error = %v, want the 502 reported", err)
	}
	if n != 0 {
		t.Errorf("queued %d despite the failed read", n)
	}
	if n := h.resyncOnce(t); n != 1 {
		t.Errorf("the next pass queued %d, want 1", n)
	}
}

// TestFullQueueLosesNoWork fills the queue so a delivery is refused with
// 503, and checks that the resync loop, woken by the refusal, evaluates the
// pull request that delivery was about.
func TestFullQueueLosesNoWork(t *testing.T) {
	h := newHarness(t, func(o *app.Options) { o.Workers = 1; o.QueueSize = 1 })
	h.srv.Resync().MinGap = time.Millisecond
	h.cap.block = make(chan struct{})
	h.cap.began = make(chan int, 10)
	h.serve()
	waitFor(t, "the first resync pass", func() bool {
		return strings.Contains(h.metrics(), `gitward_resync_runs_total{outcome="success"} 1`)
	})

	h.addPR(1, sha("base"), sha("head-1"))
	h.addPR(2, sha("base"), sha("head-2"))
	h.addPR(3, sha("base"), sha("head-3"))
	deliver := func(n int) int {
		payload := fmt.Sprintf(`{"action":"synchronize","number":%d,"pull_request":{"number":%d},"repository":{"name":"clusters","owner":{"login":"octo-org"}},"installation":{"id":7}}`, n, n)
		return h.deliver("pull_request", []byte(payload)).Code
	}
	if code := deliver(1); code != http.StatusAccepted {
		t.Fatalf("first delivery: %d", code)
	}
	if n := <-h.cap.began; n != 1 {
		t.Fatalf("worker started on %d, want 1", n)
	}
	if code := deliver(2); code != http.StatusAccepted {
		t.Fatalf("second delivery (queued): %d", code)
	}
	if code := deliver(3); code != http.StatusServiceUnavailable {
		t.Fatalf("third delivery: %d, want 503 while the queue is full", code)
	}
	if !strings.Contains(h.metrics(), `outcome="queue_full"} 1`) {
		t.Errorf("metrics do not count the refused delivery")
	}
	close(h.cap.block)
	for n := 1; n <= 3; n++ {
		head := sha(fmt.Sprintf("head-%d", n))
		waitFor(t, fmt.Sprintf("pull request %d's check", n), func() bool {
			runs := h.gh.CheckRuns(repoName, head)
			return len(runs) == 1 && runs[0].Status == "completed"
		})
	}
}

func TestGracefulShutdownDrainsAcceptedWork(t *testing.T) {
	h := newHarness(t, func(o *app.Options) { o.Workers = 1 })
	h.cap.block = make(chan struct{})
	h.cap.began = make(chan int, 10)
	h.addPR(1, sha("base"), sha("head-1"))
	h.addPR(2, sha("base"), sha("head-2"))
	stop := h.serve()
	<-h.cap.began // the startup resync evaluates one pull request ...
	// ... and queues the other behind it.
	waitFor(t, "the second evaluation to be queued", func() bool {
		return strings.Contains(h.metrics(), "gitward_resync_evaluations_total 2")
	})

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	waitFor(t, "readyz to report shutdown", func() bool {
		w := h.get("/readyz")
		return w == http.StatusServiceUnavailable
	})
	waitFor(t, "the listener to close", func() bool {
		_, err := http.Get(h.url + "/healthz")
		return err != nil
	})
	close(h.cap.block)
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if n := len(h.cap.evaluations()); n != 2 {
		t.Errorf("%d evaluations finished, want both accepted ones drained", n)
	}
}

func TestShutdownCancelsWorkThatOutlivesTheGracePeriod(t *testing.T) {
	h := newHarness(t, func(o *app.Options) { o.ShutdownGrace = 100 * time.Millisecond })
	h.cap.block = make(chan struct{}) // never closed
	h.cap.began = make(chan int, 10)
	h.addPR(1, sha("base"), sha("head-1"))
	stop := h.serve()
	<-h.cap.began
	err := stop()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown error = %v, want the grace period's deadline", err)
	}
	// A cancelled evaluation publishes nothing: no verdict was reached, and
	// the missing check makes the next resync (here or on another replica)
	// evaluate the pull request again.
	if runs := h.gh.CheckRuns(repoName, sha("head-1")); len(runs) != 0 {
		t.Errorf("cancelled evaluation published %+v", runs)
	}
}

func TestHealthReadinessAndMetricsEndpoints(t *testing.T) {
	h := newHarness(t)
	if code := h.get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz before serving = %d, want 503", code)
	}
	if code := h.get("/healthz"); code != http.StatusOK {
		t.Errorf("healthz = %d", code)
	}
	h.addPR(1, sha("base"), sha("head"))
	h.serve()
	if code := h.get("/readyz"); code != http.StatusOK {
		t.Errorf("readyz while serving = %d", code)
	}
	waitFor(t, "the startup resync's evaluation", func() bool { return len(h.gh.CheckRuns(repoName, sha("head"))) == 1 })
	for _, series := range []string{
		"gitward_queue_depth",
		"gitward_queue_capacity 10",
		`gitward_handler_duration_seconds_count{kind="resync",outcome="success"}`,
		`gitward_forge_api_requests_total{forge="github",method="GET",status="2xx"}`,
		`gitward_forge_api_requests_total{forge="github",method="POST",status="2xx"}`,
		`gitward_forge_rate_limit_remaining{forge="github",resource="core"}`,
		`gitward_resync_runs_total{outcome="success"}`,
		"go_goroutines",
	} {
		waitFor(t, "/metrics to show "+series, func() bool { return strings.Contains(h.metrics(), series) })
	}
}

// TestEnterpriseServerBaseURL points gitward at GitHub Enterprise Server's
// API prefix (/api/v3), which the double also serves.
func TestEnterpriseServerBaseURL(t *testing.T) {
	gh := githubtest.New(t)
	h2 := newHarnessWith(t, gh, func(o *app.Options) {
		o.GitHubWebURL = "https://github.example.com/"
		o.GitHubV3APIURL = gh.URL + "/api/v3/"
	})
	h2.addPR(1, sha("base"), sha("head"))
	if n := h2.resyncOnce(t); n != 1 {
		t.Fatalf("queued %d", n)
	}
	waitFor(t, "the evaluation", func() bool { return len(gh.CheckRuns(repoName, sha("head"))) == 1 })
	for _, r := range gh.Requests() {
		if !strings.HasPrefix(r.Path, "/api/v3/") && r.OperationID != "codeload" {
			t.Errorf("request %s %s did not use the Enterprise Server prefix", r.Method, r.Path)
		}
	}
}

func (h *harness) get(path string) int {
	req, _ := http.NewRequest(http.MethodGet, "http://gitward.test"+path, nil)
	w := h.post(req)
	_, _ = io.Copy(io.Discard, w.Body)
	return w.Code
}

func (h *harness) repo() forge.Repo {
	return forge.Repo{Host: "github.com", Owner: "octo-org", Name: "clusters", InstallationID: 7, DefaultBranch: "main"}
}

// A merge whose pull_request webhook never arrived is recorded by the
// resync; a pass whose write fails leaves it to the next pass; a pass
// after that writes nothing more.
func TestResyncRecordsMergesTheLedgerLacks(t *testing.T) {
	h := newHarness(t)
	h.addPR(1, sha("base"), sha("head-1"))
	h.gh.MergePullRequest(repoName, 1, sha("merge-1"), time.Now().Add(-time.Hour).UTC())
	ledger := "heads/" + audit.DefaultBranch

	h.gh.FailNext("POST", "/repos/{owner}/{repo}/git/refs", 502, 1)
	if _, err := h.srv.Resync().RunOnce(t.Context()); err == nil || !strings.Contains(err.Error(), "record the merge of") {
		t.Fatalf("a pass whose ledger write failed reported %v", err)
	}
	if h.gh.Ref(repoName, ledger) != "" {
		t.Fatal("the failed write started the ledger")
	}

	h.resyncOnce(t)
	files := h.gh.Files(repoName, ledger)
	if files[audit.SubjectsDir+"/pr-1"] == "" {
		t.Fatalf("the merge of #1 was not recorded; the ledger holds %d files", len(files))
	}
	tip := h.gh.Ref(repoName, ledger)
	h.resyncOnce(t)
	if h.gh.Ref(repoName, ledger) != tip {
		t.Error("a pass with nothing missing wrote to the ledger")
	}
}
