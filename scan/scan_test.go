package scan_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitward/gitward/forge"
	ghforge "github.com/gitward/gitward/forge/github"
	"github.com/gitward/gitward/forge/github/githubtest"
	"github.com/gitward/gitward/forge/snapshot"
	"github.com/gitward/gitward/internal/livetest"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/render"
	"github.com/gitward/gitward/scan"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

func TestMain(m *testing.M) { livetest.Main(m) }

const (
	repoName = "octo-org/clusters"
	mainSHA  = "1111111111111111111111111111111111111111"
)

var deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

func deployment(ns string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ` + ns + `
spec:
  # Two is enough.
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ghcr.io/stefanprodan/podinfo:6.5.0
`
}

const policy = `version: 1
apps:
  - name: web
    path: apps/web
    cluster: test
  - name: other
    path: apps/other
    cluster: nowhere
`

// clusters serves the test API server as cluster "test"; every other
// name fails. It counts the connections asked for.
type clusters struct {
	c     *live.Cluster
	mu    sync.Mutex
	calls map[string]int
}

func (c *clusters) Cluster(name string) (*live.Cluster, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[name]++
	if name != "test" {
		return nil, fmt.Errorf("cluster %q is not configured on this gitward server (server config: clusters)", name)
	}
	return c.c, nil
}

func (c *clusters) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[name]
}

type fixture struct {
	t        *testing.T
	gh       *githubtest.Server
	dyn      dynamic.Interface
	ns       string
	clusters *clusters
	scanner  *scan.Scanner
	clock    atomic.Int64
}

var nsN atomic.Int64

func newFixture(t *testing.T, extraPolicy ...string) *fixture {
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
	gh := githubtest.New(t)
	cache, err := snapshot.NewCache(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	f := ghforge.New(gh.ClientCreator(t), ghforge.Options{AppID: githubtest.DefaultAppID, Snapshots: cache})
	gh.AddInstallation(7, "octo-org")
	gh.AddRepo(7, "octo-org", "clusters", "main")
	ns := fmt.Sprintf("scan-%d", nsN.Add(1))
	gh.SetTree(repoName, mainSHA, map[string]string{
		".gitward.yaml":                 policy + strings.Join(extraPolicy, ""),
		"apps/web/kustomization.yaml":   "resources:\n- deployment.yaml\n",
		"apps/web/deployment.yaml":      deployment(ns),
		"apps/other/kustomization.yaml": "resources:\n- configmap.yaml\n",
		"apps/other/configmap.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n  namespace: " + ns + "\ndata:\n  a: b\n",
	})
	gh.SetRef(repoName, "heads/main", mainSHA)

	fx := &fixture{t: t, gh: gh, dyn: dyn, ns: ns, clusters: &clusters{c: cl}}
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
func (fx *fixture) scaleByHand(replicas int) {
	fx.t.Helper()
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	if _, err := fx.dyn.Resource(deployments).Namespace(fx.ns).Patch(fx.t.Context(), "web", types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		fx.t.Fatal(err)
	}
}

func (fx *fixture) scan() map[string]scan.Result {
	fx.t.Helper()
	ctx, cancel := context.WithTimeout(fx.t.Context(), time.Minute)
	defer cancel()
	results, err := fx.scanner.RunOnce(ctx)
	if err != nil {
		fx.t.Fatal(err)
	}
	out := map[string]scan.Result{}
	for _, r := range results {
		out[r.App] = r
	}
	return out
}

func (fx *fixture) captureFile() string {
	fx.t.Helper()
	files := fx.gh.Files(repoName, "heads/"+scan.Branch("web"))
	if files == nil {
		fx.t.Fatalf("no branch %s", scan.Branch("web"))
	}
	return files["apps/web/deployment.yaml"]
}

func TestScanOpensOneCapturePullRequestPerApp(t *testing.T) {
	fx := newFixture(t)
	gh := fx.gh

	res := fx.scan()
	if res["web"].Action != scan.Clean || res["web"].Err != nil {
		t.Fatalf("in sync, yet web: %+v", res["web"])
	}
	if n := len(gh.PullRequests(repoName)); n != 0 {
		t.Fatalf("%d pull requests with no drift", n)
	}

	fx.scaleByHand(4)
	res = fx.scan()
	if r := res["web"]; r.Action != scan.Opened || r.Err != nil || r.PR == 0 {
		t.Fatalf("web: %+v", r)
	}
	prs := gh.PullRequests(repoName)
	if len(prs) != 1 {
		t.Fatalf("pull requests: %+v", prs)
	}
	pr := prs[0]
	if pr.HeadRef != "gitward/drift-capture/web" || pr.BaseRef != "main" || pr.State != "open" {
		t.Errorf("pull request %s into %s (%s)", pr.HeadRef, pr.BaseRef, pr.State)
	}
	if got := gh.Labels(repoName, pr.Number); len(got) != 1 || got[0] != scan.Label {
		t.Errorf("labels %v", got)
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
		if !strings.Contains(pr.Body, want) {
			t.Errorf("the body lacks %q:\n%s", want, pr.Body)
		}
	}
	head1 := gh.Ref(repoName, "heads/"+scan.Branch("web"))
	if c, ok := gh.GitCommit(repoName, head1); !ok || len(c.Parents) != 1 || c.Parents[0] != mainSHA {
		t.Errorf("capture commit %+v, want one parent %s", c, mainSHA)
	}

	t.Run("unchanged drift makes no commit and no edit", func(t *testing.T) {
		gh.ResetRequests()
		res := fx.scan()
		if r := res["web"]; r.Action != scan.Unchanged || r.PR != pr.Number {
			t.Fatalf("web: %+v", r)
		}
		for _, op := range []string{"git/create-commit", "git/create-tree", "git/update-ref", "git/create-ref", "pulls/create", "pulls/update", "issues/add-labels"} {
			if n := gh.Calls(op); n != 0 {
				t.Errorf("%s called %d times", op, n)
			}
		}
		if got := gh.Ref(repoName, "heads/"+scan.Branch("web")); got != head1 {
			t.Errorf("the branch moved to %s", got)
		}
	})

	t.Run("changed drift updates the same pull request with one commit", func(t *testing.T) {
		fx.scaleByHand(5)
		gh.ResetRequests()
		res := fx.scan()
		if r := res["web"]; r.Action != scan.Updated || r.PR != pr.Number || r.Err != nil {
			t.Fatalf("web: %+v", r)
		}
		if n := len(gh.PullRequests(repoName)); n != 1 {
			t.Fatalf("%d pull requests", n)
		}
		head2 := gh.Ref(repoName, "heads/"+scan.Branch("web"))
		c, ok := gh.GitCommit(repoName, head2)
		if !ok || len(c.Parents) != 1 || c.Parents[0] != head1 {
			t.Errorf("new head %s, commit %+v; want one commit on %s", head2, c, head1)
		}
		if n := gh.Calls("git/create-commit"); n != 1 {
			t.Errorf("%d commits made", n)
		}
		if got := fx.captureFile(); !strings.Contains(got, "  replicas: 5\n") {
			t.Errorf("deployment.yaml on the branch:\n%s", got)
		}
		body := gh.PullRequests(repoName)[0].Body
		if !strings.Contains(body, "/spec/replicas: 5 in the cluster, 2 in git") || !strings.Contains(body, "+  replicas: 5\n") {
			t.Errorf("body:\n%s", body)
		}
	})
}

func TestScanBacksOffAFailingCluster(t *testing.T) {
	fx := newFixture(t)
	res := fx.scan()
	if r := res["other"]; r.Action != scan.Failed || r.Err == nil || !strings.Contains(r.Err.Error(), `cluster "nowhere"`) {
		t.Fatalf("other: %+v", r)
	}
	if n := fx.clusters.count("nowhere"); n != 1 {
		t.Fatalf("%d connections", n)
	}
	// Within the backoff window: not tried again; other apps still are.
	fx.clock.Add(int64(30 * time.Second))
	res = fx.scan()
	if r := res["other"]; r.Action != scan.BackingOff {
		t.Fatalf("other: %+v", r)
	}
	if res["web"].Action != scan.Clean {
		t.Errorf("web: %+v", res["web"])
	}
	if n := fx.clusters.count("nowhere"); n != 1 {
		t.Fatalf("tried again within the backoff: %d connections", n)
	}
	// After it: tried, fails, and now waits twice as long.
	fx.clock.Add(int64(31 * time.Second))
	if r := fx.scan()["other"]; r.Action != scan.Failed {
		t.Fatalf("other: %+v", r)
	}
	fx.clock.Add(int64(90 * time.Second))
	if r := fx.scan()["other"]; r.Action != scan.BackingOff {
		t.Fatalf("other after 90s of a 2m backoff: %+v", r)
	}
	fx.clock.Add(int64(31 * time.Second))
	if r := fx.scan()["other"]; r.Action != scan.Failed {
		t.Fatalf("other: %+v", r)
	}
	if n := fx.clusters.count("nowhere"); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
}

func TestScanNeverCapturesIgnoredFields(t *testing.T) {
	fx := newFixture(t, "drift:\n  ignore:\n  - name: hpa-replicas\n    json_pointers: [/spec/replicas]\n")
	fx.scaleByHand(7)
	if r := fx.scan()["web"]; r.Action != scan.Clean || r.Err != nil {
		t.Fatalf("web: %+v", r)
	}
	if prs := fx.gh.PullRequests(repoName); len(prs) != 0 {
		t.Errorf("pull requests for an ignored field: %+v", prs)
	}
	if files := fx.gh.Files(repoName, "heads/"+scan.Branch("web")); files != nil {
		t.Error("a capture branch for an ignored field")
	}
}

func TestBranchNamesAreSafe(t *testing.T) {
	for name, want := range map[string]string{
		"web":               "gitward/drift-capture/web",
		"team/web app":      "gitward/drift-capture/team-web-app",
		"..hidden..":        "gitward/drift-capture/hidden",
		"x.lock":            "gitward/drift-capture/x",
		"~^:?*[\\":          "gitward/drift-capture/app",
		"payments_v2.api-1": "gitward/drift-capture/payments_v2.api-1",
	} {
		if got := scan.Branch(name); got != want {
			t.Errorf("Branch(%q) = %q, want %q", name, got, want)
		}
	}
}

var _ forge.Forge = (*ghforge.Forge)(nil)

func TestScanCapturesDriftWhenItsBreakGlassWindowEnds(t *testing.T) {
	fx := newFixture(t, "break_glass:\n  responders:\n    users: [oncall]\n")
	gh := fx.gh
	gh.SetPermission(repoName, "oncall", "write")
	now := time.Unix(0, fx.clock.Load())
	incident := gh.AddIssue(repoName, githubtest.Issue{Title: "Web is down", Author: "oncall", State: "open", Labels: []string{"break-glass"}})
	gh.AddComment(repoName, incident, githubtest.Comment{User: "oncall", Body: "/breakglass web scaling up by hand for 30m", CreatedAt: now.Add(-time.Minute), UpdatedAt: now.Add(-time.Minute)})
	fx.scaleByHand(6)

	// While the window is open the drift is expected: nothing is captured.
	if r := fx.scan()["web"]; r.Action != scan.WindowOpen || r.Err != nil {
		t.Fatalf("web during the window: %+v", r)
	}
	if n := len(gh.PullRequests(repoName)); n != 0 {
		t.Fatalf("%d pull requests while the window is open", n)
	}

	// Its time runs out: the capture pull request names the incident.
	fx.clock.Add(int64(30 * time.Minute))
	if r := fx.scan()["web"]; r.Action != scan.Opened || r.Err != nil {
		t.Fatalf("web after the window: %+v", r)
	}
	prs := gh.PullRequests(repoName)
	if len(prs) != 1 {
		t.Fatalf("pull requests: %+v", prs)
	}
	want := fmt.Sprintf("**Incident:** [#%d](https://github.com/%s/issues/%d) — break-glass window for `web` by @oncall: scaling up by hand", incident, repoName, incident)
	if !strings.Contains(prs[0].Body, want) {
		t.Errorf("the body does not link the incident (%q):\n%s", want, prs[0].Body)
	}
}
