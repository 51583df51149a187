package textdiff

// This file slides groups of changed lines to where a reader expects them,
// as git's xdl_change_compact does: a group that can move (its first line
// equals the line after it, or its last the line before it) is merged with
// neighbouring groups where it can be, lined up with a change on the other
// side where it can be, and otherwise placed by git's indent heuristic.

// group is a run of changed lines [start, end) of one side; it may be empty,
// and then sits just above line start.
type group struct{ start, end int }

func (f *side) firstGroup() group {
	var g group
	for f.isChanged(g.end) {
		g.end++
	}
	return g
}

// nextGroup moves g to the next (possibly empty) group, reporting false at
// the end of the file.
func (f *side) nextGroup(g *group) bool {
	if g.end == f.n() {
		return false
	}
	g.start = g.end + 1
	for g.end = g.start; f.isChanged(g.end); g.end++ {
	}
	return true
}

// prevGroup moves g to the previous (possibly empty) group, reporting false
// at the start of the file.
func (f *side) prevGroup(g *group) bool {
	if g.start == 0 {
		return false
	}
	g.end = g.start - 1
	for g.start = g.end; f.isChanged(g.start - 1); g.start-- {
	}
	return true
}

// slideDown moves g one line down when its first line equals the line after
// it, merging with a group it runs into.
func (f *side) slideDown(g *group) bool {
	if g.end < f.n() && f.class[g.start] == f.class[g.end] {
		f.setChanged(g.start, false)
		g.start++
		f.setChanged(g.end, true)
		g.end++
		for f.isChanged(g.end) {
			g.end++
		}
		return true
	}
	return false
}

// slideUp moves g one line up when its last line equals the line before it,
// merging with a group it runs into.
func (f *side) slideUp(g *group) bool {
	if g.start > 0 && f.class[g.start-1] == f.class[g.end-1] {
		g.start--
		f.setChanged(g.start, true)
		g.end--
		f.setChanged(g.end, false)
		for f.isChanged(g.start - 1) {
			g.start--
		}
		return true
	}
	return false
}

// maxSliding bounds how far the indent heuristic looks.
const maxSliding = 100

// compact slides the change groups of f, keeping fo's groups in step.
// Should the two sides ever fall out of step (they cannot for a script
// the diff produced), it stops rather than guess.
func compact(f, fo *side) {
	g, gotherp := f.firstGroup(), fo.firstGroup()
	o := &gotherp
	for {
		if g.end != g.start {
			var groupsize, earliestEnd, endMatchingOther int
			for {
				groupsize = g.end - g.start
				endMatchingOther = -1
				for f.slideUp(&g) {
					if !fo.prevGroup(o) {
						return
					}
				}
				earliestEnd = g.end
				if o.end > o.start {
					endMatchingOther = g.end
				}
				for f.slideDown(&g) {
					if !fo.nextGroup(o) {
						return
					}
					if o.end > o.start {
						endMatchingOther = g.end
					}
				}
				if groupsize == g.end-g.start {
					break
				}
			}

			switch {
			case g.end == earliestEnd:
				// The group cannot move.
			case endMatchingOther != -1:
				// Line the group up with the last change on the
				// other side it can align with.
				for o.end == o.start {
					if !f.slideUp(&g) || !fo.prevGroup(o) {
						return
					}
				}
			default:
				// Indent heuristic: score the split above and below
				// the group at every position; take the best, the
				// lowest when tied.
				shift := max(earliestEnd, g.end-groupsize-1, g.end-maxSliding)
				bestShift := -1
				var best splitScore
				for ; shift <= g.end; shift++ {
					var s splitScore
					s.add(f.measureSplit(shift))
					s.add(f.measureSplit(shift - groupsize))
					if bestShift == -1 || s.cmp(best) <= 0 {
						best = s
						bestShift = shift
					}
				}
				for g.end > bestShift {
					if !f.slideUp(&g) || !fo.prevGroup(o) {
						return
					}
				}
			}
		}
		if !f.nextGroup(&g) {
			break
		}
		if !fo.nextGroup(o) {
			return
		}
	}
}

const (
	// maxIndent caps the indentation measured of a line.
	maxIndent = 200
	// maxBlanks caps how many blank lines are counted around a split.
	maxBlanks = 20
)

