package live

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// report is a Result as lines a test can compare: one per object, then one
// per field, indented, with managedFields times replaced by <time>.
func report(r *Result) string {
	var b strings.Builder
	for _, o := range r.Objects {
		fmt.Fprintf(&b, "%s %s", o.Action, o.ID.Describe())
		if o.Note != "" {
			fmt.Fprintf(&b, " (%s)", o.Note)
		}
		for _, h := range o.Hidden {
			fmt.Fprintf(&b, " [%s]", h)
		}
		if o.Err != nil {
			fmt.Fprintf(&b, ": %v", o.Err)
		}
		b.WriteString("\n")
		for _, f := range o.Fields {
			fmt.Fprintf(&b, "  %s\n", f)
		}
	}
	for _, h := range r.Hidden {
		fmt.Fprintf(&b, "%s\n", h)
	}
	return rfc3339.ReplaceAllString(b.String(), "<time>")
}

var rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)

func assertReport(t *testing.T, r *Result, want string) {
	t.Helper()
	want = strings.TrimLeft(want, "\n")
	if got := report(r); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
}

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: NS
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ghcr.io/stefanprodan/podinfo:6.5.0
        ports:
        - containerPort: 9898
`

const service = `
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: NS
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 9898
`

// inNS parses a test object and puts it in namespace ns.
func inNS(t testing.TB, y, ns string) *unstructured.Unstructured {
	t.Helper()
	return obj(t, strings.ReplaceAll(y, "NS", ns))
}

func TestPlan(t *testing.T) {
	c := testCluster(t)
	ns := newNamespace(t, "plan")
	csa := writer(t, "kubectl-client-side-apply")

	// The cluster as client-side `kubectl apply` left it: every object with
	// its last-applied annotation, the Deployment and Service defaulted by the
	// server (strategy, revisionHistoryLimit, clusterIP, protocol, ...).
	live := []string{deployment, service, `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: NS}
data: {level: info, color: blue}
`, `
apiVersion: v1
kind: ConfigMap
metadata: {name: retired, namespace: NS}
data: {x: "1"}
`}
	for _, y := range live {
		u := inNS(t, y, ns)
		u.SetAnnotations(map[string]string{lastApplied: `{"note":"what kubectl applied"}`})
		csa.create(u)
	}

	head := []*unstructured.Unstructured{
		inNS(t, deployment, ns), // as applied: the defaults are not changes
		inNS(t, service, ns),    // the clusterIP the server chose is not a change
		inNS(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: NS}
data: {level: debug, color: blue}
`, ns),
		inNS(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: fresh, namespace: NS}
data: {a: b}
`, ns),
	}
	head = append(head, inNS(t, `
apiVersion: v1
kind: Secret
metadata: {name: encrypted, namespace: NS}
data: {password: "ENC[AES256_GCM,data:Tr7o=,iv:1=,tag:2=,type:str]"}
sops: {mac: "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]", lastmodified: "2026-11-26T10:00:00Z"}
`, ns))
	prune := []*unstructured.Unstructured{
		inNS(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: retired, namespace: NS}}`, ns),
		inNS(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: never-deployed, namespace: NS}}`, ns),
	}

	r, err := Plan(ctx(t), c, head, prune, "")
	if err != nil {
		t.Fatal(err)
	}
	assertReport(t, r, strings.ReplaceAll(`
created ConfigMap NS/fresh
pruned ConfigMap NS/retired
changed ConfigMap NS/settings
  /data/level: "info" in the cluster, "debug" in git; changed by kubectl-client-side-apply (Update) at <time>
skipped Secret NS/encrypted (encrypted with SOPS; the cluster holds the decrypted values, so it is not compared)
unchanged Service NS/web
unchanged Deployment.apps NS/web
`, "NS", ns))
	if r.Count(Created) != 1 || r.Count(Changed) != 1 || r.Count(Unchanged) != 2 || r.Count(Pruned) != 1 || r.Err() != nil {
		t.Errorf("counts: created %d changed %d unchanged %d pruned %d, err %v",
			r.Count(Created), r.Count(Changed), r.Count(Unchanged), r.Count(Pruned), r.Err())
	}

	t.Run("a new image is one field of one container", func(t *testing.T) {
		d := inNS(t, strings.Replace(deployment, "6.5.0", "6.6.0", 1), ns)
		r, err := Plan(ctx(t), c, []*unstructured.Unstructured{d}, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		assertReport(t, r, strings.ReplaceAll(`
