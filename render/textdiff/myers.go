package textdiff

// This file holds the edit computation: git xdiff's preparation of the two
// files (line classes, common ends, discarding lines that cannot match) and
// its Myers divide-and-conquer with cost heuristics. The constants and the
// decisions they drive are git's, so that the result is the same set of
// changed lines `git diff` (default algorithm) reports.

const (
	// maxCostMin is the least edit cost after which a split gives up on
	// the optimal path and takes the furthest-reaching one.
	maxCostMin = 256
	// heurMinCost is the edit cost from which a split may cut at a good
	// snake instead of searching on.
	heurMinCost = 256
	// snakeCnt is how many matching lines make a snake good.
	snakeCnt = 20
	// kHeur weighs how far a diagonal must have come, per unit of cost,
	// to be worth cutting at.
	kHeur = 4
	// maxEqLimit caps how many occurrences in the other file make a line
	// "frequent" when deciding what to discard.
	maxEqLimit = 1024
	// simscanWindow bounds the look-around when judging a frequent line.
	simscanWindow = 100
	// kpdisRun is the ratio of discardable to frequent lines around a
	// frequent line above which it is discarded too.
	kpdisRun = 4
)

const lineMax = int(^uint(0) >> 1)

// side is one of the two files being compared.
type side struct {
	lines []string
	class []int32 // equivalence class of every line: equal lines, equal classes
	// changed[i+1] says whether line i is changed; changed[0] and
	// changed[len(lines)+1] stay false so group walks need no bounds.
	changed []bool
	rindex  []int32 // line index of each line kept for the core diff
	ha      []int32 // class of each line kept for the core diff
	dstart  int     // first line after the common prefix
	dend    int     // last line before the common suffix
	indent  []int16 // indentation cache for the indent heuristic
}

func (s *side) n() int { return len(s.lines) }

func (s *side) isChanged(i int) bool { return s.changed[i+1] }

func (s *side) setChanged(i int, v bool) { s.changed[i+1] = v }

type env struct {
	f1, f2 side
}

// newEnv classifies the lines of both files and discards what the core diff
// need not see, like xdl_prepare_env.
func newEnv(a, b []string) *env {
	e := &env{f1: side{lines: a}, f2: side{lines: b}}
	classes := make(map[string]int32, len(a)+len(b))
	var count1, count2 []int32 // occurrences of each class in a and in b
	classify := func(lines []string, count *[]int32) []int32 {
		cls := make([]int32, len(lines))
		for i, l := range lines {
			c, ok := classes[l]
			if !ok {
				c = int32(len(classes))
				classes[l] = c
				count1 = append(count1, 0)
				count2 = append(count2, 0)
			}
			(*count)[c]++
			cls[i] = c
		}
		return cls
	}
	e.f1.class = classify(a, &count1)
	e.f2.class = classify(b, &count2)
	e.f1.changed = make([]bool, len(a)+2)
	e.f2.changed = make([]bool, len(b)+2)
	e.trimEnds()
	e.cleanupRecords(count1, count2)
	return e
}

// trimEnds finds the common prefix and suffix (xdl_trim_ends).
func (e *env) trimEnds() {
	c1, c2 := e.f1.class, e.f2.class
	lim := min(len(c1), len(c2))
	i := 0
	for i < lim && c1[i] == c2[i] {
		i++
	}
	e.f1.dstart, e.f2.dstart = i, i
	lim -= i
	j := 0
	for j < lim && c1[len(c1)-1-j] == c2[len(c2)-1-j] {
		j++
	}
	e.f1.dend = len(c1) - j - 1
	e.f2.dend = len(c2) - j - 1
}

// Line kinds for cleanupRecords, as in xdl_cleanup_records.
const (
	discard  = 0 // no match in the other file
	keep     = 1 // some matches
	frequent = 2 // many matches: kept unless surrounded by discarded lines
)

// cleanupRecords marks lines that have no match in the other file as
// changed, and lines with very many matches too when they sit among such
// lines; the rest go to the core diff (xdl_cleanup_records).
func (e *env) cleanupRecords(count1, count2 []int32) {
	kinds := func(f *side, other []int32, mlim int) []byte {
		dis := make([]byte, f.n()+1)
		for i := f.dstart; i <= f.dend; i++ {
			switch nm := int(other[f.class[i]]); {
			case nm == 0:
				dis[i] = discard
			case nm >= mlim:
				dis[i] = frequent
			default:
				dis[i] = keep
			}
		}
		return dis
	}
	dis1 := kinds(&e.f1, count2, min(bogosqrt(e.f1.n()), maxEqLimit))
	dis2 := kinds(&e.f2, count1, min(bogosqrt(e.f2.n()), maxEqLimit))
	for _, x := range []struct {
		f   *side
		dis []byte
	}{{&e.f1, dis1}, {&e.f2, dis2}} {
		f, dis := x.f, x.dis
		size := max(f.dend-f.dstart+1, 0)
		f.rindex = make([]int32, 0, size)
		f.ha = make([]int32, 0, size)
		for i := f.dstart; i <= f.dend; i++ {
			if dis[i] == keep || (dis[i] == frequent && !cleanMmatch(dis, i, f.dstart, f.dend)) {
				f.rindex = append(f.rindex, int32(i))
				f.ha = append(f.ha, f.class[i])
			} else {
				f.setChanged(i, true)
			}
		}
	}
}

