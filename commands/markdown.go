package commands

import "strings"

// lines splits a comment body into lines, treating CRLF and lone CR as line
// endings as CommonMark does, and reports for each whether it is ordinary
// text (where a command may start) rather than code, a quote or an HTML
// comment.
//
// Only the block structure that can hide a command is followed: fenced code
// (``` or ~~~, three or more, closed by a fence of the same character at
// least as long, or by the end of the body), indented code (four or more
// columns of indentation; such lines are never commands, even where
// CommonMark would read a paragraph continuation), block quotes (lines whose
// first non-space character is >) and HTML comments (<!-- to -->). A fence
// opened inside a list item ("- ```") is followed too.
func lines(body string) (text []string, ordinary []bool) {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	text = strings.Split(body, "\n")
	ordinary = make([]bool, len(text))

	var fence struct {
		open      bool
		char      byte
		length    int
		maxIndent int // the deepest indentation a closing fence may have
	}
	inComment := false
	for i, line := range text {
		switch {
		case fence.open:
			indent, rest := indentation(line)
			if indent <= fence.maxIndent && closesFence(rest, fence.char, fence.length) {
				fence.open = false
			}
		case inComment:
			if strings.Contains(line, "-->") {
				inComment = false
			}
		default:
			indent, rest := indentation(line)
			if indent >= 4 {
				continue // indented code
			}
			if strings.HasPrefix(rest, ">") {
				continue // block quote
			}
			if strings.HasPrefix(rest, "<!--") {
				inComment = !strings.Contains(rest[len("<!--"):], "-->")
				continue
			}
			itemIndent, item := listItem(rest)
			if c, n, ok := opensFence(item); ok {
				fence.open, fence.char, fence.length = true, c, n
				fence.maxIndent = 3
				if itemIndent > 0 {
					fence.maxIndent = indent + itemIndent + 3
				}
				continue
			}
			ordinary[i] = true
		}
	}
	return text, ordinary
}

// indentation returns the columns of leading spaces and tabs (tab stops of
// four) and the rest of the line.
func indentation(line string) (int, string) {
	col := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ' ':
			col++
		case '\t':
			col += 4 - col%4
		default:
			return col, line[i:]
		}
	}
	return col, ""
}

// listItem strips list markers ("- ", "* ", "+ ", "1. ", "1) "), nested or
// not, from the start of s and returns how many columns they took.
func listItem(s string) (int, string) {
	width := 0
	for {
		n := markerLen(s)
		if n == 0 {
			return width, s
		}
		spaces := 0
		for spaces < len(s)-n && spaces < 4 && s[n+spaces] == ' ' {
			spaces++
		}
		if spaces == 0 {
			return width, s
		}
		width += n + spaces
		s = s[n+spaces:]
	}
}

// markerLen returns the length of a list marker at the start of s, or 0.
func markerLen(s string) int {
	if s == "" {
		return 0
	}
	if s[0] == '-' || s[0] == '*' || s[0] == '+' {
		return 1
	}
	digits := 0
	for digits < len(s) && digits < 9 && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	if digits > 0 && digits < len(s) && (s[digits] == '.' || s[digits] == ')') {
		return digits + 1
	}
	return 0
}

// opensFence reports whether s starts a fenced code block, and with which
// character and fence length. A backtick fence's info string may not contain
// a backtick (that is inline code).
func opensFence(s string) (byte, int, bool) {
	if s == "" || (s[0] != '`' && s[0] != '~') {
		return 0, 0, false
	}
	c := s[0]
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	if n < 3 {
		return 0, 0, false
	}
	if c == '`' && strings.IndexByte(s[n:], '`') >= 0 {
		return 0, 0, false
	}
	return c, n, true
}

// closesFence reports whether s (without its indentation) closes a fence of
// char that was opened with length characters.
func closesFence(s string, char byte, length int) bool {
	n := 0
	for n < len(s) && s[n] == char {
		n++
	}
	return n >= length && strings.Trim(s[n:], " \t") == ""
}
