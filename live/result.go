package live

import (
	"errors"

	"github.com/gitward/gitward/render/objects"
)

// Action is what an apply would do to an object, or how it drifted.
type Action string

// The actions of an Object.
const (
	// Created: not in the cluster; merging creates it (Plan).
	Created Action = "created"
	// Changed: some fields differ; merging changes them (Plan), or the
	// cluster differs from git in them (Drift).
	Changed Action = "changed"
	// Unchanged: applying changes nothing, or every difference is hidden by
	// an ignore rule.
	Unchanged Action = "unchanged"
	// Pruned: in the base render, not in the head render, and in the
	// cluster; merging deletes it (Plan).
	Pruned Action = "pruned"
	// Missing: in git, not in the cluster (Drift).
	Missing Action = "missing"
	// Skipped: not compared, Note says why (SOPS-encrypted objects).
	Skipped Action = "skipped"
	// Failed: the cluster could not be asked; Err says why.
	Failed Action = "failed"
)

// Object is the outcome for one object.
type Object struct {
	// ID identifies the object; its namespace is the one applied to.
	ID     objects.ID
	Action Action
	// Fields lists, for Changed, each field that differs and is not hidden,
	// in pointer order.
	Fields []Field
	// Hidden counts the differences ignore rules hid, by rule.
	Hidden []Hidden
	// Note explains what the action alone does not say.
	Note string
	// Err is set for Failed: an *Error naming cluster, object and, for RBAC,
	// the permission gitward lacks.
	Err error
}

// Result is the outcome of a Plan or Drift for one set of objects.
type Result struct {
	Cluster string
	// Objects in group, kind, namespace, name order. Prune candidates that
	// are not in the cluster are left out: nothing happens to them.
	Objects []Object
	// Hidden totals the fields each ignore rule hid, in rule order.
	Hidden []Hidden
}

// Count returns how many objects have action a.
func (r *Result) Count(a Action) int {
	n := 0
	for _, o := range r.Objects {
		if o.Action == a {
			n++
		}
	}
	return n
}

// Err joins the errors of Failed objects; nil when none failed.
func (r *Result) Err() error {
	var errs []error
	for _, o := range r.Objects {
		if o.Err != nil {
			errs = append(errs, o.Err)
		}
	}
	return errors.Join(errs...)
}

func idLess(a, b objects.ID) bool {
	if a.Group != b.Group {
		return a.Group < b.Group
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}