// cleanMmatch says whether the frequent line i is to be discarded: when
// it sits in a run of discarded and frequent lines with discarded lines on
// both sides, and frequent lines are few in that run (xdl_clean_mmatch).
func cleanMmatch(dis []byte, i, s, e int) bool {
	if i-s > simscanWindow {
		s = i - simscanWindow
	}
	if e-i > simscanWindow {
		e = i + simscanWindow
	}
	rdis0, rpdis0 := 0, 1
	for r := 1; i-r >= s; r++ {
		if dis[i-r] == discard {
			rdis0++
		} else if dis[i-r] == frequent {
			rpdis0++
		} else {
			break
		}
	}
	if rdis0 == 0 {
		return false
	}
	rdis1, rpdis1 := 0, 1
	for r := 1; i+r <= e; r++ {
		if dis[i+r] == discard {
			rdis1++
		} else if dis[i+r] == frequent {
			rpdis1++
		} else {
			break
		}
	}
	if rdis1 == 0 {
		return false
	}
	rdis1 += rdis0
	rpdis1 += rpdis0
	return rpdis1*kpdisRun < rpdis1+rdis1
}

// bogosqrt is xdiff's rough square root: the power of two with about half
// the bits of n.
func bogosqrt(n int) int {
	i := 1
	for ; n > 0; n >>= 2 {
		i <<= 1
	}
	return i
}

// search holds the state of one core diff (xdl_do_diff).
type search struct {
	ha1, ha2   []int32
	rindex1    []int32
	rindex2    []int32
	f1, f2     *side
	kvdf, kvdb []int // furthest reach per diagonal, forward and backward
	base       int   // index of diagonal 0 in kvdf and kvdb
	mxcost     int
}

// diff runs the core diff over the lines kept by cleanupRecords and marks
// the changed ones.
func (e *env) diff() {
	n1, n2 := len(e.f1.ha), len(e.f2.ha)
	ndiags := n1 + n2 + 3
	m := &search{
		ha1: e.f1.ha, ha2: e.f2.ha,
		rindex1: e.f1.rindex, rindex2: e.f2.rindex,
		f1: &e.f1, f2: &e.f2,
		kvdf:   make([]int, ndiags),
		kvdb:   make([]int, ndiags),
		base:   n2 + 1,
		mxcost: max(bogosqrt(ndiags), maxCostMin),
	}
	m.compare(0, n1, 0, n2, false)
}

// compare marks the changed lines between kept lines [off1, lim1) and
// [off2, lim2): divide and conquer around the middle of an (almost)
// shortest edit path (xdl_recs_cmp).
func (m *search) compare(off1, lim1, off2, lim2 int, needMin bool) {
	ha1, ha2 := m.ha1, m.ha2
	for off1 < lim1 && off2 < lim2 && ha1[off1] == ha2[off2] {
		off1++
		off2++
	}
	for off1 < lim1 && off2 < lim2 && ha1[lim1-1] == ha2[lim2-1] {
		lim1--
		lim2--
	}
	switch {
	case off1 == lim1:
		for ; off2 < lim2; off2++ {
			m.f2.setChanged(int(m.rindex2[off2]), true)
		}
	case off2 == lim2:
		for ; off1 < lim1; off1++ {
			m.f1.setChanged(int(m.rindex1[off1]), true)
		}
	default:
		i1, i2, minLo, minHi := m.split(off1, lim1, off2, lim2, needMin)
		m.compare(off1, i1, off2, i2, minLo)
		m.compare(i1, lim1, i2, lim2, minHi)
	}
}

