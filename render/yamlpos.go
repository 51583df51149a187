package render

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// positions finds the line of a value in a YAML document, for messages. It
// reads the document separately from kustomize's own parser, which keeps no
// positions; when the two disagree, lines are 0 and kustomize decides.
type positions struct {
	root *yaml.Node // the document's top mapping, or nil
}

func newPositions(data []byte) positions {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return positions{}
	}
	return positions{root: doc.Content[0]}
}

// line returns the line of the value at steps, each a mapping key (matched
// as encoding/json matches field names: exactly, else ignoring case) or a
// sequence index. When the path ends early it returns the line of the
// deepest node found; with no document it returns 0.
func (p positions) line(steps ...any) int {
	n := p.root
	if n == nil {
		return 0
	}
	line := n.Line
	for _, s := range steps {
		n = deref(n)
		var next *yaml.Node
		switch s := s.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s {
					next = n.Content[i+1]
					line = n.Content[i].Line
					break
				}
			}
			if next == nil {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if strings.EqualFold(n.Content[i].Value, s) {
						next = n.Content[i+1]
						line = n.Content[i].Line
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && s >= 0 && s < len(n.Content) {
				next = n.Content[s]
			}
		}
		if next == nil {
			return line
		}
		n = next
		line = n.Line
	}
	return line
}

// keyLine returns the line of the top-level key whose name, compared as
// encoding/json compares names, is key.
func (p positions) keyLine(key string) int {
	if p.root == nil || p.root.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(p.root.Content); i += 2 {
		if strings.EqualFold(p.root.Content[i].Value, key) {
			return p.root.Content[i].Line
		}
	}
	return 0
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// yamlDoc is one document of a multi-document YAML file.
type yamlDoc struct {
	node *yaml.Node // its top node
	line int
}

// yamlDocs splits a YAML stream into documents, or returns the first syntax
// error with its line.
func yamlDocs(data []byte) ([]yamlDoc, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []yamlDoc
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		if len(n.Content) > 0 {
			docs = append(docs, yamlDoc{node: n.Content[0], line: n.Content[0].Line})
		}
	}
}

// scalar returns the string value of key in the mapping n, or "".
func scalar(n *yaml.Node, key string) string {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := deref(n.Content[i+1])
			if v.Kind == yaml.ScalarNode {
				return v.Value
			}
		}
	}
	return ""
}
