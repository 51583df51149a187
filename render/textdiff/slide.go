package textdiff

// This file places each run of changed lines where a reviewer reads it
// best. A run of changed lines on one side can often move: when the line
// just before the run equals its last line, the run may start one line
// earlier and end one line earlier and still describe the same change (and
// likewise downwards). Among the places a run can take, slide prefers
//
//  1. one where it faces changed lines of the other side, so that a
//     replacement reads as one hunk rather than a deletion and an
//     insertion apart;
//  2. one that holds whole indented blocks (see blockCost);
//  3. the lowest one.

// maxPlaces bounds how many of a run's places are weighed, counted upwards
// from its lowest, so that a run inside thousands of equal lines costs no
// more than a run anywhere else.
const maxPlaces = 128

// slide moves the runs of changed lines of one side (lines x, classes cx,
// flags chX) to their best places, with the other side's flags chY fixed.
func slide(x []string, cx []int32, chX, chY []bool) {
	// faces[k]: the other side has changed lines right after its k-th
	// unchanged line (k = 0: at its start). The k-th unchanged lines of
	// both sides match, so a run of x after x's k-th unchanged line faces
	// those changes.
	faces := []bool{false}
	for j := range chY {
		if !chY[j] {
			faces = append(faces, false)
		} else {
			faces[len(faces)-1] = true
		}
	}
	n := len(cx)
	k := 0 // unchanged lines of x before i
	for i := 0; i < n; {
		if !chX[i] {
			i, k = i+1, k+1
			continue
		}
		s, e := i, i
		for e < n && chX[e] {
			e++
		}
		// Slide up as far as the run goes, then down as far as it goes;
		// a run that meets another absorbs it, and then its places must
		// be found again.
		for {
			size := e - s
			for s > 0 && !chX[s-1] && cx[s-1] == cx[e-1] {
				chX[s-1], chX[e-1] = true, false
				s, e, k = s-1, e-1, k-1
				for s > 0 && chX[s-1] {
					s--
				}
			}
			for e < n && !chX[e] && cx[s] == cx[e] {
				chX[s], chX[e] = false, true
				s, e, k = s+1, e+1, k+1
				for e < n && chX[e] {
					e++
				}
			}
			if e-s == size {
				break
			}
		}
		// The run is at its lowest place and can rise to any place up to
		// the highest one it reached; each rise takes one unchanged line
		// from before it.
		size := e - s
		top := s
		for top > 0 && !chX[top-1] && cx[top-1] == cx[top-1+size] && s-top < maxPlaces-1 {
			top--
		}
		if top < s {
			shallowest := shallowest(x, s, e)
			best, bestFaces, bestCost := s, faces[k], blockCost(x, s, e, shallowest)
			for p := s - 1; p >= top; p-- {
				f := faces[k-(s-p)]
				if bestFaces && !f {
					continue
				}
				c := blockCost(x, p, p+size, shallowest)
				if (f && !bestFaces) || c < bestCost {
					best, bestFaces, bestCost = p, f, c
				}
			}
			if best != s {
				for j := s; j < e; j++ {
					chX[j] = false
				}
				for j := best; j < best+size; j++ {
					chX[j] = true
				}
				k -= s - best
				s, e = best, best+size
			}
		}
		i = e
	}
}

// blockCost says how badly the run of lines x[s:e] cuts indented blocks,
// 0 when it holds whole blocks. YAML, JSON and most code nest by
// indentation, so a readable run
//   - does not start deeper than the line before it (else it begins inside
//     a block opened above it),
//   - is not followed by a line deeper than its last (else the block its
//     last line opens goes on below it),
//   - does not start deeper than its shallowest line (else it starts inside
//     one block and ends in another), and
//   - does not start with a blank line (a blank line belongs at the end of
//     what it separates).
//
// Every place of a run holds the same lines, so the caller finds the
// shallowest indentation among them once.
func blockCost(x []string, s, e, shallowest int) int {
	cost := 0
	first := depth(x, s)
	if s > 0 && first > depth(x, s-1) {
		cost += 2
	}
	if e < len(x) && depth(x, e) > depth(x, e-1) {
		cost += 2
	}
	if first > shallowest {
		cost += 2
	}
	if isBlank(x[s]) {
		cost++
	}
	return cost
}

// shallowest is the least indentation of the lines x[s:e] that are not
// blank (0 if all are).
func shallowest(x []string, s, e int) int {
	least := -1
	for _, l := range x[s:e] {
		if !isBlank(l) && (least < 0 || indent(l) < least) {
			least = indent(l)
		}
	}
	return max(least, 0)
}

// depth is the indentation of line i in columns (a tab goes to the next
// multiple of 8). A blank line takes the depth of the next line that is not
// blank, looking a few lines ahead, since it separates what follows.
func depth(x []string, i int) int {
	for j := i; j < len(x) && j < i+16; j++ {
		if !isBlank(x[j]) {
			return indent(x[j])
		}
	}
	return 0
}

func indent(l string) int {
	col := 0
	for _, c := range []byte(l) {
		switch c {
		case ' ':
			col++
		case '\t':
			col += 8 - col%8
		default:
			return col
		}
	}
	return col
}

func isBlank(l string) bool {
	for _, c := range []byte(l) {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}
