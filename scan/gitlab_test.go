package scan_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitward/gitward/forge"
	glforge "github.com/gitward/gitward/forge/gitlab"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
	"github.com/gitward/gitward/forge/snapshot"
	"github.com/gitward/gitward/internal/livetest"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/render"
	"github.com/gitward/gitward/scan"
	gl "gitlab.com/gitlab-org/api/client-go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// The GitLab scenarios: the same captures as on GitHub, through the GitLab
// adapter and the GitLab double, against the same real API server. A
// capture pull request is a merge request there, and incidents are GitLab
// issues, numbered apart from merge requests.

// glProject is a project in a nested group, as GitLab allows.
const glProject = "octo-group/platform/clusters"

type glFixture struct {
	t        *testing.T
	gl       *gitlabtest.Server
	dyn      dynamic.Interface
	ns       string
	clusters *clusters
	scanner  *scan.Scanner
	clock    atomic.Int64
	// mainSHA is the default branch's head the scan reads.
	mainSHA string
}

func newGLFixture(t *testing.T, extraPolicy ...string) *glFixture {
	t.Helper()
	cfg := livetest.Config(t)
	cl, err := live.New("test", cfg, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := gitlabtest.New(t)
	srv.AddProject(glProject, gitlabtest.ProjectOptions{})
	cache, err := snapshot.NewCache(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	f := glforge.New(srv.Client(), glforge.Options{Snapshots: cache, Token: []byte(gitlabtest.Token)})
	ns := fmt.Sprintf("scan-%d", nsN.Add(1))
	mainSHA := srv.Commit(glProject, "main", "base", map[string]string{
		".gitward.yaml":                 policy + strings.Join(extraPolicy, ""),
		"apps/web/kustomization.yaml":   "resources:\n- deployment.yaml\n",
		"apps/web/deployment.yaml":      deployment(ns),
		"apps/other/kustomization.yaml": "resources:\n- configmap.yaml\n",
		"apps/other/configmap.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n  namespace: " + ns + "\ndata:\n  a: b\n",
	})

	fx := &glFixture{t: t, gl: srv, dyn: dyn, ns: ns, clusters: &clusters{c: cl}, mainSHA: mainSHA}
	fx.clock.Store(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC).UnixNano())
	fx.scanner = &scan.Scanner{Concurrency: 2, Capturer: &scan.Capturer{
		Forge:      f,
		Clusters:   fx.clusters,
		Renderer:   render.NewRenderer(render.Options{}),
		MinBackoff: time.Minute,
		MaxBackoff: 10 * time.Minute,
		Now:        func() time.Time { return time.Unix(0, fx.clock.Load()) },
	}}

	// Deployed as Flux does it: server-side apply as kustomize-controller.
	ctx := t.Context()
	nsObj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
	if _, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Create(ctx, nsObj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	objs, err := live.Decode([]byte(deployment(ns)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(deployments).Namespace(ns).Apply(ctx, "web", objs[0], metav1.ApplyOptions{FieldManager: "kustomize-controller", Force: true}); err != nil {
		t.Fatal(err)
	}
	return fx
}

// scaleByHand changes replicas the way `kubectl edit` does.
func (fx *glFixture) scaleByHand(replicas int) {
	fx.t.Helper()
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	if _, err := fx.dyn.Resource(deployments).Namespace(fx.ns).Patch(fx.t.Context(), "web", types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		fx.t.Fatal(err)
	}
}

func (fx *glFixture) scan() map[string]scan.Result {
	fx.t.Helper()
	ctx, cancel := context.WithTimeout(fx.t.Context(), time.Minute)
	defer cancel()
	results, err := fx.scanner.RunOnce(ctx)
	if err != nil {
		fx.t.Fatal(err)
	}
	out := map[string]scan.Result{}
	for _, r := range results {
		if r.Repo != glProject {
			fx.t.Errorf("a result for %q, not %q: %+v", r.Repo, glProject, r)
		}
		out[r.App] = r
	}
	return out
}

// captureFile reads the capture branch's deployment.yaml back from the
// double.
func (fx *glFixture) captureFile() string {
	fx.t.Helper()
	files := fx.gl.Files(glProject, scan.Branch("web"))
	if files == nil {
		fx.t.Fatalf("no branch %s", scan.Branch("web"))
	}
	return files["apps/web/deployment.yaml"]
}

// calls counts the requests served since mark (an index into Requests)
// whose "METHOD path" is method and path, the path as sent (escaped).
func (fx *glFixture) calls(mark int, method, path string) int {
	n := 0
	for _, r := range fx.gl.Requests()[mark:] {
		if r == method+" "+path {
			n++
		}
	}
	return n
}

// glAPI is the API path of the project, as client-go escapes its ID.
var glAPI = "/api/v4/projects/" + strings.ReplaceAll(glProject, "/", "%2F")

func TestGitLabScanOpensOneCaptureMergeRequestPerApp(t *testing.T) {
	fx := newGLFixture(t)
	srv := fx.gl

	res := fx.scan()
	if res["web"].Action != scan.Clean || res["web"].Err != nil {
		t.Fatalf("in sync, yet web: %+v", res["web"])
	}
	if n := len(srv.MergeRequests(glProject)); n != 0 {
		t.Fatalf("%d merge requests with no drift", n)
	}

	commits := glAPI + "/repository/commits"
	mrsPath := glAPI + "/merge_requests"

	fx.scaleByHand(4)
	mark := len(srv.Requests())
	res = fx.scan()
	if r := res["web"]; r.Action != scan.Opened || r.Err != nil || r.PR == 0 {
		t.Fatalf("web: %+v", r)
	}
	// One commit and one merge request, opened with its label.
	for _, call := range [][2]string{{"POST", commits}, {"POST", mrsPath}} {
		if n := fx.calls(mark, call[0], call[1]); n != 1 {
			t.Errorf("%s %s called %d times", call[0], call[1], n)
		}
	}
	mrs := srv.MergeRequests(glProject)
	if len(mrs) != 1 {
		t.Fatalf("merge requests: %+v", mrs)
	}
	mr := mrs[0]
	if int(mr.IID) != res["web"].PR {
		t.Errorf("result names !%d, the merge request is !%d", res["web"].PR, mr.IID)
	}
	if mr.SourceBranch != "gitward/drift-capture/web" || mr.TargetBranch != "main" || mr.State != "opened" {
		t.Errorf("merge request %s into %s (%s)", mr.SourceBranch, mr.TargetBranch, mr.State)
	}
	if mr.Title != "Capture live drift of web" {
		t.Errorf("title %q", mr.Title)
	}
	if got := mr.Labels; len(got) != 1 || got[0] != scan.Label {
		t.Errorf("labels %v", got)
	}
	if mr.Author == nil || mr.Author.Username != gitlabtest.DefaultSelf {
		t.Errorf("author %+v, want the token's user", mr.Author)
	}
	if got := fx.captureFile(); !strings.Contains(got, "  # Two is enough.\n  replicas: 4\n") {
		t.Errorf("the capture branch's deployment.yaml:\n%s", got)
	}
	for _, want := range []string{
		"| Deployment.apps " + fx.ns + "/web | /spec/replicas: 4 in the cluster, 2 in git; changed by kubectl-edit",
		"`apps/web/deployment.yaml` (in place)",
		"**Incident:** none linked",
		"```diff\n--- a/apps/web/deployment.yaml\n+++ b/apps/web/deployment.yaml\n",
		"-  replicas: 2\n+  replicas: 4\n",
	} {
		if !strings.Contains(mr.Description, want) {
			t.Errorf("the description lacks %q:\n%s", want, mr.Description)
		}
	}
	head1 := srv.BranchHead(glProject, scan.Branch("web"))
	if c, ok := srv.GitCommit(glProject, head1); !ok || len(c.ParentIDs) != 1 || c.ParentIDs[0] != fx.mainSHA {
		t.Errorf("capture commit %+v, want one parent %s", c, fx.mainSHA)
	}
	if mr.SHA != head1 || mr.DiffRefs.BaseSha != fx.mainSHA {
		t.Errorf("merge request head %s base %s; want %s on %s", mr.SHA, mr.DiffRefs.BaseSha, head1, fx.mainSHA)
	}
	if got := srv.Files(glProject, "main")["apps/web/deployment.yaml"]; !strings.Contains(got, "  replicas: 2\n") {
		t.Errorf("the default branch changed:\n%s", got)
	}

	mrPath := fmt.Sprintf("%s/%d", mrsPath, mr.IID)

	t.Run("unchanged drift makes no commit and no edit", func(t *testing.T) {
		mark := len(srv.Requests())
		res := fx.scan()
		if r := res["web"]; r.Action != scan.Unchanged || r.PR != int(mr.IID) || r.Err != nil {
			t.Fatalf("web: %+v", r)
		}
		for _, call := range [][2]string{{"POST", commits}, {"POST", mrsPath}, {"PUT", mrPath}} {
			if n := fx.calls(mark, call[0], call[1]); n != 0 {
				t.Errorf("%s %s called %d times", call[0], call[1], n)
			}
		}
		if got := srv.BranchHead(glProject, scan.Branch("web")); got != head1 {
			t.Errorf("the branch moved to %s", got)
		}
		if got := srv.MergeRequests(glProject); len(got) != 1 || got[0].Description != mr.Description || got[0].Title != mr.Title {
			t.Errorf("merge requests: %+v", got)
		}
	})

	t.Run("changed drift updates the same merge request with one commit", func(t *testing.T) {
		fx.scaleByHand(5)
		mark := len(srv.Requests())
		res := fx.scan()
		if r := res["web"]; r.Action != scan.Updated || r.PR != int(mr.IID) || r.Err != nil {
			t.Fatalf("web: %+v", r)
		}
		mrs := srv.MergeRequests(glProject)
		if len(mrs) != 1 {
			t.Fatalf("%d merge requests", len(mrs))
		}
		head2 := srv.BranchHead(glProject, scan.Branch("web"))
		c, ok := srv.GitCommit(glProject, head2)
		if !ok || len(c.ParentIDs) != 1 || c.ParentIDs[0] != head1 {
			t.Errorf("new head %s, commit %+v; want one commit on %s", head2, c, head1)
		}
		if n := fx.calls(mark, "POST", commits); n != 1 {
			t.Errorf("%d commits made", n)
		}
		if n := fx.calls(mark, "POST", mrsPath); n != 0 {
			t.Errorf("%d merge requests opened", n)
		}
		if n := fx.calls(mark, "PUT", mrPath); n != 1 {
			t.Errorf("the merge request was edited %d times, want once", n)
		}
		if got := fx.captureFile(); !strings.Contains(got, "  replicas: 5\n") {
			t.Errorf("deployment.yaml on the branch:\n%s", got)
		}
		body := mrs[0].Description
		if !strings.Contains(body, "/spec/replicas: 5 in the cluster, 2 in git") || !strings.Contains(body, "+  replicas: 5\n") {
			t.Errorf("description:\n%s", body)
		}
		if mrs[0].SHA != head2 {
			t.Errorf("merge request head %s, the branch is at %s", mrs[0].SHA, head2)
		}
		if got := mrs[0].Labels; len(got) != 1 || got[0] != scan.Label {
			t.Errorf("labels %v", got)
		}
	})
}

func TestGitLabScanNeverCapturesIgnoredFields(t *testing.T) {
	fx := newGLFixture(t, "drift:\n  ignore:\n  - name: hpa-replicas\n    json_pointers: [/spec/replicas]\n")
	fx.scaleByHand(7)
	if r := fx.scan()["web"]; r.Action != scan.Clean || r.Err != nil {
		t.Fatalf("web: %+v", r)
	}
	if mrs := fx.gl.MergeRequests(glProject); len(mrs) != 0 {
		t.Errorf("merge requests for an ignored field: %+v", mrs)
	}
	if files := fx.gl.Files(glProject, scan.Branch("web")); files != nil {
		t.Error("a capture branch for an ignored field")
	}
}

var _ forge.Forge = (*glforge.Forge)(nil)

func TestGitLabScanCapturesDriftWhenItsBreakGlassWindowEnds(t *testing.T) {
	fx := newGLFixture(t, "break_glass:\n  label: incident\n  responders:\n    users: [oncall]\n")
	srv := fx.gl
	srv.AddUser("oncall")
	srv.SetMember(glProject, "oncall", gl.DeveloperPermissions)
	now := time.Unix(0, fx.clock.Load())
	incident := srv.AddIssue(glProject, "Web is down", "incident")
	srv.AddIssueNoteAt(glProject, incident, "oncall", "/breakglass web scaling up by hand for 30m", now.Add(-time.Minute))
	// An issue without the policy's label opens no window, whatever it
	// says.
	other := srv.AddIssue(glProject, "Unrelated", "break-glass")
	srv.AddIssueNoteAt(glProject, other, "oncall", "/breakglass web something else for 2h", now.Add(-time.Minute))
	fx.scaleByHand(6)

	// While the window is open the drift is expected: nothing is captured.
	if r := fx.scan()["web"]; r.Action != scan.WindowOpen || r.Err != nil {
		t.Fatalf("web during the window: %+v", r)
	}
	if n := len(srv.MergeRequests(glProject)); n != 0 {
		t.Fatalf("%d merge requests while the window is open", n)
	}
	if files := srv.Files(glProject, scan.Branch("web")); files != nil {
		t.Error("a capture branch while the window is open")
	}

	// Its time runs out: the capture merge request names the incident.
	fx.clock.Add(int64(30 * time.Minute))
	if r := fx.scan()["web"]; r.Action != scan.Opened || r.Err != nil {
		t.Fatalf("web after the window: %+v", r)
	}
	mrs := srv.MergeRequests(glProject)
	if len(mrs) != 1 {
		t.Fatalf("merge requests: %+v", mrs)
	}
	url := fmt.Sprintf("%s/%s/-/issues/%d", srv.URL(), glProject, incident)
	want := fmt.Sprintf("**Incident:** [#%d](%s) — break-glass window for `web` by @oncall: scaling up by hand", incident, url)
	if !strings.Contains(mrs[0].Description, want) {
		t.Errorf("the description does not link the incident (%q):\n%s", want, mrs[0].Description)
	}
	if got := fx.captureFile(); !strings.Contains(got, "  replicas: 6\n") {
		t.Errorf("deployment.yaml on the branch:\n%s", got)
	}
	// The incident issue is left as it was: the scan only reads it.
	if is := srv.Issue(glProject, incident); is.State != "opened" || len(is.Labels) != 1 || is.Labels[0] != "incident" {
		t.Errorf("incident issue %+v", is)
	}
	if n := len(srv.IssueNotes(glProject, incident)); n != 1 {
		t.Errorf("%d notes on the incident", n)
	}
}
