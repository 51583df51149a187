package live

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/config"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The cluster in these tests is deployed the way Flux does it: server-side
// apply, forced, as kustomize-controller. Then people and controllers
// change it.

func TestDrift(t *testing.T) {
	c := testCluster(t)
	ns := newNamespace(t, "drift")
	flux := writer(t, "kustomize-controller")

	web := inNS(t, deployment, ns)
	web.SetLabels(map[string]string{"app": "web", "team": "payments"})
	settings := inNS(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: settings, namespace: NS}, data: {level: info}}`, ns)
	deleted := inNS(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: deleted, namespace: NS}, data: {a: b}}`, ns)
	base := []*unstructured.Unstructured{web, inNS(t, service, ns), settings, deleted}
	for _, u := range base {
		flux.apply(u.DeepCopy())
	}

	t.Run("a cluster as git left it has no drift", func(t *testing.T) {
		r, err := Drift(ctx(t), c, base, "")
		if err != nil {
			t.Fatal(err)
		}
		assertReport(t, r, strings.ReplaceAll(`
unchanged ConfigMap NS/deleted
unchanged ConfigMap NS/settings
unchanged Service NS/web
unchanged Deployment.apps NS/web
`, "NS", ns))
	})

	// kubectl edit: replicas up, a label removed; kubectl delete of a ConfigMap.
	live := writer(t, "kubectl-edit").edit(web, func(u *unstructured.Unstructured) {
		u.SetLabels(map[string]string{"app": "web"})
		if err := unstructured.SetNestedField(u.Object, int64(5), "spec", "replicas"); err != nil {
			t.Fatal(err)
		}
	})
	edited := managerTime(t, live, "kubectl-edit")
	writer(t, "kubectl").remove(deleted)

	r, err := Drift(ctx(t), c, base, "")
	if err != nil {
		t.Fatal(err)
	}
	// managedFields record who owns a field, not who removed one: the
	// removed label has no owner to name.
	assertReport(t, r, strings.ReplaceAll(`
missing ConfigMap NS/deleted
unchanged ConfigMap NS/settings
unchanged Service NS/web
changed Deployment.apps NS/web
  /metadata/labels/team: not in the cluster, "payments" in git
  /spec/replicas: 5 in the cluster, 2 in git; changed by kubectl-edit (Update) at <time>
`, "NS", ns))

	t.Run("the edit is attributed to its manager and time", func(t *testing.T) {
		f := r.Objects[3].Fields[1]
		want := Owner{Manager: "kubectl-edit", Operation: "Update", Time: edited}
		if len(f.Owners) != 1 || f.Owners[0] != want {
			t.Fatalf("owners of %s: %v, want %v", f.Pointer, f.Owners, want)
		}
		wantText := "/spec/replicas: 5 in the cluster, 2 in git; changed by kubectl-edit (Update) at " + edited.Format(time.RFC3339)
		if f.String() != wantText {
			t.Errorf("got  %s\nwant %s", f, wantText)
		}
		if f.Live != int64(5) || f.Desired != int64(2) || !f.InLive || !f.InDesired {
			t.Errorf("values: %#v → %#v", f.Live, f.Desired)
		}
	})
}

// rules parses the drift section of a .gitward.yaml, so that the rules have
// the defaults and checks of the real configuration.
func rules(t *testing.T, y string) []config.IgnoreRule {
	t.Helper()
	repo, err := config.ParseRepo(".gitward.yaml", []byte("version: 1\ndrift:\n  ignore:\n"+y))
	if err != nil {
		t.Fatal(err)
	}
	return repo.Drift.Ignore
}

