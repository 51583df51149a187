package objects

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/diff")

// TestGoldenDiffs renders representative AppDiffs as text and compares them
// with testdata/diff/<case>/diff.golden. Run with -update to rewrite them.
func TestGoldenDiffs(t *testing.T) {
	dirs, err := filepath.Glob("testdata/diff/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no golden cases in testdata/diff")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			base := readFile(t, filepath.Join(dir, "base.yaml"))
			head := readFile(t, filepath.Join(dir, "head.yaml"))
			d, err := Diff(base, head, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := formatAppDiff(d)
			golden := filepath.Join(dir, "diff.golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := string(readFile(t, golden))
			if got != want {
				t.Errorf("diff of %s differs from %s (run go test -update to accept):\n%s", dir, golden, got)
			}
		})
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// formatAppDiff renders every field of an AppDiff as plain text, for golden
// files and for checking that no secret reaches any field.
func formatAppDiff(d *AppDiff) string {
	var b strings.Builder
	fmt.Fprintf(&b, "added %d, changed %d, removed %d; lines +%d -%d\n",
		d.Added, d.Changed, d.Removed, d.LinesAdded, d.LinesRemoved)
	for _, o := range d.Objects {
		fmt.Fprintf(&b, "\n## %s %s (group %q, kind %s, namespace %q, name %s, version %s) +%d -%d\n",
			o.Action, o.ID, o.ID.Group, o.ID.Kind, o.ID.Namespace, o.ID.Name, o.ID.Version(),
			o.LinesAdded, o.LinesRemoved)
		if o.Sops {
			b.WriteString("sops: true\n")
		}
		if s := o.Secret; s != nil {
			fmt.Fprintf(&b, "keys added %v, removed %v, changed %v\n", s.Added, s.Removed, s.Changed)
		}
		for _, n := range o.Notes {
			fmt.Fprintf(&b, "note: %s\n", n)
		}
		b.WriteString(o.Unified)
	}
	return b.String()
}
