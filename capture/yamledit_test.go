package capture

import (
	"testing"
)

// edit applies one edit to the first document of src that has kind,
// with rendered (nil: the document itself) as the render, and returns the
// file's text.
func edit(t *testing.T, src string, doc int, ptr string, rendered any, set bool, val any) string {
	t.Helper()
	f, err := parseYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if rendered == nil {
		if err := f.docs[doc].Decode(&rendered); err != nil {
			t.Fatal(err)
		}
	}
	toks, err := parsePointer(ptr)
	if err != nil {
		t.Fatal(err)
	}
	if err := editNode(docRoot(f.docs[doc]), toks, rendered, set, val); err != nil {
		t.Fatal(err)
	}
	out, err := f.text()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestEditKeepsTheRestOfTheFile(t *testing.T) {
	const deployment = `# The web frontend.
apiVersion: apps/v1
kind: Deployment
metadata:
  name:   web      # odd spacing the encoder would not keep
  labels:
    app: web
    team: payments # who to page
spec:
  replicas: 2 # bumped in incident 42
  template:
    spec:
      containers:
      - name: web
        image: 'ghcr.io/stefanprodan/podinfo:6.5.0'
        args: ["--port", "9898"]
        resources:
          limits:
            memory: 128Mi

          # limits end here
`
	tests := []struct {
		name     string
		ptr      string
		set      bool
		val      any
		want     string
		rendered any
	}{
		{
			name: "a value is replaced on its line, with its comment",
			ptr:  "/spec/replicas", set: true, val: int64(5),
			want: `# The web frontend.
apiVersion: apps/v1
kind: Deployment
metadata:
  name:   web      # odd spacing the encoder would not keep
  labels:
    app: web
    team: payments # who to page
spec:
  replicas: 5 # bumped in incident 42
  template:
    spec:
      containers:
      - name: web
        image: 'ghcr.io/stefanprodan/podinfo:6.5.0'
        args: ["--port", "9898"]
        resources:
          limits:
            memory: 128Mi

          # limits end here
`,
		},
		{
			name: "a quoted string stays quoted the same way",
			ptr:  "/spec/template/spec/containers/0/image", set: true, val: "ghcr.io/stefanprodan/podinfo:6.5.1",
			want: `# The web frontend.
apiVersion: apps/v1
kind: Deployment
metadata:
  name:   web      # odd spacing the encoder would not keep
  labels:
    app: web
    team: payments # who to page
spec:
  replicas: 2 # bumped in incident 42
  template:
    spec:
      containers:
      - name: web
        image: 'ghcr.io/stefanprodan/podinfo:6.5.1'
        args: ["--port", "9898"]
        resources:
          limits:
            memory: 128Mi

          # limits end here
`,
		},
		{
			name: "a new key comes last in its mapping",
			ptr:  "/spec/template/spec/containers/0/resources/limits/cpu", set: true, val: "500m",
			want: `# The web frontend.
apiVersion: apps/v1
kind: Deployment
metadata:
  name:   web      # odd spacing the encoder would not keep
  labels:
    app: web
    team: payments # who to page
spec:
  replicas: 2 # bumped in incident 42
  template:
    spec:
      containers:
      - name: web
        image: 'ghcr.io/stefanprodan/podinfo:6.5.0'
        args: ["--port", "9898"]
        resources:
          limits:
            memory: 128Mi
            cpu: 500m

          # limits end here
`,
		},
		{
			name: "a new mapping is made on the way",
			ptr:  "/metadata/annotations/example.com~1owner", set: true, val: "payments",
			want: `# The web frontend.
apiVersion: apps/v1
kind: Deployment
metadata:
  name:   web      # odd spacing the encoder would not keep
  labels:
    app: web
    team: payments # who to page
  annotations:
    example.com/owner: payments
spec:
  replicas: 2 # bumped in incident 42
  template:
    spec:
      containers:
      - name: web
        image: 'ghcr.io/stefanprodan/podinfo:6.5.0'
        args: ["--port", "9898"]
        resources:
          limits:
            memory: 128Mi

          # limits end here
`,
		},
		{
			name: "a removed key goes with its comment",
			ptr:  "/metadata/labels/team", set: false,
			want: `# The web frontend.
apiVersion: apps/v1
kind: Deployment
metadata:
  name:   web      # odd spacing the encoder would not keep
  labels:
    app: web
spec:
  replicas: 2 # bumped in incident 42
  template:
    spec:
      containers:
      - name: web
        image: 'ghcr.io/stefanprodan/podinfo:6.5.0'
        args: ["--port", "9898"]
        resources:
          limits:
            memory: 128Mi

          # limits end here
`,
		},
		{
			name: "a list in flow style is edited by index",
			ptr:  "/spec/template/spec/containers/0/args/1", set: true, val: "8080",
			want: `# The web frontend.
apiVersion: apps/v1
kind: Deployment
metadata:
  name:   web      # odd spacing the encoder would not keep
  labels:
    app: web
    team: payments # who to page
spec:
  replicas: 2 # bumped in incident 42
  template:
    spec:
      containers:
      - name: web
        image: 'ghcr.io/stefanprodan/podinfo:6.5.0'
        args: ["--port", "8080"]
        resources:
          limits:
            memory: 128Mi

          # limits end here
`,
		},
		{
			name: "a line the encoder writes differently is rewritten only where it is edited",
			ptr:  "/metadata/name", set: true, val: "web2",
			want: `# The web frontend.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web2 # odd spacing the encoder would not keep
  labels:
    app: web
    team: payments # who to page
spec:
  replicas: 2 # bumped in incident 42
  template:
    spec:
      containers:
      - name: web
        image: 'ghcr.io/stefanprodan/podinfo:6.5.0'
        args: ["--port", "9898"]
        resources:
          limits:
            memory: 128Mi

          # limits end here
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			equalText(t, "the file", edit(t, deployment, 0, tt.ptr, tt.rendered, tt.set, tt.val), tt.want)
		})
	}
}

func TestEditFindsListItemsByName(t *testing.T) {
	const src = `kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: sidecar
          image: envoy:1
        - name: web
          image: podinfo:1
`
	// A patch put web first in the render.
	rendered := map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{
		map[string]any{"name": "web", "image": "podinfo:1"},
		map[string]any{"name": "sidecar", "image": "envoy:1"},
	}}}}}
	got := edit(t, src, 0, "/spec/template/spec/containers/0/image", rendered, true, "podinfo:2")
	equalText(t, "the file", got, `kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: sidecar
          image: envoy:1
        - name: web
          image: podinfo:2
`)
}

func TestEditLeavesOtherDocumentsAsWritten(t *testing.T) {
	const src = `---
apiVersion: v1
kind: ConfigMap
metadata:
    name: first        # four spaces, as written
data:
    a: "1"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
data:
  level: info
...
`
	got := edit(t, src, 1, "/data/level", nil, true, "debug")
	equalText(t, "the file", got, `---
apiVersion: v1
kind: ConfigMap
metadata:
    name: first        # four spaces, as written
data:
    a: "1"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
data:
  level: debug
...
`)
}

func TestEditRefusesWhatTheDocumentDoesNotSay(t *testing.T) {
	const src = "kind: ConfigMap\ndata: &d\n  a: b\nother: *d\n"
	f, err := parseYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	root := docRoot(f.docs[0])
	for _, tt := range []struct {
		ptr  string
		set  bool
		want string
	}{
		{"/data/missing", false, "the document does not set it; it comes from elsewhere"},
		{"/other/a", true, "the document reaches it through a YAML alias"},
		{"/spec/containers/0/image", true, "the document does not set it; it comes from elsewhere"},
	} {
		toks, _ := parsePointer(tt.ptr)
		err := editNode(root, toks, nil, tt.set, "x")
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: %v, want %q", tt.ptr, err, tt.want)
		}
	}
}

func TestMerge3(t *testing.T) {
	for _, tt := range []struct{ name, base, ours, theirs, want string }{
		{"theirs alone", "a\nb\nc\n", "a\nb\nc\n", "a\nB\nc\n", "a\nB\nc\n"},
		{"ours alone", "a\nb\nc\n", "a\n b\nc\n", "a\nb\nc\n", "a\n b\nc\n"},
		{"apart", "a\nb\nc\nd\ne\n", "a\n b\nc\nd\ne\n", "a\nb\nc\nd\nE\n", "a\n b\nc\nd\nE\n"},
		{"both on one line: theirs", "a\nb\nc\n", "a\n b\nc\n", "a\nB\nc\n", "a\nB\nc\n"},
		{"insertions apart", "a\nb\n", "# x\na\nb\n", "a\nb\nc\n", "# x\na\nb\nc\n"},
		{"insertions at one place: ours first", "a\nb\n", "a\n# x\nb\n", "a\nc\nb\n", "a\n# x\nc\nb\n"},
		{"an insertion after a replacement", "a\nb\n", "a\nb\n...\n", "a\nB\n", "a\nB\n...\n"},
		{"theirs over two of ours", "a\nb\nc\nd\n", " a\nb\n c\nd\n", "A\nB\nC\nd\n", "A\nB\nC\nd\n"},
		{"ours over two of theirs", "a\nb\nc\nd\n", " a\n b\n c\nd\n", "A\nb\nC\nd\n", "A\nb\nC\nd\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			equalText(t, "the merge", string(merge3([]byte(tt.base), []byte(tt.ours), []byte(tt.theirs))), tt.want)
		})
	}
}
