package capture

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/internal/livetest"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/render"
	"github.com/gitward/gitward/render/textdiff"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// The tests that need a cluster share one real kube-apiserver and etcd,
// started on first use by internal/livetest. The cluster is deployed the
// way Flux does it (server-side apply, forced, as kustomize-controller),
// then changed by hand as kubectl edit and kubectl scale do.

func TestMain(m *testing.M) { livetest.Main(m) }

// env is a connection to the test API server.
type env struct {
	t       *testing.T
	cluster *live.Cluster
	dyn     dynamic.Interface
	mapper  meta.RESTMapper
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cfg := livetest.Config(t)
	c, err := live.New("envtest", cfg, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, cluster: c, dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

var nsCounter atomic.Int64

// namespace makes a name for a test's namespaces, unique in the cluster.
func namespace(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, nsCounter.Add(1))
}

func (e *env) res(u *unstructured.Unstructured) dynamic.ResourceInterface {
	e.t.Helper()
	gvk := u.GroupVersionKind()
	m, err := e.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		e.t.Fatal(err)
	}
	r := e.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return r.Namespace(u.GetNamespace())
	}
	return r
}

// apply server-side applies objects as manager, creating their namespaces.
func (e *env) apply(manager string, objs ...*unstructured.Unstructured) {
	e.t.Helper()
	for _, u := range objs {
		if ns := u.GetNamespace(); ns != "" {
			n := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
			if _, err := e.res(n).Apply(ctx(e.t), ns, n, metav1.ApplyOptions{FieldManager: manager, Force: true}); err != nil {
				e.t.Fatal(err)
			}
		}
		if _, err := e.res(u).Apply(ctx(e.t), u.GetName(), u, metav1.ApplyOptions{FieldManager: manager, Force: true}); err != nil {
			e.t.Fatalf("apply %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

// deploy renders an app and applies it as Flux's kustomize-controller.
func (e *env) deploy(fsys fstest.MapFS, app render.App) {
	e.t.Helper()
	g := render.BuildGraph(render.NewTree(fsys), []render.App{app})
	res, err := render.NewRenderer(render.Options{}).Render(ctx(e.t), g, app)
	if err != nil || res.Err != nil {
		e.t.Fatalf("render %s: %v %v", app.Path, err, res.Err)
	}
	objs, err := live.Decode(res.YAML)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, u := range objs {
		if u.GetNamespace() == "" && app.Namespace != "" {
			u.SetNamespace(app.Namespace)
		}
	}
	e.apply("kustomize-controller", objs...)
}

// edit changes a live object and writes it back (PUT), as kubectl edit does.
func (e *env) edit(kind, ns, name string, change func(u *unstructured.Unstructured)) {
	e.t.Helper()
	u := ref(kind, ns, name)
	live, err := e.res(u).Get(ctx(e.t), name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	change(live)
	if _, err := e.res(u).Update(ctx(e.t), live, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		e.t.Fatalf("edit %s %s/%s: %v", kind, ns, name, err)
	}
}

// scale sets a Deployment's replicas through /scale, as the autoscaler
// does.
func (e *env) scale(ns, name string, replicas int64) {
	e.t.Helper()
	r := e.res(ref("Deployment", ns, name))
	s, err := r.Get(ctx(e.t), name, metav1.GetOptions{}, "scale")
	if err != nil {
		e.t.Fatal(err)
	}
	if err := unstructured.SetNestedField(s.Object, replicas, "spec", "replicas"); err != nil {
		e.t.Fatal(err)
	}
	if _, err := r.Update(ctx(e.t), s, metav1.UpdateOptions{FieldManager: "kube-controller-manager"}, "scale"); err != nil {
		e.t.Fatal(err)
	}
}

func ref(kind, ns, name string) *unstructured.Unstructured {
	gv := map[string]string{"Deployment": "apps/v1", "ConfigMap": "v1", "Secret": "v1"}[kind]
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.FromAPIVersionAndKind(gv, kind))
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

// container returns the first container of a live Deployment, to change.
func container(t *testing.T, u *unstructured.Unstructured, change func(c map[string]any)) {
	t.Helper()
	cs, _, err := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	if err != nil || len(cs) == 0 {
		t.Fatalf("no containers: %v", err)
	}
	change(cs[0].(map[string]any))
	if err := unstructured.SetNestedSlice(u.Object, cs, "spec", "template", "spec", "containers"); err != nil {
		t.Fatal(err)
	}
}

// repo is a repository snapshot of files, with each "NS" replaced by ns.
func repo(files map[string]string, ns string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for p, c := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(c, "NS", ns)), Mode: 0o644}
	}
	return fsys
}

// discover returns the apps of a snapshot, every kustomization an app.
func discover(t *testing.T, fsys fstest.MapFS) []render.App {
	t.Helper()
	apps, err := render.Discover(fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	return apps
}

func app(t *testing.T, apps []render.App, p string) render.App {
	t.Helper()
	for _, a := range apps {
		if a.Path == p {
			return a
		}
	}
	t.Fatalf("no app %s", p)
	return render.App{}
}

// plan captures app of the snapshot.
func (e *env) plan(fsys fstest.MapFS, apps []render.App, a render.App, rules ...config.IgnoreRule) *Change {
	e.t.Helper()
	ch, err := Plan(ctx(e.t), Input{
		App:     a,
		Graph:   render.BuildGraph(render.NewTree(fsys), apps),
		Cluster: e.cluster,
		Rules:   rules,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return ch
}

// file returns what the change writes to p, failing when it writes nothing
// there.
func file(t *testing.T, ch *Change, p string) string {
	t.Helper()
	for _, f := range ch.Files {
		if f.Path == p {
			return string(f.Content)
		}
	}
	var paths []string
	for _, f := range ch.Files {
		paths = append(paths, f.Path)
	}
	t.Fatalf("the change does not write %s; it writes %v\n%s", p, paths, report(ch))
	return ""
}

// paths lists the files a change writes.
func paths(ch *Change) []string {
	var out []string
	for _, f := range ch.Files {
		out = append(out, f.Path)
	}
	sort.Strings(out)
	return out
}

// report prints a change the way the CLI does, for failures.
func report(ch *Change) string {
	var b strings.Builder
	b.WriteString(ch.Diff)
	for _, c := range ch.Captured {
		fmt.Fprintln(&b, "captured", c)
	}
	for _, r := range ch.Refusals {
		fmt.Fprintln(&b, "refused", r)
	}
	return b.String()
}

func equalText(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s differs from what is expected (-want +got):\n%s", what, textdiff.Diff("want", "got", want, got, 3))
	}
}

// captured lists the captured fields as "Kind ns/name pointer route file".
func captured(ch *Change) string {
	var b strings.Builder
	for _, c := range ch.Captured {
		fmt.Fprintf(&b, "%s %s %s %s\n", c.Object.Describe(), c.Field.Pointer, c.Route, c.File)
	}
	return b.String()
}
