package objects

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: web:1
`

type wantChange struct {
	id     string
	action Action
}

func TestDiffPairsObjects(t *testing.T) {
	cm := func(name, value string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: shop\ndata:\n  k: %q\n", name, value)
	}
	tests := []struct {
		name       string
		base, head string
		want       []wantChange
	}{
		{"identical renders have no changes",
			deployment, deployment, nil},
		{"an object only at head is added",
			deployment, deployment + "---\n" + cm("a", "1"),
			[]wantChange{{"v1/ConfigMap/shop/a", Added}}},
		{"an object only at base is removed",
			deployment + "---\n" + cm("a", "1"), deployment,
			[]wantChange{{"v1/ConfigMap/shop/a", Removed}}},
		{"a changed value is a change",
			deployment, strings.Replace(deployment, "replicas: 2", "replicas: 3", 1),
			[]wantChange{{"apps/v1/Deployment/shop/web", Changed}}},
		{"a rename is a removal and an addition",
			cm("old", "1"), cm("new", "1"),
			[]wantChange{{"v1/ConfigMap/shop/new", Added}, {"v1/ConfigMap/shop/old", Removed}}},
		{"a move to another namespace is a removal and an addition",
			cm("a", "1"), strings.Replace(cm("a", "1"), "namespace: shop", "namespace: web", 1),
			[]wantChange{{"v1/ConfigMap/shop/a", Removed}, {"v1/ConfigMap/web/a", Added}}},
		{"an apiVersion bump of the same object is a change",
			deployment, strings.Replace(deployment, "apps/v1", "apps/v1beta2", 1),
			[]wantChange{{"apps/v1beta2/Deployment/shop/web", Changed}}},
		{"a change of group is a removal and an addition",
			"apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i}\n",
			"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\n",
			[]wantChange{{"extensions/v1beta1/Ingress/i", Removed}, {"networking.k8s.io/v1/Ingress/i", Added}}},
		{"a status-only change is no change",
			deployment + "status:\n  replicas: 1\n", deployment + "status:\n  replicas: 2\n  readyReplicas: 2\n", nil},
		{"a null creationTimestamp is no change",
			deployment, strings.Replace(deployment, "  name: web\n", "  name: web\n  creationTimestamp: null\n", 1), nil},
		{"key order, quoting, flow style, comments and document order are no change",
			deployment + "---\n" + cm("a", "1"),
			"apiVersion: v1\nkind: ConfigMap\ndata: {k: '1'}  # one\nmetadata: {namespace: shop, name: a}\n---\n" +
				"kind: Deployment\napiVersion: apps/v1\nspec:\n  template:\n    spec:\n      containers: [{image: 'web:1', name: web}]\n  replicas: 2\nmetadata:\n  namespace: shop\n  name: web\n",
			nil},
		{"a string that looks like a number differs from the number",
			deployment, strings.Replace(deployment, "replicas: 2", `replicas: "2"`, 1),
			[]wantChange{{"apps/v1/Deployment/shop/web", Changed}}},
		{"anchors and aliases are compared by what they expand to",
			cm("a", "1"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: &ns shop\ndata:\n  k: \"1\"\n",
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Diff([]byte(tt.base), []byte(tt.head), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []wantChange
			for _, o := range d.Objects {
				got = append(got, wantChange{o.ID.String(), o.Action})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("changes = %v, want %v\n%s", got, tt.want, formatAppDiff(d))
			}
		})
	}
}

func TestDiffCountsObjectsAndLines(t *testing.T) {
	base := deployment + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\n"
	head := strings.Replace(deployment, "image: web:1", "image: web:2", 1) +
		"---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: new\n"
	d, err := Diff([]byte(base), []byte(head), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Added != 1 || d.Changed != 1 || d.Removed != 1 {
		t.Errorf("added/changed/removed = %d/%d/%d, want 1/1/1", d.Added, d.Changed, d.Removed)
	}
	// ServiceAccount: 4 lines added; ConfigMap: 4 removed; Deployment: 1 and 1.
	if d.LinesAdded != 5 || d.LinesRemoved != 5 {
		t.Errorf("lines +%d -%d, want +5 -5\n%s", d.LinesAdded, d.LinesRemoved, formatAppDiff(d))
	}
	sum := [2]int{}
	for _, o := range d.Objects {
		sum[0] += o.LinesAdded
		sum[1] += o.LinesRemoved
		if got := strings.Count(o.Unified, "\n+") - 1; got != o.LinesAdded {
			t.Errorf("%s: %d added lines in the diff, LinesAdded %d", o.ID, got, o.LinesAdded)
		}
	}
	if sum != [2]int{d.LinesAdded, d.LinesRemoved} {
		t.Errorf("object line counts %v do not add up to the app's", sum)
	}
}

func TestDiffOrdersByGroupKindNamespaceName(t *testing.T) {
	obj := func(apiVersion, kind, ns, name string) string {
		return fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  namespace: %s\n---\n", apiVersion, kind, name, ns)
	}
	head := obj("apps/v1", "Deployment", "b", "x") + obj("v1", "Service", "a", "x") +
		obj("apps/v1", "Deployment", "a", "y") + obj("v1", "ConfigMap", "z", "x") + obj("apps/v1", "Deployment", "a", "x")
	d, err := Diff(nil, []byte(head), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range d.Objects {
		got = append(got, o.ID.String())
	}
	want := []string{
		"v1/ConfigMap/z/x", "v1/Service/a/x",
		"apps/v1/Deployment/a/x", "apps/v1/Deployment/a/y", "apps/v1/Deployment/b/x",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}

func TestDiffNamesBothSidesInTheUnifiedDiff(t *testing.T) {
	d, err := Diff([]byte(deployment), []byte(strings.Replace(deployment, "apps/v1", "apps/v1beta2", 1)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "--- a/apps/v1/Deployment/shop/web\n+++ b/apps/v1beta2/Deployment/shop/web\n@@ -1,4 +1,4 @@\n" +
		"-apiVersion: apps/v1\n+apiVersion: apps/v1beta2\n kind: Deployment\n metadata:\n   name: web\n"
	if got := d.Objects[0].Unified; got != want {
		t.Errorf("unified diff:\n%s\nwant:\n%s", got, want)
	}
	if got := d.Objects[0].Notes; !reflect.DeepEqual(got, []string{"apiVersion changed from apps/v1 to apps/v1beta2"}) {
		t.Errorf("notes = %q", got)
	}
}

func TestDiffUsesTheGivenLineDiffer(t *testing.T) {
	var calls []string
	differ := func(from, to, a, b string) (string, int, int) {
		calls = append(calls, from+" "+to)
		return "diff of " + to, 7, 9
	}
	d, err := Diff([]byte(deployment), nil, Options{LineDiffer: differ})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(calls, []string{"a/apps/v1/Deployment/shop/web b/apps/v1/Deployment/shop/web"}) {
		t.Errorf("calls = %q", calls)
	}
	o := d.Objects[0]
	if o.Unified != "diff of b/apps/v1/Deployment/shop/web" || o.LinesAdded != 7 || o.LinesRemoved != 9 ||
		d.LinesAdded != 7 || d.LinesRemoved != 9 {
		t.Errorf("change = %+v, app lines +%d -%d", o, d.LinesAdded, d.LinesRemoved)
	}
}

func TestDiffErrorsNameTheSide(t *testing.T) {
	bad := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: [}\n"
	tests := []struct {
		name       string
		base, head string
		want       string
	}{
		// yaml.v3 places some parser errors a line early, at the
		// collection that holds the problem.
		{"malformed base", bad, deployment, "base render: document 1, line 3: invalid YAML"},
		{"malformed head", deployment, bad, "head render: document 1, line 3: invalid YAML"},
		{"duplicate key in an object",
			deployment, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  k: x\n  k: y\n",
			`head render: document 1, line 6: key "k" appears twice in data (lines 5 and 6)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Diff([]byte(tt.base), []byte(tt.head), Options{})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error %v does not unwrap to *Error", err)
			}
		})
	}
}

