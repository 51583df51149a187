package live

import (
	"bytes"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-openapi/jsonpointer"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// Owner is a field manager of the live object, from its managedFields.
type Owner struct {
	// Manager names the client, like kubectl-edit or kube-controller-manager.
	Manager string
	// Operation is Apply (server-side apply) or Update (any other write).
	Operation string
	// Subresource is the subresource written through, like scale; "" for
	// the object itself.
	Subresource string
	// Time is when this manager last changed any of its fields: Kubernetes
	// keeps one time per manager, not per field. Zero when not recorded.
	Time time.Time
}

// String names the owner, for example "kubectl-edit (Update) at
// 2026-11-26T10:02:00Z" or "kube-controller-manager (Update of /scale)".
func (o Owner) String() string {
	var b strings.Builder
	b.WriteString(o.Manager)
	b.WriteString(" (")
	b.WriteString(o.Operation)
	if o.Subresource != "" {
		b.WriteString(" of /")
		b.WriteString(o.Subresource)
	}
	b.WriteString(")")
	if !o.Time.IsZero() {
		b.WriteString(" at ")
		b.WriteString(o.Time.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// ownership maps the JSON pointers of a live object to the managers that own
// them. managedFields name list items by key (k:{"name":"app"}) or value
// (v:"x"); they are resolved against the live object to item indexes, so
// that pointers match the ones the diff produces.
type ownership struct {
	owners []Owner
	owned  map[string][]int // pointer → indexes into owners
}

// ownersOf reads the managedFields of a live object. Entries that do not
// parse are skipped: attribution is a help for the reader, never a reason to
// fail.
func ownersOf(live *unstructured.Unstructured) ownership {
	o := ownership{owned: map[string][]int{}}
	for _, e := range live.GetManagedFields() {
		if e.FieldsV1 == nil {
			continue
		}
		var set fieldpath.Set
		if err := set.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
			continue
		}
		owner := Owner{Manager: e.Manager, Operation: string(e.Operation), Subresource: e.Subresource}
		if e.Time != nil {
			owner.Time = e.Time.UTC()
		}
		i := len(o.owners)
		o.owners = append(o.owners, owner)
		set.Iterate(func(path fieldpath.Path) {
			if ptr, ok := resolve(path, live.Object); ok {
				o.add(ptr, i)
			}
		})
	}
	return o
}

func (o *ownership) add(ptr string, i int) {
	o.owned[ptr] = appendUnique(o.owned[ptr], i)
}

// resolve returns the JSON pointer of a managedFields path in a live value:
// a key or value names the first list item that has it. It reports false
// for a field or item the live object no longer has.
func resolve(path fieldpath.Path, node any) (string, bool) {
	var ptr strings.Builder
	for _, pe := range path {
		m, _ := node.(map[string]any)
		list, _ := node.([]any)
		var tok string
		switch {
		case pe.FieldName != nil:
			v, ok := m[*pe.FieldName]
			if !ok {
				return "", false
			}
			tok, node = jsonpointer.Escape(*pe.FieldName), v
		case pe.Index != nil:
			if *pe.Index < 0 || *pe.Index >= len(list) {
				return "", false
			}
			tok, node = strconv.Itoa(*pe.Index), list[*pe.Index]
		default:
			n := slices.IndexFunc(list, func(item any) bool { return matches(pe, item) })
			if n < 0 {
				return "", false
			}
			tok, node = strconv.Itoa(n), list[n]
		}
		ptr.WriteString("/" + tok)
	}
	return ptr.String(), true
}

// matches reports whether a list item is the one a key or value path
// element names. Numbers compare by value: the object holds int64 where
// managedFields may hold float64.
func matches(pe fieldpath.PathElement, item any) bool {
	if pe.Value != nil {
		return value.Equals(value.NewValueInterface(item), *pe.Value)
	}
	m, ok := item.(map[string]any)
	if pe.Key == nil || !ok {
		return false
	}
	for _, f := range *pe.Key {
		v, has := m[f.Name]
		if !has || !value.Equals(value.NewValueInterface(v), f.Value) {
			return false
		}
	}
	return true
}

// of returns the owners of the field at ptr: the managers owning it, or, for
// a field that holds others, the managers owning any field inside it; most
// recent first. A field the live object does not have has no owner.
func (o ownership) of(ptr string) []Owner {
	idx := o.owned[ptr]
	if len(idx) == 0 {
		for p, is := range o.owned {
			if strings.HasPrefix(p, ptr+"/") {
				for _, i := range is {
					idx = appendUnique(idx, i)
				}
			}
		}
	}
	if len(idx) == 0 {
		return nil
	}
	out := make([]Owner, 0, len(idx))
	for _, i := range idx {
		out = append(out, o.owners[i])
	}
	sort.SliceStable(out, func(a, b int) bool {
		if !out[a].Time.Equal(out[b].Time) {
			return out[a].Time.After(out[b].Time)
		}
		return out[a].Manager < out[b].Manager
	})
	return out
}

func appendUnique(s []int, i int) []int {
	for _, j := range s {
		if j == i {
			return s
		}
	}
	return append(s, i)
}