// split finds where to cut the box [off1, lim1) x [off2, lim2): the middle
// snake of a shortest edit path, or, once the cost grows past git's limits
// and unless needMin, a good-enough point (xdl_split). minLo and minHi say
// whether the two halves must be solved minimally.
func (m *search) split(off1, lim1, off2, lim2 int, needMin bool) (s1, s2 int, minLo, minHi bool) {
	ha1, ha2 := m.ha1, m.ha2
	kf, kb, base := m.kvdf, m.kvdb, m.base
	dmin, dmax := off1-lim2, lim1-off2
	fmid, bmid := off1-off2, lim1-lim2
	odd := (fmid-bmid)&1 != 0
	fmin, fmax := fmid, fmid
	bmin, bmax := bmid, bmid

	kf[base+fmid] = off1
	kb[base+bmid] = lim1

	for ec := 1; ; ec++ {
		gotSnake := false

		// Widen the forward diagonal range by one on each side, or
		// narrow it where it would leave the box.
		if fmin > dmin {
			fmin--
			kf[base+fmin-1] = -1
		} else {
			fmin++
		}
		if fmax < dmax {
			fmax++
			kf[base+fmax+1] = -1
		} else {
			fmax--
		}
		for d := fmax; d >= fmin; d -= 2 {
			var i1 int
			if kf[base+d-1] >= kf[base+d+1] {
				i1 = kf[base+d-1] + 1
			} else {
				i1 = kf[base+d+1]
			}
			prev1 := i1
			i2 := i1 - d
			for i1 < lim1 && i2 < lim2 && ha1[i1] == ha2[i2] {
				i1++
				i2++
			}
			if i1-prev1 > snakeCnt {
				gotSnake = true
			}
			kf[base+d] = i1
			if odd && bmin <= d && d <= bmax && kb[base+d] <= i1 {
				return i1, i2, true, true
			}
		}

		// The same backwards.
		if bmin > dmin {
			bmin--
			kb[base+bmin-1] = lineMax
		} else {
			bmin++
		}
		if bmax < dmax {
			bmax++
			kb[base+bmax+1] = lineMax
		} else {
			bmax--
		}
		for d := bmax; d >= bmin; d -= 2 {
			var i1 int
			if kb[base+d-1] < kb[base+d+1] {
				i1 = kb[base+d-1]
			} else {
				i1 = kb[base+d+1] - 1
			}
			prev1 := i1
			i2 := i1 - d
			for i1 > off1 && i2 > off2 && ha1[i1-1] == ha2[i2-1] {
				i1--
				i2--
			}
			if prev1-i1 > snakeCnt {
				gotSnake = true
			}
			kb[base+d] = i1
			if !odd && fmin <= d && d <= fmax && i1 <= kf[base+d] {
				return i1, i2, true, true
			}
		}

		if needMin {
			continue
		}

		// Past the heuristic's cost and with a good snake seen, cut at
		// a diagonal that has come far for its cost and ends in a snake.
		if gotSnake && ec > heurMinCost {
			best := 0
			for d := fmax; d >= fmin; d -= 2 {
				dd := d - fmid
				if dd < 0 {
					dd = -dd
				}
				i1 := kf[base+d]
				i2 := i1 - d
				v := (i1 - off1) + (i2 - off2) - dd
				if v > kHeur*ec && v > best &&
					off1+snakeCnt <= i1 && i1 < lim1 &&
					off2+snakeCnt <= i2 && i2 < lim2 {
					for k := 1; ha1[i1-k] == ha2[i2-k]; k++ {
						if k == snakeCnt {
							best = v
							s1, s2 = i1, i2
							break
						}
					}
				}
			}
			if best > 0 {
				return s1, s2, true, false
			}

			for d := bmax; d >= bmin; d -= 2 {
				dd := d - bmid
				if dd < 0 {
					dd = -dd
				}
				i1 := kb[base+d]
				i2 := i1 - d
				v := (lim1 - i1) + (lim2 - i2) - dd
				if v > kHeur*ec && v > best &&
					off1 < i1 && i1 <= lim1-snakeCnt &&
					off2 < i2 && i2 <= lim2-snakeCnt {
					for k := 0; ha1[i1+k] == ha2[i2+k]; k++ {
						if k == snakeCnt-1 {
							best = v
							s1, s2 = i1, i2
							break
						}
					}
				}
			}
			if best > 0 {
				return s1, s2, false, true
			}
		}

		// Enough is enough: take the furthest-reaching path.
		if ec >= m.mxcost {
			fbest, fbest1 := -1, -1
			for d := fmax; d >= fmin; d -= 2 {
				i1 := min(kf[base+d], lim1)
				i2 := i1 - d
				if lim2 < i2 {
					i1 = lim2 + d
					i2 = lim2
				}
				if fbest < i1+i2 {
					fbest = i1 + i2
					fbest1 = i1
				}
			}
			bbest, bbest1 := lineMax, lineMax
			for d := bmax; d >= bmin; d -= 2 {
				i1 := max(off1, kb[base+d])
				i2 := i1 - d
				if i2 < off2 {
					i1 = off2 + d
					i2 = off2
				}
				if i1+i2 < bbest {
					bbest = i1 + i2
					bbest1 = i1
				}
			}
			if (lim1+lim2)-bbest < fbest-(off1+off2) {
				return fbest1, fbest - fbest1, true, false
			}
			return bbest1, bbest - bbest1, false, true
		}
	}
}

// script lists the changed lines as edits (xdl_build_script, in order).
func (e *env) script() []Edit {
	f1, f2 := &e.f1, &e.f2
	n1, n2 := f1.n(), f2.n()
	changed := func(f *side, i, n int) bool { return i < n && f.isChanged(i) }
	var edits []Edit
	i1, i2 := 0, 0
	for i1 < n1 || i2 < n2 {
		if changed(f1, i1, n1) || changed(f2, i2, n2) {
			s1, s2 := i1, i2
			for changed(f1, i1, n1) {
				i1++
			}
			for changed(f2, i2, n2) {
				i2++
			}
			edits = append(edits, Edit{OldStart: s1, OldEnd: min(i1, n1), NewStart: s2, NewEnd: min(i2, n2)})
			continue
		}
		i1++
		i2++
	}
	return edits
}
