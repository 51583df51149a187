package live

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
		var set map[string]any
		if err := json.Unmarshal(e.FieldsV1.Raw, &set); err != nil {
			continue
		}
		owner := Owner{Manager: e.Manager, Operation: string(e.Operation), Subresource: e.Subresource}
		if e.Time != nil {
			owner.Time = e.Time.UTC()
		}
		i := len(o.owners)
		o.owners = append(o.owners, owner)
		o.mark(set, live.Object, "", i)
	}
	return o
}

// mark records owner i for every field of set, a FieldsV1 tree, under the
// live value node at pointer ptr.
func (o *ownership) mark(set map[string]any, node any, ptr string, i int) {
	for k, v := range set {
		child, _ := v.(map[string]any)
		if k == "." {
			o.add(ptr, i)
			continue
		}
		p, item, ok := step(k, node)
		if !ok {
			continue // a field or item the live object no longer has
		}
		p = ptr + "/" + p
		if len(child) == 0 {
			o.add(p, i)
			continue
		}
		o.mark(child, item, p, i)
	}
}

func (o *ownership) add(ptr string, i int) {
	for _, j := range o.owned[ptr] {
		if j == i {
			return
		}
	}
	o.owned[ptr] = append(o.owned[ptr], i)
}

// step resolves one FieldsV1 key against a live value: "f:name" is a map
// field, "k:{...}" the list item with those key fields, "v:value" the set
// item with that value, "i:n" item n. It returns the pointer token and the
// value found.
func step(key string, node any) (token string, value any, ok bool) {
	kind, arg, found := strings.Cut(key, ":")
	if !found {
		return "", nil, false
	}
	switch kind {
	case "f":
		m, isMap := node.(map[string]any)
		v, has := m[arg]
		if !isMap || !has {
			return "", nil, false
		}
		return escape(arg), v, true
	case "i":
		n, err := strconv.Atoi(arg)
		list, _ := node.([]any)
		if err != nil || n < 0 || n >= len(list) {
			return "", nil, false
		}
		return arg, list[n], true
	case "k", "v":
		var want any
		if err := json.Unmarshal([]byte(arg), &want); err != nil {
			return "", nil, false
		}
		list, _ := node.([]any)
		for n, item := range list {
			if (kind == "v" && sameJSON(item, want)) || (kind == "k" && hasKeys(item, want)) {
				return strconv.Itoa(n), item, true
			}
		}
	}
	return "", nil, false
}

// hasKeys reports whether a list item has every key field of want.
func hasKeys(item, want any) bool {
	m, ok := item.(map[string]any)
	keys, ok2 := want.(map[string]any)
	if !ok || !ok2 {
		return false
	}
	for k, v := range keys {
		if iv, has := m[k]; !has || !sameJSON(iv, v) {
			return false
		}
	}
	return true
}

// sameJSON compares values decoded differently (int64 from the object,
// float64 from managedFields) by their JSON text.
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
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
