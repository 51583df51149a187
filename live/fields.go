package live

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/go-openapi/jsonpointer"
)

// Field is one field whose live value differs from what git asks for.
type Field struct {
	// Pointer locates the field, as an RFC 6901 JSON pointer into the
	// object, like /spec/replicas or /spec/template/spec/containers/0/image.
	Pointer string
	// Live is the value in the cluster, Desired the value the dry-run apply
	// gives; InLive and InDesired say whether the field is set at all. Both
	// values are nil when Redacted.
	Live, Desired     any
	InLive, InDesired bool
	// Redacted is set for a Secret's values: they were compared, without
	// being kept, and differ.
	Redacted bool
	// Owners are the live object's field managers that own the field, most
	// recent first. A field the cluster lacks has none: managedFields record
	// who owns a field, not who removed one.
	Owners []Owner
}

// String describes the change in one line, values as JSON, for example
// `/spec/replicas: 5 in the cluster, 2 in git; changed by kubectl-edit
// (Update) at 2026-11-26T10:02:00Z`.
func (f Field) String() string {
	var b strings.Builder
	b.WriteString(f.Pointer)
	b.WriteString(": ")
	switch {
	case f.Redacted && !f.InLive:
		b.WriteString("not in the cluster (value hidden)")
	case f.Redacted && !f.InDesired:
		b.WriteString("set in the cluster, not in git (value hidden)")
	case f.Redacted:
		b.WriteString("value differs (hidden)")
	case !f.InLive:
		fmt.Fprintf(&b, "not in the cluster, %s in git", jsonText(f.Desired))
	case !f.InDesired:
		fmt.Fprintf(&b, "%s in the cluster, not in git", jsonText(f.Live))
	default:
		fmt.Fprintf(&b, "%s in the cluster, %s in git", jsonText(f.Live), jsonText(f.Desired))
	}
	if len(f.Owners) > 0 {
		b.WriteString("; changed by ")
		for i, o := range f.Owners {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(o.String())
		}
	}
	return b.String()
}

func jsonText(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// under reports whether pointer p is q or lies inside it.
func under(p, q string) bool {
	return p == q || q == "" || strings.HasPrefix(p, q+"/")
}

// differ finds the fields where two comparable objects differ: maps key by
// key, lists item by item, anything else as a whole. A field set on one side
// only is reported at the highest pointer where it is missing, except a
// Secret's values, which are reported key by key and never kept.
type differ struct {
	secret bool // the object is a Secret: data and stringData values are hidden
	out    []Field
}

// diffObjects returns the fields where live and desired differ, in pointer
// order.
func diffObjects(live, desired map[string]any, secret bool) []Field {
	d := differ{secret: secret}
	d.walk("", live, desired, true, true)
	return d.out
}

func (d *differ) walk(ptr string, live, desired any, inLive, inDesired bool) {
	if d.secret && secretValue(ptr) {
		if inLive != inDesired || (inLive && digest(live) != digest(desired)) {
			d.out = append(d.out, Field{Pointer: ptr, InLive: inLive, InDesired: inDesired, Redacted: true})
		}
		return
	}
	lm, lIsMap := live.(map[string]any)
	dm, dIsMap := desired.(map[string]any)
	// A Secret's data map that only one side has is opened key by key, so
	// that its values are hidden one by one like the rest.
	expand := d.secret && (ptr == "/data" || ptr == "/stringData")
	if (inLive && inDesired && lIsMap && dIsMap) ||
		(expand && (lIsMap || !inLive) && (dIsMap || !inDesired)) {
		keys := make([]string, 0, len(lm)+len(dm))
		for k := range lm {
			keys = append(keys, k)
		}
		for k := range dm {
			if _, ok := lm[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			lv, lok := lm[k]
			dv, dok := dm[k]
			d.walk(ptr+"/"+jsonpointer.Escape(k), lv, dv, lok, dok)
		}
		return
	}
	ll, lIsList := live.([]any)
	dl, dIsList := desired.([]any)
	if inLive && inDesired && lIsList && dIsList {
		for i := 0; i < len(ll) || i < len(dl); i++ {
			var lv, dv any
			if i < len(ll) {
				lv = ll[i]
			}
			if i < len(dl) {
				dv = dl[i]
			}
			d.walk(ptr+"/"+strconv.Itoa(i), lv, dv, i < len(ll), i < len(dl))
		}
		return
	}
	if inLive == inDesired && (!inLive || reflect.DeepEqual(live, desired)) {
		return
	}
	f := Field{Pointer: ptr, InLive: inLive, InDesired: inDesired}
	if inLive {
		f.Live = live
	}
	if inDesired {
		f.Desired = desired
	}
	if d.secret && (ptr == "" || ptr == "/data" || ptr == "/stringData") {
		// Not a mapping of values: whatever it is, it may hold them.
		f.Live, f.Desired, f.Redacted = nil, nil, true
	}
	d.out = append(d.out, f)
}

// secretValue reports whether a pointer names one value of a Secret's data
// or stringData.
func secretValue(ptr string) bool {
	for _, p := range []string{"/data/", "/stringData/"} {
		if rest, ok := strings.CutPrefix(ptr, p); ok && !strings.Contains(rest, "/") {
			return true
		}
	}
	return false
}

// digest is how a Secret's value is compared: by hash, so that nothing
// beyond "equal" or "not equal" is kept.
func digest(v any) [sha256.Size]byte {
	data, _ := json.Marshal(v)
	return sha256.Sum256(data)
}
