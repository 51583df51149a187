package live

import (
	"errors"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// These tests need no cluster: they pin down the diff, the managedFields
// reading and the Secret handling that the envtest tests rely on.

func fieldLines(fs []Field) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String())
		b.WriteString("\n")
	}
	return b.String()
}

func TestDiffObjects(t *testing.T) {
	tests := []struct {
		name          string
		live, desired string
		secret        bool
		want          string
	}{
		{
			name:    "equal objects have no fields",
			live:    `{spec: {a: 1, b: [x, {c: d}]}}`,
			desired: `{spec: {a: 1, b: [x, {c: d}]}}`,
		},
		{
			name:    "maps differ key by key, a missing map at its top",
			live:    `{spec: {a: 1, b: 2}}`,
			desired: `{spec: {a: 1, b: 3, c: {d: e}}}`,
			want:    "/spec/b: 2 in the cluster, 3 in git\n/spec/c: not in the cluster, {\"d\":\"e\"} in git\n",
		},
		{
			name:    "lists differ item by item, extra items whole",
			live:    `{args: [a, b, c]}`,
			desired: `{args: [a, x]}`,
			want:    "/args/1: \"b\" in the cluster, \"x\" in git\n/args/2: \"c\" in the cluster, not in git\n",
		},
		{
			name:    "keys with / and ~ are escaped",
			live:    `{metadata: {annotations: {"example.com/a~b": "1"}}}`,
			desired: `{metadata: {annotations: {"example.com/a~b": "2"}}}`,
			want:    "/metadata/annotations/example.com~1a~0b: \"1\" in the cluster, \"2\" in git\n",
		},
		{
			name:    "a type change is one field",
			live:    `{spec: {a: [1]}}`,
			desired: `{spec: {a: {b: 1}}}`,
			want:    "/spec/a: [1] in the cluster, {\"b\":1} in git\n",
		},
		{
			name:    "a Secret's values are compared, never shown",
			live:    `{data: {a: c2VjcmV0MQ==, b: c2FtZQ==, gone: eA==}, type: Opaque}`,
			desired: `{data: {a: c2VjcmV0Mg==, b: c2FtZQ==, new: eQ==}, type: Opaque}`,
			secret:  true,
			want:    "/data/a: value differs (hidden)\n/data/gone: set in the cluster, not in git (value hidden)\n/data/new: not in the cluster (value hidden)\n",
		},
		{
			name:    "a Secret's data that one side lacks is opened key by key",
			live:    `{type: Opaque}`,
			desired: `{data: {a: c2VjcmV0, b: c2VjcmV0}, type: Opaque}`,
			secret:  true,
			want:    "/data/a: not in the cluster (value hidden)\n/data/b: not in the cluster (value hidden)\n",
		},
		{
			name:    "a Secret's data that is not a mapping is hidden whole",
			live:    `{data: c2VjcmV0}`,
			desired: `{data: {a: c2VjcmV0}}`,
			secret:  true,
			want:    "/data: value differs (hidden)\n",
		},
		{
			name:    "other fields of a Secret show",
			live:    `{type: Opaque, data: {a: eA==}}`,
			desired: `{type: kubernetes.io/tls, data: {a: eA==}}`,
			secret:  true,
			want:    "/type: \"Opaque\" in the cluster, \"kubernetes.io/tls\" in git\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fieldLines(diffObjects(obj(t, tt.live).Object, obj(t, tt.desired).Object, tt.secret))
			if got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			if tt.secret && strings.Contains(got, "c2Vj") {
				t.Errorf("a value leaked: %s", got)
			}
		})
	}
}