func TestDiffRefusesAliasBombs(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "  a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i,
			i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	_, err := Diff(nil, []byte(b.String()), Options{})
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("error = %v, want a size limit", err)
	}
}

// A 50,000-line object with a few changed lines diffs quickly with the
// default line differ.
func TestDiffOfAHugeObject(t *testing.T) {
	huge := func(changed map[int]bool) string {
		var b strings.Builder
		b.WriteString("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: huge.example.com\nspec:\n  fields:\n")
		for i := 0; i < 25_000; i++ {
			v := "string"
			if changed[i] {
				v = "integer"
			}
			fmt.Fprintf(&b, "    f%05d:\n      type: %s\n", i, v)
		}
		return b.String()
	}
	changed := map[int]bool{}
	for i := 0; i < 25_000; i += 2500 {
		changed[i] = true
	}
	start := time.Now()
	d, err := Diff([]byte(huge(nil)), []byte(huge(changed)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Objects) != 1 || d.LinesAdded != 10 || d.LinesRemoved != 10 {
		t.Fatalf("got %d objects, lines +%d -%d; want one object, +10 -10", len(d.Objects), d.LinesAdded, d.LinesRemoved)
	}
	if strings.Count(d.Objects[0].Unified, "\n@@") != 10 {
		t.Errorf("want 10 hunks:\n%s", d.Objects[0].Unified)
	}
	t.Logf("50,000-line object diffed in %v", time.Since(start))
}

func TestDiffRefusesAnAnchorThatContainsItself(t *testing.T) {
	_, err := Diff(nil, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: &x\n  k: [*x]\n"), Options{})
	if err == nil || !strings.Contains(err.Error(), "line 5: an alias refers to the anchor that contains it") {
		t.Fatalf("error = %v", err)
	}
}
