package textdiff

// classes numbers the distinct lines of a and b: equal lines get equal
// classes, so the diff compares integers instead of strings.
func classes(a, b []string) (ca, cb []int32, nclass int) {
	ids := make(map[string]int32, len(a))
	number := func(lines []string) []int32 {
		out := make([]int32, len(lines))
		for i, l := range lines {
			id, ok := ids[l]
			if !ok {
				id = int32(len(ids))
				ids[l] = id
			}
			out[i] = id
		}
		return out
	}
	ca, cb = number(a), number(b)
	return ca, cb, len(ids)
}

// changedLines marks which lines of a and b (as classes) a short edit
// script changes. Lines common to both ends are kept; of the lines between,
// those whose class does not occur on the other side cannot be matched by
// any script, so they are marked changed and left out of the search, which
// then runs on fewer lines with fewer differences.
func changedLines(a, b []int32, nclass int) (chA, chB []bool) {
	chA, chB = make([]bool, len(a)), make([]bool, len(b))
	lo := 0
	for lo < len(a) && lo < len(b) && a[lo] == b[lo] {
		lo++
	}
	hiA, hiB := len(a), len(b)
	for hiA > lo && hiB > lo && a[hiA-1] == b[hiB-1] {
		hiA, hiB = hiA-1, hiB-1
	}
	inA, inB := make([]bool, nclass), make([]bool, nclass)
	for _, c := range a[lo:hiA] {
		inA[c] = true
	}
	for _, c := range b[lo:hiB] {
		inB[c] = true
	}
	// keep lists the lines that may match, by their index.
	keep := func(lines []int32, from, to int, other []bool, changed []bool) (kept []int32, index []int) {
		for i := from; i < to; i++ {
			if other[lines[i]] {
				kept = append(kept, lines[i])
				index = append(index, i)
			} else {
				changed[i] = true
			}
		}
		return kept, index
	}
	ka, ia := keep(a, lo, hiA, inB, chA)
	kb, ib := keep(b, lo, hiB, inA, chB)
	if len(ka) == 0 && len(kb) == 0 {
		return chA, chB
	}
	ra, rb := make([]bool, len(ka)), make([]bool, len(kb))
	newSearch(ka, kb, ra, rb).compare(0, len(ka), 0, len(kb))
	for i, c := range ra {
		if c {
			chA[ia[i]] = true
		}
	}
	for j, c := range rb {
		if c {
			chB[ib[j]] = true
		}
	}
	return chA, chB
}

// script turns the changed lines of both sides into edits: the k-th
// unchanged line of a matches the k-th unchanged line of b, and each run of
// changes between two matches is one edit.
func script(chA, chB []bool) []Edit {
	var edits []Edit
	i, j := 0, 0
	for i < len(chA) || j < len(chB) {
		if i < len(chA) && j < len(chB) && !chA[i] && !chB[j] {
			i, j = i+1, j+1
			continue
		}
		e := Edit{OldStart: i, NewStart: j}
		for i < len(chA) && chA[i] {
			i++
		}
		for j < len(chB) && chB[j] {
			j++
		}
		e.OldEnd, e.NewEnd = i, j
		if e.OldStart == e.OldEnd && e.NewStart == e.NewEnd {
			// Only one side has lines left, and none of them is changed:
			// the flags disagree, which the diff never produces. Change
			// the rest so that the script stays correct.
			e.OldEnd, e.NewEnd = len(chA), len(chB)
			i, j = e.OldEnd, e.NewEnd
		}
		edits = append(edits, e)
	}
	return edits
}
