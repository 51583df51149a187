package textdiff

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitward/gitward/render/textdiff/internal/corpus"
	"github.com/gitward/gitward/render/textdiff/internal/gitdiff"
	"github.com/gitward/gitward/render/textdiff/internal/yamlgen"
	"github.com/gitward/gitward/report/markdown"
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

// tally adds up how many lines Lines and git change over a corpus of
// pairs. Git is the yardstick, not the template: the engine may choose other
// lines, but it must not show markedly more of them.
type tally struct {
	pairs, agree        int
	ours, git           int     // changed lines, old and new, over all pairs
	worst               float64 // largest ours/git of one pair
	worstA, worstB      string
	worstOurs, worstGit int
}

// add diffs one pair both ways. It fails the test when that pair alone
// breaks the bar: more than twice git's changed lines, or any change where
// git sees none.
func (g *gitOracle) add(t *testing.T, tl *tally, a, b string) {
	t.Helper()
	want := g.changed(t, a, b)
	got := editsChanged(Lines(a, b))
	o, w := len(got.Old)+len(got.New), len(want.Old)+len(want.New)
	tl.pairs++
	tl.ours += o
	tl.git += w
	if got.Equal(want) {
		tl.agree++
	}
	if w == 0 {
		if o != 0 {
			t.Errorf("git changes nothing, Lines changes %d lines:\n--- a\n%s\n--- b\n%s", o, markdown.Clip(a, 600), markdown.Clip(b, 600))
		}
		return
	}
	if r := float64(o) / float64(w); r > tl.worst {
		tl.worst, tl.worstA, tl.worstB, tl.worstOurs, tl.worstGit = r, a, b, o, w
	}
	if 2*w < o {
		t.Errorf("Lines changes %d lines where git changes %d (more than twice):\n got %s\nwant %s", o, w, markdown.Clip(got.String(), 600), markdown.Clip(want.String(), 600))
	}
}

// check fails the test when the corpus as a whole shows more than 3 % more
// changed lines than git, and logs the figures.
func (tl *tally) check(t *testing.T) {
	t.Helper()
	t.Logf("%d pairs, %d with git's changed lines exactly; changed lines %d, git %d (%+.2f%%); worst pair %.2fx (%d vs %d)",
		tl.pairs, tl.agree, tl.ours, tl.git, 100*(float64(tl.ours)/float64(max(tl.git, 1))-1), tl.worst, tl.worstOurs, tl.worstGit)
	if 100*tl.ours > 103*tl.git {
		t.Errorf("Lines changes %d lines over the corpus, git %d: more than 3 %% above git", tl.ours, tl.git)
	}
}

func TestChangedLinesNearGitsOnCRDLikeFiles(t *testing.T) {
	g := newGitOracle(t)
	var tl tally
	for _, n := range []int{1000, 10000} {
		for _, frac := range []float64{0.001, 0.1, 0.5} {
			for seed := uint64(1); seed <= 2; seed++ {
				a, b := yamlgen.Pair(n, frac, seed)
				g.add(t, &tl, a, b)
			}
		}
	}
	tl.check(t)
}

func TestChangedLinesNearGitsOnSmallRandomFiles(t *testing.T) {
	g := newGitOracle(t)
	var tl tally
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
	for range 300 {
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
		g.add(t, &tl, ta, tb)
	}
	tl.check(t)
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

func TestChangedLinesNearGitsOnManifests(t *testing.T) {
	g := newGitOracle(t)
	pairs, err := corpus.Manifests(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) < 100 {
		t.Fatalf("only %d manifest pairs found: are the fixtures missing?", len(pairs))
	}
	var tl tally
	for _, p := range pairs {
		g.add(t, &tl, p.A, p.B)
	}
	tl.check(t)
}
