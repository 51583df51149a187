package textdiff

// This file holds the core of the edit computation: Myers' O(ND) difference
// algorithm in its linear-space form (E. W. Myers, "An O(ND) Difference
// Algorithm and Its Variations", Algorithmica 1(2), 1986, sections 3 and
// 4b), with a cost bound so that very different inputs stay fast.
//
// Coordinates follow the paper's edit graph: x counts lines of the old
// side, y lines of the new side, a diagonal k holds the points with
// x - y = k, and a snake is a run of diagonal moves over equal lines.

// minCostBound is the fewest edits each search of a middle snake may spend
// before it settles for the furthest point it reached (see costBound).
const minCostBound = 64

// costBound is how many edits the search of one middle snake in a box of
// n+m lines may spend before it gives up on the shortest script for that
// box: about twice the square root of n+m, and at least minCostBound.
// Boxes that differ less than this get a shortest edit script; beyond it
// the search of a box costs about its size times the bound, instead of its
// size times its differences, so texts that differ everywhere stay fast.
func costBound(total int) int {
	b := 1
	for b*b < total {
		b++
	}
	return max(2*b, minCostBound)
}

// search finds a shortest (or, past the cost bound, a short) edit script
// between a and b and marks the lines it changes in ca and cb.
type search struct {
	a, b   []int32 // line classes: equal classes are equal lines
	ca, cb []bool  // changed lines, indexed like a and b
	fwd    []int   // furthest x on each diagonal, forward search
	bwd    []int   // furthest (smallest) x on each diagonal, backward search
	off    int     // index of diagonal 0 in fwd and bwd
	bound  int     // cost bound of every box, or -1 for costBound's
}

func newSearch(a, b []int32, ca, cb []bool) *search {
	size := len(a) + len(b) + 3
	return &search{
		a: a, b: b, ca: ca, cb: cb,
		fwd: make([]int, size), bwd: make([]int, size),
		off: len(b) + 1, bound: -1,
	}
}

// compare marks the changed lines between a[a0:a1] and b[b0:b1]. It splits
// the box at a middle snake and goes on with both halves; the second half
// loops rather than recurses, so the stack grows with the first halves only.
func (m *search) compare(a0, a1, b0, b1 int) {
	for {
		// Common lines at either end belong to every shortest script.
		for a0 < a1 && b0 < b1 && m.a[a0] == m.b[b0] {
			a0, b0 = a0+1, b0+1
		}
		for a0 < a1 && b0 < b1 && m.a[a1-1] == m.b[b1-1] {
			a1, b1 = a1-1, b1-1
		}
		if a0 == a1 || b0 == b1 {
			m.changeAll(a0, a1, b0, b1)
			return
		}
		x0, y0, x1, y1 := m.middleSnake(a0, a1, b0, b1)
		if (x0 == a1 && y0 == b1) || (x1 == a0 && y1 == b0) {
			// A split that does not shrink the box cannot happen; should it,
			// changing the whole box is a correct script and ends the loop.
			m.changeAll(a0, a1, b0, b1)
			return
		}
		m.compare(a0, x0, b0, y0)
		a0, b0 = x1, y1
	}
}

// boundFor is the cost bound of a box of total lines: costBound's, unless a
// test set one for every box.
func (m *search) boundFor(total int) int {
	if m.bound >= 0 {
		return m.bound
	}
	return costBound(total)
}

// changeAll marks every line of the box changed.
func (m *search) changeAll(a0, a1, b0, b1 int) {
	for i := a0; i < a1; i++ {
		m.ca[i] = true
	}
	for j := b0; j < b1; j++ {
		m.cb[j] = true
	}
}

