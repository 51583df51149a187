package capture

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/gitward/gitward/live"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// inPlace edits the document that declares the object, unless another
// app reads its file.
func (p *planner) inPlace(u *unstructured.Unstructured, src source, fields []live.Field) (*attempt, error) {
	if others := p.sharedWith(src.file); len(others) > 0 {
		return nil, fmt.Errorf("its source %s is a base shared with %s, and capture never edits a shared base", src.file, strings.Join(others, ", "))
	}
	data, err := p.content(src.file)
	if err != nil {
		return nil, err
	}
	f, err := parseYAML(data)
	if err != nil {
		return nil, fmt.Errorf("%s is not YAML gitward can edit: %v", src.file, err)
	}
	for _, d := range f.docs {
		if holdsSecretValues(docRoot(d)) {
			return nil, fmt.Errorf("%s holds Secret values, which the diff of an edit would show", src.file)
		}
	}
	root := docRoot(f.docs[src.doc])
	routes := make([]Route, len(fields))
	for i, fl := range fields {
		toks, err := parsePointer(fl.Pointer)
		if err != nil {
			return nil, err
		}
		if err := editNode(root, toks, u.Object, fl.InLive, fl.Live); err != nil {
			return nil, fmt.Errorf("%s cannot be edited in %s: %v", fl.Pointer, src.file, err)
		}
		routes[i] = InPlace
	}
	text, err := f.text()
	if err != nil {
		return nil, err
	}
	return &attempt{files: map[string][]byte{src.file: text}, file: src.file, routes: routes}, nil
}

// holdsSecretValues reports whether a document is a Secret with data or
// stringData: its file is never edited in place, so that no diff of it,
// with its context lines, carries a value.
func holdsSecretValues(root *yaml.Node) bool {
	if scalarValue(mapGet(root, "kind")) != "Secret" {
		return false
	}
	for _, k := range []string{"data", "stringData"} {
		if v := mapGet(root, k); v != nil && len(v.Content) > 0 {
			return true
		}
	}
	return false
}

// editNode sets (or, when !set, removes) the field at the pointer tokens in
// a document, walking the rendered object alongside to find list items by
// name where the source lists them in another order.
func editNode(root *yaml.Node, toks []string, rendered any, set bool, val any) error {
	cur := root
	for i, t := range toks {
		if isAlias(cur) {
			return errors.New("the document reaches it through a YAML alias")
		}
		last := i == len(toks)-1
		switch cur.Kind {
		case yaml.MappingNode:
			var rnext any
			if m, ok := rendered.(map[string]any); ok {
				rnext = m[t]
			}
			if last {
				if !set {
					if !mapDelete(cur, t) {
						return errors.New("the document does not set it; it comes from elsewhere")
					}
					return nil
				}
				n, err := valueNode(val, mapGet(cur, t))
				if err != nil {
					return err
				}
				mapSet(cur, t, n)
				return nil
			}
			next := mapGet(cur, t)
			if next == nil {
				if _, err := strconv.Atoi(toks[i+1]); err == nil || !set {
					return errors.New("the document does not set it; it comes from elsewhere")
				}
				next = mappingNode()
				if cur.Style == yaml.FlowStyle {
					next.Style = yaml.FlowStyle
				}
				mapSet(cur, t, next)
			}
			cur, rendered = next, rnext
		case yaml.SequenceNode:
			j, err := seqItem(cur, t, rendered, set && last)
			if err != nil {
				return err
			}
			if last {
				if !set {
					cur.Content = append(cur.Content[:j], cur.Content[j+1:]...)
					return nil
				}
				var old *yaml.Node
				if j < len(cur.Content) {
					old = cur.Content[j]
				}
				n, err := valueNode(val, old)
				if err != nil {
					return err
				}
				if old == nil {
					cur.Content = append(cur.Content, n)
				} else {
					cur.Content[j] = n
				}
				return nil
			}
			var rnext any
			if l, ok := rendered.([]any); ok {
				if k, err := strconv.Atoi(t); err == nil && k < len(l) {
					rnext = l[k]
				}
			}
			cur, rendered = cur.Content[j], rnext
		default:
			return fmt.Errorf("%s is inside a value that is not a mapping or a list", t)
		}
	}
	return errors.New("capture does not replace whole objects")
}

