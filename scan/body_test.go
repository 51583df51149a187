package scan_test

import (
	"strings"
	"testing"

	"github.com/gitward/gitward/capture"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/render"
	"github.com/gitward/gitward/render/objects"
	"github.com/gitward/gitward/scan"
)

// A drifted field quotes what the cluster holds: values as JSON (with
// backslashes) and field manager names anyone with write access chooses.
// The body's table shows them as written and lets none of them end a cell
// or open HTML.
func TestBodyEscapesTheDriftedFieldsTable(t *testing.T) {
	ch := &capture.Change{
		App: render.App{Name: "podinfo", Path: "apps/podinfo", Cluster: "prod"},
		Captured: []capture.Captured{{
			Object: objects.ID{Kind: "ConfigMap", Namespace: "web", Name: "settings"},
			Field: live.Field{
				Pointer: "/data/note", Live: `say "hi" | bye`, Desired: "x", InLive: true, InDesired: true,
				Owners: []live.Owner{{Manager: "<img src=x>", Operation: "Update"}},
			},
			Route: capture.InPlace, File: "apps/podinfo/config`map.yaml",
		}},
	}
	body := scan.Body(ch, "")
	for _, want := range []string{
		`/data/note: "say \\"hi\\" \| bye" in the cluster, "x" in git; changed by &lt;img src=x&gt; (Update)`,
		"| ``apps/podinfo/config`map.yaml`` (in place) |",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the body lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<img") {
		t.Errorf("the body holds raw HTML:\n%s", body)
	}
}
