package capture

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes/scheme"
)

// mergePatch returns the strategic-merge patch that turns original into
// modified. For kinds Kubernetes itself defines, lists merge by their keys
// (a container by name, with only its changed fields); for others, as
// kustomize treats kinds it has no schema for, lists are replaced whole.
// Directives kustomize does not apply ($setElementOrder, $retainKeys) are
// left out. github.com/evanphx/json-patch/v5 makes the RFC 7386 patch.
func mergePatch(gvk schema.GroupVersionKind, original, modified map[string]any) (map[string]any, error) {
	a, err := json.Marshal(original)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(modified)
	if err != nil {
		return nil, err
	}
	typed, err := scheme.Scheme.New(gvk)
	var data []byte
	if err == nil {
		data, err = strategicpatch.CreateTwoWayMergePatch(a, b, typed)
	} else {
		data, err = jsonpatch.CreateMergePatch(a, b)
	}
	if err != nil {
		return nil, fmt.Errorf("patch for %s: %w", gvk.Kind, err)
	}
	// As an object holds them: whole numbers as int64, which YAML writes
	// as 1000680000 where it writes a float64 as 1.00068e+09.
	var patch map[string]any
	if err := utiljson.Unmarshal(data, &patch); err != nil {
		return nil, err
	}
	if typed != nil {
		stripDirectives(patch)
	}
	if len(patch) == 0 {
		return nil, errors.New("the render already has the live values")
	}
	return patch, nil
}

func stripDirectives(v any) {
	switch c := v.(type) {
	case map[string]any:
		for k, x := range c {
			if strings.HasPrefix(k, "$setElementOrder/") || k == "$retainKeys" {
				delete(c, k)
				continue
			}
			stripDirectives(x)
		}
	case []any:
		for _, x := range c {
			stripDirectives(x)
		}
	}
}

// patchDocument is the patch file's document: apiVersion, kind, the name
// and namespace the object's source gives it (kustomize matches a patch by
// the object's earlier names too, so the app's own prefixes do not
// matter), then the patch.
func patchDocument(u *unstructured.Unstructured, src source, body map[string]any) (*yaml.Node, error) {
	root := mappingNode()
	root.HeadComment = "# Captured by gitward from the cluster: what " + describeKey(keyOf(u)) + " runs that git did not say."
	str := func(m *yaml.Node, k, v string) error {
		n, err := valueNode(v, nil)
		if err != nil {
			return err
		}
		mapSet(m, k, n)
		return nil
	}
	if err := str(root, "apiVersion", u.GetAPIVersion()); err != nil {
		return nil, err
	}
	if err := str(root, "kind", u.GetKind()); err != nil {
		return nil, err
	}
	md := mappingNode()
	mapSet(root, "metadata", md)
	if err := str(md, "name", src.name); err != nil {
		return nil, err
	}
	if src.namespace != "" {
		if err := str(md, "namespace", src.namespace); err != nil {
			return nil, err
		}
	}
	if m, ok := body["metadata"].(map[string]any); ok {
		if err := addSorted(md, m, "name", "namespace"); err != nil {
			return nil, err
		}
	}
	if err := addSorted(root, body, "apiVersion", "kind", "metadata"); err != nil {
		return nil, err
	}
	nameFirst(root, false)
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}, nil
}

// nameFirst moves the name of each list item first, where a reader looks
// for which item a patch changes.
func nameFirst(n *yaml.Node, item bool) {
	if item && n.Kind == yaml.MappingNode {
		for i := 2; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "name" {
				k, v := n.Content[i], n.Content[i+1]
				copy(n.Content[2:i+2], n.Content[0:i])
				n.Content[0], n.Content[1] = k, v
				break
			}
		}
	}
	for _, c := range n.Content {
		nameFirst(c, n.Kind == yaml.SequenceNode)
	}
}

// addSorted adds the keys of m to mapping n in order, but skip.
func addSorted(n *yaml.Node, m map[string]any, skip ...string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
next:
	for _, k := range keys {
		for _, s := range skip {
			if k == s {
				continue next
			}
		}
		v, err := valueNode(m[k], nil)
		if err != nil {
			return err
		}
		mapSet(n, k, v)
	}
	return nil
}
