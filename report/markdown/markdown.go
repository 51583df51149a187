// Package markdown holds the small text helpers every report gitward writes
// shares, so user text is made safe the same way wherever it lands: in a
// check run, the sticky comment, an issue, a reply or the audit export.
// It does no I/O and imports nothing of gitward's.
package markdown

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// OneLine folds every run of white space, line breaks included, into one
// space and trims the ends.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Clip shortens s to at most n runes, ending it with "…" when it cut.
func Clip(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// cellEscaper escapes what would end a table cell (|), start an escape (\)
// or open HTML (<, >).
var cellEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;")

// Cell makes text safe inside a Markdown table cell: one line, no pipe that
// ends the cell, no HTML.
func Cell(s string) string {
	return cellEscaper.Replace(OneLine(s))
}

// Code writes s on one line as a code span, with a fence longer than any
// run of backticks inside it, so nothing in s can close it early. A pipe is
// escaped, so the span may stand in a table cell.
func Code(s string) string {
	s = OneLine(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + strings.ReplaceAll(s, "|", `\|`) + pad + fence
}

// Short abbreviates a commit SHA to its first seven digits, in lower case.
func Short(sha string) string {
	sha = strings.ToLower(sha)
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// Count returns "1 thing" or "2 things": n followed by one or many.
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
