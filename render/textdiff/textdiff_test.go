package textdiff

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gitward/gitward/render/textdiff/internal/yamlgen"
)

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name           string
		a, b           string
		want           string
		added, removed int
	}{{
		name: "identical texts have no diff",
		a:    "a: 1\nb: 2\n", b: "a: 1\nb: 2\n",
		want: "",
	}, {
		name: "two empty texts have no diff",
	}, {
		name: "an empty old text adds every line in one hunk",
		a:    "", b: "a: 1\nb: 2\n",
		want:  "--- a\n+++ b\n@@ -1 +1,2 @@\n+a: 1\n+b: 2\n",
		added: 2,
	}, {
		name: "an empty new text removes every line in one hunk",
		a:    "a: 1\nb: 2\n", b: "",
		want:    "--- a\n+++ b\n@@ -1,2 +1 @@\n-a: 1\n-b: 2\n",
		removed: 2,
	}, {
		name: "a missing newline at the end of the old text is a change of its last line",
		a:    "a: 1\nb: 2", b: "a: 1\nb: 2\n",
		want:  "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n\\ No newline at end of file\n+b: 2\n",
		added: 1, removed: 1,
	}, {
		name: "a missing newline at the end of the new text is a change of its last line",
		a:    "a: 1\nb: 2\n", b: "a: 1\nb: 2",
		want:  "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n+b: 2\n\\ No newline at end of file\n",
		added: 1, removed: 1,
	}, {
		name: "texts both without a final newline show the marker on both sides",
		a:    "a: 1\nb: 2", b: "a: 1\nb: 3",
		want:  "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n\\ No newline at end of file\n+b: 3\n\\ No newline at end of file\n",
		added: 1, removed: 1,
	}, {
		name: "an unchanged last line without a newline is context with the marker",
		a:    "a: 1\nb: 2", b: "a: 0\nb: 2",
		want:  "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-a: 1\n+a: 0\n b: 2\n\\ No newline at end of file\n",
		added: 1, removed: 1,
	}, {
		name: "a carriage return is part of the line",
		a:    "a: 1\r\nb: 2\r\n", b: "a: 1\nb: 2\r\n",
		want:  "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-a: 1\r\n+a: 1\n b: 2\r\n",
		added: 1, removed: 1,
	}, {
		name: "a change of whitespace only is a change",
		a:    "spec:\n  replicas: 1\n  paused: false\n", b: "spec:\n  replicas: 1 \n\tpaused: false\n",
		want:  "--- a\n+++ b\n@@ -1,3 +1,3 @@\n spec:\n-  replicas: 1\n-  paused: false\n+  replicas: 1 \n+\tpaused: false\n",
		added: 2, removed: 2,
	}, {
		name:  "an item added to a list of identical items goes at its end, as git puts it",
		a:     "items:\n  - name: x\n    value: 1\n  - name: x\n    value: 1\n  - name: x\n    value: 1\nend: true\n",
		b:     "items:\n  - name: x\n    value: 1\n  - name: x\n    value: 1\n  - name: x\n    value: 1\n  - name: x\n    value: 1\nend: true\n",
		want:  "--- a\n+++ b\n@@ -5,4 +5,6 @@\n     value: 1\n   - name: x\n     value: 1\n+  - name: x\n+    value: 1\n end: true\n",
		added: 2,
	}, {
		name:  "a document added between two keeps the blank line between documents where git puts it",
		a:     "kind: A\nspec:\n  a: 1\n  b: 2\n\nkind: B\nspec:\n  c: 3\n",
		b:     "kind: A\nspec:\n  a: 1\n  b: 2\n\nkind: C\nspec:\n  d: 4\n\nkind: B\nspec:\n  c: 3\n",
		want:  "--- a\n+++ b\n@@ -3,6 +3,10 @@\n   a: 1\n   b: 2\n \n+kind: C\n+spec:\n+  d: 4\n+\n kind: B\n spec:\n   c: 3\n",
		added: 4,
	}, {
		name:  "a block moved to the end is removed above and added below",
		a:     "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n",
		b:     "four\nfive\nsix\nseven\neight\none\ntwo\nthree\n",
		want:  "--- a\n+++ b\n@@ -1,8 +1,8 @@\n-one\n-two\n-three\n four\n five\n six\n seven\n eight\n+one\n+two\n+three\n",
		added: 3, removed: 3,
	}, {
		name:  "two lines swapped show the deletion first, as git does",
		a:     "a\nb\n",
		b:     "b\na\n",
		want:  "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-a\n b\n+a\n",
		added: 1, removed: 1,
	}, {
		name: "a rewritten block stays whole around a line it shares with its replacement",
		a: "spec:\n  egress:\n    - toEndpoints:\n        - matchLabels:\n            app: forgejo\n            tier: server\n      toPorts:\n" +
			"        - ports:\n            - port: \"3000\"\n              protocol: TCP\n    - toEndpoints:\n        - matchLabels:\n            app: runner\nend: 1\n",
		b: "spec:\n  ingress:\n    - fromEndpoints:\n        - matchLabels:\n            namespace: network\n            gateway: envoy\n      toPorts:\n" +
			"        - ports:\n            - port: \"8080\"\n              protocol: UDP\n    - fromCIDR:\n        - matchLabels:\n            cidr: all\nend: 1\n",
		want: "--- a\n+++ b\n@@ -1,14 +1,14 @@\n spec:\n" +
			"-  egress:\n-    - toEndpoints:\n-        - matchLabels:\n-            app: forgejo\n-            tier: server\n" +
			"+  ingress:\n+    - fromEndpoints:\n+        - matchLabels:\n+            namespace: network\n+            gateway: envoy\n" +
			"       toPorts:\n         - ports:\n" +
			"-            - port: \"3000\"\n-              protocol: TCP\n-    - toEndpoints:\n-        - matchLabels:\n-            app: runner\n" +
			"+            - port: \"8080\"\n+              protocol: UDP\n+    - fromCIDR:\n+        - matchLabels:\n+            cidr: all\n" +
			" end: 1\n",
		added: 10, removed: 10,
	}, {
		name:  "changes 6 lines apart share a hunk",
		a:     "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n",
		b:     "1\nX\n3\n4\n5\n6\n7\n8\nY\n10\n",
		want:  "--- a\n+++ b\n@@ -1,10 +1,10 @@\n 1\n-2\n+X\n 3\n 4\n 5\n 6\n 7\n 8\n-9\n+Y\n 10\n",
		added: 2, removed: 2,
	}, {
		name:  "changes 7 lines apart get a hunk each",
		a:     "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n",
		b:     "1\nX\n3\n4\n5\n6\n7\n8\n9\nY\n11\n",
		want:  "--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n@@ -7,5 +7,5 @@\n 7\n 8\n 9\n-10\n+Y\n 11\n",
		added: 2, removed: 2,
	}, {
		name:  "a later hunk starts on the right new line after insertions",
		a:     "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
		b:     "1\nX\nX\nX\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n",
		want:  "--- a\n+++ b\n@@ -1,4 +1,7 @@\n 1\n+X\n+X\n+X\n 2\n 3\n 4\n@@ -9,4 +12,3 @@\n 9\n 10\n 11\n-12\n",
		added: 3, removed: 1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			u := Diff("a", "b", tc.a, tc.b, DefaultContext)
			if got := u.String(); got != tc.want {
				t.Errorf("diff:\n%s\nwant:\n%s", got, tc.want)
			}
			if got := fmt.Sprint(u); got != tc.want {
				t.Errorf("fmt.Sprint differs from String:\n%s", got)
			}
			if u.Added != tc.added || u.Removed != tc.removed {
				t.Errorf("counts +%d -%d, want +%d -%d", u.Added, u.Removed, tc.added, tc.removed)
			}
			added, removed := Count(Lines(tc.a, tc.b))
			if added != tc.added || removed != tc.removed {
				t.Errorf("Count gives +%d -%d, want +%d -%d", added, removed, tc.added, tc.removed)
			}
			checkDiff(t, tc.a, tc.b)
		})
	}
}

func TestContext(t *testing.T) {
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n"
	b := "1\n2\n3\n4\nX\n6\n7\n8\n9\n"
	for _, tc := range []struct {
		name    string
		context int
		want    string
	}{
		{"no context shows the changed lines alone", 0, "--- a\n+++ b\n@@ -5 +5 @@\n-5\n+X\n"},
		{"a negative context counts as none", -2, "--- a\n+++ b\n@@ -5 +5 @@\n-5\n+X\n"},
		{"one line of context shows a line each side", 1, "--- a\n+++ b\n@@ -4,3 +4,3 @@\n 4\n-5\n+X\n 6\n"},
		{"context larger than the file shows the whole file", 100, "--- a\n+++ b\n@@ -1,9 +1,9 @@\n 1\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n 9\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Diff("a", "b", a, b, tc.context).String(); got != tc.want {
				t.Errorf("diff:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
	t.Run("a pure insertion without context names the line it goes before", func(t *testing.T) {
		got := Diff("a", "b", "1\n2\n", "1\nX\n2\n", 0).String()
		if want := "--- a\n+++ b\n@@ -2 +2 @@\n+X\n"; got != want {
			t.Errorf("diff:\n%s\nwant:\n%s", got, want)
		}
	})
}

// TestCostBoundKeepsScriptsCorrect runs the search with a cost bound of
// one edit, so that nearly every box is split where the search gave up,
// and checks that the edits still turn a into b.
func TestCostBoundKeepsScriptsCorrect(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		a, b := yamlgen.Pair(300, 0.3, seed)
		la, lb := SplitLines(a), SplitLines(b)
		ca, cb, _ := classes(la, lb)
		chA, chB := make([]bool, len(ca)), make([]bool, len(cb))
		s := newSearch(ca, cb, chA, chB)
		s.bound = 1
		s.compare(0, len(ca), 0, len(cb))
		if got := strings.Join(Apply(la, lb, script(chA, chB)), ""); got != b {
			t.Fatalf("seed %d: the bounded search's edits do not turn a into b", seed)
		}
	}
}

func TestSplitLines(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"an empty text has no lines", "", nil},
		{"a lone newline is one empty line", "\n", []string{"\n"}},
		{"lines keep their newlines", "a\nb\n", []string{"a\n", "b\n"}},
		{"a last line without newline is kept", "a\nb", []string{"a\n", "b"}},
		{"carriage returns stay in the line", "a\r\nb\r", []string{"a\r\n", "b\r"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SplitLines(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("SplitLines(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestApplyRefusesEditsThatDoNotFit(t *testing.T) {
	a, b := []string{"x\n"}, []string{"y\n"}
	for _, tc := range []struct {
		name  string
		edits []Edit
	}{
		{"an edit past the end of the old lines", []Edit{{OldStart: 1, OldEnd: 2, NewStart: 0, NewEnd: 1}}},
		{"edits out of order", []Edit{{1, 1, 0, 1}, {0, 1, 0, 0}}},
		{"an edit past the end of the new lines", []Edit{{0, 1, 0, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Apply(a, b, tc.edits); got != nil {
				t.Errorf("Apply = %q, want nil", got)
			}
			// Rendering such edits skips them instead of failing.
			_ = ToUnified("a", "b", a, b, tc.edits, DefaultContext).String()
		})
	}
}

func TestDiffIsSafeForConcurrentUse(t *testing.T) {
	a, b := yamlgen.Pair(2000, 0.1, 3)
	want := Diff("a", "b", a, b, DefaultContext).String()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := Diff("a", "b", a, b, DefaultContext).String(); got != want {
				t.Error("a concurrent diff differs")
			}
		})
	}
	wg.Wait()
}

// checkDiff asserts what must hold of any diff of a and b: the edits are in
// order, apart and not empty, they turn a into b, and so does the unified
// diff, whose counts match.
func checkDiff(t *testing.T, a, b string) {
	t.Helper()
	la, lb := SplitLines(a), SplitLines(b)
	edits := Compute(la, lb)
	last := -1
	for _, e := range edits {
		if e.OldStart <= last || e.OldEnd < e.OldStart || e.NewEnd < e.NewStart ||
			(e.OldStart == e.OldEnd && e.NewStart == e.NewEnd) {
			t.Fatalf("bad edit %+v in %+v", e, edits)
		}
		last = e.OldEnd
	}
	if got := strings.Join(Apply(la, lb, edits), ""); got != b {
		t.Fatalf("applying the edits to a gives %q, want %q", got, b)
	}
	for _, context := range []int{0, 1, DefaultContext} {
		u := ToUnified("a", "b", la, lb, edits, context)
		if got := applyUnified(t, la, u); got != b {
			t.Fatalf("applying the unified diff (context %d) to a gives %q, want %q", context, got, b)
		}
		added, removed := Count(edits)
		if u.Added != added || u.Removed != removed {
			t.Fatalf("unified counts +%d -%d, edits +%d -%d", u.Added, u.Removed, added, removed)
		}
	}
}

// applyUnified patches a with u like `patch` would, checking every context
// and removed line and every hunk's position on both sides.
func applyUnified(t *testing.T, a []string, u Unified) string {
	t.Helper()
	var out []string
	next := 0  // next old line to copy
	shift := 0 // new line number minus old line number so far
	for _, h := range u.Hunks {
		start := h.FromLine - 1
		if start < next || start > len(a) {
			t.Fatalf("hunk at old line %d overlaps or is past the text", h.FromLine)
		}
		if h.ToLine-1 != start+shift {
			t.Fatalf("hunk at old line %d says new line %d, want %d", h.FromLine, h.ToLine, start+shift+1)
		}
		out = append(out, a[next:start]...)
		i := start
		for _, l := range h.Lines {
			switch l.Kind {
			case Equal, Delete:
				if i >= len(a) || a[i] != l.Content {
					t.Fatalf("hunk line %q does not match old line %d", l.Content, i+1)
				}
				if l.Kind == Equal {
					out = append(out, l.Content)
				} else {
					shift--
				}
				i++
			case Insert:
				out = append(out, l.Content)
				shift++
			}
		}
		next = i
	}
	return strings.Join(append(out, a[next:]...), "")
}

func FuzzDiff(f *testing.F) {
	for _, s := range [][2]string{
		{"", ""},
		{"a\n", ""},
		{"", "a"},
		{"a\nb\nc\n", "a\nc\nb\n"},
		{"a\r\nb", "a\nb\n"},
		{"  - name: x\n  - name: x\n", "  - name: x\n  - name: y\n  - name: x\n"},
		{"x\n\n\ny\n\n", "\n\nx\n\ny\n"},
	} {
		f.Add(s[0], s[1])
	}
	a, b := yamlgen.Pair(300, 0.2, 1)
	f.Add(a, b)
	f.Fuzz(func(t *testing.T, a, b string) {
		checkDiff(t, a, b)
	})
}