// seqItem finds the item of a source sequence that the rendered list's
// item at tok is: the one with the same name, for lists of named items;
// else the same index, when the source list is as long as the rendered one.
// appending allows the index one past the end.
func seqItem(seq *yaml.Node, tok string, rendered any, appending bool) (int, error) {
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 {
		return 0, fmt.Errorf("%s is not a list index", tok)
	}
	rl, _ := rendered.([]any)
	if i < len(rl) {
		if m, ok := rl[i].(map[string]any); ok {
			if name, ok := m["name"].(string); ok {
				for j, it := range seq.Content {
					if scalarValue(mapGet(it, "name")) == name {
						return j, nil
					}
				}
				return 0, fmt.Errorf("the document's list has no item named %q; it comes from elsewhere", name)
			}
		}
	}
	switch {
	case len(seq.Content) != len(rl):
		return 0, errors.New("the document's list is not the rendered list; its items come from elsewhere too")
	case i < len(seq.Content), appending && i == len(seq.Content):
		return i, nil
	}
	return 0, fmt.Errorf("the list has no item %d", i)
}

// imagePointer matches the image of a container, in any pod template.
var imagePointer = regexp.MustCompile(`/(initContainers|containers|ephemeralContainers)/[0-9]+/image$`)

// entries writes an image or replica count change as images: or replicas:
// entries of the app's own kustomization.
func (p *planner) entries(u *unstructured.Unstructured, src source, fields []live.Field) (*attempt, error) {
	routes := make([]Route, len(fields))
	for i, f := range fields {
		_, liveInt := f.Live.(int64)
		_, liveStr := f.Live.(string)
		_, gitStr := f.Desired.(string)
		switch {
		case f.Pointer == "/spec/replicas" && f.InLive && f.InDesired && liveInt:
			routes[i] = ReplicasEntry
		case imagePointer.MatchString(f.Pointer) && f.InLive && f.InDesired && liveStr && gitStr:
			routes[i] = ImageEntry
		default:
			return nil, fmt.Errorf("%s is not an image or a replica count, so no images: or replicas: entry can hold it", f.Pointer)
		}
	}
	if err := p.ownOverlay(); err != nil {
		return nil, err
	}
	f, root, err := p.kustomization()
	if err != nil {
		return nil, err
	}
	for i, fl := range fields {
		switch routes[i] {
		case ImageEntry:
			err = setImage(root, fl.Desired.(string), fl.Live.(string))
		case ReplicasEntry:
			err = setReplicas(root, src.name, u.GetName(), fl.Live)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fl.Pointer, err)
		}
	}
	text, err := f.text()
	if err != nil {
		return nil, err
	}
	return &attempt{files: map[string][]byte{p.kust: text}, file: p.kust, routes: routes}, nil
}

// ownOverlay says why the app's kustomization cannot be edited: when
// another app reads it, the app has no overlay of its own.
func (p *planner) ownOverlay() error {
	if others := p.sharedWith(p.kust); len(others) > 0 {
		return fmt.Errorf("the app's kustomization %s is also read by %s, so the app has no overlay of its own to write to", p.kust, strings.Join(others, ", "))
	}
	return nil
}

// kustomization reads the app's kustomization as the accepted changes
// leave it.
func (p *planner) kustomization() (*yamlFile, *yaml.Node, error) {
	data, err := p.content(p.kust)
	if err != nil {
		return nil, nil, err
	}
	f, err := parseYAML(data)
	if err != nil || len(f.docs) != 1 || docRoot(f.docs[0]).Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%s is not a kustomization gitward can edit", p.kust)
	}
	return f, docRoot(f.docs[0]), nil
}

// parseImage splits an image reference into name, tag and digest.
func parseImage(ref string) (name, tag, digest string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref, digest = ref[:i], ref[i+1:]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref, tag = ref[:i], ref[i+1:]
	}
	return ref, tag, digest
}

// seqAt returns the sequence at key of a mapping, adding an empty one at
// its end when there is none.
func seqAt(m *yaml.Node, key string) (*yaml.Node, error) {
	s := mapGet(m, key)
	switch {
	case s == nil || (s.Kind == yaml.ScalarNode && s.Tag == "!!null"):
		s = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		mapSet(m, key, s)
	case s.Kind != yaml.SequenceNode:
		return nil, fmt.Errorf("%s: is not a list", key)
	}
	return s, nil
}

// setString sets key of mapping m to a string, quoted where YAML would
// read it as something else.
func setString(m *yaml.Node, key, value string) error {
	n, err := valueNode(value, mapGet(m, key))
	if err != nil {
		return err
	}
	mapSet(m, key, n)
	return nil
}

