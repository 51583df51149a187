package markdown

import "testing"

func TestCellKeepsUserTextInsideItsCell(t *testing.T) {
	for in, want := range map[string]string{
		"a | b":                `a \| b`,
		"line\nbreak\r\nthere": "line break there",
		`back\slash`:           `back\\slash`,
		"<img src=x>":          "&lt;img src=x&gt;",
		"  spaced   out  ":     "spaced out",
	} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCodeCannotBeClosedByItsContent(t *testing.T) {
	for in, want := range map[string]string{
		"plain":     "`plain`",
		"a`b":       "``a`b``",
		"`edge`":    "`` `edge` ``",
		"x | y":     "`x \\| y`",
		"two\nline": "`two line`",
	} {
		if got := Code(in); got != want {
			t.Errorf("Code(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClipCountsRunesNotBytes(t *testing.T) {
	if got := Clip("héllo wörld", 5); got != "héll…" {
		t.Errorf("Clip = %q", got)
	}
	if got := Clip("short", 5); got != "short" {
		t.Errorf("Clip = %q", got)
	}
	if got := Clip("anything", 0); got != "" {
		t.Errorf("Clip to 0 = %q", got)
	}
}

func TestShortAndCount(t *testing.T) {
	if got := Short("ABCDEF0123456789"); got != "abcdef0" {
		t.Errorf("Short = %q", got)
	}
	if got := Short("abc"); got != "abc" {
		t.Errorf("Short = %q", got)
	}
	if got := Count(1, "commit", "commits"); got != "1 commit" {
		t.Errorf("Count(1) = %q", got)
	}
	if got := Count(0, "commit", "commits"); got != "0 commits" {
		t.Errorf("Count(0) = %q", got)
	}
}
