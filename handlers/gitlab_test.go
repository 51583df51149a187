package handlers_test

import (
	"context"
	"encoding/json"
	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/evaluation"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/github/githubtest"
	glforge "github.com/gitward/gitward/forge/gitlab"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
	"github.com/gitward/gitward/handlers"
)

const glProject = "platform/gitops"

// counter is a capability that counts its evaluations.
type counter struct{ n int }

func (c *counter) Name() string     { return "counter" }
func (c *counter) Checks() []string { return []string{"gitward/change-control"} }
func (c *counter) Evaluate(ctx context.Context, ev *evaluation.Evaluation) error {
	c.n++
	run := ev.CheckRun("gitward/change-control")
	run.Status, run.Conclusion, run.Title = forge.CheckCompleted, forge.ConclusionSuccess, "ok"
	return ev.Publish(ctx, run)
}

type glFixture struct {
	srv  *gitlabtest.Server
	h    *handlers.GitLab
	cap  *counter
	host string
	iid  int64
}

func newGLFixture(t *testing.T) *glFixture {
	t.Helper()
	srv := gitlabtest.New(t)
	srv.AddProject(glProject, gitlabtest.ProjectOptions{})
	srv.AddUser("alice")
	srv.Commit(glProject, "feature", "change", map[string]string{"app/x.yaml": "x: 1\n"})
	iid := srv.AddMergeRequest(glProject, gitlabtest.MergeRequestOptions{Source: "feature", Title: "change", Author: "alice"})
	host := strings.TrimPrefix(srv.URL(), "http://")
	f := glforge.New(srv.Client(), glforge.Options{Host: host})
	c := &counter{}
	ev := &evaluation.Evaluator{Capabilities: []evaluation.Capability{c}, Retries: -1}
	return &glFixture{
		srv: srv, cap: c, host: host, iid: iid,
		h: &handlers.GitLab{
			Forges:    map[string]forge.Forge{host: f},
			Evaluator: ev,
			Merged:    &handlers.Merged{PullRequest: handlers.PullRequest{Evaluator: ev}, Recorder: &audit.Recorder{}},
			Push:      &handlers.Push{Pushes: &audit.Pushes{}},
			Comments:  &handlers.IssueComment{Evaluator: ev, Reviews: &audit.Reviews{}},
		},
	}
}

