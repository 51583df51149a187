package evaluation_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/evaluation/evaluationtest"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/forgetest"
)

const (
	baseSHA = "1111111111111111111111111111111111111111"
	headSHA = "2222222222222222222222222222222222222222"
)

// fixture is a pull request from "scale" into main on the fake forge.
type fixture struct {
	f          *forgetest.Fake
	ref        forge.PRRef
	base, head string // the pull request's commits
}

// seed opens a pull request whose base and head commits hold baseConfig
// and headConfig as .gitward.yaml ("" for none).
func seed(t *testing.T, baseConfig, headConfig string) fixture {
	t.Helper()
	f := forgetest.New(t)
	repo := f.AddRepo("octo-org/clusters", "main")
	base, head := forgetest.Commit{Files: map[string]string{"README.md": "x"}}, forgetest.Commit{Files: map[string]string{"README.md": "y"}}
	if baseConfig != "" {
		base.Files[".gitward.yaml"] = baseConfig
		head.Remove = []string{".gitward.yaml"}
	}
	if headConfig != "" {
		head.Files[".gitward.yaml"], head.Remove = headConfig, nil
	}
	fx := fixture{f: f, base: f.Push(repo, "main", base)}
	head.Parent = fx.base
	fx.head = f.Push(repo, "scale", head)
	fx.ref = f.OpenPullRequest(repo, forgetest.PullRequest{Title: "scale podinfo", Author: forge.User{Login: "alice"}, Head: "scale"})
	return fx
}

// checkRuns returns the check runs on the head, newest first.
func (fx fixture) checkRuns(t *testing.T) []forge.CheckRun {
	t.Helper()
	runs, err := fx.f.CheckRuns(t.Context(), fx.ref.Repo, fx.head)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

const validConfig = "version: 1\napprovals:\n  required: 2\n"

func TestPolicyIsReadFromTheBaseCommit(t *testing.T) {
	t.Run("a pull request that rewrites the policy is still judged by the base policy", func(t *testing.T) {
		fx := seed(t, validConfig, "version: 1\napprovals:\n  required: 0\n")
		c := &evaluationtest.Check{ID: "cc", Runs: []string{"gitward/change-control"}}
		e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{c}}
		if err := e.Evaluate(t.Context(), fx.f, fx.ref); err != nil {
			t.Fatal(err)
		}
		if c.Got == nil || c.Got.Config == nil {
			t.Fatal("capability did not run with a config")
		}
		if got := c.Got.Config.Approvals.Required; got != 2 {
			t.Errorf("approvals.required = %d, want the base commit's 2", got)
		}
		for _, call := range fx.f.Calls("File") {
			if ref := call.Args[1]; ref != fx.base {
				t.Errorf("config read at ref %q, want the base SHA", ref)
			}
		}
	})
	t.Run("an invalid policy added by the pull request does not matter", func(t *testing.T) {
		fx := seed(t, "", "version: 1\nunknown_key: true\n")
		c := &evaluationtest.Check{ID: "cc", Runs: []string{"gitward/change-control"}}
		e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{c}}
		if err := e.Evaluate(t.Context(), fx.f, fx.ref); err != nil {
			t.Fatal(err)
		}
		runs := fx.checkRuns(t)
		if len(runs) != 1 || runs[0].Conclusion != forge.ConclusionSuccess {
			t.Errorf("check runs = %+v, want the capability's success", runs)
		}
		if c.Got.Config.Approvals.Required != 1 {
			t.Errorf("without a base config the defaults apply; got required %d", c.Got.Config.Approvals.Required)
		}
	})
}

func TestAnInvalidBasePolicyFailsEveryCheckWithTheLine(t *testing.T) {
	fx := seed(t, "version: 1\napprovals:\n  required: -1\n  bogus: true\n", validConfig)
	c1 := &evaluationtest.Check{ID: "diff", Runs: []string{"gitward/diff"}}
	c2 := &evaluationtest.Check{ID: "cc", Runs: []string{"gitward/change-control"}}
	e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{c1, c2}}
	if err := e.Evaluate(t.Context(), fx.f, fx.ref); err != nil {
		t.Fatal(err)
	}
	if c1.Got != nil || c2.Got != nil {
		t.Error("capabilities ran despite an invalid policy")
	}
	runs := fx.checkRuns(t)
	if len(runs) != 2 {
		t.Fatalf("got %d check runs, want one failure per check", len(runs))
	}
	for _, r := range runs {
		if r.Conclusion != forge.ConclusionFailure {
			t.Errorf("%s concluded %s, want failure", r.Name, r.Conclusion)
		}
		if !strings.Contains(r.Summary, ".gitward.yaml:3:") || !strings.Contains(r.Summary, ".gitward.yaml:4:") {
			t.Errorf("%s summary does not name lines 3 and 4:\n%s", r.Name, r.Summary)
		}
		lines := map[int]bool{}
		for _, a := range r.Annotations {
			if a.Path != ".gitward.yaml" {
				t.Errorf("annotation on %q", a.Path)
			}
			lines[a.StartLine] = true
		}
		if !lines[3] || !lines[4] {
			t.Errorf("%s annotations %+v, want lines 3 and 4", r.Name, r.Annotations)
		}
	}
}

