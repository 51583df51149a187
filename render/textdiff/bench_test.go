package textdiff

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/gitward/gitward/render/textdiff/internal/yamlgen"
)

// benchCases are the inputs of FACTS.md's "Diff engines on large inputs".
var benchCases = []struct {
	lines int
	frac  float64
}{
	{10000, 0.10},
	{10000, 0.50},
	{50000, 0.001},
	{50000, 0.10},
}

// BenchmarkDiff times a whole unified diff, from two texts to its text, and
// reports the size of that text.
func BenchmarkDiff(b *testing.B) {
	for _, c := range benchCases {
		b.Run(fmt.Sprintf("lines=%dk/changed=%g%%", c.lines/1000, c.frac*100), func(b *testing.B) {
			a, bb := yamlgen.Pair(c.lines, c.frac, 1)
			b.SetBytes(int64(len(a) + len(bb)))
			var out string
			for b.Loop() {
				out = Diff("a", "b", a, bb, DefaultContext).String()
			}
			b.ReportMetric(float64(len(out)), "diff-bytes")
		})
	}
}

// BenchmarkLines times the edit computation alone.
func BenchmarkLines(b *testing.B) {
	for _, c := range benchCases {
		b.Run(fmt.Sprintf("lines=%dk/changed=%g%%", c.lines/1000, c.frac*100), func(b *testing.B) {
			a, bb := yamlgen.Pair(c.lines, c.frac, 1)
			for b.Loop() {
				Lines(a, bb)
			}
		})
	}
}

// BenchmarkUnrelated times the edit computation of two 50k-line texts drawn
// independently from the same few hundred lines: nearly every line differs
// and nearly every line could match, the case the cost bound is for.
func BenchmarkUnrelated(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(n int) []string {
		l := make([]string, n)
		for i := range l {
			l[i] = "line " + strconv.Itoa(rng.IntN(300)) + "\n"
		}
		return l
	}
	x, y := gen(50000), gen(50000)
	for b.Loop() {
		Compute(x, y)
	}
}