changed Deployment.apps NS/web
  /spec/template/spec/containers/0/image: "ghcr.io/stefanprodan/podinfo:6.5.0" in the cluster, "ghcr.io/stefanprodan/podinfo:6.6.0" in git; changed by kubectl-client-side-apply (Update) at <time>
`, "NS", ns))
	})

	t.Run("objects without a namespace go to the default namespace", func(t *testing.T) {
		cm := obj(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: settings}, data: {level: info, color: blue}}`)
		r, err := Plan(ctx(t), c, []*unstructured.Unstructured{cm}, nil, ns)
		if err != nil {
			t.Fatal(err)
		}
		assertReport(t, r, "unchanged ConfigMap "+ns+"/settings\n")
	})
}

func TestPlanNewKindsAndNamespaces(t *testing.T) {
	c := testCluster(t)
	ns := newNamespace(t, "kinds")
	// CRDs are cluster-wide and outlive one run of the test: each run
	// defines a group of its own.
	group := ns + ".example.gitward.dev"
	crd := strings.ReplaceAll(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.GROUP}
spec:
  group: GROUP
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, default: 1}
              color: {type: string}
`, "GROUP", group)
	widget := strings.ReplaceAll(`
apiVersion: GROUP/v1
kind: Widget
metadata: {name: w, namespace: NS}
spec: {color: red}
`, "GROUP", group)
	fresh := "brand-new-" + ns
	head := []*unstructured.Unstructured{
		obj(t, crd),
		inNS(t, widget, ns),
		obj(t, `{apiVersion: v1, kind: Namespace, metadata: {name: `+fresh+`}}`),
		obj(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: `+fresh+`}}`),
		obj(t, `{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: `+ns+`-reader}, rules: []}`),
	}

	t.Run("before the CRD and the namespace exist", func(t *testing.T) {
		r, err := Plan(ctx(t), c, head, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		assertReport(t, r, strings.NewReplacer("NS", ns, "FRESH", fresh, "GROUP", group).Replace(`
created ConfigMap FRESH/c (namespace FRESH does not exist yet, so it was not dry-run)
created Namespace FRESH
created CustomResourceDefinition.apiextensions.k8s.io widgets.GROUP
created Widget.GROUP NS/w (its CustomResourceDefinition is not in the cluster yet, so it was not dry-run)
created ClusterRole.rbac.authorization.k8s.io NS-reader
`))
	})

	t.Run("a kind nobody defines fails the object", func(t *testing.T) {
		r, err := Plan(ctx(t), c, head[1:2], nil, "")
		if err != nil {
			t.Fatal(err)
		}
		assertReport(t, r, strings.NewReplacer("NS", ns, "GROUP", group).Replace(`
failed Widget.GROUP NS/w: cluster envtest: map Widget.GROUP NS/w: the cluster does not serve Widget GROUP/v1; is its CustomResourceDefinition installed?
`))
	})

	t.Run("once they exist, the custom resource's defaults are not changes either", func(t *testing.T) {
		csa := writer(t, "kubectl-client-side-apply")
		for _, u := range head {
			if u.GetKind() != "Widget" {
				csa.create(u.DeepCopy())
			}
		}
		waitForKind(t, c, group, "Widget")
		csa.create(inNS(t, widget, ns))
		r, err := Plan(ctx(t), c, head, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		assertReport(t, r, strings.NewReplacer("NS", ns, "FRESH", fresh, "GROUP", group).Replace(`
unchanged ConfigMap FRESH/c
unchanged Namespace FRESH
unchanged CustomResourceDefinition.apiextensions.k8s.io widgets.GROUP
unchanged Widget.GROUP NS/w
unchanged ClusterRole.rbac.authorization.k8s.io NS-reader
`))
	})
}

// waitForKind waits until the cluster serves a kind whose CRD was just
// created.
func waitForKind(t *testing.T, c *Cluster, group, kind string) {
	t.Helper()
	gvk := schema.GroupVersionKind{Group: group, Version: "v1", Kind: kind}
	for i := 0; ; i++ {
		c.mapper.Reset()
		if _, err := c.resolve(gvk); err == nil {
			return
		} else if i == 100 {
			t.Fatalf("the cluster does not serve %s after 10s: %v", kind, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
