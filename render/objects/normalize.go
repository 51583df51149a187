package objects

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the size of one normalised object, so that a stream of
// nested aliases cannot expand without limit. A 50,000-line object has
// about 150,000 nodes.
const maxNodes = 1_000_000

// normalize returns a canonical copy of the object, the form both sides are
// compared and rendered in:
//
//   - aliases are expanded, anchors, comments and styles dropped; scalars
//     carry their resolved tag, so the encoder quotes only where YAML needs
//     it, and multi-line strings use literal block style;
//   - mapping keys are sorted, and a key given twice is an error;
//   - the top-level status and a null metadata.creationTimestamp are removed,
//     since neither is part of what git asks the cluster for;
//   - a core Secret's stringData is folded into data, base64-encoded, as the
//     API server does (unless the Secret is SOPS-encrypted, where the values
//     are ciphertext).
func normalize(o Object) (*yaml.Node, error) {
	s := sizer{doc: o.Doc, memo: map[*yaml.Node]int{}, inside: map[*yaml.Node]bool{}}
	size, err := s.size(o.node)
	if err != nil {
		return nil, err
	}
	if size > maxNodes {
		return nil, &Error{Doc: o.Doc, Line: o.Line, Msg: fmt.Sprintf(
			"object is larger than %d YAML nodes once aliases are expanded", maxNodes)}
	}
	c := copier{doc: o.Doc}
	n, err := c.copy(o.node, nil)
	if err != nil {
		return nil, err
	}
	remove(n, "status")
	if meta := lookup(n, "metadata"); meta != nil {
		if ts := lookup(meta, "creationTimestamp"); ts != nil && isNull(ts) {
			remove(meta, "creationTimestamp")
		}
	}
	if o.ID.Kind == "Secret" && o.ID.Group == "" && !isSops(n) {
		foldStringData(n)
	}
	return n, nil
}

// sizer counts the nodes of a tree with its aliases expanded, without
// expanding them: each anchored node is counted once and remembered. It
// refuses an alias inside the node it refers to.
type sizer struct {
	doc    int
	memo   map[*yaml.Node]int
	inside map[*yaml.Node]bool
}

func (s *sizer) size(n *yaml.Node) (int, error) {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return 0, &Error{Doc: s.doc, Line: n.Line, Msg: "alias without anchor"}
		}
		if s.inside[n.Alias] {
			return 0, &Error{Doc: s.doc, Line: n.Line, Msg: "an alias refers to the anchor that contains it"}
		}
		return s.size(n.Alias)
	}
	if v, ok := s.memo[n]; ok {
		return v, nil
	}
	s.inside[n] = true
	total := 1
	for _, c := range n.Content {
		v, err := s.size(c)
		if err != nil {
			return 0, err
		}
		total += v
		if total > maxNodes {
			total = maxNodes + 1 // enough to refuse; keeps the sum from overflowing
		}
	}
	delete(s.inside, n)
	if n.Anchor != "" {
		s.memo[n] = total
	}
	return total, nil
}

// copier makes the normalised copy; sizer has ruled out cycles and bombs.
type copier struct{ doc int }

func (c *copier) copy(n *yaml.Node, path []string) (*yaml.Node, error) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	out := &yaml.Node{Kind: n.Kind, Line: n.Line, Column: n.Column}
	switch n.Kind {
	case yaml.ScalarNode:
		out.Tag = n.ShortTag()
		out.Value = n.Value
		switch out.Tag {
		case "!!null":
			out.Value = "null"
		case "!!bool":
			out.Value = strings.ToLower(n.Value)
		case "!!str":
			if strings.Contains(n.Value, "\n") {
				out.Style = yaml.LiteralStyle
			}
		}
	case yaml.SequenceNode:
		out.Tag = "!!seq"
		out.Content = make([]*yaml.Node, len(n.Content))
		for i, item := range n.Content {
			v, err := c.copy(item, append(path, fmt.Sprintf("[%d]", i)))
			if err != nil {
				return nil, err
			}
			out.Content[i] = v
		}
	case yaml.MappingNode:
		out.Tag = "!!map"
		type pair struct{ k, v *yaml.Node }
		pairs := make([]pair, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := c.copy(n.Content[i], path)
			if err != nil {
				return nil, err
			}
			v, err := c.copy(n.Content[i+1], append(path, keyName(k)))
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, pair{k, v})
		}
		sort.SliceStable(pairs, func(i, j int) bool {
			return keyName(pairs[i].k) < keyName(pairs[j].k)
		})
		for i := 1; i < len(pairs); i++ {
			if pairs[i].k.Kind == yaml.ScalarNode && pairs[i-1].k.Kind == yaml.ScalarNode &&
				pairs[i].k.Value == pairs[i-1].k.Value {
				return nil, &Error{Doc: c.doc, Line: pairs[i].k.Line, Msg: fmt.Sprintf(
					"key %q appears twice in %s (lines %d and %d)",
					pairs[i].k.Value, where(path), pairs[i-1].k.Line, pairs[i].k.Line)}
			}
		}
		out.Content = make([]*yaml.Node, 0, 2*len(pairs))
		for _, p := range pairs {
			out.Content = append(out.Content, p.k, p.v)
		}
	default:
		return nil, &Error{Doc: c.doc, Line: n.Line, Msg: "unexpected YAML node"}
	}
	return out, nil
}