// payload reads a real GitLab webhook example, points it at the fixture's
// project and applies edit.
func (fx *glFixture) payload(t *testing.T, name string, edit func(map[string]any)) []byte {
	t.Helper()
	root, err := githubtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "testdata/gitlab/webhooks/gitlab-org-api-client-go", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	p := ev["project"].(map[string]any)
	p["path_with_namespace"], p["web_url"], p["default_branch"] = glProject, fx.srv.URL()+"/"+glProject, "main"
	if edit != nil {
		edit(ev)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGitLabMergeRequestActionsThatChangeAVerdictAreEvaluated(t *testing.T) {
	tests := []struct {
		action   string
		oldrev   string
		changes  map[string]any
		evaluate bool
	}{
		{action: "open", evaluate: true},
		{action: "reopen", evaluate: true},
		{action: "approved", evaluate: true},
		{action: "unapproved", evaluate: true},
		{action: "update", oldrev: "6ef047571374c96a2bf13c361efd1fb008b0063e", evaluate: true},
		{action: "update", changes: map[string]any{"target_branch": map[string]any{"previous": "main", "current": "release"}}, evaluate: true},
		{action: "update", changes: map[string]any{"draft": map[string]any{"previous": true, "current": false}}, evaluate: true},
		{action: "update", changes: map[string]any{"draft": map[string]any{"previous": false, "current": true}}},
		{action: "update", changes: map[string]any{"title": map[string]any{"previous": "a", "current": "b"}}},
		{action: "close"},
		{action: "something-new"},
	}
	for _, tc := range tests {
		name := tc.action
		if tc.oldrev != "" {
			name += " with new commits"
		}
		for k := range tc.changes {
			name += " of " + k
		}
		t.Run(name, func(t *testing.T) {
			fx := newGLFixture(t)
			body := fx.payload(t, "merge_request.json", func(ev map[string]any) {
				oa := ev["object_attributes"].(map[string]any)
				oa["iid"], oa["action"] = fx.iid, tc.action
				delete(oa, "oldrev")
				if tc.oldrev != "" {
					oa["oldrev"] = tc.oldrev
				}
				ev["changes"] = tc.changes
			})
			if err := fx.h.Handle(t.Context(), handlers.GitLabMergeRequest, body); err != nil {
				t.Fatal(err)
			}
			if got := fx.cap.n > 0; got != tc.evaluate {
				t.Errorf("evaluated = %v, want %v", got, tc.evaluate)
			}
		})
	}
}

// TestGitLabOwnAndForeignNotesDoNotAct: gitward's own notes (found through
// the token's user) and notes on commits and snippets never act.
func TestGitLabOwnAndForeignNotesDoNotAct(t *testing.T) {
	fx := newGLFixture(t)
	own := fx.srv.AddNote(glProject, fx.iid, "gitward-bot", "/approve", false)
	body := fx.payload(t, "note_merge_request.json", func(ev map[string]any) {
		ev["user"].(map[string]any)["username"] = "gitward-bot"
		oa := ev["object_attributes"].(map[string]any)
		oa["id"], oa["note"] = own, "/approve"
		ev["merge_request"].(map[string]any)["iid"] = fx.iid
	})
	if err := fx.h.Handle(t.Context(), handlers.GitLabNote, body); err != nil {
		t.Fatal(err)
	}
	if fx.cap.n != 0 || len(fx.srv.Awards(own)) != 0 {
		t.Errorf("gitward's own note acted: %d evaluations, awards %v", fx.cap.n, fx.srv.Awards(own))
	}
	for _, name := range []string{"note_commit.json", "note_snippet.json"} {
		if err := fx.h.Handle(t.Context(), handlers.GitLabNote, fx.payload(t, name, nil)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if fx.cap.n != 0 {
		t.Errorf("notes on a commit or snippet evaluated something: %d", fx.cap.n)
	}
	// A person's command on the merge request does act.
	mine := fx.srv.AddNote(glProject, fx.iid, "alice", "/recheck", false)
	body = fx.payload(t, "note_merge_request.json", func(ev map[string]any) {
		ev["user"].(map[string]any)["username"] = "alice"
		oa := ev["object_attributes"].(map[string]any)
		oa["id"], oa["note"] = mine, "/recheck"
		ev["merge_request"].(map[string]any)["iid"] = fx.iid
	})
	if err := fx.h.Handle(t.Context(), handlers.GitLabNote, body); err != nil {
		t.Fatal(err)
	}
	if fx.cap.n != 1 {
		t.Errorf("/recheck by a person: %d evaluations, want 1", fx.cap.n)
	}
}

// TestGitLabBadPayloadsSayWhatIsWrong: every malformed delivery is an
// error naming what is missing, and nothing is evaluated.
func TestGitLabBadPayloadsSayWhatIsWrong(t *testing.T) {
	fx := newGLFixture(t)
	tests := []struct {
		name, event string
		body        []byte
		want        string
	}{
		{"not JSON", handlers.GitLabMergeRequest, []byte("{"), "decode Merge Request Hook payload"},
		{"no project", handlers.GitLabMergeRequest, []byte(`{"object_kind":"merge_request"}`), "has no project.path_with_namespace"},
		{"another host", handlers.GitLabMergeRequest, fx.payload(t, "merge_request.json", func(ev map[string]any) {
			ev["project"].(map[string]any)["web_url"] = "https://gitlab.elsewhere.example/platform/gitops"
		}), "gitlab.elsewhere.example, which is not a configured GitLab host"},
		{"web URL not a URL", handlers.GitLabPush, fx.payload(t, "push.json", func(ev map[string]any) {
			ev["project"].(map[string]any)["web_url"] = "::"
		}), `project.web_url "::" is not a URL`},
		{"project without namespace", handlers.GitLabPush, fx.payload(t, "push.json", func(ev map[string]any) {
			ev["project"].(map[string]any)["path_with_namespace"] = "gitops"
		}), `"gitops" is not namespace/project`},
		{"merge request without iid", handlers.GitLabMergeRequest, fx.payload(t, "merge_request.json", func(ev map[string]any) {
			delete(ev["object_attributes"].(map[string]any), "iid")
		}), "has no object_attributes.iid"},
		{"note without merge request", handlers.GitLabNote, fx.payload(t, "note_merge_request.json", func(ev map[string]any) {
			delete(ev, "merge_request")
		}), "has no merge_request.iid"},
		{"note on an issue without issue", handlers.GitLabNote, fx.payload(t, "note_issue.json", func(ev map[string]any) {
			delete(ev, "issue")
		}), "has no issue.iid"},
		{"note without author", handlers.GitLabNote, fx.payload(t, "note_merge_request.json", func(ev map[string]any) {
			delete(ev, "user")
		}), "has no object_attributes.id or user"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := fx.h.Handle(t.Context(), tc.event, tc.body)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
	if fx.cap.n != 0 {
		t.Errorf("%d evaluations from bad payloads", fx.cap.n)
	}
}

// TestGitLabEveryRealPayloadDecodes: each example GitLab publishes, of
// both copies, decodes through the handler; fields of one event that
// carry another shape in another event (object_attributes.source is a
// string in pipeline events and an object in merge request events) must
// not make a delivery unreadable.
func TestGitLabEveryRealPayloadDecodes(t *testing.T) {
	fx := newGLFixture(t)
	root, err := githubtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]string{
		"merge_request.json": handlers.GitLabMergeRequest, "group_merge_request.json": handlers.GitLabMergeRequest,
		"service_merge_request.json": handlers.GitLabMergeRequest, "note_merge_request.json": handlers.GitLabNote,
		"note_issue.json": handlers.GitLabNote, "note_commit.json": handlers.GitLabNote, "note_snippet.json": handlers.GitLabNote,
		"push.json": handlers.GitLabPush, "pipeline.json": handlers.GitLabPipeline,
	}
	n := 0
	for _, set := range []string{"gitlab-org-api-client-go", "xanzy-go-gitlab"} {
		for name, event := range events {
			raw, err := os.ReadFile(filepath.Join(root, "testdata/gitlab/webhooks", set, name))
			if err != nil {
				t.Fatal(err)
			}
			var ev map[string]any
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			if p, ok := ev["project"].(map[string]any); ok {
				p["web_url"] = fx.srv.URL() + "/" + glProject
			}
			body, _ := json.Marshal(ev)
			// The projects and merge requests they name are not on the
			// double, so reading them may fail; decoding must not.
			if err := fx.h.Handle(t.Context(), event, body); err != nil && strings.Contains(err.Error(), "decode") {
				t.Errorf("%s/%s: %v", set, name, err)
			}
			n++
		}
	}
	if n != 18 {
		t.Fatalf("%d payloads exercised, want 18", n)
	}
}

// TestGitLabPipelineEventsEvaluateOncePerNewHeadPipeline: a pipeline
// starting on a merge request's head evaluates it; the same pipeline
// again (gitward's own statuses run it), a running or finished pipeline,
// and a pipeline of commit statuses do not, so gitward's statuses can
// never keep a pipeline going.
func TestGitLabPipelineEventsEvaluateOncePerNewHeadPipeline(t *testing.T) {
	fx := newGLFixture(t)
	head := fx.srv.BranchHead(glProject, "feature")
	event := func(id int64, status, source string) []byte {
		return fx.payload(t, "pipeline.json", func(ev map[string]any) {
			oa := ev["object_attributes"].(map[string]any)
			oa["id"], oa["sha"], oa["ref"], oa["status"], oa["source"] = id, head, "feature", status, source
			ev["merge_request"].(map[string]any)["iid"] = fx.iid
		})
	}
	ci := fx.srv.AddPipeline(glProject, head, "feature", "push")
	same := func() int64 { return ci }
	steps := []struct {
		what          string
		pipeline      func() int64
		status, src   string
		wantEvaluated int
	}{
		{"a new pipeline is pending", same, "pending", "push", 1},
		{"the same pipeline again", same, "pending", "push", 1},
		{"the same pipeline running again", same, "running", "push", 1},
		{"a finished pipeline", same, "success", "push", 1},
		{"a pipeline of commit statuses", func() int64 { return fx.srv.AddPipeline(glProject, head, "feature", "external") }, "pending", "external", 1},
		{"a newer pipeline is created", func() int64 {
			return fx.srv.AddPipeline(glProject, head, "refs/merge-requests/1/head", "merge_request_event")
		}, "created", "merge_request_event", 2},
	}
	for _, s := range steps {
		if err := fx.h.Handle(t.Context(), handlers.GitLabPipeline, event(s.pipeline(), s.status, s.src)); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		if fx.cap.n != s.wantEvaluated {
			t.Fatalf("after %s: %d evaluations, want %d", s.what, fx.cap.n, s.wantEvaluated)
		}
	}
}

// TestHeadPushedAtIsTheForgesRecordOfTheHead: on GitLab, when the head
// arrived is the oldest diff version of its latest run, whatever gitward
// published since; when that record names another head than the one
// evaluated (a push in between), it is unknown, so a bare /approve cannot
// count; a forge without such a record answers FirstSeen.
func TestHeadPushedAtIsTheForgesRecordOfTheHead(t *testing.T) {
	fx := newGLFixture(t)
	ctx := t.Context()
	f := fx.h.Forges[fx.host]
	ref := forge.PRRef{Repo: forge.Repo{Host: fx.host, Owner: "platform", Name: "gitops"}, Number: int(fx.iid)}
	pr, err := f.PullRequest(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	versions := fx.srv.Versions(glProject, fx.iid)
	arrived := *versions[len(versions)-1].CreatedAt
	late := arrived.Add(time.Hour)
	ev := &evaluation.Evaluation{Forge: f, PR: pr, FirstSeen: late}
	if got, err := ev.HeadPushedAt(ctx); err != nil || !got.Equal(arrived) {
		t.Fatalf("HeadPushedAt = %s, %v; want the diff version's %s", got, err, arrived)
	}

	fx.srv.Push(glProject, fx.iid, "more", map[string]string{"app/y.yaml": "y: 1\n"})
	if got, err := ev.HeadPushedAt(ctx); err != nil || !got.IsZero() {
		t.Fatalf("HeadPushedAt after a push the evaluation did not see = %s, %v; want unknown", got, err)
	}

	plain := &evaluation.Evaluation{Forge: struct{ forge.Forge }{f}, PR: pr, FirstSeen: late}
	if got, err := plain.HeadPushedAt(ctx); err != nil || !got.Equal(late) {
		t.Fatalf("HeadPushedAt without a head clock = %s, %v; want FirstSeen", got, err)
	}
}
