package capture

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/render"
	"github.com/gitward/gitward/render/objects"
	"github.com/gitward/gitward/render/textdiff"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Route says how a drifted field was written back.
type Route string

// The routes, in the order they are tried.
const (
	// InPlace: the YAML document declaring the object was edited.
	InPlace Route = "in place"
	// ImageEntry: an images: entry of the app's kustomization.
	ImageEntry Route = "images entry"
	// ReplicasEntry: a replicas: entry of the app's kustomization.
	ReplicasEntry Route = "replicas entry"
	// PatchFile: a strategic-merge patch added to the app's directory.
	PatchFile Route = "patch"
)

// Input is what Plan captures: one app of a repository snapshot and the
// cluster it deploys to.
type Input struct {
	// App is the app to capture, one of Graph's apps.
	App render.App
	// Graph is the snapshot's dependency graph, built with every app of the
	// repository: a file another app reads is a shared base and is never
	// written.
	Graph *render.Graph
	// Renderer renders the app and the changed trees; nil uses one without
	// a cache.
	Renderer *render.Renderer
	// Cluster is the app's cluster: the drift is computed against it when
	// Drift is nil, and every capture is verified against it.
	Cluster *live.Cluster
	// Rules are the repository's drift ignore rules: the fields they hide
	// are never captured, and stay hidden when verifying.
	Rules []config.IgnoreRule
	// Drift is the app's drift, as live.Drift returns it for the app's
	// render at this snapshot with Rules; nil computes it.
	Drift *live.Result
}

// Change is what a capture writes.
type Change struct {
	App render.App
	// Files are the files to write, sorted by path: edited sources and
	// kustomizations, and new patch files.
	Files []forge.FileChange
	// Diff is the unified diff of Files against the snapshot, one file
	// after another with a/ and b/ paths, as `git apply` reads it; "" when
	// nothing is written.
	Diff string
	// Captured lists each drifted field written back, and how.
	Captured []Captured
	// Refusals lists the drifted objects that could not be written back,
	// and why; nothing of them is in Files.
	Refusals []Refusal
	// Hidden counts the fields ignore rules hid: they are not captured.
	Hidden []live.Hidden
}

// Empty reports whether there is nothing to write and nothing refused.
func (c *Change) Empty() bool { return len(c.Files) == 0 && len(c.Refusals) == 0 }

// Captured is one drifted field written back into git.
type Captured struct {
	// Object is the object as live.Drift names it.
	Object objects.ID
	// Field is the drift: Live is the value written (Desired the value git
	// had), with the field managers that changed it.
	Field live.Field
	// Route is how it was written, into File.
	Route Route
	File  string
}

func (c Captured) String() string {
	v := "removed"
	if c.Field.InLive {
		v = "set to " + jsonText(c.Field.Live)
	}
	return fmt.Sprintf("%s %s: %s (%s, %s)", c.Object.Describe(), c.Field.Pointer, v, c.Route, c.File)
}

// Refusal is a drifted object that is not captured.
type Refusal struct {
	Object objects.ID
	Reason string
}

func (r Refusal) String() string { return r.Object.Describe() + ": " + r.Reason }