// middleSnake returns a snake (x0,y0)-(x1,y1) that a shortest path from
// (a0,b0) to (a1,b1) goes through, found by searching from both corners
// until the searches meet. Both ends of the box differ (compare trimmed
// them), so the snake lies strictly inside and both halves are smaller.
// When the searches spend more than the cost bound without meeting, it
// returns an empty snake at the furthest point either search reached.
func (m *search) middleSnake(a0, a1, b0, b1 int) (x0, y0, x1, y1 int) {
	n, mm := a1-a0, b1-b0
	delta := n - mm
	odd := delta&1 != 0
	fwd, bwd, off := m.fwd, m.bwd, m.off
	// Entries hold x relative to a0; -1 forward and n+1 backward mark a
	// diagonal no path reaches. A step reads only the diagonals the step
	// before wrote: those within d-1 of its starting diagonal.
	for d := 0; ; d++ {
		// Forward: paths of d edits from (0,0), diagonals -d..d.
		// Diagonals run from the most deletions to the most insertions, so
		// that of two equally short scripts the one deleting first wins.
		for k := min(d, n); k >= max(-d, -mm); k-- {
			if (k-d)&1 != 0 {
				continue
			}
			x := -1
			if d == 0 {
				x = 0
			} else {
				// Down from diagonal k+1 (an insertion), or right from
				// k-1 (a deletion): whichever reaches further, the
				// deletion on a tie, so that deletions come first.
				if k+1 <= min(d-1, n) && fwd[off+k+1] >= 0 && fwd[off+k+1]-k <= mm {
					x = fwd[off+k+1]
				}
				if k-1 >= max(-(d-1), -mm) && fwd[off+k-1] >= 0 && fwd[off+k-1] < n && fwd[off+k-1]+1 >= x {
					x = fwd[off+k-1] + 1
				}
			}
			if x < 0 {
				fwd[off+k] = -1
				continue
			}
			sx, sy := x, x-k
			for x < n && x-k < mm && m.a[a0+x] == m.b[b0+x-k] {
				x++
			}
			fwd[off+k] = x
			if odd && k >= delta-(d-1) && k <= delta+(d-1) && bwd[off+k] <= x {
				return a0 + sx, b0 + sy, a0 + x, b0 + x - k
			}
		}
		// Backward: paths of d edits from (n,mm), diagonals delta-d..delta+d.
		for k := min(delta+d, n); k >= max(delta-d, -mm); k-- {
			if (k-delta-d)&1 != 0 {
				continue
			}
			x := n + 1
			if d == 0 {
				x = n
			} else {
				// Left from diagonal k+1 (a deletion), or up from k-1 (an
				// insertion): whichever reaches further back, the insertion
				// on a tie, so that insertions come last.
				if k+1 <= min(delta+d-1, n) && bwd[off+k+1] <= n && bwd[off+k+1] > 0 {
					x = bwd[off+k+1] - 1
				}
				if k-1 >= max(delta-d+1, -mm) && bwd[off+k-1] <= n && bwd[off+k-1]-k >= 0 && bwd[off+k-1] <= x {
					x = bwd[off+k-1]
				}
			}
			if x > n {
				bwd[off+k] = n + 1
				continue
			}
			ex, ey := x, x-k
			for x > 0 && x-k > 0 && m.a[a0+x-1] == m.b[b0+x-k-1] {
				x--
			}
			bwd[off+k] = x
			if !odd && k >= -d && k <= d && fwd[off+k] >= x {
				return a0 + x, b0 + x - k, a0 + ex, b0 + ey
			}
		}
		if d >= m.boundFor(n+mm) {
			x, y := m.furthest(d, n, mm)
			return a0 + x, b0 + y, a0 + x, b0 + y
		}
	}
}

// furthest picks where to split a box whose searches passed the cost bound
// after d steps: the point with the most progress, forward (largest x+y)
// or backward (smallest x+y), whichever went further. It lies strictly
// inside the box, since the searches have not met.
func (m *search) furthest(d, n, mm int) (x, y int) {
	fwd, bwd, off := m.fwd, m.bwd, m.off
	delta := n - mm
	best, bx, by := -1, 0, 0
	for k := max(-d, -mm); k <= min(d, n); k++ {
		if (k-d)&1 != 0 || fwd[off+k] < 0 {
			continue
		}
		fx := fwd[off+k]
		if p := 2*fx - k; p > best {
			best, bx, by = p, fx, fx-k
		}
	}
	for k := max(delta-d, -mm); k <= min(delta+d, n); k++ {
		if (k-delta-d)&1 != 0 || bwd[off+k] > n {
			continue
		}
		bx2 := bwd[off+k]
		if p := (n + mm) - (2*bx2 - k); p > best {
			best, bx, by = p, bx2, bx2-k
		}
	}
	return bx, by
}
