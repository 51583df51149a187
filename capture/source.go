package capture

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/gitward/gitward/live"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// originAnnotation is where kustomize's buildMetadata originAnnotations
// records the file, or the generator, an object comes from.
const originAnnotation = "config.kubernetes.io/origin"

// findOrigins renders the app once more with kustomize's origin
// annotations turned on in its kustomization, to learn which file declares
// each object: the file kustomize itself read it from, through any bases
// and components.
func (p *planner) findOrigins(ctx context.Context) error {
	data, err := p.tree.ReadFile(p.kust)
	if err != nil {
		return err
	}
	f, err := parseYAML(data)
	if err != nil || len(f.docs) != 1 || docRoot(f.docs[0]).Kind != yaml.MappingNode {
		return fmt.Errorf("%s is not a kustomization gitward can read", p.kust)
	}
	root := docRoot(f.docs[0])
	bm := mapGet(root, "buildMetadata")
	if bm == nil || bm.Kind != yaml.SequenceNode {
		bm = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		mapSet(root, "buildMetadata", bm)
	}
	has := false
	for _, it := range bm.Content {
		has = has || scalarValue(it) == "originAnnotations"
	}
	if !has {
		bm.Content = append(bm.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "originAnnotations"})
	}
	text, err := encodeDocs(f.docs, f.style)
	if err != nil {
		return err
	}
	res, err := p.renderWith(ctx, map[string][]byte{p.kust: text})
	if err != nil {
		return err
	}
	if res.Err != nil {
		return fmt.Errorf("render %s with origin annotations: %w", p.in.App.Path, res.Err)
	}
	objs, err := live.Decode(res.YAML)
	if err != nil {
		return err
	}
	p.origins = map[objKey]origin{}
	for _, u := range objs {
		var o struct {
			Path         string `yaml:"path"`
			ConfiguredIn string `yaml:"configuredIn"`
			ConfiguredBy struct {
				Kind string `yaml:"kind"`
			} `yaml:"configuredBy"`
		}
		if yaml.Unmarshal([]byte(u.GetAnnotations()[originAnnotation]), &o) != nil {
			continue
		}
		var org origin
		if o.ConfiguredBy.Kind != "" {
			org.generator = o.ConfiguredBy.Kind
			org.in = path.Join(p.in.App.Path, o.ConfiguredIn)
		} else if o.Path != "" {
			c := path.Join(p.in.App.Path, o.Path)
			if c == ".." || strings.HasPrefix(c, "../") || path.IsAbs(o.Path) {
				continue
			}
			org.path = c
		}
		// The annotation is the only difference from the real render.
		u.SetAnnotations(without(u.GetAnnotations(), originAnnotation))
		p.origins[keyOf(u)] = org
	}
	return nil
}

func without(m map[string]string, key string) map[string]string {
	delete(m, key)
	if len(m) == 0 {
		return nil
	}
	return m
}

// source is the document that declares an object.
type source struct {
	file      string // link-free repository path
	doc       int    // index of the document in the file
	name      string // metadata.name as written, before prefixes and suffixes
	namespace string // metadata.namespace as written
}

// source finds the document of file that declares the rendered object u:
// the same group and kind, and the name the render has, or that kustomize
// prefixed or suffixed (the longest such name when several fit).
func (p *planner) source(u *unstructured.Unstructured, file string) (source, error) {
	real, _, err := p.tree.Resolve(file)
	if err != nil {
		return source{}, fmt.Errorf("its source %s cannot be read: %v", file, err)
	}
	data, err := p.content(real)
	if err != nil {
		return source{}, fmt.Errorf("its source %s cannot be read: %v", file, err)
	}
	f, err := parseYAML(data)
	if err != nil {
		return source{}, fmt.Errorf("its source %s is not YAML gitward can edit: %v", file, err)
	}
	group, kind, name := u.GroupVersionKind().Group, u.GetKind(), u.GetName()
	var found []source
	for i, d := range f.docs {
		root := docRoot(d)
		apiVersion := scalarValue(mapGet(root, "apiVersion"))
		g := ""
		if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
			g = apiVersion[:i]
		}
		md := mapGet(root, "metadata")
		n := scalarValue(mapGet(md, "name"))
		if g != group || scalarValue(mapGet(root, "kind")) != kind || n == "" || !strings.Contains(name, n) {
			continue
		}
		s := source{file: real, doc: i, name: n, namespace: scalarValue(mapGet(md, "namespace"))}
		switch {
		case len(found) == 0 || len(n) > len(found[0].name):
			found = []source{s}
		case len(n) == len(found[0].name):
			found = append(found, s)
		}
	}
	if len(found) > 1 {
		var inNS []source
		for _, s := range found {
			if s.namespace == u.GetNamespace() {
				inNS = append(inNS, s)
			}
		}
		found = inNS
	}
	switch len(found) {
	case 0:
		return source{}, fmt.Errorf("no document of %s declares it", file)
	case 1:
		return found[0], nil
	}
	return source{}, fmt.Errorf("more than one document of %s could declare it", file)
}

func jsonText(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}
