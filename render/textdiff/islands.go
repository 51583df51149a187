package textdiff

// Where two texts differ over a long stretch, a shortest edit script
// still matches whatever lines the two stretches happen to share: a lone
// "- name:" or "toPorts:" amid unrelated blocks. Each such island of
// matched lines cuts a rewrite into pieces that a reviewer must put back
// together. dissolve turns small islands between large changes into
// changes: a few more changed lines, whole blocks instead of fragments.

// maxIsland is the longest run of matched lines dissolve may give up.
const maxIsland = 3

// islandRatio is how many changed lines, on both sides of an island and in
// both texts, must surround each of its lines for the island to go.
const islandRatio = 8

// minCommon is how many times, in both texts together, a line must occur
// to count as common.
const minCommon = 4

// dissolve marks the small islands of matched lines between large changes
// changed, on both sides. Only islands between two rewrites go (changes
// with old and new lines both), and only islands of common lines go (each occurs
// several times in the two texts: structure such as "- name:" rather than
// content); a line that occurs once on each side is a true landmark. Sizes
// are those of the changes as found, so that giving up one island does not
// make its neighbours look larger and start a cascade.
func dissolve(ca, cb []int32, nclass int, chA, chB []bool) {
	edits := script(chA, chB)
	if len(edits) < 2 {
		return
	}
	count := make([]int32, nclass)
	for _, c := range ca {
		count[c]++
	}
	for _, c := range cb {
		count[c]++
	}
	size := func(e Edit) int { return e.OldEnd - e.OldStart + e.NewEnd - e.NewStart }
	replaces := func(e Edit) bool { return e.OldEnd > e.OldStart && e.NewEnd > e.NewStart }
	for i := 1; i < len(edits); i++ {
		prev, next := edits[i-1], edits[i]
		gap := next.OldStart - prev.OldEnd
		if gap > maxIsland || size(prev)+size(next) < islandRatio*gap ||
			!replaces(prev) || !replaces(next) {
			continue
		}
		common := true
		for _, c := range ca[prev.OldEnd:next.OldStart] {
			common = common && count[c] >= minCommon
		}
		if !common {
			continue
		}
		for j := prev.OldEnd; j < next.OldStart; j++ {
			chA[j] = true
		}
		for j := prev.NewEnd; j < next.NewStart; j++ {
			chB[j] = true
		}
	}
}
