package app_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/gitward/gitward/audit"
	"maps"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitward/gitward/app"
	"github.com/gitward/gitward/checks/changecontrol"
	"github.com/gitward/gitward/checks/diff"
	"github.com/gitward/gitward/checks/drift"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	glforge "github.com/gitward/gitward/forge/gitlab"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
	"github.com/gitward/gitward/internal/livetest"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/render"
	"github.com/rs/zerolog"
	gl "gitlab.com/gitlab-org/api/client-go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
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

func newGLHarness(t *testing.T, po ...gitlabtest.ProjectOptions) *glHarness {
	t.Helper()
	return newGLHarnessWith(t, append(po, gitlabtest.ProjectOptions{})[0], glBase, nil)
}

// newGLHarnessWith seeds base on the default branch and runs extra
// capabilities after the rendered diff and change control.
func newGLHarnessWith(t *testing.T, po gitlabtest.ProjectOptions, baseFiles map[string]string, extra func(*diff.Engine) []evaluation.Capability) *glHarness {
	t.Helper()
	srv := gitlabtest.New(t)
	srv.AddProject(glProject, po)
	for user, level := range map[string]gl.AccessLevelValue{
		"alice": gl.DeveloperPermissions, "bob": gl.DeveloperPermissions,
		"carol": gl.MaintainerPermissions, "rita": gl.ReporterPermissions,
	} {
		srv.AddUser(user)
		srv.SetMember(glProject, user, level)
	}
	base := srv.Commit(glProject, "main", "base", baseFiles)
	srv.Sign(glProject, base, "verified")

	logs := &syncBuffer{}
	engine := &diff.Engine{Renderer: render.NewRenderer(render.Options{CacheSize: 64 << 20})}
	cc := changecontrol.New(engine)
	caps := []evaluation.Capability{diff.New(engine), cc}
	if extra != nil {
		caps = append(caps, extra(engine)...)
	}
	s, err := app.New(app.Options{
		Address:             "127.0.0.1:0",
		ShutdownGrace:       5 * time.Second,
		GitLabHosts:         []app.GitLabHost{{BaseURL: srv.URL() + "/", Token: []byte(gitlabtest.Token)}},
		GitLabWebhookSecret: []byte(gitlabSecret),
		Workers:             1,
		QueueSize:           10,
		SnapshotDir:         t.TempDir(),
		SnapshotMaxBytes:    1 << 30,
		Capabilities:        caps,
		Gatherer:            cc,
		Renderer:            engine.Renderer,
		PushRecheck:         time.Millisecond,
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
		// Neither the access token nor the webhook secret is ever logged.
		if l := logs.String(); strings.Contains(l, gitlabtest.Token) || strings.Contains(l, gitlabSecret) {
			t.Error("the log carries the GitLab token or webhook secret")
		}
		// GitLab API calls are counted under their own forge label.
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if !strings.Contains(w.Body.String(), `gitward_forge_api_requests_total{forge="gitlab",method="GET",status="2xx"}`) {
			t.Error("GitLab API requests are not counted")
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
	// A status shows one line: the full report of each check is in the
	// note, and the status links to the merge request.
	if !strings.Contains(notes[0].Body, "### ❌ `gitward/change-control`") || !strings.Contains(notes[0].Body, "### ✅ `gitward/diff`") {
		t.Errorf("the note lacks the check reports:\n%s", notes[0].Body)
	}
	for _, st := range h.gl.Statuses(glProject, head) {
		if want := h.gl.MergeRequest(glProject, iid).WebURL; st.TargetURL != want {
			t.Errorf("status %s links to %q, want %q", st.Name, st.TargetURL, want)
		}
	}

	// The author's /approve and a Reporter's are refused with reasons.
	self := h.note(iid, "alice", "/gitward approve")
	if got := h.gl.Awards(self); len(got) != 1 || got[0] != "confused" {
		t.Errorf("awards on the author's /approve = %v", got)
	}
	low := h.note(iid, "rita", "/gitward approve")
	if got := h.gl.Awards(low); len(got) != 1 || got[0] != "confused" {
		t.Errorf("awards on the Reporter's /approve = %v", got)
	}
	var replies []string
	for _, n := range h.gl.Notes(glProject, iid) {
		if strings.HasPrefix(n.Body, "@") {
			replies = append(replies, n.Body)
		}
	}
	if len(replies) != 2 || !strings.Contains(replies[0], "@alice opened the pull request") || !strings.Contains(replies[1], "@rita has read permission") {
		t.Fatalf("replies = %q", replies)
	}
	if state, _ := h.status(head, "gitward/change-control"); state != "failed" {
		t.Errorf("change control after refused approvals = %s", state)
	}

	// A Developer who did not write the change approves: it passes.
	ok := h.note(iid, "bob", "/gitward approve")
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
			if !strings.Contains(n.Body, "### ✅ `gitward/change-control`") || !strings.Contains(n.Body, "@bob") {
				t.Errorf("the note's change-control report is not brought up to date:\n%s", n.Body)
			}
		}
	}
	if sticky != 1 {
		t.Errorf("%d rendered-diff notes, want 1", sticky)
	}

	// Editing the approving note takes the approval away: GitLab says a
	// note was updated but not what it said, so gitward evaluates again,
	// and a command counts only as first posted.
	glf := h.srv.GitLab(h.host)
	mr := forge.Thread{Repo: forge.Repo{Host: h.host, Owner: "platform", Name: "gitops"}, Number: int(iid)}
	time.Sleep(5 * time.Millisecond) // a later updated_at than created_at
	if err := glf.EditComment(t.Context(), mr, ok, "LGTM"); err != nil {
		t.Fatal(err)
	}
	h.deliver("Note Hook", h.payload("note_merge_request.json", func(ev map[string]any) {
		ev["user"].(map[string]any)["username"] = "bob"
		oa := ev["object_attributes"].(map[string]any)
		oa["id"], oa["note"], oa["action"] = ok, "LGTM", "update"
		ev["merge_request"].(map[string]any)["iid"] = iid
	}))
	if state, desc := h.status(head, "gitward/change-control"); state != "failed" || !strings.Contains(desc, "0 of 1") {
		t.Errorf("change control after bob edited his /approve away = %s %q", state, desc)
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

// issueNote posts a note on issue iid as user and delivers the real
// note_issue.json event for it.
func (h *glHarness) issueNote(iid int64, user, body string) int64 {
	h.t.Helper()
	return h.issueNoteClaiming(iid, user, user, body)
}

// issueNoteClaiming posts a note by author, delivered as if claimed wrote
// it: a forged delivery, for anyone who knows the webhook token.
func (h *glHarness) issueNoteClaiming(iid int64, author, user, body string) int64 {
	h.t.Helper()
	id := h.gl.AddIssueNote(glProject, iid, author, body)
	desc := h.gl.Issue(glProject, iid).Description
	h.deliver("Note Hook", h.payload("note_issue.json", func(ev map[string]any) {
		ev["user"].(map[string]any)["username"] = user
		oa := ev["object_attributes"].(map[string]any)
		oa["id"] = id
		oa["note"] = body
		oa["action"] = "create"
		oa["created_at"] = time.Now().UTC().Format("2006-01-02 15:04:05 UTC")
		is := ev["issue"].(map[string]any)
		is["iid"] = iid
		is["description"] = desc
	}))
	return id
}

// ledger reads the audit records on the ledger branch, oldest first.
func (h *glHarness) ledger() []string {
	head := h.gl.BranchHead(glProject, "gitward/audit")
	if head == "" {
		return nil
	}
	latest, ok := h.gl.FileAt(glProject, head, "latest.json")
	if !ok {
		h.t.Fatalf("the ledger has no latest.json")
	}
	return []string{latest}
}

// TestGitLabBreakGlassMergeIsAuditedAndReviewed: a responder breaks glass
// on an unapproved merge request, which passes change control labelled;
// its merge is written to the audit ledger (a branch started with a root
// commit pushed over Git HTTP), a post-incident review issue is opened, and
// /approve there by an eligible person records the retroactive approval
// and closes the issue.
func TestGitLabBreakGlassMergeIsAuditedAndReviewed(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	h := newGLHarness(t)
	iid, head := h.openMR("hotfix", map[string]string{
		"apps/podinfo/configmap.yaml": strings.Replace(glBase["apps/podinfo/configmap.yaml"], "blue", "red", 1),
	}, true)
	if state, _ := h.status(head, "gitward/change-control"); state != "failed" {
		t.Fatalf("change control before break-glass = %s", state)
	}

	// Only a responder may break glass.
	refused := h.note(iid, "carol", "/breakglass the site is down")
	if got := h.gl.Awards(refused); len(got) != 1 || got[0] != "confused" {
		t.Errorf("awards on carol's /breakglass = %v", got)
	}
	h.note(iid, "bob", "/breakglass the site is down")
	state, desc := h.status(head, "gitward/change-control")
	if state != "success" || !strings.Contains(desc, "Break-glass by @bob") {
		t.Fatalf("change control after bob's /breakglass = %s %q", state, desc)
	}
	if labels := h.gl.MergeRequest(glProject, iid).Labels; !slices.Contains(labels, "break-glass") {
		t.Errorf("merge request labels = %v", labels)
	}

	// The merge is recorded, with the break-glass, and reviewed later.
	mainBefore := h.gl.BranchHead(glProject, "main")
	merge := h.gl.Merge(glProject, iid)
	h.deliver("Merge Request Hook", h.mergeRequestEvent(iid, "merge", nil))
	// The push of the merge is no unreviewed change: a merged merge
	// request brought it.
	h.deliver("Push Hook", h.payload("push.json", func(ev map[string]any) {
		ev["ref"], ev["before"], ev["after"] = "refs/heads/main", mainBefore, merge
		ev["user_username"] = "bob"
	}))
	tip := h.gl.BranchHead(glProject, "gitward/audit")
	if tip == "" {
		t.Fatal("no audit ledger branch after the merge")
	}
	latest := h.ledger()[0]
	if !strings.Contains(latest, `"seq":1`) {
		t.Fatalf("latest.json = %s", latest)
	}
	glf := h.srv.GitLab(h.host)
	repo := forge.Repo{Host: h.host, Owner: "platform", Name: "gitops"}
	if root, err := glf.Commit(t.Context(), repo, tip); err != nil || len(root.Parents) != 0 {
		t.Fatalf("the ledger's first commit = %+v, %v; it must be a root commit", root, err)
	}
	var rec struct {
		Path string `json:"path"`
	}
	if err := json.Unmarshal([]byte(latest), &rec); err != nil {
		t.Fatal(err)
	}
	record, ok := h.gl.FileAt(glProject, tip, rec.Path)
	if !ok || !strings.Contains(record, `"break_glass"`) || !strings.Contains(record, "the site is down") || !strings.Contains(record, merge) {
		t.Fatalf("audit record %s = %s", rec.Path, record)
	}
	if unreviewed, err := glf.IssuesLabelled(t.Context(), repo, audit.UnreviewedLabel); err != nil || len(unreviewed) != 0 {
		t.Errorf("the merge's push was reported as unreviewed: %+v, %v", unreviewed, err)
	}
	reviews, err := glf.IssuesLabelled(t.Context(), repo, "post-incident")
	if err != nil || len(reviews) != 1 {
		t.Fatalf("post-incident issues = %+v, %v", reviews, err)
	}
	issue := h.gl.Issue(glProject, int64(reviews[0].Number))
	if issue.IID == 0 || !strings.Contains(issue.Title, "Post-incident review: !1 ") || !strings.Contains(issue.Description, "@bob broke glass") || !strings.Contains(issue.Description, merge) {
		t.Fatalf("post-incident issue = %+v", issue)
	}

	// A forged delivery claiming carol approved a note bob wrote is judged
	// by the note on GitLab: bob's, the responder's, so refused.
	tipBefore := h.gl.BranchHead(glProject, "gitward/audit")
	forged := h.issueNoteClaiming(issue.IID, "bob", "carol", "/approve")
	if got := h.gl.Awards(forged); len(got) != 1 || got[0] != "confused" {
		t.Errorf("awards on the forged approval = %v", got)
	}
	if h.gl.BranchHead(glProject, "gitward/audit") != tipBefore || h.gl.Issue(glProject, issue.IID).State != "opened" {
		t.Fatal("a forged delivery recorded a retroactive approval")
	}

	// The responder cannot approve their own break-glass; carol can.
	own := h.issueNote(issue.IID, "bob", "/approve")
	if got := h.gl.Awards(own); len(got) != 1 || got[0] != "confused" {
		t.Errorf("awards on bob's retroactive /approve = %v", got)
	}
	approved := h.issueNote(issue.IID, "carol", "/approve")
	if got := h.gl.Awards(approved); len(got) != 1 || got[0] != "thumbsup" {
		t.Errorf("awards on carol's retroactive /approve = %v", got)
	}
	if st := h.gl.Issue(glProject, issue.IID).State; st != "closed" {
		t.Errorf("post-incident issue is %s, want closed", st)
	}
	if latest := h.ledger()[0]; !strings.Contains(latest, `"seq":2`) {
		t.Errorf("latest.json after the retroactive approval = %s", latest)
	}
	if h.gl.BranchHead(glProject, "gitward/audit") == tip {
		t.Error("the ledger did not move")
	}
}

// TestGitLabApprovalsAndSeparationOfDuties: GitLab's own approvals count
// when given on the head, that is after the diff version the head came in
// with, whether or not the project resets them on push; an approver who
// wrote a commit of the change does not count.
func TestGitLabApprovalsAndSeparationOfDuties(t *testing.T) {
	for _, reset := range []bool{false, true} {
		t.Run(fmt.Sprintf("reset_on_push=%v", reset), func(t *testing.T) {
			h := newGLHarness(t, gitlabtest.ProjectOptions{ResetApprovalsOnPush: reset})
			iid, head := h.openMR("scale", map[string]string{
				"apps/podinfo/configmap.yaml": strings.Replace(glBase["apps/podinfo/configmap.yaml"], "blue", "pink", 1),
			}, true)
			// bob wrote a commit of alice's merge request.
			second := h.gl.Push(glProject, iid, "bob's tweak", map[string]string{"apps/podinfo/extra.txt": "x"})
			// GitLab links the commit to bob only through his no-reply address.
			h.gl.SetCommitAuthor(glProject, second, "Robert Tables", "99-bob@users.noreply.gitlab.com")
			h.gl.Sign(glProject, second, "verified")
			h.deliver("Merge Request Hook", h.mergeRequestEvent(iid, "update", func(oa map[string]any) { oa["oldrev"] = head }))

			h.gl.Approve(glProject, iid, "bob")
			h.deliver("Merge Request Hook", h.mergeRequestEvent(iid, "approved", nil))
			if state, desc := h.status(second, "gitward/change-control"); state != "failed" || !strings.Contains(desc, "0 of 1") {
				t.Errorf("after the co-author's approval: %s %q", state, desc)
			}
			// carol approves after the push that made the head: her
			// approval is bound to it, with or without reset on push.
			h.gl.Approve(glProject, iid, "carol")
			h.deliver("Merge Request Hook", h.mergeRequestEvent(iid, "approved", nil))
			if state, desc := h.status(second, "gitward/change-control"); state != "success" {
				t.Errorf("after carol's approval on the head: %s %q", state, desc)
			}
		})
	}
}

// TestGitLabPushPastReviewIsRecorded: a commit pushed straight to the
// default branch, which no merged merge request brought, is recorded in
// the audit ledger as unreviewed and reported in an issue naming the
// pusher, from the real push.json.
func TestGitLabPushPastReviewIsRecorded(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	h := newGLHarness(t)
	h.gl.AddUser("mallory")
	h.gl.SetMember(glProject, "mallory", gl.MaintainerPermissions)
	before := h.gl.BranchHead(glProject, "main")
	after := h.gl.Commit(glProject, "main", "quick fix", map[string]string{
		"apps/podinfo/configmap.yaml": strings.Replace(glBase["apps/podinfo/configmap.yaml"], "blue", "black", 1),
	})
	h.deliver("Push Hook", h.payload("push.json", func(ev map[string]any) {
		ev["ref"], ev["before"], ev["after"] = "refs/heads/main", before, after
		ev["checkout_sha"] = after
		ev["user_username"], ev["user_name"], ev["user_email"] = "mallory", "Mallory", "mallory@example.com"
	}))
	tip := h.gl.BranchHead(glProject, "gitward/audit")
	if tip == "" {
		t.Fatal("no audit ledger branch after the push")
	}
	var latest struct {
		Path string `json:"path"`
	}
	raw, _ := h.gl.FileAt(glProject, tip, "latest.json")
	if err := json.Unmarshal([]byte(raw), &latest); err != nil {
		t.Fatal(err)
	}
	record, _ := h.gl.FileAt(glProject, tip, latest.Path)
	if !strings.Contains(record, after) || !strings.Contains(record, "mallory") {
		t.Fatalf("audit record = %s", record)
	}
	glf := h.srv.GitLab(h.host)
	issues, err := glf.IssuesLabelled(t.Context(), forge.Repo{Host: h.host, Owner: "platform", Name: "gitops"}, audit.UnreviewedLabel)
	if err != nil || len(issues) != 1 || !strings.Contains(issues[0].Body, "@mallory") || !strings.Contains(issues[0].Body, after[:7]) {
		t.Fatalf("unreviewed-change issues = %+v, %v", issues, err)
	}

	// The same push delivered again is recorded and reported once.
	h.deliver("Push Hook", h.payload("push.json", func(ev map[string]any) {
		ev["ref"], ev["before"], ev["after"] = "refs/heads/main", before, after
		ev["user_username"] = "mallory"
	}))
	if again, _ := glf.IssuesLabelled(t.Context(), forge.Repo{Host: h.host, Owner: "platform", Name: "gitops"}, audit.UnreviewedLabel); len(again) != 1 {
		t.Errorf("%d issues after a redelivery, want 1", len(again))
	}
	if h.gl.BranchHead(glProject, "gitward/audit") != tip {
		t.Error("a redelivered push was recorded again")
	}
}

// TestGitLabPlaintextSecretIsRefusedAndNeverShown: a merge request that
// commits a plaintext Secret fails change control, and neither the note
// nor the status carries its value.
func TestGitLabPlaintextSecretIsRefusedAndNeverShown(t *testing.T) {
	h := newGLHarness(t)
	const value = "hunter2-very-secret"
	encoded := base64.StdEncoding.EncodeToString([]byte(value))
	iid, head := h.openMR("secret", map[string]string{
		"apps/podinfo/kustomization.yaml": "resources:\n  - configmap.yaml\n  - secret.yaml\n",
		"apps/podinfo/secret.yaml":        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: podinfo\ndata:\n  password: " + encoded + "\n",
	}, true)
	state, desc := h.status(head, "gitward/change-control")
	if state != "failed" || !strings.Contains(desc, "plaintext") {
		t.Fatalf("change control = %s %q, want failed for a plaintext Secret", state, desc)
	}
	notes := h.gl.Notes(glProject, iid)
	if len(notes) != 1 || !strings.Contains(notes[0].Body, "Secret") {
		t.Fatalf("notes = %+v", notes)
	}
	for _, n := range notes {
		if strings.Contains(n.Body, value) || strings.Contains(n.Body, encoded) {
			t.Fatalf("a note carries the secret value:\n%s", n.Body)
		}
	}
	for _, st := range h.gl.Statuses(glProject, head) {
		if strings.Contains(st.Description, value) || strings.Contains(st.Description, encoded) {
			t.Fatalf("status %s carries the secret value: %q", st.Name, st.Description)
		}
	}
	if strings.Contains(h.logs.String(), value) || strings.Contains(h.logs.String(), encoded) {
		t.Fatal("the log carries the secret value")
	}
}

// TestGitLabResyncEvaluatesMergeRequestsWithoutStatuses: webhooks are
// hints on GitLab too. A merge request whose open event was lost gets its
// statuses from the resync loop, and one whose statuses are current is
// left alone.
func TestGitLabResyncEvaluatesMergeRequestsWithoutStatuses(t *testing.T) {
	h := newGLHarness(t)
	head := h.gl.Commit(glProject, "lost", "change lost", map[string]string{"apps/podinfo/configmap.yaml": strings.Replace(glBase["apps/podinfo/configmap.yaml"], "blue", "gold", 1)})
	h.gl.Sign(glProject, head, "verified")
	h.gl.AddMergeRequest(glProject, gitlabtest.MergeRequestOptions{Source: "lost", Title: "lost event", Author: "alice",
		Diffs: []*gl.MergeRequestDiff{{OldPath: "apps/podinfo/configmap.yaml", NewPath: "apps/podinfo/configmap.yaml"}}})
	queued, err := h.srv.Resync().RunOnce(t.Context())
	if err != nil || queued != 1 {
		t.Fatalf("resync queued %d, %v; want 1", queued, err)
	}
	waitFor(t, "the resync's evaluation", func() bool {
		state, _ := h.status(head, "gitward/change-control")
		return state == "failed"
	})
	if state, _ := h.status(head, "gitward/diff"); state != "success" {
		t.Errorf("gitward/diff after resync = %q", state)
	}
	waitFor(t, "the evaluation to finish", func() bool { return !h.srv.Pool().Pending(h.host + "/" + glProject + "#1@" + head) })
	if queued, err := h.srv.Resync().RunOnce(zerolog.New(h.logs).WithContext(t.Context())); err != nil || queued != 0 {
		t.Errorf("second resync queued %d, %v; want 0", queued, err)
	}
}

// TestGitLabNoteHoldsWhatAGitHubCommentCannot: the sticky note is split
// under GitLab's limit (1,000,000 characters), not GitHub's 65,536: a
// rendered diff of about 100,000 characters is one note.
func TestGitLabNoteHoldsWhatAGitHubCommentCannot(t *testing.T) {
	h := newGLHarness(t)
	var big strings.Builder
	big.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  namespace: podinfo\ndata:\n")
	for i := 0; i < 2500; i++ {
		fmt.Fprintf(&big, "  key-%04d: value-%04d-0123456789abcdef\n", i, i)
	}
	iid, _ := h.openMR("big", map[string]string{
		"apps/podinfo/kustomization.yaml": "resources:\n  - configmap.yaml\n  - big.yaml\n",
		"apps/podinfo/big.yaml":           big.String(),
	}, true)
	notes := h.gl.Notes(glProject, iid)
	if len(notes) != 1 {
		t.Fatalf("%d notes, want 1", len(notes))
	}
	if n := len([]rune(notes[0].Body)); n <= 65536 || n > glforge.MaxNoteChars {
		t.Fatalf("the note has %d characters; want more than GitHub's 65,536 and at most GitLab's %d", n, glforge.MaxNoteChars)
	}
	if !strings.Contains(notes[0].Body, "key-2499: value-2499") {
		t.Error("the note does not hold the whole diff")
	}
}

// TestGitLabDriftStatusAgainstARealAPIServer: with a cluster named in the
// policy, a merge request gets the gitward/drift status, and the note says
// what merging changes in the live cluster (server-side dry-run against a
// real kube-apiserver) and who changed it out of band.
func TestGitLabDriftStatusAgainstARealAPIServer(t *testing.T) {
	cfg := livetest.Config(t)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The test API server outlives one run of the test.
	ns := fmt.Sprintf("gitlab-drift-%d", glNamespaces.Add(1))
	configMap := func(color string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo\n  namespace: " + ns + "\ndata:\n  color: " + color + "\n"
	}
	base := map[string]string{
		".gitward.yaml":                   glPolicy + "clusters:\n  - name: test\n    paths: [\"apps/**\"]\ndrift:\n  mode: enforce\n",
		"apps/podinfo/kustomization.yaml": "resources:\n  - configmap.yaml\n",
		"apps/podinfo/configmap.yaml":     configMap("blue"),
	}
	ctx := t.Context()
	nsObj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
	if _, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Create(ctx, nsObj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cms := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace(ns)
	objs, err := live.Decode([]byte(configMap("blue")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, objs[0], metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
		t.Fatal(err)
	}
	// Someone changes the live object by hand.
	if _, err := cms.Patch(ctx, "podinfo", types.MergePatchType, []byte(`{"data":{"color":"purple"}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}

	h := newGLHarnessWith(t, gitlabtest.ProjectOptions{}, base, func(engine *diff.Engine) []evaluation.Capability {
		return []evaluation.Capability{drift.New(engine, &drift.Connector{Config: []config.Cluster{{Name: "test", Kubeconfig: livetest.Kubeconfig(t), Timeout: config.Duration(20 * time.Second)}}})}
	})
	iid, head := h.openMR("green", map[string]string{"apps/podinfo/configmap.yaml": configMap("green")}, true)
	state, desc := h.status(head, "gitward/drift")
	if state != "failed" {
		t.Fatalf("gitward/drift = %s %q; want failed: the live object drifted and the policy enforces", state, desc)
	}
	notes := h.gl.Notes(glProject, iid)
	if len(notes) != 1 {
		t.Fatalf("%d notes, want 1", len(notes))
	}
	body := notes[0].Body
	for _, want := range []string{"kubectl-edit", "purple", "green", "`gitward/drift`"} {
		if !strings.Contains(body, want) {
			t.Errorf("the note does not mention %q:\n%s", want, body)
		}
	}
}

// TestGitLabStatusesFollowTheHeadPipeline: "Pipelines must succeed" judges
// a merge request's head pipeline. A pipeline CI starts after gitward's
// first evaluation (a branch pipeline, or a merge request pipeline) gets
// gitward's statuses too, from the real pipeline.json event; pipelines of
// commit statuses (source external) start nothing.
func TestGitLabStatusesFollowTheHeadPipeline(t *testing.T) {
	h := newGLHarness(t)
	iid, head := h.openMR("green", map[string]string{
		"apps/podinfo/configmap.yaml": strings.Replace(glBase["apps/podinfo/configmap.yaml"], "blue", "green", 1),
	}, true)
	names := func(pipeline int64) []string {
		var out []string
		for _, st := range h.gl.PipelineStatuses(glProject, head, pipeline) {
			out = append(out, st.Name)
		}
		slices.Sort(out)
		return out
	}
	want := []string{"gitward/change-control", "gitward/diff"}
	pipelineEvent := func(id int64, ref, source string, mr int64) []byte {
		return h.payload("pipeline.json", func(ev map[string]any) {
			oa := ev["object_attributes"].(map[string]any)
			oa["id"], oa["sha"], oa["ref"], oa["status"], oa["source"] = id, head, ref, "pending", source
			if mr == 0 {
				ev["merge_request"] = nil
			} else {
				ev["merge_request"].(map[string]any)["iid"] = mr
			}
		})
	}

	for _, tc := range []struct {
		name, ref, source string
		mr                int64
		want              []string
	}{
		{"a branch pipeline CI starts later", "green", "push", 0, want},
		{"a merge request pipeline", "refs/merge-requests/1/head", "merge_request_event", iid, want},
		{"a pipeline of commit statuses", "green", "external", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := h.gl.AddPipeline(glProject, head, tc.ref, tc.source)
			h.deliver("Pipeline Hook", pipelineEvent(id, tc.ref, tc.source, tc.mr))
			if got := names(id); !slices.Equal(got, tc.want) {
				t.Errorf("statuses in pipeline %d = %v, want %v", id, got, tc.want)
			}
		})
	}

	// GitLab names a new pipeline as the head a moment after it starts:
	// the event's pipeline gets the statuses even while the merge request
	// still names the previous one.
	var current int64
	for _, pl := range h.gl.Pipelines(glProject, head) {
		if pl.Ref == "refs/merge-requests/1/head" {
			current = pl.ID
		}
	}
	h.gl.HoldHeadPipeline(glProject, iid, current)
	lagging := h.gl.AddPipeline(glProject, head, "green", "push")
	h.deliver("Pipeline Hook", pipelineEvent(lagging, "green", "push", 0))
	if got := names(lagging); !slices.Equal(got, want) {
		t.Errorf("statuses in the pipeline GitLab does not name yet = %v, want %v", got, want)
	}
	h.gl.HoldHeadPipeline(glProject, iid, 0)

	// A newer pipeline of the same commit on a tag is not the merge
	// request's: the statuses go to its head pipeline, not to the newest.
	head1 := lagging
	before := len(h.gl.PipelineStatuses(glProject, head, head1))
	tag := h.gl.AddPipeline(glProject, head, "v1.0.0", "push")
	h.deliver("Pipeline Hook", pipelineEvent(tag, "v1.0.0", "push", 0))
	if got := names(tag); len(got) != 0 {
		t.Errorf("the tag's pipeline got gitward's statuses: %v", got)
	}
	if got := len(h.gl.PipelineStatuses(glProject, head, head1)); got != before || got == 0 {
		t.Errorf("the head pipeline holds %d statuses, want the %d it had", got, before)
	}
}

// TestGitLabAManuallyMergedMergeRequestDoesNotHideAPush: GitLab marks a
// merge request merged when its head is pushed straight to the target
// branch. That merge request claims the commit without any merge, so the
// push is still recorded as unreviewed.
func TestGitLabAManuallyMergedMergeRequestDoesNotHideAPush(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	h := newGLHarness(t)
	iid, head := h.openMR("sneaky", map[string]string{
		"apps/podinfo/configmap.yaml": strings.Replace(glBase["apps/podinfo/configmap.yaml"], "blue", "red", 1),
	}, true)
	before := h.gl.BranchHead(glProject, "main")
	h.gl.SetBranch(glProject, "main", head)
	h.gl.MarkMerged(glProject, iid)
	h.deliver("Push Hook", h.payload("push.json", func(ev map[string]any) {
		ev["ref"], ev["before"], ev["after"] = "refs/heads/main", before, head
		ev["user_username"] = "alice"
	}))
	issues, err := h.srv.GitLab(h.host).IssuesLabelled(t.Context(), forge.Repo{Host: h.host, Owner: "platform", Name: "gitops"}, audit.UnreviewedLabel)
	if err != nil || len(issues) != 1 || !strings.Contains(issues[0].Body, head[:7]) {
		t.Fatalf("unreviewed-change issues = %+v, %v", issues, err)
	}
	if h.gl.BranchHead(glProject, "gitward/audit") == "" {
		t.Error("the push was not recorded in the ledger")
	}
}

// TestGitLabOptionsThatCannotWorkAreRefused: app.New says what is wrong
// with the forges it is given, before it contacts anything.
func TestGitLabOptionsThatCannotWorkAreRefused(t *testing.T) {
	host := func(url, token string) app.GitLabHost { return app.GitLabHost{BaseURL: url, Token: []byte(token)} }
	for _, tc := range []struct {
		name string
		opts app.Options
		want string
	}{
		{"no forge", app.Options{}, "no forge configured"},
		{"no webhook secret", app.Options{GitLabHosts: []app.GitLabHost{host("https://gitlab.example.com/", "t")}}, "gitlab webhook secret token is not set"},
		{"not an http URL", app.Options{GitLabWebhookSecret: []byte("s"), GitLabHosts: []app.GitLabHost{host("ftp://gitlab.example.com/", "t")}}, `gitlab host 1: base URL "ftp://gitlab.example.com/" is not an http(s) URL`},
		{"a host twice", app.Options{GitLabWebhookSecret: []byte("s"), GitLabHosts: []app.GitLabHost{host("https://gitlab.example.com/", "t"), host("https://gitlab.example.com/x/", "u")}}, "gitlab host 2: gitlab.example.com is configured twice"},
		{"no token", app.Options{GitLabWebhookSecret: []byte("s"), GitLabHosts: []app.GitLabHost{host("https://gitlab.example.com/", "")}}, "gitlab host gitlab.example.com: access token is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.SnapshotDir = t.TempDir()
			_, err := app.New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("app.New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestGitLabCommandApprovalsSurviveRepeatedEvaluations: with two
// approvals required, bob's and carol's bare /gitward approve on the head
// both keep counting however often the same head is evaluated again (a
// /gitward recheck, a pipeline starting). GitLab creates a new commit
// status each time gitward sets one, so when the head arrived is read from
// the merge request's diff versions, not from gitward's own statuses.
func TestGitLabCommandApprovalsSurviveRepeatedEvaluations(t *testing.T) {
	base := maps.Clone(glBase)
	base[".gitward.yaml"] = strings.Replace(glPolicy, "required: 1", "required: 2", 1)
	h := newGLHarnessWith(t, gitlabtest.ProjectOptions{}, base, nil)
	iid, head := h.openMR("scale", map[string]string{
		"apps/podinfo/configmap.yaml": strings.Replace(glBase["apps/podinfo/configmap.yaml"], "blue", "teal", 1),
	}, true)
	h.note(iid, "bob", "/gitward approve")
	if state, desc := h.status(head, "gitward/change-control"); state != "failed" || !strings.Contains(desc, "1 of 2") {
		t.Fatalf("after bob's approval: %s %q, want 1 of 2", state, desc)
	}
	h.note(iid, "carol", "/gitward approve")
	evaluations := []func(){
		func() { h.note(iid, "alice", "/gitward recheck") },
		func() {
			id := h.gl.AddPipeline(glProject, head, "scale", "push")
			h.deliver("Pipeline Hook", h.payload("pipeline.json", func(ev map[string]any) {
				oa := ev["object_attributes"].(map[string]any)
				oa["id"], oa["sha"], oa["ref"], oa["status"], oa["source"] = id, head, "scale", "pending", "push"
				ev["merge_request"] = nil
			}))
		},
		func() { h.note(iid, "alice", "/gitward recheck") },
		func() { h.note(iid, "bob", "/gitward recheck") },
	}
	for i, evaluate := range append([]func(){func() {}}, evaluations...) {
		evaluate()
		if state, desc := h.status(head, "gitward/change-control"); state != "success" {
			t.Fatalf("evaluation %d after both approvals: %s %q, want success", i, state, desc)
		}
	}
	if n := len(h.gl.AllStatuses(glProject, head)); n < 2*len(evaluations) {
		t.Errorf("%d statuses on the head; each evaluation should have created new ones", n)
	}
}

// TestGitLabResyncRecordsAMergeWhoseEventWasLost: a merge request merged
// without its merge event reaching gitward is recorded by the resync, once.
func TestGitLabResyncRecordsAMergeWhoseEventWasLost(t *testing.T) {
	h := newGLHarness(t)
	head := h.gl.Commit(glProject, "quiet", "change quietly", map[string]string{"apps/podinfo/configmap.yaml": strings.Replace(glBase["apps/podinfo/configmap.yaml"], "blue", "gold", 1)})
	h.gl.Sign(glProject, head, "verified")
	iid := h.gl.AddMergeRequest(glProject, gitlabtest.MergeRequestOptions{Source: "quiet", Title: "quiet merge", Author: "alice",
		Diffs: []*gl.MergeRequestDiff{{OldPath: "apps/podinfo/configmap.yaml", NewPath: "apps/podinfo/configmap.yaml"}}})
	h.gl.Merge(glProject, iid)
	if _, err := h.srv.Resync().RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	ledger := h.ledger()
	if len(ledger) != 1 || !strings.Contains(ledger[0], `"seq":1`) || !strings.Contains(ledger[0], fmt.Sprintf("pr-%d", iid)) {
		t.Fatalf("ledger after the resync = %v, want the merge of !%d recorded", ledger, iid)
	}
	tip := h.gl.BranchHead(glProject, "gitward/audit")
	if _, err := h.srv.Resync().RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if h.gl.BranchHead(glProject, "gitward/audit") != tip {
		t.Error("a second pass wrote to the ledger again")
	}
}

// glNamespaces numbers the namespaces the GitLab drift test creates.
var glNamespaces atomic.Int64