// getIndent returns the indentation of line i, a tab counting to the next
// multiple of 8, or -1 for a line of only whitespace.
func (f *side) getIndent(i int) int {
	if f.indent == nil {
		f.indent = make([]int16, f.n())
		for j := range f.indent {
			f.indent[j] = -2
		}
	}
	if v := f.indent[i]; v != -2 {
		return int(v)
	}
	v := measureIndent(f.lines[i])
	f.indent[i] = int16(v)
	return v
}

func measureIndent(line string) int {
	ret := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ' ':
			ret++
		case '\t':
			ret += 8 - ret%8
		case '\n', '\r':
			// Other whitespace does not indent.
		default:
			return ret
		}
		if ret >= maxIndent {
			return maxIndent
		}
	}
	return -1
}

// splitMeasure describes the lines around a place where a group could
// begin or end.
type splitMeasure struct {
	endOfFile  bool // the split is at the end of the file
	indent     int  // indent of the line after the split, -1 if blank
	preBlank   int  // blank lines right above the split
	preIndent  int  // indent of the nearest non-blank line above, -1 if none
	postBlank  int  // blank lines after the line after the split
	postIndent int  // indent of the nearest non-blank line after that, -1 if none
}

func (f *side) measureSplit(split int) splitMeasure {
	var m splitMeasure
	if split >= f.n() {
		m.endOfFile = true
		m.indent = -1
	} else {
		m.indent = f.getIndent(split)
	}
	m.preIndent = -1
	for i := split - 1; i >= 0; i-- {
		m.preIndent = f.getIndent(i)
		if m.preIndent != -1 {
			break
		}
		m.preBlank++
		if m.preBlank == maxBlanks {
			m.preIndent = 0
			break
		}
	}
	m.postIndent = -1
	for i := split + 1; i < f.n(); i++ {
		m.postIndent = f.getIndent(i)
		if m.postIndent != -1 {
			break
		}
		m.postBlank++
		if m.postBlank == maxBlanks {
			m.postIndent = 0
			break
		}
	}
	return m
}

// The weights git found empirically for scoring splits; larger is worse.
const (
	startOfFilePenalty              = 1
	endOfFilePenalty                = 21
	totalBlankWeight                = -30
	postBlankWeight                 = 6
	relativeIndentPenalty           = -4
	relativeIndentWithBlankPenalty  = 10
	relativeOutdentPenalty          = 24
	relativeOutdentWithBlankPenalty = 17
	relativeDedentPenalty           = 23
	relativeDedentWithBlankPenalty  = 17
	indentWeight                    = 60
)

// splitScore is the badness of a group position; smaller is better.
type splitScore struct {
	effectiveIndent int
	penalty         int
}

func (s *splitScore) add(m splitMeasure) {
	if m.preIndent == -1 && m.preBlank == 0 {
		s.penalty += startOfFilePenalty
	}
	if m.endOfFile {
		s.penalty += endOfFilePenalty
	}
	postBlank := 0
	if m.indent == -1 {
		postBlank = 1 + m.postBlank
	}
	totalBlank := m.preBlank + postBlank
	s.penalty += totalBlankWeight * totalBlank
	s.penalty += postBlankWeight * postBlank

	indent := m.indent
	if indent == -1 {
		indent = m.postIndent
	}
	anyBlanks := totalBlank != 0
	s.effectiveIndent += indent

	switch {
	case indent == -1, m.preIndent == -1, indent == m.preIndent:
	case indent > m.preIndent:
		s.penalty += pick(anyBlanks, relativeIndentWithBlankPenalty, relativeIndentPenalty)
	case m.postIndent != -1 && m.postIndent > indent:
		// Less indented than the line before, more after: likely
		// the start of a block.
		s.penalty += pick(anyBlanks, relativeOutdentWithBlankPenalty, relativeOutdentPenalty)
	default:
		// Likely the end of a block.
		s.penalty += pick(anyBlanks, relativeDedentWithBlankPenalty, relativeDedentPenalty)
	}
}

func (s splitScore) cmp(t splitScore) int {
	c := 0
	if s.effectiveIndent > t.effectiveIndent {
		c = 1
	} else if s.effectiveIndent < t.effectiveIndent {
		c = -1
	}
	return indentWeight*c + (s.penalty - t.penalty)
}

func pick(cond bool, yes, no int) int {
	if cond {
		return yes
	}
	return no
}
