package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gitward/gitward/forge/github/githubtest"
	"github.com/gitward/gitward/internal/livetest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

// Drift scenarios run against a real kube-apiserver and etcd (envtest,
// started on first use; skipped without its binaries unless
// GITWARD_REQUIRE_ENVTEST is set).

func TestMain(m *testing.M) { livetest.Main(m) }

const driftCheck = "gitward/drift"

var nsSeq atomic.Int64

// driftWorld is the GitHub world with the test cluster configured on the
// server and apps/** mapped to it in enforce mode; podinfo runs in the
// cluster as main describes it, applied by a person with kubectl.
func driftWorld(t *testing.T, scan ...string) (*GitHubWorld, dynamic.Interface) {
	t.Helper()
	kubeconfig := livetest.Kubeconfig(t)
	dyn, err := dynamic.NewForConfig(livetest.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("podinfo-%d", nsSeq.Add(1))
	apply(t, dyn, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+ns+"\n")
	apply(t, dyn, strings.Replace(Deployment(2), "name: podinfo\n", "name: podinfo\n  namespace: "+ns+"\n", 1))
	policy := DefaultPolicy + "clusters:\n  - name: test\n    paths: [\"apps/**\"]\ndrift:\n  mode: enforce\n"
	app := PodinfoApp(2)
	app["apps/podinfo/kustomization.yaml"] = strings.Replace(app["apps/podinfo/kustomization.yaml"], "namespace: podinfo", "namespace: "+ns, 1)
	w := NewGitHubWorld(t, WorldOptions{Policy: policy, Files: app, Start: StartOptions{
		Clusters:  fmt.Sprintf("clusters:\n  - name: test\n    kubeconfig: %s\n", kubeconfig),
		DriftScan: strings.Join(scan, ""),
	}})
	return w, dyn
}

// apply creates an object as kubectl does.
func apply(t *testing.T, dyn dynamic.Interface, doc string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	if u.GetKind() == "Deployment" {
		gvr = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	}
	var ri dynamic.ResourceInterface = dyn.Resource(gvr)
	if ns := u.GetNamespace(); ns != "" {
		ri = dyn.Resource(gvr).Namespace(ns)
	}
	if _, err := ri.Create(context.Background(), u, metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
		t.Fatalf("create %s: %v", u.GetKind(), err)
	}
}

// scaleLive changes the live Deployment's replicas as `kubectl scale` does.
func scaleLive(t *testing.T, dyn dynamic.Interface, ns string, replicas int) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	gvr := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	if _, err := dyn.Resource(gvr).Namespace(ns).Patch(context.Background(), "podinfo", "application/merge-patch+json", []byte(patch), metav1.PatchOptions{FieldManager: "kubectl-scale"}); err != nil {
		t.Fatal(err)
	}
}

func podinfoNamespace(w *GitHubWorld) string {
	k := w.GH.Files(RepoName, Main)["apps/podinfo/kustomization.yaml"]
	for _, l := range strings.Split(k, "\n") {
		if ns, ok := strings.CutPrefix(l, "namespace: "); ok {
			return ns
		}
	}
	return ""
}

func TestAChangeToWhatRunsAsMainSaysShowsWhatMergingChangesWithoutDrift(t *testing.T) {
	w, _ := driftWorld(t)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	c := wantCheck(t, w, pr, driftCheck, "success")
	if !strings.Contains(c.Title+c.Summary, "1") {
		t.Errorf("the drift check does not count the one object merging changes: %q\n%s", c.Title, c.Summary)
	}
}

func TestAManualScaleInTheClusterShowsAsDriftOnTheNextPullRequest(t *testing.T) {
	w, dyn := driftWorld(t)
	scaleLive(t, dyn, podinfoNamespace(w), 5)
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	c := w.Check(pr, driftCheck)
	if c.Conclusion == "success" {
		t.Fatalf("%s is green though podinfo was scaled by hand to 5 (main says 2): %q\n%s", driftCheck, c.Title, c.Summary)
	}
	if !strings.Contains(c.Title+c.Summary+c.Text, "kubectl-scale") {
		t.Errorf("the drift check does not name who changed podinfo (kubectl-scale):\n%s\n%s", c.Summary, c.Text)
	}
}

func TestAPlanTheClusterRefusesIsNeverGreen(t *testing.T) {
	w, _ := driftWorld(t)
	pr := w.Propose("alice", "negative", scale(-1))
	w.Idle()
	c := w.Check(pr, driftCheck)
	if c.Status != "completed" {
		t.Fatalf("%s: %s", driftCheck, c.Status)
	}
	if !strings.Contains(c.Title, "fail to apply") {
		t.Errorf("%s title %q does not say what would fail to apply", driftCheck, c.Title)
	}
	wantCheck(t, w, pr, driftCheck, "failure")
}

func TestAManualScaleIsCapturedIntoAPullRequestByTheDriftScan(t *testing.T) {
	w, dyn := driftWorld(t, "24h")
	g := w.Gitward[0]
	waitFor(t, "the drift scan at start", func() bool { return strings.Contains(g.Logs.String(), "Drift scan complete") })
	scaleLive(t, dyn, podinfoNamespace(w), 5)
	for _, sc := range g.Server.Scanners() {
		if _, err := sc.RunOnce(t.Context()); err != nil {
			t.Fatalf("drift scan: %v", err)
		}
	}
	var capture *githubtest.PullRequest
	for _, p := range w.GH.PullRequests(RepoName) {
		if strings.HasPrefix(p.HeadRef, "gitward/drift-capture/") {
			capture = &p
		}
	}
	if capture == nil {
		t.Fatalf("no drift-capture pull request; pull requests: %+v", w.GH.PullRequests(RepoName))
	}
	if got := w.GH.Labels(RepoName, capture.Number); !contains(got, "drift-capture") {
		t.Errorf("capture pull request labels %v, want drift-capture", got)
	}
	if got := w.GH.Files(RepoName, capture.HeadSHA)["apps/podinfo/deployment.yaml"]; !strings.Contains(got, "replicas: 5") {
		t.Errorf("the capture does not bring replicas: 5 back into git:\n%s", got)
	}
}
