package textdiff

import (
	"fmt"
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
