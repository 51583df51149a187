package live

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitward/gitward/internal/livetest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// The tests that need a cluster share one real kube-apiserver and etcd,
// started on first use by internal/livetest.

func TestMain(m *testing.M) { livetest.Main(m) }

// needCluster returns the admin configuration of the test API server.
func needCluster(t testing.TB) *rest.Config { return livetest.Config(t) }

// testCluster connects to the test API server as its admin.
func testCluster(t testing.TB) *Cluster {
	t.Helper()
	c, err := New("envtest", needCluster(t), 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var nsCounter atomic.Int64

// newNamespace creates a namespace of its own for one test.
func newNamespace(t testing.TB, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d", prefix, nsCounter.Add(1))
	writer(t, "kubectl-client-side-apply").create(obj(t, `
apiVersion: v1
kind: Namespace
metadata:
  name: `+name))
	return name
}

// obj parses one object written as YAML.
func obj(t testing.TB, y string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
		t.Fatalf("test object: %v", err)
	}
	return u
}

// clientWriter writes objects as a named field manager, the way kubectl and
// controllers do, so that managedFields record it.
type clientWriter struct {
	t       testing.TB
	manager string
	dyn     dynamic.Interface
}

func writer(t testing.TB, manager string) clientWriter {
	t.Helper()
	dyn, err := dynamic.NewForConfig(needCluster(t))
	if err != nil {
		t.Fatal(err)
	}
	return clientWriter{t: t, manager: manager, dyn: dyn}
}

func (w clientWriter) res(u *unstructured.Unstructured) dynamic.ResourceInterface {
	gvk := u.GroupVersionKind()
	resources := map[string]string{
		"Namespace": "namespaces", "ConfigMap": "configmaps", "Secret": "secrets",
		"Service": "services", "Deployment": "deployments", "Role": "roles",
		"RoleBinding": "rolebindings", "CustomResourceDefinition": "customresourcedefinitions",
		"ClusterRole": "clusterroles", "Widget": "widgets",
	}
	r, ok := resources[gvk.Kind]
	if !ok {
		w.t.Fatalf("test writer: add %s to its resources", gvk.Kind)
	}
	ri := w.dyn.Resource(schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: r})
	if ns := u.GetNamespace(); ns != "" {
		return ri.Namespace(ns)
	}
	return ri
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// create creates the object with an Update-style write (POST), as
// `kubectl create` or client-side `kubectl apply` do.
func (w clientWriter) create(u *unstructured.Unstructured) *unstructured.Unstructured {
	w.t.Helper()
	out, err := w.res(u).Create(ctx(w.t), u, metav1.CreateOptions{FieldManager: w.manager})
	if err != nil {
		w.t.Fatalf("create %s %s as %s: %v", u.GetKind(), u.GetName(), w.manager, err)
	}
	return out
}

// apply server-side applies the object, forced, as Flux's
// kustomize-controller does.
func (w clientWriter) apply(u *unstructured.Unstructured) *unstructured.Unstructured {
	w.t.Helper()
	out, err := w.res(u).Apply(ctx(w.t), u.GetName(), u, metav1.ApplyOptions{FieldManager: w.manager, Force: true})
	if err != nil {
		w.t.Fatalf("apply %s %s as %s: %v", u.GetKind(), u.GetName(), w.manager, err)
	}
	return out
}

// edit reads the live object, changes it and writes it back (PUT), as
// `kubectl edit` does.
func (w clientWriter) edit(u *unstructured.Unstructured, change func(live *unstructured.Unstructured)) *unstructured.Unstructured {
	w.t.Helper()
	live, err := w.res(u).Get(ctx(w.t), u.GetName(), metav1.GetOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	change(live)
	out, err := w.res(u).Update(ctx(w.t), live, metav1.UpdateOptions{FieldManager: w.manager})
	if err != nil {
		w.t.Fatalf("edit %s %s as %s: %v", u.GetKind(), u.GetName(), w.manager, err)
	}
	return out
}

// scale sets a Deployment's replicas through its /scale subresource, as
// the HorizontalPodAutoscaler controller does.
func (w clientWriter) scale(u *unstructured.Unstructured, replicas int64) {
	w.t.Helper()
	res := w.res(u)
	s, err := res.Get(ctx(w.t), u.GetName(), metav1.GetOptions{}, "scale")
	if err != nil {
		w.t.Fatal(err)
	}
	if err := unstructured.SetNestedField(s.Object, replicas, "spec", "replicas"); err != nil {
		w.t.Fatal(err)
	}
	if _, err := res.Update(ctx(w.t), s, metav1.UpdateOptions{FieldManager: w.manager}, "scale"); err != nil {
		w.t.Fatalf("scale %s as %s: %v", u.GetName(), w.manager, err)
	}
}

// remove deletes the object, as `kubectl delete` does.
func (w clientWriter) remove(u *unstructured.Unstructured) {
	w.t.Helper()
	err := w.res(u).Delete(ctx(w.t), u.GetName(), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		w.t.Fatal(err)
	}
}

// managerTime is when the live object's managedFields say manager last
// wrote it.
func managerTime(t testing.TB, live *unstructured.Unstructured, manager string) time.Time {
	t.Helper()
	for _, e := range live.GetManagedFields() {
		if e.Manager == manager && e.Time != nil {
			return e.Time.UTC()
		}
	}
	t.Fatalf("%s has no managedFields entry for %s", live.GetName(), manager)
	return time.Time{}
}
