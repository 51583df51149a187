package objects

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ID identifies an object in a rendered stream. Group, Kind, Namespace and
// Name pair an object at base with the same object at head; APIVersion is
// carried along but is not part of the identity, so an apiVersion bump is a
// change of one object, not a removal and an addition.
type ID struct {
	Group      string // API group; "" for the core group
	Kind       string
	Namespace  string // "" when the object names none
	Name       string
	APIVersion string // as written, for example "apps/v1"
}

// String names the object as apiVersion/Kind/namespace/name, leaving out an
// empty namespace; it is the name of the object in its unified diff.
func (id ID) String() string {
	var b strings.Builder
	b.WriteString(id.APIVersion)
	b.WriteByte('/')
	b.WriteString(id.Kind)
	if id.Namespace != "" {
		b.WriteByte('/')
		b.WriteString(id.Namespace)
	}
	b.WriteByte('/')
	b.WriteString(id.Name)
	return b.String()
}

// Version is the version part of APIVersion.
func (id ID) Version() string {
	_, v := splitAPIVersion(id.APIVersion)
	return v
}

// key is the part of an ID that pairs base and head objects.
type key struct{ group, kind, namespace, name string }

func (id ID) key() key { return key{id.Group, id.Kind, id.Namespace, id.Name} }

func (k key) less(o key) bool {
	if k.group != o.group {
		return k.group < o.group
	}
	if k.kind != o.kind {
		return k.kind < o.kind
	}
	if k.namespace != o.namespace {
		return k.namespace < o.namespace
	}
	return k.name < o.name
}

// Describe names an object for messages: kind, group and namespace/name,
// as kubectl does ("Deployment.apps default/web").
func (id ID) Describe() string {
	s := id.Kind
	if id.Group != "" {
		s += "." + id.Group
	}
	if id.Namespace != "" {
		return s + " " + id.Namespace + "/" + id.Name
	}
	return s + " " + id.Name
}

// Object is one Kubernetes object of a rendered stream. Its content stays
// inside this package so that Secret values cannot be reached through it.
type Object struct {
	ID ID
	// Doc is the 1-based position of the object's document in the stream.
	Doc int
	// Line is the line of the stream where the object starts.
	Line int
	node *yaml.Node // the top-level mapping
}

// Error is a problem with a rendered stream, located by document and line.
// Its message names fields and keys, never values.
type Error struct {
	Doc  int // 1-based document position; 0 when unknown
	Line int // 1-based line in the stream; 0 when unknown
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Doc > 0 {
		fmt.Fprintf(&b, "document %d", e.Doc)
	}
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "line %d", e.Line)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

var (
	yamlLine   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	anchorName = regexp.MustCompile(`(unknown )?anchor '.*' (referenced|value contains itself)`)
)

// Parse reads a YAML stream into objects, in stream order. Empty documents
// are skipped. Every object must be a mapping with apiVersion, kind and
// metadata.name, and no two objects may share group, kind, namespace and
// name.
func Parse(stream []byte) ([]Object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(stream))
	var objs []Object
	seen := map[key]int{} // index into objs
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, yamlError(doc, err)
		}
		if len(n.Content) == 0 {
			continue
		}
		top := n.Content[0]
		if top.Kind == yaml.AliasNode {
			top = top.Alias
		}
		if top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null" {
			continue // a document with only comments, or an explicit null
		}
		obj, err := newObject(doc, top)
		if err != nil {
			return nil, err
		}
		if i, ok := seen[obj.ID.key()]; ok {
			first := objs[i]
			return nil, &Error{Doc: doc, Line: obj.Line, Msg: fmt.Sprintf(
				"%s is defined twice: in document %d (line %d) and document %d (line %d)",
				obj.ID.Describe(), first.Doc, first.Line, doc, obj.Line)}
		}
		seen[obj.ID.key()] = len(objs)
		objs = append(objs, obj)
	}
}

// yamlError locates a decoder error. yaml.v3 reports lines of the whole
// stream; its messages describe syntax, not content.
func yamlError(doc int, err error) error {
	msg := err.Error()
	// The only decoder messages that quote the input name an anchor; an
	// anchor's name is written by whoever wrote the document, so it goes.
	switch {
	case strings.Contains(msg, "unknown anchor"):
		msg = anchorName.ReplaceAllString(msg, "an alias refers to an anchor that is not defined")
	case strings.Contains(msg, "value contains itself"):
		msg = anchorName.ReplaceAllString(msg, "an anchor's value contains itself")
	}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Doc: doc, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{Doc: doc, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

func newObject(doc int, top *yaml.Node) (Object, error) {
	obj := Object{Doc: doc, Line: top.Line, node: top}
	fail := func(line int, format string, args ...any) (Object, error) {
		if line == 0 {
			line = top.Line
		}
		return Object{}, &Error{Doc: doc, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	if top.Kind != yaml.MappingNode {
		return fail(0, "is a %s, want a mapping (a Kubernetes object)", kindName(top))
	}
	apiVersion, line, err := stringField(top, "apiVersion")
	if err != nil {
		return fail(line, "%v", err)
	}
	kind, line, err := stringField(top, "kind")
	if err != nil {
		return fail(line, "%v", err)
	}
	group, version := splitAPIVersion(apiVersion)
	if version == "" || strings.Contains(version, "/") {
		return fail(line, "apiVersion %q is not version or group/version", apiVersion)
	}
	meta := lookup(top, "metadata")
	if meta == nil {
		return fail(0, "%s has no metadata", kind)
	}
	if meta.Kind != yaml.MappingNode {
		return fail(meta.Line, "%s metadata is a %s, want a mapping", kind, kindName(meta))
	}
	name, line, err := stringField(meta, "name")
	if err != nil {
		return fail(line, "%s %v", kind, prefixed("metadata.", err))
	}
	ns := ""
	if n := lookup(meta, "namespace"); n != nil && !isNull(n) {
		if n.Kind != yaml.ScalarNode {
			return fail(n.Line, "%s metadata.namespace is a %s, want a string", kind, kindName(n))
		}
		ns = n.Value
	}
	obj.ID = ID{Group: group, Kind: kind, Namespace: ns, Name: name, APIVersion: apiVersion}
	return obj, nil
}

type fieldError struct{ field, problem string }

func (e *fieldError) Error() string { return e.field + " " + e.problem }

func prefixed(p string, err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		return &fieldError{p + fe.field, fe.problem}
	}
	return err
}

// stringField reads a required, non-empty scalar field of a mapping.
func stringField(m *yaml.Node, field string) (string, int, error) {
	n := lookup(m, field)
	switch {
	case n == nil || isNull(n):
		return "", m.Line, &fieldError{field, "is missing"}
	case n.Kind != yaml.ScalarNode:
		return "", n.Line, &fieldError{field, "is a " + kindName(n) + ", want a string"}
	case n.Value == "":
		return "", n.Line, &fieldError{field, "is empty"}
	}
	return n.Value, n.Line, nil
}

func splitAPIVersion(apiVersion string) (group, version string) {
	if i := strings.IndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i], apiVersion[i+1:]
	}
	return "", apiVersion
}

// lookup returns the value of key in mapping m, following aliases, or nil.
// With duplicate keys, the last wins, as in Kubernetes' own decoding.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var v *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			v = m.Content[i+1]
		}
	}
	if v != nil && v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	return v
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}
