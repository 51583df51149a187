package textdiff

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitward/gitward/render/textdiff/internal/gitdiff"
	"github.com/gitward/gitward/render/textdiff/internal/yamlgen"
)

func editsChanged(edits []Edit) gitdiff.Changed {
	var c gitdiff.Changed
	for _, e := range edits {
		for i := e.OldStart; i < e.OldEnd; i++ {
			c.Old = append(c.Old, i+1)
		}
		for i := e.NewStart; i < e.NewEnd; i++ {
			c.New = append(c.New, i+1)
		}
	}
	return c
}

// gitOracle feeds text pairs to `git diff --no-index` through files in a
// temporary folder.
type gitOracle struct {
	git *gitdiff.Git
	dir string
}

func newGitOracle(t *testing.T) *gitOracle {
	t.Helper()
	g := findGit(t)
	if g == nil {
		t.Skip("git is not installed, so the agreement with `git diff --no-index` cannot be checked")
	}
	return g
}

// findGit returns nil when git is not installed.
func findGit(t *testing.T) *gitOracle {
	t.Helper()
	dir := t.TempDir()
	git, err := gitdiff.New(dir)
	if err != nil {
		return nil
	}
	return &gitOracle{git: git, dir: dir}
}

func (g *gitOracle) changed(t *testing.T, a, b string) gitdiff.Changed {
	t.Helper()
	pa, pb := filepath.Join(g.dir, "a"), filepath.Join(g.dir, "b")
	if err := os.WriteFile(pa, []byte(a), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pb, []byte(b), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := g.git.Diff(pa, pb)
	if err != nil {
		t.Fatal(err)
	}
	c, err := gitdiff.ParseChanged(out)
	if err != nil {
		t.Fatalf("reading git's diff: %v\n%s", err, out)
	}
	return c
}

// sameAsGit reports (and fails the test) when Lines changes other lines
// than git does.
func (g *gitOracle) sameAsGit(t *testing.T, a, b string) bool {
	t.Helper()
	want := g.changed(t, a, b)
	got := editsChanged(Lines(a, b))
	if !got.Equal(want) {
		t.Errorf("changed lines differ from git's:\n got %s\nwant %s", clip(got.String()), clip(want.String()))
		return false
	}
	return true
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

func TestChangedLinesAgreeWithGitOnCRDLikeFiles(t *testing.T) {
	g := newGitOracle(t)
	for _, n := range []int{1000, 10000} {
		for _, frac := range []float64{0.001, 0.1, 0.5} {
			for seed := uint64(1); seed <= 2; seed++ {
				name := fmt.Sprintf("%d lines with %g%% changed (seed %d) change git's lines", n, frac*100, seed)
				t.Run(name, func(t *testing.T) {
					a, b := yamlgen.Pair(n, frac, seed)
					g.sameAsGit(t, a, b)
				})
			}
		}
	}
}

func TestChangedLinesAgreeWithGitOnSmallRandomFiles(t *testing.T) {
	g := newGitOracle(t)
	rng := rand.New(rand.NewPCG(7, 7))
	// Few distinct lines, so lines repeat and groups can slide; blank and
	// indented lines exercise the indent heuristic.
	alphabet := []string{"a\n", "b\n", "c\n", "\n", "  x\n", "  y\n", "    z\n", "}\n", "- name: x\n", "  - name: x\n", "\tt\n", "  \r\n"}
	gen := func(n int) []string {
		lines := make([]string, n)
		for i := range lines {
			lines[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return lines
	}
	for i := range 300 {
		a := gen(rng.IntN(40))
		var b []string
		if rng.IntN(3) == 0 {
			b = gen(rng.IntN(40))
		} else {
			b = mutate(rng, a, alphabet)
		}
		ta, tb := strings.Join(a, ""), strings.Join(b, "")
		if rng.IntN(5) == 0 {
			ta = strings.TrimSuffix(ta, "\n")
		}
		if rng.IntN(5) == 0 {
			tb = strings.TrimSuffix(tb, "\n")
		}
		if !g.sameAsGit(t, ta, tb) {
			t.Fatalf("case %d disagrees:\n--- a\n%s\n--- b\n%s", i, ta, tb)
		}
	}
}

// mutate returns a copy of a with a few lines inserted, deleted or replaced.
func mutate(rng *rand.Rand, a, alphabet []string) []string {
	b := slices.Clone(a)
	for range 1 + rng.IntN(6) {
		switch i := rng.IntN(len(b) + 1); rng.IntN(3) {
		case 0:
			b = slices.Insert(b, i, alphabet[rng.IntN(len(alphabet))])
		case 1:
			if i < len(b) {
				b = slices.Delete(b, i, i+1)
			}
		default:
			if i < len(b) {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
		}
	}
	return b
}
