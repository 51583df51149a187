package report_test

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gitward/gitward/report"
)

var sticky = report.Sticky{Kind: "rendered-diff"}

func object(app string, i, lines int) report.Section {
	var b strings.Builder
	fmt.Fprintf(&b, "#### ConfigMap %s/cm-%d\n```diff\n", app, i)
	for l := 0; l < lines; l++ {
		fmt.Fprintf(&b, "+  key-%d: value-%d\n", l, l)
	}
	b.WriteString("```\n")
	return report.Section{
		Group:       app,
		GroupHeader: "<details><summary>" + app + "</summary>\n\n",
		GroupFooter: "</details>\n\n",
		Text:        b.String(),
	}
}

func TestSplitKeepsShortCommentsWhole(t *testing.T) {
	bodies := report.Split(sticky.Marker, "## Rendered diff\n\n", []report.Section{object("podinfo", 1, 3)}, 65536)
	if len(bodies) != 1 {
		t.Fatalf("got %d bodies, want 1", len(bodies))
	}
	if !strings.HasPrefix(bodies[0], sticky.Marker(1, 1)) {
		t.Errorf("body does not start with its marker")
	}
	if strings.Contains(bodies[0], "Part 1") {
		t.Errorf("a single comment is titled as a part")
	}
	if !strings.Contains(bodies[0], "<details><summary>podinfo</summary>") || !strings.HasSuffix(bodies[0], "</details>\n\n") {
		t.Errorf("the app's section is not closed:\n%s", bodies[0])
	}
}

func TestSplitSpreadsObjectsOverNumberedPartsAndKeepsThemWhole(t *testing.T) {
	var sections []report.Section
	for i := 0; i < 30; i++ {
		app := "app-a"
		if i >= 15 {
			app = "app-b"
		}
		sections = append(sections, object(app, i, 40))
	}
	const limit = 5000
	bodies := report.Split(sticky.Marker, "## Rendered diff\n\n| app | changed |\n|---|---|\n", sections, limit)
	if len(bodies) < 3 {
		t.Fatalf("got %d bodies, want several", len(bodies))
	}
	for i, b := range bodies {
		if n := utf8.RuneCountInString(b); n > limit {
			t.Errorf("part %d has %d characters, over %d", i+1, n, limit)
		}
		if !strings.HasPrefix(b, sticky.Marker(i+1, len(bodies))) {
			t.Errorf("part %d does not start with its marker", i+1)
		}
		if !strings.Contains(b, fmt.Sprintf("_Part %d of %d._", i+1, len(bodies))) {
			t.Errorf("part %d is not titled", i+1)
		}
		if strings.Count(b, "<details>") != strings.Count(b, "</details>") {
			t.Errorf("part %d leaves a section open", i+1)
		}
		if strings.Count(b, "```")%2 != 0 {
			t.Errorf("part %d leaves a code fence open", i+1)
		}
		if strings.Contains(b, report.CutMarker) {
			t.Errorf("part %d cut an object that fits in a comment", i+1)
		}
	}
	all := strings.Join(bodies, "")
	for _, s := range sections {
		if strings.Count(all, s.Text) != 1 {
			t.Errorf("an object is not whole in exactly one part: %.40q", s.Text)
		}
	}
	if !strings.Contains(bodies[1], "<details><summary>app-") {
		t.Errorf("a later part does not reopen its app's section")
	}
}

func TestSplitCutsAnObjectTooLargeForAnyComment(t *testing.T) {
	huge := object("crds", 1, 5000)
	small := object("crds", 2, 2)
	const limit = 20000
	bodies := report.Split(sticky.Marker, "## Rendered diff\n\n", []report.Section{small, huge, object("crds", 3, 2)}, limit)
	var cut int
	for i, b := range bodies {
		if n := utf8.RuneCountInString(b); n > limit {
			t.Errorf("part %d has %d characters", i+1, n)
		}
		if strings.Count(b, "```")%2 != 0 {
			t.Errorf("part %d leaves a code fence open", i+1)
		}
		cut += strings.Count(b, report.CutMarker)
	}
	if cut != 1 {
		t.Errorf("the huge object was cut %d times, want once with the marker", cut)
	}
	all := strings.Join(bodies, "")
	if !strings.Contains(all, small.Text) || !strings.Contains(all, "cm-3") {
		t.Errorf("objects around the huge one were lost")
	}
}

func TestSplitNeverExceedsTheLimit(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for trial := 0; trial < 200; trial++ {
		var sections []report.Section
		for i := 0; i < r.Intn(40); i++ {
			sections = append(sections, object(fmt.Sprintf("app-%d", r.Intn(4)), i, r.Intn(300)))
		}
		limit := 1000 + r.Intn(20000)
		for i, b := range report.Split(sticky.Marker, "## Rendered diff\n\n", sections, limit) {
			if n := utf8.RuneCountInString(b); n > limit {
				t.Fatalf("trial %d: part %d has %d characters, limit %d", trial, i+1, n, limit)
			}
		}
	}
}

func TestFencesInsideADiffCannotCloseItsCodeBlock(t *testing.T) {
	d := report.RenderedDiff{BaseSHA: "a", HeadSHA: "b", Apps: []report.AppDiff{{Name: "docs", Path: "docs", Failure: "```\nstill inside", FailedAt: "head"}}}
	header, sections := report.RenderedDiffComment(d)
	body := report.Split(sticky.Marker, header, sections, 65536)[0]
	if !strings.Contains(body, "````text\n```\nstill inside\n````\n") {
		t.Errorf("the failure text was not wrapped in a longer fence:\n%s", body)
	}
}

func TestACutKeepsTheLongerFenceClosed(t *testing.T) {
	var b strings.Builder
	b.WriteString("````diff\n")
	for i := 0; i < 2000; i++ {
		b.WriteString(" ```\n+x\n")
	}
	b.WriteString("````\n")
	bodies := report.Split(sticky.Marker, "", []report.Section{{Text: b.String()}}, 3000)
	if !strings.HasSuffix(strings.TrimSuffix(bodies[0], report.CutMarker), "````\n") {
		t.Errorf("the cut did not close the four-backtick fence:\n%s", bodies[0][len(bodies[0])-200:])
	}
}
