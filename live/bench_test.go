package live

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// BenchmarkDrift measures a drift check of 200 objects (Deployments and
// ConfigMaps, all deployed) at several concurrencies: each object costs a
// GET and a dry-run PATCH.
func BenchmarkDrift(b *testing.B) {
	c := testCluster(b)
	ns := newNamespace(b, "bench")
	flux := writer(b, "kustomize-controller")
	var objs []*unstructured.Unstructured
	for i := range 100 {
		d := inNS(b, deployment, ns)
		d.SetName(fmt.Sprintf("web-%d", i))
		cm := inNS(b, `{apiVersion: v1, kind: ConfigMap, metadata: {name: x, namespace: NS}, data: {a: b}}`, ns)
		cm.SetName(fmt.Sprintf("settings-%d", i))
		for _, u := range []*unstructured.Unstructured{d, cm} {
			flux.apply(u.DeepCopy())
			objs = append(objs, u)
		}
	}
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("200 objects, concurrency %d", n), func(b *testing.B) {
			c.Concurrency = n
			for b.Loop() {
				r, err := Drift(ctx(b), c, objs, "")
				if err != nil || r.Count(Unchanged) != len(objs) {
					b.Fatalf("%v %v", err, r.Err())
				}
			}
		})
	}
}