// Plan works out how to write the live state of in.App's drifted objects
// back into the snapshot's files, and verifies it. Objects it cannot
// capture are Refusals; the error is for what stops the whole capture: an
// app that does not render, a cluster that cannot be used, ctx ending.
func Plan(ctx context.Context, in Input) (*Change, error) {
	if in.Graph == nil || in.Cluster == nil {
		return nil, errors.New("capture needs the snapshot's graph and the app's cluster")
	}
	p := &planner{in: in, r: in.Renderer, tree: in.Graph.Tree(), files: map[string][]byte{}}
	if p.r == nil {
		p.r = render.NewRenderer(render.Options{})
	}
	res, err := p.r.Render(ctx, in.Graph, in.App)
	if err != nil {
		return nil, err
	}
	if res.Err != nil {
		return nil, fmt.Errorf("render %s: %w", in.App.Path, res.Err)
	}
	if p.old, err = live.Decode(res.YAML); err != nil {
		return nil, fmt.Errorf("render %s: %w", in.App.Path, err)
	}
	drift := in.Drift
	if drift == nil {
		if drift, err = live.Drift(ctx, in.Cluster, p.old, in.App.Namespace, in.Rules...); err != nil {
			return nil, err
		}
	}
	ch := &Change{App: in.App, Hidden: drift.Hidden}
	var todo []live.Object
	for _, o := range drift.Objects {
		switch o.Action {
		case live.Changed:
			todo = append(todo, o)
		case live.Missing:
			ch.Refusals = append(ch.Refusals, Refusal{o.ID, "it was deleted from the cluster; capture writes live values back, it does not delete objects from git: if the deletion should last, remove the object in a pull request"})
		case live.Failed:
			ch.Refusals = append(ch.Refusals, Refusal{o.ID, fmt.Sprintf("it could not be compared with the cluster: %v", o.Err)})
		}
	}
	if len(todo) > 0 {
		if err := p.prepare(ctx); err != nil {
			return nil, err
		}
	}
	for _, o := range todo {
		caps, why, err := p.capture(ctx, o)
		if err != nil {
			return nil, err
		}
		if why != "" {
			ch.Refusals = append(ch.Refusals, Refusal{o.ID, why})
			continue
		}
		ch.Captured = append(ch.Captured, caps...)
	}
	paths := make([]string, 0, len(p.files))
	for f := range p.files {
		paths = append(paths, f)
	}
	sort.Strings(paths)
	var diff strings.Builder
	for _, f := range paths {
		ch.Files = append(ch.Files, forge.FileChange{Path: f, Content: p.files[f]})
		old, _ := p.original(f)
		diff.WriteString(fileDiff(f, old, p.files[f]))
	}
	ch.Diff = diff.String()
	return ch, nil
}

// planner holds one capture in progress.
type planner struct {
	in   Input
	r    *render.Renderer
	tree *render.Tree
	old  []*unstructured.Unstructured // the app's render

	kust    string            // the app's kustomization file, link-free
	origins map[objKey]origin // where each rendered object comes from

	files    map[string][]byte   // accepted changes, by link-free path
	captured map[objKey][]string // pointers captured so far, by object
}

// objKey identifies a rendered object as the render writes it.
type objKey struct{ group, kind, namespace, name string }

func keyOf(u *unstructured.Unstructured) objKey {
	return objKey{u.GroupVersionKind().Group, u.GetKind(), u.GetNamespace(), u.GetName()}
}

// origin is where kustomize says an object comes from.
type origin struct {
	path      string // repository path of the file declaring it
	generator string // the generator that made it, when generated
	in        string // the kustomization configuring the generator
}