// keyName is how a mapping key sorts and is named in messages.
func keyName(k *yaml.Node) string {
	if k.Kind == yaml.ScalarNode {
		return k.Value
	}
	return "(" + kindName(k) + " key)"
}

func where(path []string) string {
	if len(path) == 0 {
		return "the object"
	}
	return joinPath(path)
}

// joinPath writes a path as field.field[0].field.
func joinPath(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func remove(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// set puts key: v into a sorted mapping, replacing an existing value.
func set(m *yaml.Node, key string, v *yaml.Node) {
	i := 0
	for ; i+1 < len(m.Content); i += 2 {
		k := m.Content[i].Value
		if k == key {
			m.Content[i+1] = v
			return
		}
		if k > key {
			break
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
	m.Content = append(m.Content, nil, nil)
	copy(m.Content[i+2:], m.Content[i:])
	m.Content[i], m.Content[i+1] = k, v
}

// foldStringData moves a core Secret's stringData into data as the API
// server does on write: each value base64-encoded, stringData winning over
// data for the same key. data values are strings whatever they look like, so
// `1234` and "1234" are the same value.
func foldStringData(obj *yaml.Node) {
	data := lookup(obj, "data")
	if data != nil && data.Kind == yaml.MappingNode {
		for i := 1; i < len(data.Content); i += 2 {
			asString(data.Content[i])
		}
	}
	sd := lookup(obj, "stringData")
	if sd == nil {
		return
	}
	if isNull(sd) {
		remove(obj, "stringData")
		return
	}
	if sd.Kind != yaml.MappingNode || (data != nil && data.Kind != yaml.MappingNode && !isNull(data)) {
		return // not what the API server accepts; left as written (and redacted)
	}
	var rest []*yaml.Node
	for i := 0; i+1 < len(sd.Content); i += 2 {
		k, v := sd.Content[i], sd.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
			rest = append(rest, k, v)
			continue
		}
		if data == nil || isNull(data) {
			data = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			set(obj, "data", data)
		}
		b := []byte(v.Value)
		switch v.Tag {
		case "!!null":
			b = nil
		case "!!binary":
			// YAML's way to write bytes that are not UTF-8, which is what
			// JSON conversion on the way to the API server decodes it to.
			if d, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v.Value), "")); err == nil {
				b = d
			}
		}
		set(data, k.Value, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str",
			Value: base64.StdEncoding.EncodeToString(b), Line: v.Line})
	}
	if len(rest) == 0 {
		remove(obj, "stringData")
	} else {
		sd.Content = rest
	}
}

func asString(v *yaml.Node) {
	if v.Kind != yaml.ScalarNode {
		return
	}
	if v.Tag == "!!null" {
		v.Value = ""
	}
	if v.Tag != "!!binary" {
		v.Tag = "!!str"
	}
	v.Style = 0
	if strings.Contains(v.Value, "\n") {
		v.Style = yaml.LiteralStyle
	}
}

// nodeEqual reports whether two normalised trees are the same.
func nodeEqual(a, b *yaml.Node) bool {
	if a.Kind != b.Kind || a.Tag != b.Tag || a.Value != b.Value || len(a.Content) != len(b.Content) {
		return false
	}
	for i := range a.Content {
		if !nodeEqual(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}

// clone deep-copies a normalised tree.
func clone(n *yaml.Node) *yaml.Node {
	out := *n
	if n.Content != nil {
		out.Content = make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			out.Content[i] = clone(c)
		}
	}
	return &out
}

// encode renders a normalised tree: two-space indent, sorted keys, literal
// blocks for multi-line strings, no line wrapping.
func encode(n *yaml.Node) (string, error) {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}