func TestACapabilityErrorFailsItsOwnChecksOnly(t *testing.T) {
	fx := seed(t, validConfig, "")
	broken := &evaluationtest.Check{ID: "diff", Runs: []string{"gitward/diff"}, Err: errors.New("render apps/podinfo: missing file base/deploy.yaml")}
	ok := &evaluationtest.Check{ID: "cc", Runs: []string{"gitward/change-control"}}
	e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{broken, ok}, Backoff: time.Millisecond}
	err := e.Evaluate(t.Context(), fx.f, fx.ref)
	if err == nil || !strings.Contains(err.Error(), "missing file") {
		t.Fatalf("error = %v, want the capability's error", err)
	}
	byName := map[string]forge.CheckRun{}
	for _, r := range fx.checkRuns(t) {
		byName[r.Name] = r
	}
	if r := byName["gitward/diff"]; r.Conclusion != forge.ConclusionFailure || !strings.Contains(r.Summary, "missing file base/deploy.yaml") {
		t.Errorf("gitward/diff = %s %q, want failure with the reason", r.Conclusion, r.Summary)
	}
	if r := byName["gitward/change-control"]; r.Conclusion != forge.ConclusionSuccess {
		t.Errorf("gitward/change-control = %s, want the other capability's success", r.Conclusion)
	}
}

func TestReevaluationUpdatesChecksInPlace(t *testing.T) {
	fx := seed(t, validConfig, "")
	c := &evaluationtest.Check{ID: "cc", Runs: []string{"gitward/change-control"}}
	e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{c}}
	for i := 0; i < 3; i++ {
		if err := e.Evaluate(t.Context(), fx.f, fx.ref); err != nil {
			t.Fatal(err)
		}
	}
	runs := fx.checkRuns(t)
	if len(runs) != 1 {
		t.Errorf("three evaluations left %d check runs, want 1", len(runs))
	}
	if !strings.HasPrefix(runs[0].ExternalID, evaluation.ExternalIDPrefix+fx.base+" updated=") {
		t.Errorf("external ID %q does not record the base", runs[0].ExternalID)
	}
}

func TestClosedPullRequestsAreNotEvaluated(t *testing.T) {
	fx := seed(t, validConfig, "")
	fx.f.ClosePullRequest(fx.ref)
	c := &evaluationtest.Check{ID: "cc", Runs: []string{"gitward/change-control"}}
	e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{c}}
	if err := e.Evaluate(t.Context(), fx.f, fx.ref); err != nil {
		t.Fatal(err)
	}
	if c.Got != nil {
		t.Error("a closed pull request was evaluated")
	}
}

func TestAnUnreadablePolicyPublishesNothing(t *testing.T) {
	fx := seed(t, validConfig, "")
	fx.f.FailNext("File", errors.New("500 Internal Server Error"), 1)
	c := &evaluationtest.Check{ID: "cc", Runs: []string{"gitward/change-control"}}
	e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{c}}
	err := e.Evaluate(t.Context(), fx.f, fx.ref)
	if err == nil || !strings.Contains(err.Error(), ".gitward.yaml") {
		t.Fatalf("error = %v, want one naming the config", err)
	}
	if runs := fx.checkRuns(t); len(runs) != 0 {
		t.Errorf("published %+v without a policy", runs)
	}
}

