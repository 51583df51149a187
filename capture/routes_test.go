package capture

import (
	"encoding/json"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestParseImage(t *testing.T) {
	for _, tt := range []struct{ ref, name, tag, digest string }{
		{"nginx", "nginx", "", ""},
		{"nginx:1.27", "nginx", "1.27", ""},
		{"registry.example.com:5000/team/app:v2", "registry.example.com:5000/team/app", "v2", ""},
		{"registry.example.com:5000/team/app", "registry.example.com:5000/team/app", "", ""},
		{"ghcr.io/a/b@sha256:abc", "ghcr.io/a/b", "", "sha256:abc"},
		{"ghcr.io/a/b:1@sha256:abc", "ghcr.io/a/b", "1", "sha256:abc"},
	} {
		name, tag, digest := parseImage(tt.ref)
		if name != tt.name || tag != tt.tag || digest != tt.digest {
			t.Errorf("%s: %q %q %q", tt.ref, name, tag, digest)
		}
	}
}

// kustomize edits a kustomization with change and returns its text.
func kustomize(t *testing.T, src string, change func(root *yaml.Node) error) string {
	t.Helper()
	f, err := parseYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := change(docRoot(f.docs[0])); err != nil {
		t.Fatal(err)
	}
	out, err := f.text()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestImagesEntries(t *testing.T) {
	const src = `resources:
- ../../base
images:
- name: ghcr.io/acme/api
  newName: registry.internal/acme/api # mirrored
  newTag: "1.0"
`
	tests := []struct{ name, rendered, live, want string }{
		{
			"the entry that yields the rendered image gets the new tag, quoted where YAML needs it",
			"registry.internal/acme/api:1.0", "registry.internal/acme/api:1.1", `resources:
- ../../base
images:
- name: ghcr.io/acme/api
  newName: registry.internal/acme/api # mirrored
  newTag: "1.1"
`,
		},
		{
			"a digest replaces the tag",
			"registry.internal/acme/api:1.0", "registry.internal/acme/api@sha256:0123", `resources:
- ../../base
images:
- name: ghcr.io/acme/api
  newName: registry.internal/acme/api # mirrored
  digest: sha256:0123
`,
		},
		{
			"an image back at its original name drops newName",
			"registry.internal/acme/api:1.0", "ghcr.io/acme/api:1.0", `resources:
- ../../base
images:
- name: ghcr.io/acme/api
  newTag: "1.0"
`,
		},
		{
			"another image gets an entry of its own",
			"ghcr.io/acme/web:2", "ghcr.io/acme/web:3", `resources:
- ../../base
images:
- name: ghcr.io/acme/api
  newName: registry.internal/acme/api # mirrored
  newTag: "1.0"
- name: ghcr.io/acme/web
  newTag: "3"
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := kustomize(t, src, func(root *yaml.Node) error { return setImage(root, tt.rendered, tt.live) })
			equalText(t, "the kustomization", got, tt.want)
		})
	}
	t.Run("a tag and a digest together cannot be an entry", func(t *testing.T) {
		f, _ := parseYAML([]byte(src))
		err := setImage(docRoot(f.docs[0]), "ghcr.io/acme/web:2", "ghcr.io/acme/web:3@sha256:0123")
		if err == nil {
			t.Error("no error")
		}
	})
}

func TestReplicasEntries(t *testing.T) {
	const src = "resources: [../../base]\nreplicas:\n  - name: web\n    count: 2\n"
	got := kustomize(t, src, func(root *yaml.Node) error { return setReplicas(root, "web", "prod-web", int64(5)) })
	equalText(t, "an existing entry", got, "resources: [../../base]\nreplicas:\n  - name: web\n    count: 5\n")
	got = kustomize(t, src, func(root *yaml.Node) error { return setReplicas(root, "worker", "prod-worker", int64(3)) })
	equalText(t, "a new entry", got, "resources: [../../base]\nreplicas:\n  - name: web\n    count: 2\n  - name: worker\n    count: 3\n")
}

func TestMergePatch(t *testing.T) {
	obj := func(s string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	text := func(m map[string]any) string {
		data, _ := json.Marshal(m)
		return string(data)
	}
	t.Run("a Deployment's containers merge by name, without ordering directives", func(t *testing.T) {
		a := obj(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"a:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}}}`)
		b := obj(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"a:1","env":[{"name":"A","value":"1"}]}]}}}}`)
		p, err := mergePatch(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, a, b)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"spec":{"template":{"spec":{"containers":[{"env":[{"$patch":"delete","name":"B"}],"name":"web"}]}}}}`
		if got := text(p); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("a kind Kubernetes does not define replaces lists whole, and removes with null", func(t *testing.T) {
		a := obj(`{"spec":{"hosts":["a","b"],"color":"red","size":1}}`)
		b := obj(`{"spec":{"hosts":["a"],"size":1}}`)
		p, err := mergePatch(schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}, a, b)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := text(p), `{"spec":{"color":null,"hosts":["a"]}}`; got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("a whole number stays whole, not 1.00068e+09", func(t *testing.T) {
		a := obj(`{"spec":{"template":{"spec":{"securityContext":{"runAsUser":1000}}}}}`)
		b := obj(`{"spec":{"template":{"spec":{"securityContext":{"runAsUser":1000680000}}}}}`)
		p, err := mergePatch(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, a, b)
		if err != nil {
			t.Fatal(err)
		}
		n, err := valueNode(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out, _ := yaml.Marshal(n); !strings.Contains(string(out), "runAsUser: 1000680000\n") {
			t.Errorf("the patch reads\n%s", out)
		}
	})
	t.Run("nothing to patch is an error", func(t *testing.T) {
		a := obj(`{"spec":{"size":1}}`)
		if _, err := mergePatch(schema.GroupVersionKind{Kind: "Widget"}, a, a); err == nil {
			t.Error("no error")
		}
	})
}
