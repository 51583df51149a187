package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/app"
	"github.com/gitward/gitward/capability/changecontrol"
	"github.com/gitward/gitward/capability/diff"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
	"github.com/gitward/gitward/handlers"
	"github.com/gitward/gitward/render"
	"github.com/rs/zerolog"
	gl "gitlab.com/gitlab-org/api/client-go"
)

// The GitLab scenarios run gitward end to end against the GitLab double:
// real GitLab webhook payloads (testdata/gitlab/webhooks), pointed at a
// project seeded on the double, through /api/gitlab/hook, the worker pool,
// the same handlers and capabilities as on GitHub, and the GitLab adapter.

const glProject = "platform/gitops"

const glPolicy = `version: 1
approvals:
  required: 1
break_glass:
  responders:
    users: [bob]
`

var glBase = map[string]string{
	".gitward.yaml":                   glPolicy,
	"apps/podinfo/kustomization.yaml": "resources:\n  - configmap.yaml\n",
	"apps/podinfo/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: podinfo
  namespace: podinfo
data:
  color: blue
`,
}

// glHarness is a gitward server serving only GitLab, wired to a double.
type glHarness struct {
	t    *testing.T
	gl   *gitlabtest.Server
	srv  *app.Server
	logs *syncBuffer
	host string
}

func newGLHarness(t *testing.T) *glHarness {
	t.Helper()
	srv := gitlabtest.New(t)
	srv.AddProject(glProject, gitlabtest.ProjectOptions{})
	for user, level := range map[string]gl.AccessLevelValue{
		"alice": gl.DeveloperPermissions, "bob": gl.DeveloperPermissions,
		"carol": gl.MaintainerPermissions, "rita": gl.ReporterPermissions,
	} {
		srv.AddUser(user)
		srv.SetMember(glProject, user, level)
	}
	base := srv.Commit(glProject, "main", "base", glBase)
	srv.Sign(glProject, base, "verified")

	logs := &syncBuffer{}
	engine := &diff.Engine{Renderer: render.NewRenderer(render.Options{CacheSize: 64 << 20})}
	s, err := app.New(app.Options{
		Address:             "127.0.0.1:0",
		ShutdownGrace:       5 * time.Second,
		GitLabHosts:         []app.GitLabHost{{BaseURL: srv.URL() + "/", Token: []byte(gitlabtest.Token)}},
		GitLabWebhookSecret: []byte(gitlabSecret),
		Workers:             1,
		QueueSize:           10,
		SnapshotDir:         t.TempDir(),
		SnapshotMaxBytes:    1 << 30,
		Capabilities:        []handlers.Capability{diff.New(engine), changecontrol.New(engine)},
		Logger:              zerolog.New(logs).Level(zerolog.DebugLevel),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &glHarness{t: t, gl: srv, srv: s, logs: logs, host: strings.TrimPrefix(srv.URL(), "http://")}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gitward's log:\n%s", logs.String())
		}
	})
	return h
}

// payload reads a real GitLab example and points it at the seeded
// project; edit changes it further.
func (h *glHarness) payload(name string, edit func(map[string]any)) []byte {
	h.t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(gitlabPayload(h.t, "gitlab-org-api-client-go", name), &ev); err != nil {
		h.t.Fatal(err)
	}
	p := ev["project"].(map[string]any)
	p["path_with_namespace"] = glProject
	p["web_url"] = h.gl.URL() + "/" + glProject
	p["default_branch"] = "main"
	if edit != nil {
		edit(ev)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// deliver posts a delivery and waits until the pool has run it.
func (h *glHarness) deliver(event string, body []byte) {
	h.t.Helper()
	before := h.handled()
	w := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(w, gitlabRequest(event, body, gitlabSecret))
	if w.Code != http.StatusAccepted {
		h.t.Fatalf("%s: status %d: %s", event, w.Code, w.Body.String())
	}
	waitFor(h.t, event+" to be handled", func() bool { return h.handled() > before })
}

// handled counts the GitLab jobs the pool finished, from the handler
// latency histogram.
func (h *glHarness) handled() int {
	w := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	n := 0
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if strings.HasPrefix(line, "gitward_handler_duration_seconds_count{") && strings.Contains(line, `kind="gitlab_`) {
			var c float64
			if _, err := fmt.Sscan(line[strings.LastIndex(line, " ")+1:], &c); err == nil {
				n += int(c)
			}
		}
	}
	return n
}

// mergeRequestEvent is the real merge_request.json for iid and action.
func (h *glHarness) mergeRequestEvent(iid int64, action string, edit func(oa map[string]any)) []byte {
	return h.payload("merge_request.json", func(ev map[string]any) {
		oa := ev["object_attributes"].(map[string]any)
		oa["iid"] = iid
		oa["action"] = action
		delete(oa, "oldrev")
		ev["changes"] = map[string]any{}
		if edit != nil {
			edit(oa)
		}
	})
}

// note posts a note on merge request iid as user on the double and
// delivers the real note_merge_request.json event for it.
func (h *glHarness) note(iid int64, user, body string) int64 {
	h.t.Helper()
	id := h.gl.AddNote(glProject, iid, user, body, false)
	h.deliver("Note Hook", h.payload("note_merge_request.json", func(ev map[string]any) {
		ev["user"].(map[string]any)["username"] = user
		oa := ev["object_attributes"].(map[string]any)
		oa["id"] = id
		oa["note"] = body
		oa["action"] = "create"
		oa["created_at"] = time.Now().UTC().Format("2006-01-02 15:04:05 UTC")
		ev["merge_request"].(map[string]any)["iid"] = iid
	}))
	return id
}

