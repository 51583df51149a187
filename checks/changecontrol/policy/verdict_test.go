package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/gitward/gitward/forge"
)

func TestBreakGlass(t *testing.T) {
	f := facts(t, "approvals: {required: 2}")
	f.Commits[0].Signature = SignatureVerdict{}
	f.BreakGlass = &BreakGlassUse{User: "carol", Reason: "payments down,\nrolling back", At: at(30)}

	v := assertPasses(t, f)
	if v.Title != "Break-glass by @carol: payments down, rolling back" {
		t.Errorf("title %q", v.Title)
	}
	t.Run("every rule's real state is still listed", func(t *testing.T) {
		assertFails(t, f, "approvals", "0 of 2 approvals, waiting for 2")
		assertFails(t, f, "signed commits", "commit 3f2a1c9 is not signed")
	})
	t.Run("the summary says glass was broken", func(t *testing.T) {
		if !strings.HasPrefix(v.Summary, "> [!WARNING]\n> **Break-glass by @carol:** payments down, rolling back\n") {
			t.Errorf("summary:\n%s", v.Summary)
		}
	})
}

func TestConfiguration(t *testing.T) {
	t.Run("a configuration that does not parse fails with its error", func(t *testing.T) {
		f := facts(t, "")
		f.Config = nil
		f.ConfigError = errors.New(".gitward.yaml:4:3: approvals.required: want a number from 0 to 100")
		v := assertFails(t, f, "configuration", ".gitward.yaml could not be read: .gitward.yaml:4:3: approvals.required: want a number from 0 to 100")
		if v.Title != "Configuration error: .gitward.yaml could not be read: .gitward.yaml:4:3: approvals.required: want a number from 0 to 100" {
			t.Errorf("title %q", v.Title)
		}
		if len(v.Rules) != 1 {
			t.Errorf("rules beside the configuration error: %s", ruleList(v))
		}
	})
	t.Run("a parse error wins over a configuration", func(t *testing.T) {
		f := facts(t, "")
		f.ConfigError = errors.New("bad")
		assertFails(t, f, "configuration", ".gitward.yaml could not be read: bad")
	})
	t.Run("no configuration at all fails closed", func(t *testing.T) {
		f := facts(t, "")
		f.Config = nil
		assertFails(t, f, "configuration", "no repository configuration was given, so nothing can be checked")
	})
}

func TestEmptyPullRequest(t *testing.T) {
	f := Facts{Config: repo(t, "")}
	v := Evaluate(f)
	if v.Conclusion != forge.ConclusionFailure {
		t.Errorf("conclusion %s, want failure", v.Conclusion)
	}
	want := []RuleResult{
		{Name: "signed commits", Reason: "the pull request has no commits to check"},
		{Name: "separation of duties", OK: true, Reason: "no authors known"},
		{Name: "approvals", Reason: "0 of 1 approval, waiting for 1"},
		{Name: "changes requested", OK: true, Reason: "no changes requested"},
		{Name: "plaintext secrets", OK: true, Reason: "no plaintext secrets"},
	}
	if len(v.Rules) != len(want) {
		t.Fatalf("rules:\n%s", ruleList(v))
	}
	for i := range want {
		if v.Rules[i] != want[i] {
			t.Errorf("rule %d\n got %+v\nwant %+v", i, v.Rules[i], want[i])
		}
	}
	if v.Title != "0 of 1 approval; no commits; no plaintext secrets" {
		t.Errorf("title %q", v.Title)
	}
}

func TestEvaluateIsDeterministic(t *testing.T) {
	f := prodChange(t, prodNeedsSRE)
	f.Reviews = []forge.Review{approvedOn("dave", headSHA, 20), approvedOn("alice", headSHA, 20), approvedOn("erin", headSHA, 20),
		approvedOn("frank", firstSHA, 5), changesOn("carol", headSHA, 20)}
	f.Approvals = []CommandApproval{command("bob", "", 20), command("grace", "", 20)}
	first := Evaluate(f)
	for i := 0; i < 50; i++ {
		if v := Evaluate(f); v.Summary != first.Summary || v.Title != first.Title {
			t.Fatalf("evaluation %d differs:\n%s\n---\n%s", i, v.Summary, first.Summary)
		}
	}
}
