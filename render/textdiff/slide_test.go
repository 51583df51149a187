package textdiff

import (
	"slices"
	"testing"
)

// TestSlide starts each run of changes at a place a shortest script may
// well choose and checks where slide moves it.
func TestSlide(t *testing.T) {
	for _, tc := range []struct {
		name      string
		x         []string
		from, to  []bool // changed lines of x before and after sliding
		otherSide []bool // changed lines of the other side
	}{{
		name: "an inserted list item holds a whole item, not the tail of one and the head of the next",
		x:    []string{"items:\n", "  - name: a\n", "    type: string\n", "  - name: b\n", "    type: string\n", "  - name: c\n", "    type: int\n"},
		from: []bool{false, false, true, true, false, false, false},
		to:   []bool{false, false, false, true, true, false, false},
	}, {
		name: "an item inserted before an item with the same key starts at its key, not at the line below it",
		x:    []string{"list:\n", "- item:\n", "  v: 1\n", "- item:\n", "  v: 2\n"},
		from: []bool{false, false, true, true, false},
		to:   []bool{false, true, true, false, false},
	}, {
		name: "an inserted function ends with the blank line after it rather than starting with the one before",
		x:    []string{"}\n", "\n", "func y() {\n", "}\n", "\n", "func z() {\n"},
		from: []bool{false, true, true, true, false, false},
		to:   []bool{false, false, true, true, true, false},
	}, {
		name:      "a deletion moves next to the insertion on the other side, to read as one replacement",
		x:         []string{"a\n", "x\n", "a\n", "x\n", "a\n", "b\n"},
		from:      []bool{false, false, false, true, true, false},
		to:        []bool{false, true, true, false, false, false},
		otherSide: []bool{false, true, false, false, false},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cx, _, _ := classes(tc.x, nil)
			ch := slices.Clone(tc.from)
			other := tc.otherSide
			if other == nil {
				// The other side: x without its changed lines, all kept.
				for _, c := range tc.from {
					if !c {
						other = append(other, false)
					}
				}
			}
			slide(tc.x, cx, ch, other)
			if !slices.Equal(ch, tc.to) {
				t.Errorf("changed lines %v, want %v", ch, tc.to)
			}
		})
	}
}
