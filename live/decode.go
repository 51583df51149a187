package live

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/gitward/gitward/render/objects"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// Decode reads a rendered YAML stream, the bytes render.Renderer returns,
// into objects in stream order, skipping empty documents. The stream is
// first checked by objects.Parse, so errors name documents and lines, never
// values.
func Decode(stream []byte) ([]*unstructured.Unstructured, error) {
	if _, err := objects.Parse(stream); err != nil {
		return nil, err
	}
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	var out []*unstructured.Unstructured
	for doc := 1; ; doc++ {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: does not decode as a Kubernetes object", doc)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// Dropped returns the objects of base whose group, kind, namespace and name
// no object of head has: what applying head with pruning deletes, if the
// cluster has them. Pass it to Plan as prune.
func Dropped(base, head []*unstructured.Unstructured) []*unstructured.Unstructured {
	type key struct{ group, kind, namespace, name string }
	keyOf := func(u *unstructured.Unstructured) key {
		return key{u.GroupVersionKind().Group, u.GetKind(), u.GetNamespace(), u.GetName()}
	}
	inHead := make(map[key]bool, len(head))
	for _, u := range head {
		inHead[keyOf(u)] = true
	}
	var out []*unstructured.Unstructured
	for _, u := range base {
		if !inHead[keyOf(u)] {
			out = append(out, u)
		}
	}
	return out
}
