package render_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gitward/gitward/render"
)

// FuzzRender feeds arbitrary kustomizations and plugin configurations to
// the graph and the renderer: whatever the input, the answer is a render or
// an error, never a panic or a hang.
func FuzzRender(f *testing.F) {
	for _, seed := range []struct{ kustomization, other string }{
		{kustomizationOf, configMap},
		{"resources:\n  - ../../x\n  - github.com/a/b\n  - /abs\n", ""},
		{"transformers:\n  - other.yaml\ngenerators:\n  - |\n    apiVersion: builtin\n    kind: ConfigMapGenerator\n    metadata: {name: g}\n    files: [../k]\n", "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: ../../etc/passwd\n"},
		{"resources: &a [*a]\n", ""},
		{"patchesStrategicMerge:\n  - other.yaml\nopenapi:\n  path: other.yaml\n", "{"},
		{"configMapGenerator:\n  - name: c\n    files: [other.yaml, k=other.yaml]\n    envs: [other.yaml]\n    env: other.yaml\n", "A=1\n"},
		{"helmCharts: [{name: x}]\nreplacements: [{path: other.yaml}]\n", "- {source: {kind: ConfigMap}}"},
		{"\t", ""},
		{"kind: Component\n", ""},
	} {
		f.Add(seed.kustomization, seed.other)
	}
	r := render.NewRenderer(render.Options{TimeLimit: 10 * time.Second})
	f.Fuzz(func(t *testing.T, kustomization, other string) {
		dir := t.TempDir()
		for name, content := range map[string]string{"app/kustomization.yaml": kustomization, "app/other.yaml": other, "app/cm.yaml": configMap} {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		tree, err := render.OpenTree(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer tree.Close()
		app := render.App{Name: "app", Path: "app"}
		g := render.BuildGraph(tree, []render.App{app})
		g.Files(app)
		g.Affected([]string{"app/other.yaml"})
		res, err := r.Render(context.Background(), g, app)
		if err != nil {
			t.Fatal(err)
		}
		if res.Err != nil && res.YAML != nil {
			t.Fatal("a failed render came with YAML")
		}
	})
}
