package textdiff

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultContext is the number of unchanged lines shown around each change,
// as in `git diff` and gotextdiff.
const DefaultContext = 3

// Unified is a unified diff. Its shape and text are those of gotextdiff's
// Unified (github.com/hexops/gotextdiff), so a caller can convert one into
// the other field by field, plus the counts of added and removed lines.
type Unified struct {
	From, To string  // names of the old and the new file
	Hunks    []*Hunk // changes with their context, in order
	Added    int     // lines added in all hunks
	Removed  int     // lines removed in all hunks
}

// Hunk is a run of changes close enough to share their context.
type Hunk struct {
	// FromLine and ToLine are the 1-based lines of the old and new text
	// where the hunk starts. A hunk without old (or new) lines names the
	// line before which it applies, as gotextdiff does.
	FromLine, ToLine int
	Lines            []Line
}

// Line is one line of a hunk.
type Line struct {
	Kind    OpKind
	Content string // the line with its newline, if it has one
}

// OpKind says what a hunk line does; the values are gotextdiff's.
type OpKind int

const (
	Delete OpKind = iota // in the old text only
	Insert               // in the new text only
	Equal                // in both: context
)

// String names the kind of line, for people.
func (k OpKind) String() string {
	switch k {
	case Delete:
		return "delete"
	case Insert:
		return "insert"
	case Equal:
		return "equal"
	}
	return "OpKind(" + strconv.Itoa(int(k)) + ")"
}

// Diff compares two texts and returns their unified diff with context
// unchanged lines around each change; names label the two sides.
func Diff(fromName, toName, a, b string, context int) Unified {
	la, lb := SplitLines(a), SplitLines(b)
	return ToUnified(fromName, toName, la, lb, Compute(la, lb), context)
}

// ToUnified groups edits of the lines a into the lines b into hunks with
// context unchanged lines around each change (0 or more; a negative context
// counts as 0). Changes at most 2×context lines apart share a hunk.
func ToUnified(fromName, toName string, a, b []string, edits []Edit, context int) Unified {
	u := Unified{From: fromName, To: toName}
	context = max(context, 0)
	var h *Hunk
	last := 0 // old line after the previous edit
	for _, e := range edits {
		if e.OldStart < last || e.OldEnd < e.OldStart || e.OldEnd > len(a) ||
			e.NewStart < 0 || e.NewEnd < e.NewStart || e.NewEnd > len(b) {
			continue // not an edit of a into b; skip rather than fail
		}
		if h != nil && e.OldStart-last <= 2*context {
			h.Lines = appendEqual(h.Lines, a, last, e.OldStart)
		} else {
			if h != nil {
				h.Lines = appendEqual(h.Lines, a, last, min(last+context, len(a)))
				u.Hunks = append(u.Hunks, h)
			}
			before := min(context, e.OldStart, e.NewStart)
			h = &Hunk{FromLine: e.OldStart - before + 1, ToLine: e.NewStart - before + 1}
			h.Lines = appendEqual(h.Lines, a, e.OldStart-before, e.OldStart)
		}
		for _, l := range a[e.OldStart:e.OldEnd] {
			h.Lines = append(h.Lines, Line{Kind: Delete, Content: l})
		}
		for _, l := range b[e.NewStart:e.NewEnd] {
			h.Lines = append(h.Lines, Line{Kind: Insert, Content: l})
		}
		u.Removed += e.OldEnd - e.OldStart
		u.Added += e.NewEnd - e.NewStart
		last = e.OldEnd
	}
	if h != nil {
		h.Lines = appendEqual(h.Lines, a, last, min(last+context, len(a)))
		u.Hunks = append(u.Hunks, h)
	}
	return u
}

func appendEqual(lines []Line, a []string, from, to int) []Line {
	for _, l := range a[from:to] {
		lines = append(lines, Line{Kind: Equal, Content: l})
	}
	return lines
}

// String renders the diff as text, exactly as gotextdiff prints its
// Unified: "--- from", "+++ to", then each hunk's "@@ -l,s +l,s @@" header
// (",s" only when s > 1) and lines. Identical texts give "".
func (u Unified) String() string {
	if len(u.Hunks) == 0 {
		return ""
	}
	var sb strings.Builder
	size := len(u.From) + len(u.To) + 10
	for _, h := range u.Hunks {
		size += 32
		for _, l := range h.Lines {
			size += len(l.Content) + 1
		}
	}
	sb.Grow(size)
	sb.WriteString("--- ")
	sb.WriteString(u.From)
	sb.WriteString("\n+++ ")
	sb.WriteString(u.To)
	sb.WriteString("\n")
	var num [20]byte
	writeRange := func(sign string, line, count int) {
		sb.WriteString(sign)
		sb.Write(strconv.AppendInt(num[:0], int64(line), 10))
		if count > 1 {
			sb.WriteByte(',')
			sb.Write(strconv.AppendInt(num[:0], int64(count), 10))
		}
	}
	for _, h := range u.Hunks {
		from, to := 0, 0
		for _, l := range h.Lines {
			switch l.Kind {
			case Delete:
				from++
			case Insert:
				to++
			default:
				from++
				to++
			}
		}
		sb.WriteString("@@")
		writeRange(" -", h.FromLine, from)
		writeRange(" +", h.ToLine, to)
		sb.WriteString(" @@\n")
		for _, l := range h.Lines {
			switch l.Kind {
			case Delete:
				sb.WriteByte('-')
			case Insert:
				sb.WriteByte('+')
			default:
				sb.WriteByte(' ')
			}
			sb.WriteString(l.Content)
			if !strings.HasSuffix(l.Content, "\n") {
				sb.WriteString("\n\\ No newline at end of file\n")
			}
		}
	}
	return sb.String()
}

// Format makes fmt print the diff as String does, whatever the verb.
func (u Unified) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte(u.String()))
}
