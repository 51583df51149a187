package objects

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gitward/gitward/render/textdiff"
	"go.yaml.in/yaml/v3"
)

// Action is what a change does to an object.
type Action string

// The actions of an ObjectChange.
const (
	Added   Action = "added"
	Changed Action = "changed"
	Removed Action = "removed"
)

// LineDiffer computes a unified diff of a and b with three lines of context,
// in gotextdiff's format with fromName and toName as the file names, and
// counts the added and removed lines. It returns "" when a and b are equal.
type LineDiffer func(fromName, toName, a, b string) (unified string, added, removed int)

// Options tunes Diff.
type Options struct {
	// LineDiffer computes each object's line diff; nil means render/textdiff
	// (git's changed lines at git's speed).
	LineDiffer LineDiffer
}

// AppDiff is what one app's change does to its rendered objects. Objects
// holds only objects that changed, ordered by group, kind, namespace and
// name.
type AppDiff struct {
	Objects      []ObjectChange
	Added        int
	Changed      int
	Removed      int
	LinesAdded   int
	LinesRemoved int
}

// ObjectChange is the change to one object.
type ObjectChange struct {
	// ID is the object at head, or at base when it was removed.
	ID     ID
	Action Action
	// Unified is the diff of the normalised, redacted object, named
	// a/<ID> and b/<ID>.
	Unified      string
	LinesAdded   int
	LinesRemoved int
	// Secret is set for objects whose values are hidden (Secrets,
	// SealedSecrets, SOPS-encrypted objects): the keys whose values were
	// added, removed or changed.
	Secret *SecretChange
	// Sops is true when the object is SOPS-encrypted at base or head.
	Sops bool
	// Notes explain what the diff alone does not show.
	Notes []string
}

// Diff pairs the objects of the base and head renders of one app and
// reports how each changed. Either stream may be empty (an app that is new
// or deleted). An error names the side, document and line.
func Diff(base, head []byte, opts Options) (*AppDiff, error) {
	b, err := Parse(base)
	if err != nil {
		return nil, fmt.Errorf("base render: %w", err)
	}
	h, err := Parse(head)
	if err != nil {
		return nil, fmt.Errorf("head render: %w", err)
	}
	differ := opts.LineDiffer
	if differ == nil {
		differ = lines
	}

	type pair struct{ base, head *Object }
	pairs := map[key]*pair{}
	var keys []key
	for i := range b {
		k := b[i].ID.key()
		pairs[k] = &pair{base: &b[i]}
		keys = append(keys, k)
	}
	for i := range h {
		k := h[i].ID.key()
		if p, ok := pairs[k]; ok {
			p.head = &h[i]
			continue
		}
		pairs[k] = &pair{head: &h[i]}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })

	d := &AppDiff{}
	for _, k := range keys {
		p := pairs[k]
		c, err := diffObject(p.base, p.head, differ)
		if err != nil {
			return nil, err
		}
		if c == nil {
			continue
		}
		switch c.Action {
		case Added:
			d.Added++
		case Changed:
			d.Changed++
		case Removed:
			d.Removed++
		}
		d.LinesAdded += c.LinesAdded
		d.LinesRemoved += c.LinesRemoved
		d.Objects = append(d.Objects, *c)
	}
	return d, nil
}

// diffObject compares one object at base and head, either of which may be
// nil. It returns nil when the normalised objects are equal.
func diffObject(base, head *Object, differ LineDiffer) (*ObjectChange, error) {
	var bn, hn *yaml.Node
	var err error
	if base != nil {
		if bn, err = normalize(*base); err != nil {
			return nil, fmt.Errorf("base render: %w", err)
		}
	}
	if head != nil {
		if hn, err = normalize(*head); err != nil {
			return nil, fmt.Errorf("head render: %w", err)
		}
	}

	c := &ObjectChange{}
	var from, to ID
	switch {
	case base == nil:
		c.Action, c.ID, from, to = Added, head.ID, head.ID, head.ID
	case head == nil:
		c.Action, c.ID, from, to = Removed, base.ID, base.ID, base.ID
	default:
		if nodeEqual(bn, hn) {
			return nil, nil
		}
		c.Action, c.ID, from, to = Changed, head.ID, base.ID, head.ID
	}

	bc, hc := classify(from, bn), classify(to, hn)
	cls := class{secret: bc.secret || hc.secret, sealed: bc.sealed || hc.sealed, sops: bc.sops || hc.sops}
	c.Sops = cls.sops

	// Only redacted trees are ever rendered.
	var a, b string
	if bn != nil {
		r := clone(bn)
		redact(r, nil, cls)
		if a, err = encode(r); err != nil {
			return nil, renderError("base", base)
		}
	}
	if hn != nil {
		r := clone(hn)
		redact(r, bn, cls)
		if b, err = encode(r); err != nil {
			return nil, renderError("head", head)
		}
	}
	c.Unified, c.LinesAdded, c.LinesRemoved = differ("a/"+from.String(), "b/"+to.String(), a, b)

	if from.APIVersion != to.APIVersion {
		c.Notes = append(c.Notes, fmt.Sprintf("apiVersion changed from %s to %s", from.APIVersion, to.APIVersion))
	}
	if cls.any() {
		c.Secret = secretChange(bn, hn, cls)
		switch {
		case cls.sops:
			c.Notes = append(c.Notes, "encrypted with SOPS: values are not shown; a key is listed as changed when its ciphertext changed (sops edit keeps the ciphertext of unchanged values, re-encrypting the file changes them all)")
		case cls.sealed:
			for _, k := range c.Secret.Changed {
				c.Notes = append(c.Notes, "encryptedData."+k+": encrypted value changed")
			}
		case cls.secret:
			c.Notes = append(c.Notes, "Secret values are not shown")
		}
	}
	return c, nil
}

// renderError reports an object the YAML encoder refused. The encoder's own
// words are left out: they could quote the value it could not write.
func renderError(side string, o *Object) error {
	return fmt.Errorf("%s render: %w", side, &Error{Doc: o.Doc, Line: o.Line,
		Msg: o.ID.Describe() + " cannot be written back as YAML"})
}

// lines is the default LineDiffer: git's changed lines at git's speed
// (render/textdiff), in gotextdiff's unified format. An added or removed
// object is written with the -0,0 / +0,0 ranges git and patch expect.
func lines(fromName, toName, a, b string) (string, int, int) {
	if a == b {
		return "", 0, 0
	}
	if a == "" || b == "" {
		return wholeFile(fromName, toName, a, b)
	}
	u := textdiff.Diff(fromName, toName, a, b, textdiff.DefaultContext)
	return u.String(), u.Added, u.Removed
}

// wholeFile is the unified diff of a file against nothing.
func wholeFile(fromName, toName, a, b string) (string, int, int) {
	text, sign := a, "-"
	if a == "" {
		text, sign = b, "+"
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	n := len(lines)
	var s strings.Builder
	fmt.Fprintf(&s, "--- %s\n+++ %s\n", fromName, toName)
	if sign == "-" {
		fmt.Fprintf(&s, "@@ -%s +0,0 @@\n", hunkRange(n))
	} else {
		fmt.Fprintf(&s, "@@ -0,0 +%s @@\n", hunkRange(n))
	}
	for _, l := range lines {
		s.WriteString(sign)
		s.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			s.WriteString("\n\\ No newline at end of file\n")
		}
	}
	if sign == "-" {
		return s.String(), 0, n
	}
	return s.String(), n, 0
}

func hunkRange(n int) string {
	if n == 1 {
		return "1"
	}
	return fmt.Sprintf("1,%d", n)
}
