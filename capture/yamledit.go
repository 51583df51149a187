package capture

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"sort"

	"github.com/gitward/gitward/render/textdiff"
	"go.yaml.in/yaml/v3"
)

// yamlFile is one YAML file being edited as yaml.v3 nodes. Its text is
// written back by changing only the lines around what was edited: the
// rest of the file keeps its comments, key order, quoting, indentation
// and blank lines byte for byte (see text).
type yamlFile struct {
	orig  []byte
	docs  []*yaml.Node // document nodes, edited in place
	style encStyle     // the encoder settings closest to the original
	round []byte       // the original as the encoder writes it in style
}

// encStyle is how the encoder indents: spaces per level, and whether a
// sequence's "- " sits at its key's indentation (kubectl's style) or below it.
type encStyle struct {
	indent  int
	compact bool
}

// parseYAML reads a file of one or more YAML documents.
func parseYAML(data []byte) (*yamlFile, error) {
	docs, err := decodeDocs(data)
	if err != nil {
		return nil, err
	}
	f := &yamlFile{orig: data, docs: docs, style: encStyle{indent: 2}}
	// The original, as each style would write it: the closest one decides
	// how edited lines look, and is the base of the three-way merge.
	best := -1
	for _, s := range []encStyle{{2, true}, {2, false}, {4, false}, {4, true}} {
		fresh, err := decodeDocs(data)
		if err != nil {
			return nil, err
		}
		round, err := encodeDocs(fresh, s)
		if err != nil {
			return nil, err
		}
		changed := 0
		for _, e := range textdiff.Lines(string(data), string(round)) {
			changed += e.OldEnd - e.OldStart + e.NewEnd - e.NewStart
		}
		if best < 0 || changed < best {
			best, f.style, f.round = changed, s, round
		}
	}
	return f, nil
}

func decodeDocs(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		n := &yaml.Node{}
		err := dec.Decode(n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, n)
	}
}

func encodeDocs(docs []*yaml.Node, s encStyle) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(s.indent)
	if s.compact {
		enc.CompactSeqIndent()
	}
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// text returns the file with its edits. The edited documents are encoded,
// and the lines that changed between encoding the original and encoding
// the edit are carried over into the original text (a three-way merge
// whose base is the encoded original); where the original's own lines
// differ from their encoding right next to an edit, the encoded lines win
// there. When the merge does not read back as the edited documents, the
// whole file is written as the encoder writes it.
func (f *yamlFile) text() ([]byte, error) {
	edited, err := encodeDocs(f.docs, f.style)
	if err != nil {
		return nil, err
	}
	merged := merge3(f.round, f.orig, edited)
	if sameDocs(merged, f.docs) {
		return merged, nil
	}
	return edited, nil
}

// sameDocs reports whether data decodes to the same values as docs.
func sameDocs(data []byte, docs []*yaml.Node) bool {
	got, err := decodeDocs(data)
	if err != nil || len(got) != len(docs) {
		return false
	}
	for i := range docs {
		var a, b any
		if got[i].Decode(&a) != nil || docs[i].Decode(&b) != nil || !reflect.DeepEqual(a, b) {
			return false
		}
	}
	return true
}

// merge3 merges the changes base→ours and base→theirs line by line. Where
// both change overlapping lines, theirs wins for the span; where both only
// insert lines at one place, ours come first.
func merge3(base, ours, theirs []byte) []byte {
	b, o, t := textdiff.SplitLines(string(base)), textdiff.SplitLines(string(ours)), textdiff.SplitLines(string(theirs))
	var hs []hunk
	for _, e := range textdiff.Compute(b, o) {
		hs = append(hs, hunk{e.OldStart, e.OldEnd, e.NewStart, e.NewEnd, false})
	}
	for _, e := range textdiff.Compute(b, t) {
		hs = append(hs, hunk{e.OldStart, e.OldEnd, e.NewStart, e.NewEnd, true})
	}
	sort.SliceStable(hs, func(i, j int) bool {
		if hs[i].start != hs[j].start {
			return hs[i].start < hs[j].start
		}
		return hs[i].end < hs[j].end // insertions before what replaces lines there
	})
	var out bytes.Buffer
	write := func(lines []string) {
		for _, l := range lines {
			out.WriteString(l)
		}
	}
	pos := 0 // base lines before pos are written
	for i := 0; i < len(hs); {
		start, end := hs[i].start, hs[i].end
		j := i + 1
		for j < len(hs) && (hs[j].start < end || (hs[j].start == start && hs[j].end == start && end == start)) {
			end = max(end, hs[j].end)
			j++
		}
		write(b[pos:start])
		var mine, yours []hunk
		inserts := true
		for _, h := range hs[i:j] {
			inserts = inserts && h.start == h.end
			if h.theirs {
				yours = append(yours, h)
			} else {
				mine = append(mine, h)
			}
		}
		switch {
		case len(yours) == 0: // one hunk: a side's edits never overlap or touch
			write(o[mine[0].newStart:mine[0].newEnd])
		case len(mine) == 0:
			write(t[yours[0].newStart:yours[0].newEnd])
		case inserts:
			write(o[mine[0].newStart:mine[0].newEnd])
			write(t[yours[0].newStart:yours[0].newEnd])
		default:
			// Theirs for the whole span: between its hunks, base lines are
			// its lines too.
			at := start
			for _, h := range yours {
				write(b[at:h.start])
				write(t[h.newStart:h.newEnd])
				at = h.end
			}
			write(b[at:end])
		}
		pos = end
		i = j
	}
	write(b[pos:])
	return out.Bytes()
}

// hunk is one edit of a side against the base, in base lines [start, end).
type hunk struct {
	start, end       int
	newStart, newEnd int
	theirs           bool
}

// Node helpers. Paths into documents are JSON pointer tokens.

// isAlias reports whether n is an alias: editing through one is refused,
// since it would edit every use of the anchor.
func isAlias(n *yaml.Node) bool { return n != nil && n.Kind == yaml.AliasNode }

// docRoot returns a document's top node.
func docRoot(d *yaml.Node) *yaml.Node {
	if d.Kind == yaml.DocumentNode && len(d.Content) == 1 {
		return d.Content[0]
	}
	return d
}

// mapGet returns the value of key in mapping m, or nil.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// mapSet sets key in mapping m to v, appending the key at the end of the
// mapping when it is new.
func mapSet(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
	if n := len(m.Content); n >= 2 && m.Content[n-2].FootComment != "" {
		// A comment after the last key stays after the mapping.
		k.FootComment, m.Content[n-2].FootComment = m.Content[n-2].FootComment, ""
	}
	m.Content = append(m.Content, k, v)
}

// mapDelete removes key from mapping m and reports whether it was there.
func mapDelete(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return true
		}
	}
	return false
}

// scalar returns the value of a scalar node, "" for anything else.
func scalarValue(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// valueNode returns v, a value decoded from JSON, as a node. A string
// replacing a quoted scalar keeps its quotes.
func valueNode(v any, old *yaml.Node) (*yaml.Node, error) {
	n := &yaml.Node{}
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok && old != nil && old.Kind == yaml.ScalarNode &&
		(old.Style == yaml.DoubleQuotedStyle || old.Style == yaml.SingleQuotedStyle) {
		n.Style = old.Style
		n.Tag = "!!str"
		n.Value = s
	}
	if old != nil {
		n.LineComment = old.LineComment
		n.HeadComment = old.HeadComment
		n.FootComment = old.FootComment
	}
	return n, nil
}

// mappingNode returns an empty block mapping.
func mappingNode() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }
