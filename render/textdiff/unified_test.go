package textdiff

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gitward/gitward/render/textdiff/internal/gitdiff"
	"github.com/hexops/gotextdiff"
	"github.com/hexops/gotextdiff/myers"
	"github.com/hexops/gotextdiff/span"
)

// gotextdiffUnified is gotextdiff's own unified diff of a and b.
func gotextdiffUnified(a, b string) gotextdiff.Unified {
	edits := myers.ComputeEdits(span.URIFromPath("a"), a, b)
	return gotextdiff.ToUnified("a", "b", a, edits)
}

// fixToLines corrects gotextdiff v1.0.3's ToLine of hunks that follow a hunk
// joining several edits: its ToUnified leaves the unchanged lines between
// joined edits out of the count, so those ToLines come out short. The
// right value follows from the hunks before: old start plus lines added
// minus lines removed so far.
func fixToLines(u gotextdiff.Unified) (fixed int) {
	shift := 0
	for _, h := range u.Hunks {
		if want := h.FromLine + shift; h.ToLine != want {
			h.ToLine = want
			fixed++
		}
		for _, l := range h.Lines {
			switch l.Kind {
			case gotextdiff.Insert:
				shift++
			case gotextdiff.Delete:
				shift--
			}
		}
	}
	return fixed
}

func TestTextMatchesGotextdiffWhenTheEditsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	alphabet := []string{"a: 1\n", "b: 2\n", "c: 3\n", "\n", "  - name: x\n", "    value: y\n", "kind: Deployment\n", "x: 1\r\n"}
	gen := func(n int) []string {
		lines := make([]string, n)
		for i := range lines {
			lines[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return lines
	}
	compared, fixed := 0, 0
	const cases = 500
	for i := range cases {
		la := gen(rng.IntN(30))
		lb := mutate(rng, la, alphabet)
		if i%4 == 0 {
			// Changes far apart, so that hunks are many.
			la = gen(20 + rng.IntN(40))
			lb = append([]string(nil), la...)
			for k := range lb {
				if rng.IntN(9) == 0 {
					lb[k] = fmt.Sprintf("changed %d\n", k)
				}
			}
		}
		a, b := strings.Join(la, ""), strings.Join(lb, "")
		if i%7 == 0 {
			b = strings.TrimSuffix(b, "\n")
		}
		theirs := gotextdiffUnified(a, b)
		ours := Diff("a", "b", a, b, DefaultContext)
		fixes := fixToLines(theirs)
		theirChanged, err := gitdiff.ParseChanged(fmt.Sprint(theirs))
		if err != nil {
			t.Fatalf("reading gotextdiff's diff: %v", err)
		}
		if !theirChanged.Equal(editsChanged(Lines(a, b))) {
			continue // gotextdiff chose another edit script
		}
		compared++
		fixed += fixes
		if got, want := ours.String(), fmt.Sprint(theirs); got != want {
			t.Fatalf("case %d: text differs from gotextdiff's\n--- ours\n%s--- gotextdiff's\n%s", i, got, want)
		}
		if got, want := len(ours.Hunks), len(theirs.Hunks); got != want {
			t.Fatalf("case %d: %d hunks, gotextdiff has %d", i, got, want)
		}
		for h := range ours.Hunks {
			o, g := ours.Hunks[h], theirs.Hunks[h]
			if o.FromLine != g.FromLine || o.ToLine != g.ToLine || len(o.Lines) != len(g.Lines) {
				t.Fatalf("case %d hunk %d: %+v, gotextdiff %+v", i, h, o, g)
			}
			for k := range o.Lines {
				if int(o.Lines[k].Kind) != int(g.Lines[k].Kind) || o.Lines[k].Content != g.Lines[k].Content {
					t.Fatalf("case %d hunk %d line %d: %+v, gotextdiff %+v", i, h, k, o.Lines[k], g.Lines[k])
				}
			}
		}
	}
	t.Logf("compared %d of %d cases (the others differ in edit script); corrected gotextdiff's ToLine in %d hunks", compared, cases, fixed)
	if compared < cases/2 {
		t.Errorf("only %d of %d cases had the same edit script; the comparison says too little", compared, cases)
	}
	if fixed == 0 {
		t.Errorf("no case exercised gotextdiff's ToLine drift; the cases are too simple")
	}
}

func TestHunkHeadersFollowGotextdiff(t *testing.T) {
	for _, tc := range []struct {
		name, a, b string
		header     string
	}{
		{"an insertion into an empty text names line 1 and omits the empty range's count", "", "x\ny\n", "@@ -1 +1,2 @@"},
		{"a deletion of everything names line 1 and omits the empty range's count", "x\ny\n", "", "@@ -1,2 +1 @@"},
		{"a one-line range omits its count", "x\n", "y\n", "@@ -1 +1 @@"},
		{"an insertion at the end counts the context before it", "1\n2\n3\n4\n", "1\n2\n3\n4\n5\n", "@@ -2,3 +2,4 @@"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ours := Diff("a", "b", tc.a, tc.b, DefaultContext).String()
			theirs := fmt.Sprint(gotextdiffUnified(tc.a, tc.b))
			if ours != theirs {
				t.Fatalf("ours:\n%s\ngotextdiff's:\n%s", ours, theirs)
			}
			if !strings.Contains(ours, "\n"+tc.header+"\n") {
				t.Errorf("no header %q in\n%s", tc.header, ours)
			}
		})
	}
}

func TestGotextdiffMisnumbersHunksAfterJoinedEdits(t *testing.T) {
	// Why fixToLines exists: three one-line changes, the first two joined in
	// one hunk. gotextdiff numbers the second hunk's new side 3 lines short.
	var la []string
	for i := 1; i <= 40; i++ {
		la = append(la, fmt.Sprintf("l%d\n", i))
	}
	lb := append([]string(nil), la...)
	lb[9], lb[13], lb[29] = "X\n", "Y\n", "Z\n"
	a, b := strings.Join(la, ""), strings.Join(lb, "")
	theirs := gotextdiffUnified(a, b)
	ours := Diff("a", "b", a, b, DefaultContext)
	if len(theirs.Hunks) != 2 || len(ours.Hunks) != 2 {
		t.Fatalf("want 2 hunks each, got %d and %d", len(ours.Hunks), len(theirs.Hunks))
	}
	if got := theirs.Hunks[1].ToLine; got != 24 {
		t.Skipf("gotextdiff's second hunk starts at new line %d: its numbering was fixed", got)
	}
	if got := ours.Hunks[1].ToLine; got != 27 {
		t.Errorf("our second hunk starts at new line %d, want 27", got)
	}
}