func TestDriftIgnoreRules(t *testing.T) {
	c := testCluster(t)
	ns := newNamespace(t, "ignore")
	flux := writer(t, "kustomize-controller")
	hpa := writer(t, "kube-controller-manager")

	var base []*unstructured.Unstructured
	for _, name := range []string{"api", "web", "worker"} {
		d := inNS(t, strings.ReplaceAll(deployment, "web", name), ns)
		flux.apply(d.DeepCopy())
		hpa.scale(d, 4) // the autoscaler, through /scale
		base = append(base, d)
	}
	writer(t, "kubectl-edit").edit(base[0], func(u *unstructured.Unstructured) {
		containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		containers[0].(map[string]any)["image"] = "ghcr.io/stefanprodan/podinfo:6.5.1-hotfix"
		if err := unstructured.SetNestedSlice(u.Object, containers, "spec", "template", "spec", "containers"); err != nil {
			t.Fatal(err)
		}
	})

	// The API server records no time for writes through /scale.
	replicas := `  /spec/replicas: 4 in the cluster, 2 in git; changed by kube-controller-manager (Update of /scale)` + "\n"
	image := `  /spec/template/spec/containers/0/image: "ghcr.io/stefanprodan/podinfo:6.5.1-hotfix" in the cluster, "ghcr.io/stefanprodan/podinfo:6.5.0" in git; changed by kubectl-edit (Update) at <time>` + "\n"

	tests := []struct {
		name  string
		rules string
		want  string
	}{
		{"without rules, the autoscaler's replicas are drift", "", `
changed Deployment.apps NS/api
` + replicas + image + `changed Deployment.apps NS/web
` + replicas + `changed Deployment.apps NS/worker
` + replicas},
		{"a rule by field manager hides what the autoscaler wrote, and counts it", `
  - name: hpa-replicas
    match: {group: apps, kind: Deployment}
    field_managers: [kube-controller-manager]
`, `
changed Deployment.apps NS/api [1 field hidden by rule hpa-replicas]
` + image + `unchanged Deployment.apps NS/web [1 field hidden by rule hpa-replicas]
unchanged Deployment.apps NS/worker [1 field hidden by rule hpa-replicas]
3 fields hidden by rule hpa-replicas
`},
		{"a rule by pointer hides that field of the objects it matches", `
  - name: api-image
    match: {name: api}
    json_pointers: [/spec/template/spec/containers]
  - name: replicas
    match: {kind: Deployment, name: "w*"}
    json_pointers: [/spec/replicas]
`, `
changed Deployment.apps NS/api [1 field hidden by rule api-image]
` + replicas + `unchanged Deployment.apps NS/web [1 field hidden by rule replicas]
unchanged Deployment.apps NS/worker [1 field hidden by rule replicas]
1 field hidden by rule api-image
2 fields hidden by rule replicas
`},
		{"a rule with pointers and managers needs both", `
  - name: edited-replicas
    json_pointers: [/spec/replicas]
    field_managers: [kubectl-edit]
`, `
changed Deployment.apps NS/api
` + replicas + image + `changed Deployment.apps NS/web
` + replicas + `changed Deployment.apps NS/worker
` + replicas},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rs []config.IgnoreRule
			if tt.rules != "" {
				rs = rules(t, tt.rules)
			}
			r, err := Drift(ctx(t), c, base, "", rs...)
			if err != nil {
				t.Fatal(err)
			}
			assertReport(t, r, strings.ReplaceAll(tt.want, "NS", ns))
		})
	}
}

func TestDriftSecret(t *testing.T) {
	c := testCluster(t)
	ns := newNamespace(t, "secret")
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	const (
		inGit      = "correct-horse-battery"
		byHand     = "hunter2-rotated-by-hand"
		user       = "payments-admin"
		addedValue = "added-by-hand-value"
	)
	deployed := inNS(t, fmt.Sprintf(`
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: NS}
data: {password: %s, user: %s}
`, b64(inGit), b64(user)), ns)
	writer(t, "kustomize-controller").apply(deployed)
	writer(t, "kubectl-edit").edit(deployed, func(u *unstructured.Unstructured) {
		data := u.Object["data"].(map[string]any)
		data["password"] = b64(byHand)
		delete(data, "user")
		data["added"] = b64(addedValue)
		u.SetAnnotations(map[string]string{lastApplied: `{"data":{"password":"` + b64(byHand) + `"}}`})
	})

	// git holds the same Secret with stringData, as people write it.
	base := []*unstructured.Unstructured{inNS(t, fmt.Sprintf(`
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: NS}
stringData: {password: %s, user: %s}
`, inGit, user), ns)}
	r, err := Drift(ctx(t), c, base, "")
	if err != nil {
		t.Fatal(err)
	}
	// A key added by hand is not drift: git does not set it, and an apply
	// leaves it alone.
	assertReport(t, r, strings.ReplaceAll(`
changed Secret NS/db
  /data/password: value differs (hidden); changed by kubectl-edit (Update) at <time>
  /data/user: not in the cluster (value hidden)
`, "NS", ns))

	everything := fmt.Sprintf("%#v\n%s", r, report(r))
	for _, v := range []string{inGit, byHand, user, addedValue} {
		for _, form := range []string{v, b64(v)} {
			if strings.Contains(everything, form) {
				t.Errorf("the result holds the Secret value %q", form)
			}
		}
	}
}
