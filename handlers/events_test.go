package handlers_test

import (
	"bytes"
	"encoding/json"
	"github.com/gitward/gitward/evaluation/evaluationtest"
	"strings"
	"testing"

	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge/github/githubtest"
	"github.com/gitward/gitward/handlers"
)

// seedFromPayload seeds the double with the repository and pull request a
// real webhook payload names.
func seedFromPayload(t *testing.T, gh *githubtest.Server, payload []byte) (repo, head string) {
	t.Helper()
	var ev struct {
		Number       int `json:"number"`
		Installation struct {
			ID int64 `json:"id"`
		} `json:"installation"`
		Repository struct {
			Name  string `json:"name"`
			Owner struct {
				Login string `json:"login"`
			} `json:"owner"`
		} `json:"repository"`
		PullRequest struct {
			Base struct{ Ref, SHA string } `json:"base"`
			Head struct{ Ref, SHA string } `json:"head"`
		} `json:"pull_request"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	gh.AddInstallation(ev.Installation.ID, ev.Repository.Owner.Login)
	gh.AddRepo(ev.Installation.ID, ev.Repository.Owner.Login, ev.Repository.Name, "master")
	repo = ev.Repository.Owner.Login + "/" + ev.Repository.Name
	gh.AddPullRequest(repo, githubtest.PullRequest{
		Number: ev.Number, Author: "Codertocat",
		BaseRef: ev.PullRequest.Base.Ref, BaseSHA: ev.PullRequest.Base.SHA,
		HeadRef: ev.PullRequest.Head.Ref, HeadSHA: ev.PullRequest.Head.SHA,
	})
	return repo, ev.PullRequest.Head.SHA
}

func TestPullRequestEventsThatChangeAVerdictAreEvaluated(t *testing.T) {
	opened := githubtest.Payload(t, "pull_request", "opened.payload.json")
	rewrite := func(action string, extra string) []byte {
		out := bytes.Replace(opened, []byte(`"action": "opened"`), []byte(`"action": "`+action+`"`+extra), 1)
		if bytes.Equal(out, opened) && action != "opened" {
			t.Fatal("fixture changed: no opened action")
		}
		return out
	}
	tests := []struct {
		name     string
		payload  []byte
		evaluate bool
	}{
		{"opened is evaluated", opened, true},
		{"synchronize (a push) is evaluated", githubtest.Payload(t, "pull_request", "synchronize.payload.json"), true},
		{"reopened is evaluated", githubtest.Payload(t, "pull_request", "reopened.payload.json"), true},
		{"ready_for_review is evaluated", rewrite("ready_for_review", ""), true},
		{"a new base branch is evaluated", rewrite("edited", `, "changes": {"base": {"ref": {"from": "develop"}, "sha": {"from": "abc"}}}`), true},
		{"a new title is not evaluated", rewrite("edited", `, "changes": {"title": {"from": "old"}}`), false},
		{"closed is not evaluated", githubtest.Payload(t, "pull_request", "closed.payload.json"), false},
		{"labeled is not evaluated", rewrite("labeled", ""), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, gh, _ := newForge(t)
			repo, head := seedFromPayload(t, gh, tc.payload)
			c := &evaluationtest.Check{ID: "cc", Runs: []string{"gitward/change-control"}}
			h := &handlers.PullRequest{Forge: f, Evaluator: &evaluation.Evaluator{Capabilities: []evaluation.Capability{c}}}
			if err := h.Handle(t.Context(), "pull_request", "d1", tc.payload); err != nil {
				t.Fatal(err)
			}
			if got := c.Got != nil; got != tc.evaluate {
				t.Errorf("evaluated = %v, want %v", got, tc.evaluate)
			}
			if tc.evaluate && len(gh.CheckRuns(repo, head)) != 1 {
				t.Errorf("no check run on the head")
			}
		})
	}
}

func TestMalformedPayloadsAreErrorsNotPanics(t *testing.T) {
	f, _, _ := newForge(t)
	e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{&evaluationtest.Check{Runs: []string{"x"}}}}
	tests := []struct {
		name    string
		event   string
		payload string
		want    string
	}{
		{"a pull request payload that is not an object", "pull_request", `[1,2]`, "decode pull_request payload"},
		{"a pull request payload without an installation", "pull_request", `{"action":"opened","number":1,"repository":{"name":"r","owner":{"login":"o"}}}`, "no installation.id"},
		{"a pull request payload without a repository", "pull_request", `{"action":"opened","number":1,"installation":{"id":1}}`, "no repository owner and name"},
		{"a pull request payload without a number", "pull_request", `{"action":"opened","installation":{"id":1},"repository":{"name":"r","owner":{"login":"o"}}}`, "no pull request number"},
		{"a check run payload with a wrong type", "check_run", `{"action":"rerequested","check_run":{"pull_requests":"x"}}`, "decode check_run payload"},
		{"a check suite payload without a repository", "check_suite", `{"action":"rerequested","installation":{"id":1}}`, "no repository owner and name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			switch tc.event {
			case "pull_request":
				err = (&handlers.PullRequest{Forge: f, Evaluator: e}).Handle(t.Context(), tc.event, "d", []byte(tc.payload))
			default:
				err = (&handlers.CheckRerun{Forge: f, Evaluator: e}).Handle(t.Context(), tc.event, "d", []byte(tc.payload))
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestRerunRequestsReevaluateTheirPullRequests(t *testing.T) {
	f, gh, _ := newForge(t)
	c := &evaluationtest.Check{ID: "cc", Runs: []string{"gitward/change-control"}}
	h := &handlers.CheckRerun{Forge: f, Evaluator: &evaluation.Evaluator{Capabilities: []evaluation.Capability{c}}}

	// The real check_run payload names no pull request: nothing to do.
	if err := h.Handle(t.Context(), "check_run", "d", githubtest.Payload(t, "check_run", "rerequested.payload.json")); err != nil {
		t.Fatal(err)
	}
	if c.Got != nil {
		t.Fatal("a re-run without pull requests evaluated something")
	}

	// The real check_suite payload names pull request 2 of installation
	// 957387; seed that pull request from the matching pull_request payload.
	opened := githubtest.Payload(t, "pull_request", "opened.payload.json")
	opened = bytes.Replace(opened, []byte(`"installation": {
    "id": 1,`), []byte(`"installation": {
    "id": 957387,`), 1)
	repo, head := seedFromPayload(t, gh, opened)
	if err := h.Handle(t.Context(), "check_suite", "d", githubtest.Payload(t, "check_suite", "rerequested.payload.json")); err != nil {
		t.Fatal(err)
	}
	if c.Got == nil || c.Got.PR.Ref.Number != 2 {
		t.Fatalf("re-run did not evaluate pull request 2")
	}
	if len(gh.CheckRuns(repo, head)) != 1 {
		t.Error("re-run published no check")
	}
}

func TestInstallationEventsAskForAResync(t *testing.T) {
	tests := []struct {
		event, file string
		resync      bool
	}{
		{"installation", "created.payload.json", true},
		{"installation", "unsuspend.payload.json", true},
		{"installation", "new_permissions_accepted.payload.json", true},
		{"installation_repositories", "added.payload.json", true},
		{"installation", "deleted.payload.json", false},
		{"installation", "suspend.payload.json", false},
		{"installation_repositories", "removed.payload.json", false},
	}
	for _, tc := range tests {
		t.Run(tc.event+" "+strings.TrimSuffix(tc.file, ".payload.json"), func(t *testing.T) {
			kicked := false
			h := &handlers.Installation{Resync: func() { kicked = true }}
			if err := h.Handle(t.Context(), tc.event, "d", githubtest.Payload(t, tc.event, tc.file)); err != nil {
				t.Fatal(err)
			}
			if kicked != tc.resync {
				t.Errorf("resync = %v, want %v", kicked, tc.resync)
			}
		})
	}
}
