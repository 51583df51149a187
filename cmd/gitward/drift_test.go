package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitward/gitward/internal/livetest"
	"github.com/gitward/gitward/live"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

func TestMain(m *testing.M) { livetest.Main(m) }

// driftRepo is a repository with one app whose ConfigMap lives in ns, and
// the cluster holding that ConfigMap as git has it.
func driftRepo(t *testing.T, prefix string) (repo string, dyn dynamic.Interface, ns string) {
	t.Helper()
	// The test API server outlives one run of a test: each run gets its own
	// namespace.
	ns = fmt.Sprintf("%s-%d", prefix, namespaces.Add(1))
	cfg := livetest.Config(t)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	repo = t.TempDir()
	manifest := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: %s\ndata:\n  level: info\n", ns)
	files := map[string]string{
		"apps/settings/kustomization.yaml": "resources:\n  - configmap.yaml\n",
		"apps/settings/configmap.yaml":     manifest,
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Join(repo, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := t.Context()
	nsObj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
	if _, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Create(ctx, nsObj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	objs, err := live.Decode([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(configMaps).Namespace(ns).Create(ctx, objs[0], metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
		t.Fatal(err)
	}
	return repo, dyn, ns
}

var namespaces atomic.Int64

var configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

func TestDriftExitCodes(t *testing.T) {
	repo, dyn, ns := driftRepo(t, "cli-drift")
	kubeconfig := livetest.Kubeconfig(t)

	r := gitward(t, nil, "drift", "--repo", repo, "--kubeconfig", kubeconfig)
	if r.code != 0 || !strings.Contains(r.stdout, "apps/settings (") || !strings.Contains(r.stdout, "no drift") {
		t.Fatalf("in sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	patch := []byte(`{"data":{"level":"debug"}}`)
	if _, err := dyn.Resource(configMaps).Namespace(ns).Patch(t.Context(), "settings", types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	r = gitward(t, nil, "drift", "--repo", repo, "--kubeconfig", kubeconfig, "apps/settings")
	if r.code != 1 {
		t.Fatalf("after a hand edit: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, `/data/level: "debug" in the cluster, "info" in git; changed by kubectl-edit (Update)`) {
		t.Errorf("the drift is not attributed:\n%s", r.stdout)
	}
}

func TestDriftErrorsExitTwo(t *testing.T) {
	repo := t.TempDir()
	if err := os.MkdirAll(filepath.Join(repo, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "app/kustomization.yaml"), []byte("resources: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := gitward(t, nil, "drift", "--repo", repo, "--kubeconfig", filepath.Join(repo, "missing"))
	if r.code != 2 || !strings.Contains(r.stderr, "no kubeconfig") {
		t.Errorf("missing kubeconfig: exit %d, %q", r.code, r.stderr)
	}
	// A cluster that does not answer.
	bad := filepath.Join(t.TempDir(), "kubeconfig")
	dead := deadAddress(t)
	conf := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: https://%s\ncontexts:\n- name: dead\n  context:\n    cluster: dead\n    user: u\ncurrent-context: dead\nusers:\n- name: u\n  user:\n    token: t\n", dead)
	if err := os.WriteFile(bad, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r = gitward(t, nil, "drift", "--repo", repo, "--kubeconfig", bad, "--timeout", "5s")
	if r.code != 2 || !strings.Contains(r.stderr+r.stdout, "is unreachable") {
		t.Errorf("unreachable cluster: exit %d after %s\n%s%s", r.code, time.Since(start), r.stdout, r.stderr)
	}
}

func TestPreviewWithAClusterAddsTheLiveChanges(t *testing.T) {
	repo, _, ns := driftRepo(t, "cli-preview")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-qm", "base")
	p := filepath.Join(repo, "apps/settings/configmap.yaml")
	data, _ := os.ReadFile(p)
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), "level: info", "level: warn", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	git("commit", "-qam", "quieter")
	r := gitward(t, nil, "preview", "--repo", repo, "--base", "HEAD~1", "--head", "HEAD", "--kubeconfig", livetest.Kubeconfig(t))
	if !strings.Contains(r.stdout, "## gitward · live changes") || !strings.Contains(r.stdout, `/data/level: "info" in the cluster, "warn" in git`) {
		t.Errorf("preview lacks the live changes (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A change the cluster would refuse is a finding.
	widget := "apiVersion: unserved.gitward.test/v1\nkind: Widget\nmetadata:\n  name: gear\n  namespace: " + ns + "\n"
	for name, content := range map[string]string{"widget.yaml": widget, "kustomization.yaml": "resources:\n  - configmap.yaml\n  - widget.yaml\n"} {
		if err := os.WriteFile(filepath.Join(repo, "apps/settings", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("add", "-A")
	git("commit", "-qm", "widget")
	r = gitward(t, nil, "preview", "--repo", repo, "--base", "HEAD~1", "--head", "HEAD", "--kubeconfig", livetest.Kubeconfig(t))
	if r.code != 1 || !strings.Contains(r.stderr, "live: Merging would fail to apply 1 object: Widget.unserved.gitward.test "+ns+"/gear") {
		t.Errorf("a refused plan is not a finding (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
}