// setImage makes the kustomization's images: turn the image as the render
// has it into the live one: the entry that yields the rendered image name
// is edited, or one is added for it.
func setImage(root *yaml.Node, rendered, liveRef string) error {
	rName, _, _ := parseImage(rendered)
	lName, lTag, lDigest := parseImage(liveRef)
	if lTag != "" && lDigest != "" {
		return fmt.Errorf("an images: entry cannot give both a tag and a digest (%s)", liveRef)
	}
	if lTag == "" && lDigest == "" {
		return fmt.Errorf("an images: entry cannot remove a tag (%s)", liveRef)
	}
	seq, err := seqAt(root, "images")
	if err != nil {
		return err
	}
	var item *yaml.Node
	for _, it := range seq.Content {
		yields := scalarValue(mapGet(it, "newName"))
		if yields == "" {
			yields = scalarValue(mapGet(it, "name"))
		}
		if it.Kind == yaml.MappingNode && yields == rName {
			item = it
			break
		}
	}
	if item == nil {
		item = mappingNode()
		if err := setString(item, "name", rName); err != nil {
			return err
		}
		seq.Content = append(seq.Content, item)
	}
	if lName != scalarValue(mapGet(item, "name")) {
		if err := setString(item, "newName", lName); err != nil {
			return err
		}
	} else {
		mapDelete(item, "newName")
	}
	if lDigest != "" {
		mapDelete(item, "newTag")
		return setString(item, "digest", lDigest)
	}
	mapDelete(item, "digest")
	return setString(item, "newTag", lTag)
}

// setReplicas sets the replicas: entry for the object, by the name its
// source gives it (kustomize matches earlier names too), or adds one.
func setReplicas(root *yaml.Node, srcName, renderedName string, count any) error {
	seq, err := seqAt(root, "replicas")
	if err != nil {
		return err
	}
	for _, it := range seq.Content {
		if n := scalarValue(mapGet(it, "name")); n == srcName || n == renderedName {
			c, err := valueNode(count, mapGet(it, "count"))
			if err != nil {
				return err
			}
			mapSet(it, "count", c)
			return nil
		}
	}
	item := mappingNode()
	if err := setString(item, "name", srcName); err != nil {
		return err
	}
	c, err := valueNode(count, nil)
	if err != nil {
		return err
	}
	mapSet(item, "count", c)
	seq.Content = append(seq.Content, item)
	return nil
}

// patch writes the drifted fields as a strategic-merge patch file in the
// app's directory, listed under its kustomization's patches:.
func (p *planner) patch(u *unstructured.Unstructured, src source, fields []live.Field) (*attempt, error) {
	if err := p.ownOverlay(); err != nil {
		return nil, err
	}
	var target any = deepCopy(u.Object)
	for _, fl := range fields {
		toks, err := parsePointer(fl.Pointer)
		if err != nil {
			return nil, err
		}
		if fl.InLive {
			target, err = setAt(target, toks, deepCopy(fl.Live))
		} else {
			target, err = deleteAt(target, toks)
		}
		if err != nil {
			return nil, fmt.Errorf("%s cannot be applied to the rendered object: %v", fl.Pointer, err)
		}
	}
	body, err := mergePatch(u.GroupVersionKind(), u.Object, target.(map[string]any))
	if err != nil {
		return nil, fmt.Errorf("no patch can be computed: %v", err)
	}
	file := p.patchPath(u.GetKind(), src.name)
	if others := p.sharedWith(file); len(others) > 0 {
		return nil, fmt.Errorf("%s is looked for by %s too", file, strings.Join(others, ", "))
	}
	kf, root, err := p.kustomization()
	if err != nil {
		return nil, err
	}
	patches, err := seqAt(root, "patches")
	if err != nil {
		return nil, err
	}
	entry := mappingNode()
	if err := setString(entry, "path", path.Base(file)); err != nil {
		return nil, err
	}
	patches.Content = append(patches.Content, entry)
	ktext, err := kf.text()
	if err != nil {
		return nil, err
	}
	doc, err := patchDocument(u, src, body)
	if err != nil {
		return nil, err
	}
	ptext, err := encodeDocs([]*yaml.Node{doc}, kf.style)
	if err != nil {
		return nil, err
	}
	routes := make([]Route, len(fields))
	for i := range routes {
		routes[i] = PatchFile
	}
	return &attempt{files: map[string][]byte{p.kust: ktext, file: ptext}, file: file, routes: routes}, nil
}

// patchPath returns a free name for the object's patch in the app's
// directory: gitward-capture-<kind>-<name>.yaml, numbered when taken.
func (p *planner) patchPath(kind, name string) string {
	dir := path.Dir(p.kust)
	base := "gitward-capture-" + slug(kind) + "-" + slug(name)
	for n := 1; ; n++ {
		f := path.Join(dir, base+".yaml")
		if n > 1 {
			f = path.Join(dir, fmt.Sprintf("%s-%d.yaml", base, n))
		}
		if _, taken := p.files[f]; taken {
			continue
		}
		if _, _, err := p.tree.Resolve(f); err == nil {
			continue
		}
		return f
	}
}

// slug keeps lower-case letters, digits, dots and dashes of s.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}
