package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitward/gitward/internal/livetest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestCaptureWritesTheWorkingTree(t *testing.T) {
	repo, dyn, ns := driftRepo(t, "cli-capture")
	kubeconfig := livetest.Kubeconfig(t)
	manifest := filepath.Join(repo, "apps/settings/configmap.yaml")
	before, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}

	r := gitward(t, nil, "capture", "--repo", repo, "--kubeconfig", kubeconfig, "apps/settings")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "apps/settings: nothing to capture") {
		t.Fatalf("in sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	patch := []byte(`{"data":{"level":"debug"}}`)
	if _, err := dyn.Resource(configMaps).Namespace(ns).Patch(t.Context(), "settings", types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	wantDiff := `--- a/apps/settings/configmap.yaml
+++ b/apps/settings/configmap.yaml
@@ -4,4 +4,4 @@
   name: settings
   namespace: ` + ns + `
 data:
-  level: info
+  level: debug
`
	r = gitward(t, nil, "capture", "--repo", repo, "--kubeconfig", kubeconfig, "apps/settings")
	if r.code != 1 || r.stdout != wantDiff {
		t.Fatalf("after a hand edit: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, `captured ConfigMap `+ns+`/settings /data/level: set to "debug" (in place, apps/settings/configmap.yaml)`) {
		t.Errorf("stderr does not say what was captured:\n%s", r.stderr)
	}
	if now, _ := os.ReadFile(manifest); string(now) != string(before) {
		t.Fatalf("without --write the working tree changed:\n%s", now)
	}

	r = gitward(t, nil, "capture", "--repo", repo, "--kubeconfig", kubeconfig, "apps/settings", "--write")
	if r.code != 1 || r.stdout != wantDiff || !strings.Contains(r.stderr, "written to the working tree") {
		t.Fatalf("--write: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	want := strings.Replace(string(before), "level: info", "level: debug", 1)
	if now, _ := os.ReadFile(manifest); string(now) != want {
		t.Fatalf("written:\n%s\nwant:\n%s", now, want)
	}
	r = gitward(t, nil, "capture", "--repo", repo, "--kubeconfig", kubeconfig, "apps/settings")
	if r.code != 0 {
		t.Errorf("once written, capture still finds drift: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	t.Run("a deleted object is refused and nothing is written", func(t *testing.T) {
		if err := dyn.Resource(configMaps).Namespace(ns).Delete(t.Context(), "settings", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		r := gitward(t, nil, "capture", "--repo", repo, "--kubeconfig", kubeconfig, "apps/settings", "--write")
		if r.code != 2 || !strings.Contains(r.stderr, "refused ConfigMap "+ns+"/settings: it was deleted from the cluster") ||
			!strings.Contains(r.stderr, "nothing was written") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if now, _ := os.ReadFile(manifest); string(now) != want {
			t.Errorf("the working tree changed:\n%s", now)
		}
	})
}

func TestCaptureErrorsExitTwo(t *testing.T) {
	repo := t.TempDir()
	if err := os.MkdirAll(filepath.Join(repo, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "app/kustomization.yaml"), []byte("resources: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no app named", []string{"capture", "--repo", repo}, "accepts 1 arg"},
		{"not an app", []string{"capture", "--repo", repo, "--kubeconfig", filepath.Join(repo, "missing"), "elsewhere"}, "elsewhere is not an app of the repository"},
		{"no kubeconfig", []string{"capture", "--repo", repo, "--kubeconfig", filepath.Join(repo, "missing"), "app"}, "no kubeconfig"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := gitward(t, nil, tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
}
