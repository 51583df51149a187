package verdict

import (
	"errors"
	"testing"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/render/objects"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
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

func TestDecideRefusedPlanIsNeverGreen(t *testing.T) {
	web := objects.ID{Group: "apps", Kind: "Deployment", Namespace: "default", Name: "web", APIVersion: "apps/v1"}
	invalid := &live.Error{Cluster: "prod", Op: "dry-run apply", Object: web.Describe(),
		Err: apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "web", field.ErrorList{
			field.Invalid(field.NewPath("spec", "replicas"), int64(-1), "must be greater than or equal to 0")})}
	refused := &live.Result{Objects: []live.Object{
		{ID: web, Action: live.Failed, Err: invalid},
		{ID: objects.ID{Kind: "ConfigMap", Namespace: "default", Name: "conf"}, Action: live.Changed},
	}}
	drifted := &live.Result{Objects: []live.Object{{Action: live.Changed}}}
	forbidden := &live.Result{Objects: []live.Object{{ID: objects.ID{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "reader"}, Action: live.Failed,
		Err: &live.Error{Cluster: "prod", Forbidden: true, Verb: "get", Resource: schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}}}}}
	tests := []struct {
		name  string
		apps  []App
		mode  string
		want  forge.Conclusion
		title string
	}{
		{"notify", []App{{Name: "web", Cluster: "prod", Plan: refused}}, config.DriftNotify, forge.ConclusionNeutral,
			"Merging would fail to apply 1 object: Deployment.apps default/web (spec.replicas: Invalid value: -1: must be greater than or equal to 0)"},
		{"enforce", []App{{Name: "web", Cluster: "prod", Plan: refused}}, config.DriftEnforce, forge.ConclusionFailure,
			"Merging would fail to apply 1 object: Deployment.apps default/web (spec.replicas: Invalid value: -1: must be greater than or equal to 0)"},
		{"not excused by a break-glass window", []App{{Name: "web", Cluster: "prod", Plan: refused, Drift: drifted, Expected: "expected during incident #7"}}, config.DriftEnforce, forge.ConclusionFailure,
			"Merging would fail to apply 1 object: Deployment.apps default/web (spec.replicas: Invalid value: -1: must be greater than or equal to 0)"},
		{"several, with drift", []App{{Name: "web", Cluster: "prod", Plan: refused}, {Name: "rbac", Cluster: "prod", Plan: forbidden, Drift: drifted}}, config.DriftEnforce, forge.ConclusionFailure,
			"Merging would fail to apply 2 objects: Deployment.apps default/web (spec.replicas: Invalid value: -1: must be greater than or equal to 0), and 1 more; 1 app drifted"},
		{"forbidden says the missing permission", []App{{Name: "rbac", Cluster: "prod", Plan: forbidden}}, config.DriftNotify, forge.ConclusionNeutral,
			"Merging would fail to apply 1 object: ClusterRole.rbac.authorization.k8s.io reader (forbidden: gitward needs get on clusterroles.rbac.authorization.k8s.io cluster-wide)"},
		{"an unreachable cluster still leads", []App{{Name: "web", Cluster: "prod", Plan: refused}, {Name: "api", Cluster: "prod", Err: errors.New("down")}}, config.DriftNotify, forge.ConclusionNeutral,
			"1 app could not be compared with the cluster; merging would fail to apply 1 object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Decide(tt.apps, tt.mode)
			if v.Conclusion != tt.want || v.Title != tt.title {
				t.Errorf("Decide = %s %q\nwant       %s %q", v.Conclusion, v.Title, tt.want, tt.title)
			}
		})
	}
	if v := Decide([]App{{Name: "web", Cluster: "prod", Plan: refused}}, config.DriftNotify); len(v.Unappliable) != 1 || v.Unappliable[0] != "web" {
		t.Errorf("Unappliable = %v, want [web]", v.Unappliable)
	}
}