// original returns a file of the snapshot; nil when there is none.
func (p *planner) original(f string) ([]byte, error) {
	data, err := p.tree.ReadFile(f)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// content returns a file as the accepted changes leave it.
func (p *planner) content(f string) ([]byte, error) {
	if data, ok := p.files[f]; ok {
		return data, nil
	}
	return p.original(f)
}

// prepare finds the app's kustomization and the origin of every object.
func (p *planner) prepare(ctx context.Context) error {
	p.captured = map[objKey][]string{}
	for _, name := range render.KustomizationFileNames {
		real, isDir, err := p.tree.Resolve(path.Join(p.in.App.Path, name))
		if err == nil && !isDir {
			p.kust = real
			break
		}
	}
	if p.kust == "" {
		return fmt.Errorf("%s has no kustomization file", p.in.App.Path)
	}
	return p.findOrigins(ctx)
}

// renderWith renders the app from the snapshot with files replaced.
func (p *planner) renderWith(ctx context.Context, files map[string][]byte) (render.Result, error) {
	fsys := &overlayFS{base: p.tree.FS(), files: files}
	g := render.BuildGraph(render.NewTree(fsys), []render.App{p.in.App})
	return p.r.Render(ctx, g, p.in.App)
}

// sharedWith returns the other apps whose render reads, or looks for, one
// of the paths.
func (p *planner) sharedWith(paths ...string) []string {
	var out []string
	for _, a := range p.in.Graph.Affected(paths) {
		if a.Path != p.in.App.Path {
			out = append(out, a.Name)
		}
	}
	return out
}

// matchRendered returns the rendered object live.Drift reported as id.
func (p *planner) matchRendered(id objects.ID) *unstructured.Unstructured {
	ns := p.in.App.Namespace
	if ns == "" {
		ns = "default"
	}
	var found *unstructured.Unstructured
	for _, u := range p.old {
		if u.GroupVersionKind().Group != id.Group || u.GetKind() != id.Kind || u.GetName() != id.Name {
			continue
		}
		switch {
		case u.GetNamespace() == id.Namespace:
			return u
		case u.GetNamespace() == "" && (id.Namespace == ns || id.Namespace == ""), id.Namespace == "":
			found = u
		}
	}
	return found
}

// serverSet reports whether a pointer names a field the API server or a
// controller sets, which never belongs in a manifest. live.Drift leaves
// them out already; this keeps capture safe from any comparison that does
// not.
func serverSet(ptr string) bool {
	for _, p := range []string{
		"/status", "/metadata/managedFields", "/metadata/resourceVersion", "/metadata/generation",
		"/metadata/uid", "/metadata/creationTimestamp", "/metadata/selfLink", "/metadata/deletionTimestamp",
		"/metadata/deletionGracePeriodSeconds", "/metadata/ownerReferences", "/metadata/finalizers",
		"/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration",
	} {
		if related(ptr, p) && len(ptr) >= len(p) {
			return true
		}
	}
	return false
}

// capture writes one drifted object back, trying each route in order. It
// returns the captured fields, or why the object is refused.
func (p *planner) capture(ctx context.Context, o live.Object) ([]Captured, string, error) {
	var fields []live.Field
	for _, f := range o.Fields {
		if f.Redacted {
			return nil, fmt.Sprintf("%s of the Secret differs in the cluster; capture never writes Secret values into git in plaintext: put the new value into its encrypted source (SOPS, SealedSecret or your secret store) by hand", f.Pointer), nil
		}
		if !serverSet(f.Pointer) {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return nil, "", nil
	}
	u := p.matchRendered(o.ID)
	if u == nil {
		return nil, "it is not in the app's render", nil
	}
	org := p.origins[keyOf(u)]
	switch {
	case org.generator != "":
		return nil, fmt.Sprintf("kustomize generates it (%s in %s); capture does not rewrite generator inputs: change them by hand", org.generator, org.in), nil
	case org.path == "":
		return nil, "kustomize does not say which file declares it", nil
	}
	src, err := p.source(u, org.path)
	if err != nil {
		return nil, err.Error(), nil
	}
	var reasons []string
	for _, route := range []func(*unstructured.Unstructured, source, []live.Field) (*attempt, error){p.inPlace, p.entries, p.patch} {
		a, err := route(u, src, fields)
		if err != nil {
			if !slices.Contains(reasons, err.Error()) {
				reasons = append(reasons, err.Error())
			}
			continue
		}
		ptrs := make([]string, len(fields))
		for i, f := range fields {
			ptrs[i] = f.Pointer
		}
		why, err := p.verify(ctx, a.files, keyOf(u), ptrs)
		if err != nil {
			return nil, "", err
		}
		if why != "" {
			reasons = append(reasons, fmt.Sprintf("%s: %s", a.describe(), why))
			continue
		}
		for f, data := range a.files {
			p.files[f] = data
		}
		p.captured[keyOf(u)] = append(p.captured[keyOf(u)], ptrs...)
		caps := make([]Captured, len(fields))
		for i, f := range fields {
			caps[i] = Captured{Object: o.ID, Field: f, Route: a.routes[i], File: a.file}
		}
		return caps, "", nil
	}
	return nil, "cannot be captured: " + strings.Join(reasons, "; "), nil
}

// attempt is one route's change for one object.
type attempt struct {
	files  map[string][]byte
	file   string  // the file the fields are written into
	routes []Route // per field
}

func (a *attempt) describe() string {
	r := a.routes[0]
	for _, x := range a.routes[1:] {
		if x != r {
			return fmt.Sprintf("%s and %s in %s", ImageEntry, ReplicasEntry, a.file)
		}
	}
	return fmt.Sprintf("%s in %s", r, a.file)
}

// verify renders the tree with the accepted changes and files, and says
// what is wrong with it, "" when nothing: the objects captured so far and
// obj must show no drift, and nothing else may render differently.
func (p *planner) verify(ctx context.Context, files map[string][]byte, obj objKey, ptrs []string) (string, error) {
	all := make(map[string][]byte, len(p.files)+len(files))
	for f, d := range p.files {
		all[f] = d
	}
	for f, d := range files {
		all[f] = d
	}
	captured := map[objKey][]string{obj: ptrs}
	for k, v := range p.captured {
		captured[k] = append(captured[k], v...)
	}
	res, err := p.renderWith(ctx, all)
	if err != nil {
		return "", err
	}
	if res.Err != nil {
		return fmt.Sprintf("the app would not render: %v", res.Err), nil
	}
	objs, err := live.Decode(res.YAML)
	if err != nil {
		return fmt.Sprintf("the render would not read back: %v", err), nil
	}
	now := map[objKey]*unstructured.Unstructured{}
	for _, u := range objs {
		now[keyOf(u)] = u
	}
	before := map[objKey]bool{}
	var check []*unstructured.Unstructured
	for _, u := range p.old {
		k := keyOf(u)
		before[k] = true
		n, ok := now[k]
		if !ok {
			return fmt.Sprintf("it would remove %s from the render", describeKey(k)), nil
		}
		for _, d := range sortedDifferences(u.Object, n.Object) {
			if !relatedAny(d, captured[k]) {
				if k == obj {
					return fmt.Sprintf("it would also change %s, which did not drift", d), nil
				}
				return fmt.Sprintf("it would also change %s at %s", describeKey(k), d), nil
			}
		}
		if _, ok := captured[k]; ok {
			check = append(check, n)
		}
	}
	for _, u := range objs {
		if !before[keyOf(u)] {
			return fmt.Sprintf("it would add %s to the render", describeKey(keyOf(u))), nil
		}
	}
	r, err := live.Drift(ctx, p.in.Cluster, check, p.in.App.Namespace, p.in.Rules...)
	if err != nil {
		return "", err
	}
	for _, o := range r.Objects {
		switch o.Action {
		case live.Unchanged:
		case live.Changed:
			var fs []string
			for _, f := range o.Fields {
				fs = append(fs, f.Pointer)
			}
			return fmt.Sprintf("the render would still differ from the cluster at %s", strings.Join(fs, ", ")), nil
		default:
			return fmt.Sprintf("the render would be %s against the cluster %s", o.Action, o.Note), nil
		}
	}
	return "", nil
}

func relatedAny(p string, ptrs []string) bool {
	for _, q := range ptrs {
		if related(p, q) {
			return true
		}
	}
	return false
}

// describe names an object as kubectl does: "Deployment.apps prod/web".
func describeKey(k objKey) string {
	return objects.ID{Group: k.group, Kind: k.kind, Namespace: k.namespace, Name: k.name}.Describe()
}

// fileDiff is the unified diff of one file, old nil for a new file, in the
// form git apply reads.
func fileDiff(name string, old, new []byte) string {
	if old != nil {
		return textdiff.Diff("a/"+name, "b/"+name, string(old), string(new), textdiff.DefaultContext).String()
	}
	d := textdiff.Diff("/dev/null", "b/"+name, "", string(new), textdiff.DefaultContext).String()
	// A creation's hunk starts at line 0 of nothing, "-0,0".
	return strings.Replace(d, "\n@@ -1 +", "\n@@ -0,0 +", 1)
}
