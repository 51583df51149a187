// Package textdiff computes line diffs and renders them as unified diffs in
// gotextdiff's format.
//
// Rendered Kubernetes objects can be tens of thousands of lines long (large
// CRDs), so the edit computation must be both fast and small. It is Myers'
// O(ND) algorithm in linear space (myers.go), run on the lines that can
// match at all (prepare.go), with a cost bound for inputs that differ
// almost everywhere; then each run of changed lines is moved to where it
// reads best, whole indented blocks rather than halves of two (slide.go).
// `git diff --no-index` is the yardstick the tests hold it to: about as
// many changed lines as git shows, not necessarily the same ones.
//
// Lines are compared exactly: every byte counts, a carriage return is part
// of the line, and a last line without a newline differs from the same line
// with one (shown as "\ No newline at end of file").
//
// Use Diff for a unified diff of two texts (its String is the text, Added
// and Removed the counts), or Lines/Compute for the edits alone and
// ToUnified to render them.
//
// All functions are safe for concurrent use and never panic.
package textdiff

import "strings"

// Edit replaces the lines a[OldStart:OldEnd] of the old text with the lines
// b[NewStart:NewEnd] of the new text. Indices count lines from 0. A pure
// insertion has OldStart == OldEnd, a pure deletion NewStart == NewEnd.
type Edit struct {
	OldStart, OldEnd int
	NewStart, NewEnd int
}

// Lines computes the edits that turn text a into text b, line by line.
// Edits are in order and never touch or overlap.
func Lines(a, b string) []Edit {
	return Compute(SplitLines(a), SplitLines(b))
}

// Compute computes the edits that turn the lines a into the lines b. Lines
// are compared as whole strings, so keep their line endings (SplitLines
// does). Edits are in order and never touch or overlap.
func Compute(a, b []string) []Edit {
	ca, cb, n := classes(a, b)
	chA, chB := changedLines(ca, cb, n)
	dissolve(ca, cb, n, chA, chB)
	slide(a, ca, chA, chB)
	slide(b, cb, chB, chA)
	return script(chA, chB)
}

// SplitLines cuts s after every newline. Each line keeps its "\n" (and any
// "\r" before it); the last line has none when s does not end in a newline.
// An empty string has no lines.
func SplitLines(s string) []string {
	if s == "" {
		return nil
	}
	n := strings.Count(s, "\n")
	if s[len(s)-1] != '\n' {
		n++
	}
	lines := make([]string, 0, n)
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i+1])
		s = s[i+1:]
	}
	return lines
}

// Count returns how many lines the edits add and remove.
func Count(edits []Edit) (added, removed int) {
	for _, e := range edits {
		added += e.NewEnd - e.NewStart
		removed += e.OldEnd - e.OldStart
	}
	return added, removed
}

// Apply returns the lines a with the edits applied: for edits computed from
// a and b, exactly b. Edits that do not fit a are an error of the caller;
// Apply then returns nil rather than guess.
func Apply(a, b []string, edits []Edit) []string {
	out := make([]string, 0, len(b))
	last := 0
	for _, e := range edits {
		if e.OldStart < last || e.OldEnd < e.OldStart || e.OldEnd > len(a) ||
			e.NewStart < 0 || e.NewEnd < e.NewStart || e.NewEnd > len(b) {
			return nil
		}
		out = append(out, a[last:e.OldStart]...)
		out = append(out, b[e.NewStart:e.NewEnd]...)
		last = e.OldEnd
	}
	return append(out, a[last:]...)
}
