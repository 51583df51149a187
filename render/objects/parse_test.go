package objects

import (
	"errors"
	"strings"
	"testing"
)

func TestParseReadsIdentities(t *testing.T) {
	// A comment before the first separator belongs to the first document;
	// an empty document between two separators still counts.
	stream := `# rendered by kustomize
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
---
# only a comment
`
	objs, err := Parse([]byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id        ID
		doc, line int
	}{
		{ID{Kind: "Namespace", Name: "shop", APIVersion: "v1"}, 1, 3},
		{ID{Group: "apps", Kind: "Deployment", Namespace: "shop", Name: "web", APIVersion: "apps/v1"}, 3, 9},
	}
	if len(objs) != len(want) {
		t.Fatalf("got %d objects, want %d", len(objs), len(want))
	}
	for i, w := range want {
		if objs[i].ID != w.id || objs[i].Doc != w.doc || objs[i].Line != w.line {
			t.Errorf("object %d = %+v at document %d line %d, want %+v at document %d line %d",
				i, objs[i].ID, objs[i].Doc, objs[i].Line, w.id, w.doc, w.line)
		}
	}
	if got := objs[1].ID.Version(); got != "v1" {
		t.Errorf("Version() = %q, want v1", got)
	}
	if got := objs[1].ID.String(); got != "apps/v1/Deployment/shop/web" {
		t.Errorf("String() = %q", got)
	}
	if got := objs[0].ID.String(); got != "v1/Namespace/shop" {
		t.Errorf("String() = %q", got)
	}
}

func TestParseRejectsBadStreams(t *testing.T) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
	tests := []struct {
		name      string
		stream    string
		doc, line int
		msg       string // part of the message
	}{
		{"malformed YAML is located by document and line",
			cm + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  labels: [x,\n", 2, 10, "invalid YAML"},
		{"a tab where indentation is expected is located",
			cm + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: b\n", 2, 9, "invalid YAML"},
		{"a document that is a list is not an object",
			cm + "---\n- a\n- b\n", 2, 6, "is a list, want a mapping"},
		{"an object without kind is an error",
			"apiVersion: v1\nmetadata:\n  name: a\n", 1, 1, "kind is missing"},
		{"an object without metadata.name is an error",
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: x\n", 1, 4, "ConfigMap metadata.name is missing"},
		{"an object without metadata is an error",
			"apiVersion: v1\nkind: ConfigMap\n", 1, 1, "ConfigMap has no metadata"},
		{"an empty name is an error",
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"\"\n", 1, 4, "metadata.name is empty"},
		{"a name that is a mapping is an error",
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name:\n    a: b\n", 1, 5, "metadata.name is a mapping"},
		{"an object without apiVersion is an error",
			"kind: ConfigMap\nmetadata:\n  name: a\n", 1, 1, "apiVersion is missing"},
		{"an apiVersion with two slashes is an error",
			"apiVersion: a/b/c\nkind: ConfigMap\nmetadata:\n  name: a\n", 1, 2, "is not version or group/version"},
		{"duplicate IDs name both documents",
			cm + "---\n" + cm + "---\n" + strings.Replace(cm, "name: a", "name: a\n  namespace: \"\"", 1), 2, 6,
			"ConfigMap a is defined twice: in document 1 (line 1) and document 2 (line 6)"},
		{"duplicate IDs in another apiVersion are still duplicates",
			"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w, namespace: n}\n---\napiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: w, namespace: n}\n",
			2, 5, "Deployment.apps n/w is defined twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.stream))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error = %v, want *Error", err)
			}
			if pe.Doc != tt.doc || pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("error = document %d line %d %q, want document %d line %d containing %q",
					pe.Doc, pe.Line, pe.Msg, tt.doc, tt.line, tt.msg)
			}
		})
	}
}

func TestParseOfNothingIsNoObjects(t *testing.T) {
	for _, s := range []string{"", "\n", "---\n", "# nothing\n"} {
		objs, err := Parse([]byte(s))
		if err != nil || len(objs) != 0 {
			t.Errorf("Parse(%q) = %d objects, %v; want none", s, len(objs), err)
		}
	}
}

func TestErrorSaysWhere(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{Doc: 3, Line: 42, Msg: "m"}, "document 3, line 42: m"},
		{Error{Doc: 3, Msg: "m"}, "document 3: m"},
		{Error{Msg: "m"}, "m"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
