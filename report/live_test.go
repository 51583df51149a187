package report_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gitward/gitward/checks/drift/verdict"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/render/objects"
	"github.com/gitward/gitward/report"
)

// The live report quotes text gitward does not control: a break-glass
// reason in Expected and the cluster's error messages. They are escaped
// as report/markdown escapes user text everywhere else.
func TestLiveChangesEscapesQuotedText(t *testing.T) {
	apps := []verdict.App{{
		Name: "pod`info", Path: "apps/podinfo", Cluster: "prod",
		Expected: "expected during <b>incident</b> | #12",
		Plan:     &live.Result{},
		Drift: &live.Result{Objects: []live.Object{{
			ID:     objects.ID{Kind: "Deployment", Namespace: "web", Name: "podinfo"},
			Action: live.Failed,
			Err:    errors.New("admission webhook denied: <script>x</script>\nsecond | line"),
		}}},
	}}
	header, sections := report.LiveChanges(apps, "notify")
	var all strings.Builder
	all.WriteString(header)
	for _, s := range sections {
		all.WriteString(s.Text)
	}
	got := all.String()
	for _, want := range []string{
		"| ``pod`info`` | prod |",
		`expected during &lt;b&gt;incident&lt;/b&gt; \| #12`,
		`admission webhook denied: &lt;script&gt;x&lt;/script&gt; second \| line`,
		"**Deployment** `web/podinfo`",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the report lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"<b>", "<script>"} {
		if strings.Contains(got, bad) {
			t.Errorf("the report holds raw %q:\n%s", bad, got)
		}
	}
}