func TestNeedsEvaluation(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	e := &evaluation.Evaluator{
		Capabilities: []evaluation.Capability{&evaluationtest.Check{Runs: []string{"gitward/diff", "gitward/change-control"}}},
		Now:          func() time.Time { return now },
	}
	pr := forge.PullRequest{BaseSHA: baseSHA, HeadSHA: headSHA, UpdatedAt: now.Add(-time.Hour)}
	done := func(name string) forge.CheckRun {
		return forge.CheckRun{ID: 1, Name: name, Status: forge.CheckCompleted, ExternalID: evaluation.ExternalID(baseSHA, now.Add(-time.Hour))}
	}
	tests := []struct {
		name string
		runs []forge.CheckRun
		want bool
		why  string
	}{
		{"every check complete against the current base needs nothing", []forge.CheckRun{done("gitward/diff"), done("gitward/change-control")}, false, ""},
		{"a missing check needs an evaluation", []forge.CheckRun{done("gitward/diff")}, true, "gitward/change-control is missing"},
		{"a check computed against another base needs an evaluation", []forge.CheckRun{done("gitward/diff"), {ID: 2, Name: "gitward/change-control", Status: forge.CheckCompleted, ExternalID: evaluation.ExternalID(headSHA, time.Time{})}}, true, "another base"},
		{"a check from another tool with our name is not ours", []forge.CheckRun{done("gitward/diff"), {ID: 2, Name: "gitward/change-control", Status: forge.CheckCompleted}}, true, "another base"},
		{"a check in progress for a minute is left alone", []forge.CheckRun{done("gitward/diff"), {ID: 2, Name: "gitward/change-control", Status: forge.CheckInProgress, ExternalID: evaluation.ExternalID(baseSHA, now.Add(-time.Hour)), StartedAt: now.Add(-time.Minute)}}, false, ""},
		{"a check in progress for an hour is stale", []forge.CheckRun{done("gitward/diff"), {ID: 2, Name: "gitward/change-control", Status: forge.CheckInProgress, ExternalID: evaluation.ExternalID(baseSHA, now.Add(-time.Hour)), StartedAt: now.Add(-time.Hour)}}, true, "in_progress since"},
		{"a check computed before the pull request's last update needs an evaluation", []forge.CheckRun{done("gitward/diff"), {ID: 2, Name: "gitward/change-control", Status: forge.CheckCompleted, ExternalID: evaluation.ExternalID(baseSHA, now.Add(-2*time.Hour))}}, true, "predates the pull request's update"},
		{"the newest run of a name decides", []forge.CheckRun{done("gitward/diff"), {ID: 5, Name: "gitward/change-control", Status: forge.CheckCompleted, ExternalID: evaluation.ExternalID(baseSHA, now.Add(-time.Hour))}, {ID: 3, Name: "gitward/change-control", Status: forge.CheckQueued, ExternalID: "x"}}, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, why := e.NeedsEvaluation(pr, tc.runs)
			if got != tc.want || !strings.Contains(why, tc.why) {
				t.Errorf("NeedsEvaluation = %v, %q; want %v, containing %q", got, why, tc.want, tc.why)
			}
		})
	}
}

func ExampleExternalID() {
	fmt.Println(evaluation.ExternalID(baseSHA, time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)))
	// Output: gitward/v1 base=1111111111111111111111111111111111111111 updated=2026-11-27T09:30:00Z
}

// flaky fails its first evaluations, as a capability does when the forge
// has a passing outage.
type flaky struct {
	evaluationtest.Check
	failures int
	calls    int
}

func (c *flaky) Evaluate(ctx context.Context, ev *evaluation.Evaluation) error {
	c.calls++
	if c.calls <= c.failures {
		return errors.New("github: 502 Bad Gateway")
	}
	return c.Check.Evaluate(ctx, ev)
}

func TestAPassingForgeErrorIsRetriedBeforeTheCheckFails(t *testing.T) {
	fx := seed(t, validConfig, "")
	c := &flaky{Check: evaluationtest.Check{ID: "cc", Runs: []string{"gitward/change-control"}}, failures: 2}
	e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{c}, Backoff: time.Millisecond}
	if err := e.Evaluate(t.Context(), fx.f, fx.ref); err != nil {
		t.Fatalf("two failures then success: %v", err)
	}
	if runs := fx.checkRuns(t); len(runs) != 1 || runs[0].Conclusion != forge.ConclusionSuccess {
		t.Errorf("check runs = %+v, want the success of the third attempt", runs)
	}

	c = &flaky{Check: evaluationtest.Check{ID: "cc", Runs: []string{"gitward/change-control"}}, failures: 3}
	e = &evaluation.Evaluator{Capabilities: []evaluation.Capability{c}, Backoff: time.Millisecond}
	if err := e.Evaluate(t.Context(), fx.f, fx.ref); err == nil {
		t.Fatal("three failures: no error")
	}
	if runs := fx.checkRuns(t); runs[0].Conclusion != forge.ConclusionFailure || !strings.Contains(runs[0].Summary, "502 Bad Gateway") {
		t.Errorf("after the retries: %s %q", runs[0].Conclusion, runs[0].Summary)
	}
	if c.calls != 3 {
		t.Errorf("ran %d times, want 1 + 2 retries", c.calls)
	}
}

func TestFirstSeenIsTheEarliestCheckOnTheHead(t *testing.T) {
	fx := seed(t, validConfig, "")
	early := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	if _, err := fx.f.PublishCheck(t.Context(), fx.ref.Repo, forge.CheckRun{Name: "gitward/diff", HeadSHA: fx.head, Status: forge.CheckCompleted, Conclusion: forge.ConclusionSuccess, StartedAt: early, Summary: "s"}); err != nil {
		t.Fatal(err)
	}
	var seen time.Time
	c := &probe{check: func(ev *evaluation.Evaluation) { seen = ev.FirstSeen }}
	e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{c}}
	if err := e.Evaluate(t.Context(), fx.f, fx.ref); err != nil {
		t.Fatal(err)
	}
	if !seen.Equal(early) {
		t.Errorf("FirstSeen = %v, want the earliest check's start %v", seen, early)
	}
}

// probe is a capability that only looks at the evaluation.
type probe struct{ check func(*evaluation.Evaluation) }

func (p *probe) Name() string     { return "probe" }
func (p *probe) Checks() []string { return []string{"gitward/probe"} }
func (p *probe) Evaluate(_ context.Context, ev *evaluation.Evaluation) error {
	p.check(ev)
	return nil
}
