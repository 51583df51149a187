// Package report turns gitward's verdicts into Markdown for pull request
// comments and check runs, within each forge's size limits, and keeps the
// one sticky comment per pull request up to date.
package report

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Section is one unit of a long comment that is never split between two
// comments, such as one object's diff.
type Section struct {
	// Group names the block the section belongs to (an app); when a part
	// starts inside a group, GroupHeader is repeated so every part reads on
	// its own.
	Group       string
	GroupHeader string
	GroupFooter string
	Text        string
}

// CutMarker ends a section that was too large for one comment on its own.
const CutMarker = "\n\n> ✂️ **Cut here:** this object's diff is larger than one comment can hold. Run `gitward preview` locally for the whole of it.\n"

// Split lays out a header and sections as one or more comment bodies of at
// most limit characters each. Sections stay whole; a section too large for
// a comment of its own is cut at a line boundary with CutMarker. When more
// than one body is needed, each is titled "part i of n". Every body starts
// with marker(i, n), so the comments can be found again.
func Split(marker func(part, total int) string, header string, sections []Section, limit int) []string {
	const partTitle = "\n_Part %d of %d._\n\n"
	// Reserve room for the marker and part title, whose numbers are not
	// known until the layout is done; three digits each is ample.
	room := limit - runes(marker(999, 999)) - runes(fmt.Sprintf(partTitle, 999, 999))
	if room < 200 {
		room = 200
	}

	var (
		bodies     []string
		b          strings.Builder
		n          int
		group      string
		footer     string
		hasSection bool
	)
	add := func(s string) { b.WriteString(s); n += runes(s) }
	flush := func() {
		if group != "" {
			add(footer)
		}
		bodies = append(bodies, b.String())
		b.Reset()
		n, group, footer, hasSection = 0, "", "", false
	}
	add(header)
	for _, s := range sections {
		open := ""
		if s.Group != group {
			if group != "" {
				open += footer
			}
			open += s.GroupHeader
		}
		alone := runes(s.GroupHeader) + runes(s.Text) + runes(s.GroupFooter)
		if n+runes(open)+runes(s.Text)+runes(s.GroupFooter) > room && (hasSection || alone <= room) {
			flush()
			open = s.GroupHeader
		}
		add(open)
		group, footer = s.Group, s.GroupFooter
		text := s.Text
		if n+runes(text)+runes(footer) > room {
			text = cutAtLine(text, room-n-runes(footer)-runes(CutMarker)) + CutMarker
		}
		add(text)
		hasSection = true
	}
	flush()

	out := make([]string, len(bodies))
	for i, body := range bodies {
		title := ""
		if len(bodies) > 1 {
			title = fmt.Sprintf(partTitle, i+1, len(bodies))
		}
		out[i] = marker(i+1, len(bodies)) + title + body
	}
	return out
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// cutAtLine returns the longest prefix of s with at most max characters
// that ends at a line break, closing a code fence the cut left open.
func cutAtLine(s string, max int) string {
	max -= 12 // room for the closing fence
	if max <= 0 {
		return ""
	}
	n, end := 0, 0
	for i, r := range s {
		if n == max {
			break
		}
		n++
		if r == '\n' {
			end = i + 1
		}
	}
	cut := s[:end]
	if open, n := openFence(cut); open {
		cut += strings.Repeat("`", n) + "\n"
	}
	return cut
}

// fenceRun returns the length of the backtick run that starts line, after
// at most three spaces of indentation, as CommonMark reads fences.
func fenceRun(line string) (n int, rest string) {
	for i := 0; i < 3 && strings.HasPrefix(line, " "); i++ {
		line = line[1:]
	}
	for n < len(line) && line[n] == '`' {
		n++
	}
	return n, line[n:]
}

// openFence reports whether text ends inside a code block, and the length
// of the fence that opened it.
func openFence(text string) (bool, int) {
	open, length := false, 0
	for _, line := range strings.Split(text, "\n") {
		n, rest := fenceRun(line)
		switch {
		case !open && n >= 3:
			open, length = true, n
		case open && n >= length && strings.TrimSpace(rest) == "":
			open = false
		}
	}
	return open, length
}
