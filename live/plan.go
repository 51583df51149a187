package live

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/render/objects"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Plan says what applying desired, the head render of an app, would change
// in the cluster: each object is dry-run applied and the result compared
// with the live object. prune lists the objects of the base render that the
// head render no longer has (see Dropped). Namespaced objects without a
// namespace go to defaultNamespace ("default" when empty). rules hide
// expected differences.
//
// The error is for a cluster that cannot be used at all (unreachable,
// credentials refused); a failure about one object, such as RBAC refusing
// one resource, is that object's Err, so that the rest still shows.
func Plan(ctx context.Context, c *Cluster, desired, prune []*unstructured.Unstructured, defaultNamespace string, rules ...config.IgnoreRule) (*Result, error) {
	return c.compare(ctx, false, desired, prune, defaultNamespace, rules)
}

// Drift says how the cluster differs from desiredBase, the render of an app
// at the base branch: each object is dry-run applied and the result compared
// with the live object, and each drifted field attributed to the field
// managers that own it live. Objects not in the cluster are Missing.
// Arguments and errors are as for Plan.
func Drift(ctx context.Context, c *Cluster, desiredBase []*unstructured.Unstructured, defaultNamespace string, rules ...config.IgnoreRule) (*Result, error) {
	return c.compare(ctx, true, desiredBase, nil, defaultNamespace, rules)
}

// job is one object to examine.
type job struct {
	obj   *unstructured.Unstructured
	prune bool
}

func (c *Cluster) compare(ctx context.Context, drift bool, desired, prune []*unstructured.Unstructured, defaultNamespace string, rules []config.IgnoreRule) (*Result, error) {
	if err := c.Ping(ctx); err != nil {
		return nil, err
	}
	if defaultNamespace == "" {
		defaultNamespace = metav1.NamespaceDefault
	}
	jobs := make([]job, 0, len(desired)+len(prune))
	for _, o := range desired {
		jobs = append(jobs, job{obj: o})
	}
	for _, o := range prune {
		jobs = append(jobs, job{obj: o, prune: true})
	}
	e := &examiner{c: c, drift: drift, namespace: defaultNamespace, rules: rules, crds: crdKinds(desired)}
	results := make([]*Object, len(jobs))
	sem := make(chan struct{}, c.concurrency())
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = e.examine(ctx, j)
		}()
	}
	wg.Wait()

	r := &Result{Cluster: c.Name}
	hidden := map[string]int{}
	for _, o := range results {
		if o == nil {
			continue
		}
		r.Objects = append(r.Objects, *o)
		for _, h := range o.Hidden {
			hidden[h.Rule] += h.Fields
		}
	}
	for _, rule := range rules {
		if n := hidden[rule.Name]; n > 0 {
			r.Hidden = append(r.Hidden, Hidden{Rule: rule.Name, Fields: n})
		}
	}
	sort.SliceStable(r.Objects, func(i, j int) bool { return idLess(r.Objects[i].ID, r.Objects[j].ID) })
	return r, nil
}

// examiner holds what every object of one compare shares.
type examiner struct {
	c         *Cluster
	drift     bool
	namespace string
	rules     []config.IgnoreRule
	crds      map[schema.GroupKind]bool // kinds the desired objects' CRDs define
	refresh   sync.Once                 // resets discovery at the first unknown kind
}

