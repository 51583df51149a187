package render_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitward/gitward/render"
)

// writeRepo writes files into dir; a content starting with "-> " makes a
// symlink to the rest.
func writeRepo(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "-> "); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newRepo writes files into a new repository and returns its tree.
func newRepo(t testing.TB, files map[string]string) *render.Tree {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	writeRepo(t, dir, files)
	return openTree(t, dir)
}

func openTree(t testing.TB, dir string) *render.Tree {
	t.Helper()
	tree, err := render.OpenTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tree.Close() })
	return tree
}

// renderApp renders the app at path in tree.
func renderApp(t testing.TB, r *render.Renderer, tree *render.Tree, path string) render.Result {
	t.Helper()
	app := render.App{Name: path, Path: path}
	g := render.BuildGraph(tree, []render.App{app})
	res, err := r.Render(context.Background(), g, app)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

const configMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  greeting: hello
`

const kustomizationOf = "resources:\n  - cm.yaml\n"
