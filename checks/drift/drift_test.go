package drift

import (
	"errors"
	"testing"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/live"
)

func TestDecideExpectedDrift(t *testing.T) {
	drifted := &live.Result{Objects: []live.Object{{Action: live.Changed}}}
	clean := &live.Result{Objects: []live.Object{{Action: live.Unchanged}}}
	during := "expected during incident #7"
	tests := []struct {
		name string
		apps []App
		mode string
		want forge.Conclusion
	}{
		{"unexpected drift fails under enforce", []App{{Name: "web", Cluster: "prod", Drift: drifted}}, config.DriftEnforce, forge.ConclusionFailure},
		{"expected drift passes under enforce", []App{{Name: "web", Cluster: "prod", Drift: drifted, Expected: during}}, config.DriftEnforce, forge.ConclusionSuccess},
		{"expected drift passes under notify", []App{{Name: "web", Cluster: "prod", Drift: drifted, Expected: during}}, config.DriftNotify, forge.ConclusionSuccess},
		{"other drift still fails", []App{{Name: "web", Cluster: "prod", Drift: drifted, Expected: during}, {Name: "api", Cluster: "prod", Drift: drifted}}, config.DriftEnforce, forge.ConclusionFailure},
		{"an unreachable cluster is never expected", []App{{Name: "web", Cluster: "prod", Err: errors.New("down"), Expected: during}}, config.DriftEnforce, forge.ConclusionFailure},
		{"no drift, nothing expected to show", []App{{Name: "web", Cluster: "prod", Drift: clean, Expected: during}}, config.DriftEnforce, forge.ConclusionSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Decide(tt.apps, tt.mode)
			if v.Conclusion != tt.want {
				t.Errorf("Decide = %s (%q), want %s", v.Conclusion, v.Title, tt.want)
			}
		})
	}
	v := Decide([]App{{Name: "web", Cluster: "prod", Drift: drifted, Expected: during}}, config.DriftEnforce)
	if len(v.Expected) != 1 || len(v.Drifted) != 0 || v.Title != "Only expected drift (break-glass): web; merging changes 0 objects in the cluster" {
		t.Errorf("verdict %+v", v)
	}
}