// examine reads, dry-runs and compares one object. It returns nil for a
// prune candidate that is not in the cluster.
func (e *examiner) examine(ctx context.Context, j job) *Object {
	obj := j.obj
	gvk := obj.GroupVersionKind()
	out := &Object{ID: objects.ID{Group: gvk.Group, Kind: gvk.Kind, Namespace: obj.GetNamespace(),
		Name: obj.GetName(), APIVersion: obj.GetAPIVersion()}}
	fail := func(err error) *Object {
		out.Action, out.Err = Failed, err
		return out
	}
	if gvk.Kind == "" || gvk.Version == "" || obj.GetName() == "" {
		return fail(&Error{Cluster: e.c.Name, Op: "read", Object: out.ID.Describe(),
			Err: errors.New("the object needs apiVersion, kind and metadata.name")})
	}
	if !j.prune && isSops(obj) {
		out.Action, out.Note = Skipped, "encrypted with SOPS; the cluster holds the decrypted values, so it is not compared"
		return out
	}

	m, err := e.c.resolve(gvk)
	if meta.IsNoMatchError(err) {
		// Discovery is cached; a kind added since (a CRD applied) needs a
		// fresh look, once per Plan or Drift.
		e.refresh.Do(e.c.mapper.Reset)
		m, err = e.c.resolve(gvk)
	}
	if meta.IsNoMatchError(err) {
		switch {
		case j.prune:
			return nil // its kind is gone, so is the object
		case e.crds[gvk.GroupKind()]:
			out.Action = e.absent()
			out.Note = "its CustomResourceDefinition is not in the cluster yet, so it was not dry-run"
			return out
		}
		return fail(&Error{Cluster: e.c.Name, Op: "map", Object: out.ID.Describe(),
			Err: fmt.Errorf("the cluster does not serve %s %s; is its CustomResourceDefinition installed?", gvk.Kind, gvk.GroupVersion())})
	}
	if err != nil {
		return fail(e.c.wrap(err, "map", "get", schema.GroupResource{}, "", out.ID.Describe()))
	}
	ns := ""
	if m.namespaced {
		ns = obj.GetNamespace()
		if ns == "" {
			ns = e.namespace
		}
	}
	out.ID.Namespace = ns
	res := e.c.resource(m, ns)
	gr := m.gvr.GroupResource()

	rctx, cancel := e.c.requestContext(ctx)
	live, err := res.Get(rctx, obj.GetName(), metav1.GetOptions{})
	cancel()
	switch {
	case apierrors.IsNotFound(err):
		live = nil
	case err != nil:
		return fail(e.c.wrap(err, "get", "get", gr, ns, out.ID.Describe()))
	}

	if j.prune {
		if live == nil {
			return nil
		}
		out.Action = Pruned
		return out
	}

	apply := forApply(obj, ns)
	rctx, cancel = e.c.requestContext(ctx)
	dry, err := res.Apply(rctx, obj.GetName(), apply, metav1.ApplyOptions{
		FieldManager: e.c.fieldManager(),
		Force:        true,
		DryRun:       []string{metav1.DryRunAll},
	})
	cancel()
	if err != nil {
		if live == nil && m.namespaced && apierrors.IsNotFound(err) {
			out.Action = e.absent()
			out.Note = fmt.Sprintf("namespace %s does not exist yet, so it was not dry-run", ns)
			return out
		}
		werr := e.c.wrap(err, "dry-run apply", "patch", gr, ns, out.ID.Describe())
		werr.Err = scrub(werr.Err, apply)
		return fail(werr)
	}
	if live == nil {
		out.Action = e.absent()
		return out
	}

	fields := diffObjects(comparable(live), comparable(dry), hidesValues(obj))
	owners := ownersOf(live)
	for i := range fields {
		if fields[i].InLive {
			fields[i].Owners = owners.of(fields[i].Pointer)
		}
	}
	fields, out.Hidden = applyRules(e.rules, out.ID, fields)
	out.Fields = fields
	out.Action = Changed
	if len(fields) == 0 {
		out.Action = Unchanged
	}
	return out
}

// absent is the action for an object git has and the cluster has not.
func (e *examiner) absent() Action {
	if e.drift {
		return Missing
	}
	return Created
}

// crdKinds lists the kinds the CustomResourceDefinitions among objs define.
func crdKinds(objs []*unstructured.Unstructured) map[schema.GroupKind]bool {
	kinds := map[schema.GroupKind]bool{}
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" || o.GroupVersionKind().Group != "apiextensions.k8s.io" {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		if group != "" && kind != "" {
			kinds[schema.GroupKind{Group: group, Kind: kind}] = true
		}
	}
	return kinds
}