func TestComparableDropsBookkeeping(t *testing.T) {
	live := obj(t, `
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  namespace: b
  uid: 1234
  resourceVersion: "99"
  generation: 3
  creationTimestamp: "2026-11-26T10:00:00Z"
  managedFields: [{manager: x}]
  annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}
  labels: {app: a}
status: {phase: Active}
data: {k: v}
`)
	got := fieldLines(diffObjects(comparable(live), obj(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: b, labels: {app: a}}
data: {k: v}
`).Object, false))
	if got != "" {
		t.Errorf("bookkeeping shows as changes:\n%s", got)
	}
}

func TestForApply(t *testing.T) {
	u := forApply(obj(t, `
apiVersion: v1
kind: Secret
metadata: {name: s, resourceVersion: "12", uid: x, creationTimestamp: null}
data: {a: YQ==, b: Yg==}
stringData: {b: B, c: C}
status: {}
`), "apps")
	want := obj(t, `
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: apps}
data: {a: YQ==, b: Qg==, c: Qw==}
`)
	if got := fieldLines(diffObjects(u.Object, want.Object, false)); got != "" {
		t.Errorf("forApply differs from what the API server would store:\n%s", got)
	}
}

func TestOwners(t *testing.T) {
	live := obj(t, `
metadata:
  finalizers: [example.com/keep]
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: app
        image: app:1
        ports: [{containerPort: 80, protocol: TCP}]
      - name: sidecar
        image: proxy:1
`)
	at := metav1.NewTime(mustTime(t, "2026-11-26T10:02:00Z"))
	earlier := metav1.NewTime(mustTime(t, "2026-11-20T09:00:00Z"))
	live.SetManagedFields([]metav1.ManagedFieldsEntry{
		{Manager: "kustomize-controller", Operation: metav1.ManagedFieldsOperationApply, Time: &earlier,
			FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:finalizers":{"v:\"example.com/keep\"":{}}},` +
				`"f:spec":{"f:template":{"f:spec":{"f:containers":{` +
				`"k:{\"name\":\"app\"}":{".":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}},` +
				`"k:{\"name\":\"sidecar\"}":{".":{},"f:name":{},"f:image":{}},` +
				`"k:{\"name\":\"gone\"}":{".":{},"f:image":{}}}}}}}`)}},
		{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate, Time: &at,
			FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{"f:image":{}}}}}}}`)}},
	})
	o := ownersOf(live)
	tests := []struct{ ptr, want string }{
		{"/spec/replicas", "kubectl-edit (Update) at 2026-11-26T10:02:00Z"},
		{"/spec/template/spec/containers/0/image", "kubectl-edit (Update) at 2026-11-26T10:02:00Z"},
		{"/spec/template/spec/containers/0/ports/0/containerPort", "kustomize-controller (Apply) at 2026-11-20T09:00:00Z"},
		{"/spec/template/spec/containers/1/image", "kustomize-controller (Apply) at 2026-11-20T09:00:00Z"},
		{"/metadata/finalizers/0", "kustomize-controller (Apply) at 2026-11-20T09:00:00Z"},
		// A field that holds others is owned by whoever owns them, latest first.
		{"/spec/template", "kubectl-edit (Update) at 2026-11-26T10:02:00Z, kustomize-controller (Apply) at 2026-11-20T09:00:00Z"},
		{"/spec/paused", ""},
	}
	for _, tt := range tests {
		var names []string
		for _, ow := range o.of(tt.ptr) {
			names = append(names, ow.String())
		}
		if got := strings.Join(names, ", "); got != tt.want {
			t.Errorf("%s: owners %q, want %q", tt.ptr, got, tt.want)
		}
	}
}

func TestScrub(t *testing.T) {
	secret := forApply(obj(t, `{apiVersion: v1, kind: Secret, metadata: {name: s}, stringData: {password: hunter2-long, pin: "12"}}`), "ns")
	err := scrub(errors.New(`Secret "s" is invalid: data[password]: "hunter2-long" (aHVudGVyMi1sb25n) is no good; pin 12`), secret)
	want := `Secret "s" is invalid: data[password]: "<redacted>" (<redacted>) is no good; pin 12`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	// An API status stays one, its causes scrubbed too, so that the short
	// reason a title quotes is as clean as the message.
	invalid := apierrors.NewInvalid(schema.GroupKind{Kind: "Secret"}, "s", field.ErrorList{
		field.Invalid(field.NewPath("data").Key("password"), "hunter2-long", "is no good")})
	err = scrub(invalid, secret)
	if !apierrors.IsInvalid(err) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("scrubbed status: %#v", err)
	}
	reason := (&Error{Err: err}).Reason()
	if want := `data[password]: Invalid value: "<redacted>": is no good`; reason != want {
		t.Errorf("reason %q, want %q", reason, want)
	}
	cm := obj(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {password: hunter2-long}}`)
	if in := errors.New("hunter2-long"); scrub(in, cm) != in {
		t.Error("a ConfigMap's error was changed")
	}
}

func TestDecodeAndDropped(t *testing.T) {
	base, err := Decode([]byte(`
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: x}
---
# only a comment
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b, namespace: x}
`))
	if err != nil {
		t.Fatal(err)
	}
	head, err := Decode([]byte("{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: x}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(base) != 2 || len(head) != 1 {
		t.Fatalf("decoded %d and %d objects", len(base), len(head))
	}
	d := Dropped(base, head)
	if len(d) != 1 || d[0].GetKind() != "Deployment" {
		t.Errorf("dropped %v", d)
	}
	_, err = Decode([]byte("apiVersion: v1\nkind: Secret\nmetadata: {}\ndata: {password: hunter2}\n"))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad stream: %v", err)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
