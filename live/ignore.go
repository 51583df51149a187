package live

import (
	"fmt"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/render/objects"
)

// Hidden counts the fields an ignore rule hid.
type Hidden struct {
	Rule   string
	Fields int
}

func (h Hidden) String() string {
	noun := "fields"
	if h.Fields == 1 {
		noun = "field"
	}
	return fmt.Sprintf("%d %s hidden by rule %s", h.Fields, noun, h.Rule)
}

// applyRules removes from fields those an ignore rule hides and counts them
// per rule, in rule order; the first rule that hides a field counts it.
// A rule hides a field of a matching object when the field lies under one
// of its JSON pointers (or it lists none) and one of the field's owners is
// one of its field managers (or it lists none).
func applyRules(rules []config.IgnoreRule, id objects.ID, fields []Field) ([]Field, []Hidden) {
	var matching []int
	for i, r := range rules {
		if r.Match.Matches(id.Group, id.Kind, id.Namespace, id.Name) {
			matching = append(matching, i)
		}
	}
	if len(matching) == 0 {
		return fields, nil
	}
	counts := make([]int, len(rules))
	kept := fields[:0:0]
	for _, f := range fields {
		hidden := false
		for _, i := range matching {
			if hides(rules[i], f) {
				counts[i]++
				hidden = true
				break
			}
		}
		if !hidden {
			kept = append(kept, f)
		}
	}
	var out []Hidden
	for i, n := range counts {
		if n > 0 {
			out = append(out, Hidden{Rule: rules[i].Name, Fields: n})
		}
	}
	return kept, out
}

func hides(r config.IgnoreRule, f Field) bool {
	if len(r.JSONPointers) > 0 {
		in := false
		for _, p := range r.JSONPointers {
			if under(f.Pointer, p) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	if len(r.FieldManagers) > 0 {
		for _, o := range f.Owners {
			for _, m := range r.FieldManagers {
				if o.Manager == m {
					return true
				}
			}
		}
		return false
	}
	return true
}