// status returns the latest state and description of a commit status.
func (h *glHarness) status(sha, name string) (state, description string) {
	for _, st := range h.gl.Statuses(glProject, sha) {
		if st.Name == name {
			state, description = st.Status, st.Description
		}
	}
	return state, description
}

// openMR pushes a branch changing files and opens a merge request by
// alice, its commits signed unless unsigned.
func (h *glHarness) openMR(branch string, files map[string]string, signed bool) (int64, string) {
	h.t.Helper()
	head := h.gl.Commit(glProject, branch, "change "+branch, files)
	if signed {
		h.gl.Sign(glProject, head, "verified")
	}
	var diffs []*gl.MergeRequestDiff
	for p := range files {
		diffs = append(diffs, &gl.MergeRequestDiff{OldPath: p, NewPath: p, Diff: "@@ -1 +1 @@\n"})
	}
	iid := h.gl.AddMergeRequest(glProject, gitlabtest.MergeRequestOptions{Source: branch, Title: "change " + branch, Author: "alice", Diffs: diffs})
	h.deliver("Merge Request Hook", h.mergeRequestEvent(iid, "open", nil))
	return iid, head
}

func TestGitLabMergeRequestRenderedDiffAndChangeControl(t *testing.T) {
	h := newGLHarness(t)
	iid, head := h.openMR("green", map[string]string{
		"apps/podinfo/configmap.yaml": strings.Replace(glBase["apps/podinfo/configmap.yaml"], "blue", "green", 1),
	}, true)

	// The rendered diff is one sticky note, and both statuses are on the
	// head commit: the diff passes, change control waits for an approval.
	notes := h.gl.Notes(glProject, iid)
	if len(notes) != 1 || !strings.Contains(notes[0].Body, "apps/podinfo") || !strings.Contains(notes[0].Body, "-  color: blue") || !strings.Contains(notes[0].Body, "+  color: green") {
		t.Fatalf("notes after open = %+v", notes)
	}
	if state, _ := h.status(head, "gitward/diff"); state != "success" {
		t.Errorf("gitward/diff = %s", state)
	}
	if state, desc := h.status(head, "gitward/change-control"); state != "failed" || !strings.Contains(desc, "approv") {
		t.Errorf("gitward/change-control = %s %q, want failed for want of an approval", state, desc)
	}

	// The author's /approve and a Reporter's are refused with reasons.
	self := h.note(iid, "alice", "/approve")
	if got := h.gl.Awards(self); len(got) != 1 || got[0] != "confused" {
		t.Errorf("awards on the author's /approve = %v", got)
	}
	low := h.note(iid, "rita", "/approve")
	if got := h.gl.Awards(low); len(got) != 1 || got[0] != "confused" {
		t.Errorf("awards on the Reporter's /approve = %v", got)
	}
	var replies []string
	for _, n := range h.gl.Notes(glProject, iid) {
		if strings.HasPrefix(n.Body, "@") {
			replies = append(replies, n.Body)
		}
	}
	if len(replies) != 2 || !strings.Contains(replies[0], "@alice opened this pull request") || !strings.Contains(replies[1], "@rita has read permission") {
		t.Fatalf("replies = %q", replies)
	}
	if state, _ := h.status(head, "gitward/change-control"); state != "failed" {
		t.Errorf("change control after refused approvals = %s", state)
	}

	// A Developer who did not write the change approves: it passes.
	ok := h.note(iid, "bob", "/approve")
	if got := h.gl.Awards(ok); len(got) != 1 || got[0] != "thumbsup" {
		t.Errorf("awards on bob's /approve = %v", got)
	}
	if state, desc := h.status(head, "gitward/change-control"); state != "success" {
		t.Errorf("change control after bob's /approve = %s %q", state, desc)
	}
	// Still one rendered-diff note: it is edited in place, never duplicated.
	sticky := 0
	for _, n := range h.gl.Notes(glProject, iid) {
		if strings.Contains(n.Body, "gitward:rendered-diff") {
			sticky++
		}
	}
	if sticky != 1 {
		t.Errorf("%d rendered-diff notes, want 1", sticky)
	}

	// An unsigned commit pushed on top fails change control again, and
	// the approval given on the old head does not carry over.
	next := h.gl.Push(glProject, iid, "unsigned follow-up", map[string]string{
		"apps/podinfo/configmap.yaml": strings.Replace(glBase["apps/podinfo/configmap.yaml"], "blue", "teal", 1),
	})
	h.deliver("Merge Request Hook", h.mergeRequestEvent(iid, "update", func(oa map[string]any) { oa["oldrev"] = head }))
	state, desc := h.status(next, "gitward/change-control")
	if state != "failed" {
		t.Fatalf("change control on an unsigned head = %s %q", state, desc)
	}
	notes = h.gl.Notes(glProject, iid)
	for _, n := range notes {
		if strings.Contains(n.Body, "gitward:rendered-diff") && !strings.Contains(n.Body, "+  color: teal") {
			t.Errorf("the rendered diff was not updated for the new head:\n%s", n.Body)
		}
	}
}
