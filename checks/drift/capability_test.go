package drift_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitward/gitward/checks/diff"
	"github.com/gitward/gitward/checks/drift"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/forgetest"
	"github.com/gitward/gitward/internal/livetest"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/render"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

func TestMain(m *testing.M) { livetest.Main(m) }

func deployment(ns, tag string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: %s
spec:
  replicas: 2
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:%s
`, ns, tag)
}

// clusters hands out the test API server under any name but "nowhere".
type clusters struct{ c *live.Cluster }

func (c clusters) Cluster(name string) (*live.Cluster, error) {
	if name == "nowhere" {
		return nil, fmt.Errorf("cluster %q is not configured on this gitward server (server config: clusters)", name)
	}
	return c.c, nil
}

type fixture struct {
	t    *testing.T
	base map[string]string
	f    *forgetest.Fake
	ref  forge.PRRef
	cap  *drift.Capability
	dyn  dynamic.Interface
	ns   string
}

var deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

// namespaces numbers the fixtures' namespaces: the test API server lives
// as long as the test binary, which may run each test more than once.
var namespaces atomic.Int64

// newFixture seeds a pull request that bumps podinfo's image in a namespace
// of its own named after prefix, with policy as .gitward.yaml, and a
// cluster where the base version runs (applied by a kubectl-like client).
func newFixture(t *testing.T, prefix, policy string) *fixture {
	t.Helper()
	ns := fmt.Sprintf("%s-%d", prefix, namespaces.Add(1))
	cfg := livetest.Config(t)
	cl, err := live.New("test", cfg, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := forgetest.New(t)
	repo := f.AddRepo("octo-org/clusters", "main")
	base := map[string]string{
		".gitward.yaml":                   policy,
		"apps/podinfo/kustomization.yaml": "resources:\n  - deployment.yaml\n",
		"apps/podinfo/deployment.yaml":    deployment(ns, "6.5.0"),
	}
	baseSHA := f.Push(repo, "main", forgetest.Commit{Files: base})
	f.Push(repo, "bump", forgetest.Commit{Parent: baseSHA, Files: map[string]string{"apps/podinfo/deployment.yaml": deployment(ns, "6.6.0")}})
	ref := f.OpenPullRequest(repo, forgetest.PullRequest{Title: "bump", Author: forge.User{Login: "alice"}, Head: "bump"})

	ctx := t.Context()
	nsObj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
	if _, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Create(ctx, nsObj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	objs, err := live.Decode([]byte(deployment(ns, "6.5.0")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(deployments).Namespace(ns).Create(ctx, objs[0], metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
		t.Fatal(err)
	}
	engine := &diff.Engine{Renderer: render.NewRenderer(render.Options{})}
	return &fixture{t: t, base: base, f: f, cap: drift.New(engine, clusters{cl}), dyn: dyn, ns: ns, ref: ref}
}

// setHead makes the pull request's head a commit on the base whose tree is
// the base tree changed by change.
func (fx *fixture) setHead(change func(head map[string]string)) {
	fx.t.Helper()
	head := maps.Clone(fx.base)
	change(head)
	pr, err := fx.f.PullRequest(fx.t.Context(), fx.ref)
	if err != nil {
		fx.t.Fatal(err)
	}
	fx.f.ForcePush(fx.ref.Repo, "bump", pr.BaseSHA)
	fx.f.Push(fx.ref.Repo, "bump", forgetest.Commit{Files: head})
}

// scaleByHand changes replicas the way `kubectl edit` does.
func (fx *fixture) scaleByHand(ctx context.Context, replicas int) {
	fx.t.Helper()
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	if _, err := fx.dyn.Resource(deployments).Namespace(fx.ns).Patch(ctx, "podinfo", types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		fx.t.Fatal(err)
	}
}

func (fx *fixture) evaluate() {
	fx.t.Helper()
	e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{fx.cap}, Backoff: time.Millisecond}
	if err := e.Evaluate(fx.t.Context(), fx.f, fx.ref); err != nil {
		fx.t.Fatal(err)
	}
}

// check returns the one check run on the pull request's head.
func (fx *fixture) check() forge.CheckRun {
	fx.t.Helper()
	pr, err := fx.f.PullRequest(fx.t.Context(), fx.ref)
	if err != nil {
		fx.t.Fatal(err)
	}
	runs, err := fx.f.CheckRuns(fx.t.Context(), fx.ref.Repo, pr.HeadSHA)
	if err != nil {
		fx.t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Name != "gitward/drift" {
		fx.t.Fatalf("check runs: %+v", runs)
	}
	return runs[0]
}

func (fx *fixture) comments() []forge.Comment {
	fx.t.Helper()
	cs, err := fx.f.Comments(fx.t.Context(), fx.ref.Thread())
	if err != nil {
		fx.t.Fatal(err)
	}
	return cs
}

func policy(mode string) string {
	return "version: 1\nclusters:\n  - name: test\n    paths: [\"apps/**\"]\ndrift:\n  mode: " + mode + "\n"
}

func TestNoDriftPassesAndShowsWhatMergingChanges(t *testing.T) {
	fx := newFixture(t, "drift-none", policy("enforce"))
	fx.evaluate()
	run := fx.check()
	if run.Conclusion != forge.ConclusionSuccess || !strings.Contains(run.Title, "No drift") {
		t.Fatalf("check = %s %q\n%s", run.Conclusion, run.Title, run.Summary)
	}
	if !strings.Contains(run.Summary, "/spec/template/spec/containers/0/image") || !strings.Contains(run.Summary, "6.6.0") {
		t.Errorf("summary does not show the planned image change:\n%s", run.Summary)
	}
	for _, defaulted := range []string{"/spec/strategy", "/spec/revisionHistoryLimit", "terminationMessagePath"} {
		if strings.Contains(run.Summary, defaulted) {
			t.Errorf("a field the API server defaults shows as a change: %s\n%s", defaulted, run.Summary)
		}
	}
	comments := fx.comments()
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "## gitward · live changes") {
		t.Errorf("the sticky comment lacks the live changes: %+v", comments)
	}
}

func TestDriftIsAttributedAndJudgedByTheMode(t *testing.T) {
	for _, tc := range []struct {
		mode       string
		conclusion forge.Conclusion
	}{{"notify", forge.ConclusionNeutral}, {"enforce", forge.ConclusionFailure}} {
		t.Run(tc.mode, func(t *testing.T) {
			fx := newFixture(t, "drift-"+tc.mode, policy(tc.mode))
			fx.scaleByHand(t.Context(), 5)
			fx.evaluate()
			run := fx.check()
			t.Logf("%s\n%s", run.Title, run.Summary)
			if run.Conclusion != tc.conclusion {
				t.Fatalf("conclusion %s, want %s\n%s", run.Conclusion, tc.conclusion, run.Summary)
			}
			if !strings.Contains(run.Summary, "/spec/replicas: 5 in the cluster, 2 in git") || !strings.Contains(run.Summary, "kubectl-edit (Update)") {
				t.Errorf("drift is not shown with its attribution:\n%s", run.Summary)
			}
		})
	}
}

func TestIgnoreRulesHideExpectedChangesAndSaySo(t *testing.T) {
	p := policy("enforce") + "  ignore:\n    - name: hand-scaling\n      match:\n        kind: Deployment\n      json_pointers: [\"/spec/replicas\"]\n      field_managers: [kubectl-edit]\n"
	fx := newFixture(t, "drift-ignored", p)
	fx.scaleByHand(t.Context(), 4)
	fx.evaluate()
	run := fx.check()
	if run.Conclusion != forge.ConclusionSuccess {
		t.Fatalf("conclusion %s, want success with the drift hidden\n%s", run.Conclusion, run.Summary)
	}
	if !strings.Contains(run.Summary, "hidden by rule hand-scaling") {
		t.Errorf("the hidden field is not counted:\n%s", run.Summary)
	}
}

func TestAClusterThatCannotBeAskedIsNeverGreen(t *testing.T) {
	for _, tc := range []struct {
		mode       string
		conclusion forge.Conclusion
	}{{"notify", forge.ConclusionNeutral}, {"enforce", forge.ConclusionFailure}} {
		t.Run(tc.mode, func(t *testing.T) {
			p := "version: 1\nclusters:\n  - name: nowhere\n    paths: [\"apps/**\"]\ndrift:\n  mode: " + tc.mode + "\n"
			fx := newFixture(t, "drift-nowhere-"+tc.mode, p)
			fx.evaluate()
			run := fx.check()
			if run.Conclusion != tc.conclusion || !strings.Contains(run.Summary, `cluster "nowhere" is not configured`) {
				t.Errorf("check = %s %q\n%s", run.Conclusion, run.Title, run.Summary)
			}
		})
	}
}

func TestDriftInAnOpenBreakGlassWindowIsExpected(t *testing.T) {
	p := policy("enforce") + "break_glass:\n  responders:\n    users: [oncall]\n"
	fx := newFixture(t, "drift-breakglass", p)
	fx.f.SetPermission(fx.ref.Repo, "oncall", forge.PermissionWrite)
	fx.f.SetPermission(fx.ref.Repo, "intruder", forge.PermissionWrite)
	fx.scaleByHand(t.Context(), 3)
	now := time.Now()
	open := fx.f.AddIssue(fx.ref.Repo, forge.Issue{Title: "Payments down", State: "open", Labels: []string{"break-glass"}})
	incident := forge.IssueThread(fx.ref.Repo, open)
	oncall := forge.User{Login: "oncall"}
	fx.f.AddComment(incident, forge.Comment{User: forge.User{Login: "intruder"}, Body: "/breakglass test me too", CreatedAt: now.Add(-2 * time.Minute), UpdatedAt: now.Add(-2 * time.Minute)})

	// Only a responder's window counts.
	fx.evaluate()
	if run := fx.check(); run.Conclusion != forge.ConclusionFailure {
		t.Fatalf("a non-responder's window made drift expected: %s %q", run.Conclusion, run.Title)
	}

	fx.f.AddComment(incident, forge.Comment{User: oncall, Body: "/breakglass test scaling by hand for 30m", CreatedAt: now.Add(-time.Minute), UpdatedAt: now.Add(-time.Minute)})
	fx.evaluate()
	run := fx.check()
	if run.Conclusion != forge.ConclusionSuccess || !strings.Contains(run.Title, "expected drift") {
		t.Fatalf("drift in an open window: %s %q\n%s", run.Conclusion, run.Title, run.Summary)
	}
	want := fmt.Sprintf("expected during incident #%d", open)
	if !strings.Contains(run.Summary, want) || !strings.Contains(run.Summary, "/spec/replicas: 3 in the cluster, 2 in git") {
		t.Errorf("the expected drift is not shown linked to the incident:\n%s", run.Summary)
	}

	// Once the window is ended, the drift fails again.
	fx.f.AddComment(incident, forge.Comment{User: oncall, Body: "/breakglass end", CreatedAt: now, UpdatedAt: now})
	fx.evaluate()
	if run := fx.check(); run.Conclusion != forge.ConclusionFailure {
		t.Errorf("drift after the window ended: %s %q", run.Conclusion, run.Title)
	}
}

// limitedUser returns a connection to the test API server as a user RBAC
// lets get and patch Deployments in namespace ns, and nothing else.
func limitedUser(t *testing.T, fx *fixture, name string) *live.Cluster {
	t.Helper()
	user, err := livetest.Env(t).AddUser(envtest.User{Name: name}, nil)
	if err != nil {
		t.Fatal(err)
	}
	role := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
		"metadata": map[string]any{"name": "apply-deployments", "namespace": fx.ns},
		"rules":    []any{map[string]any{"apiGroups": []any{"apps"}, "resources": []any{"deployments"}, "verbs": []any{"get", "patch"}}},
	}}
	binding := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
		"metadata": map[string]any{"name": name, "namespace": fx.ns},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "apply-deployments"},
		"subjects": []any{map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}},
	}}
	for _, o := range []*unstructured.Unstructured{role, binding} {
		gvr := schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: strings.ToLower(o.GetKind()) + "s"}
		if _, err := fx.dyn.Resource(gvr).Namespace(fx.ns).Create(t.Context(), o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The authorizer sees a new binding through an informer: wait until
	// the user may read the Deployment.
	dyn, err := dynamic.NewForConfig(user.Config())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := dyn.Resource(deployments).Namespace(fx.ns).Get(t.Context(), "podinfo", metav1.GetOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsForbidden(err) || time.Now().After(deadline) {
			t.Fatalf("the limited user cannot read the Deployment: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cl, err := live.New("test", user.Config(), 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// A plan the cluster refuses is never green: merging it would fail to
// apply. Each way the cluster refuses is tried in both drift modes.
func TestARefusedPlanIsNeverGreen(t *testing.T) {
	for _, refusal := range []struct {
		name string
		// head changes the head tree; ns is the fixture's namespace.
		head func(head map[string]string, ns string)
		// limited connects as a user without rights to the head-only kind.
		limited bool
		// title is what the check's title says fails, after the count.
		title func(ns string) string
	}{
		{
			name: "invalid",
			head: func(head map[string]string, ns string) {
				head["apps/podinfo/deployment.yaml"] = strings.Replace(deployment(ns, "6.6.0"), "replicas: 2", "replicas: -1", 1)
			},
			title: func(ns string) string {
				return "Deployment.apps " + ns + "/podinfo (spec.replicas: Invalid value: -1: must be greater than or equal to 0)"
			},
		},
		{
			name: "unserved",
			head: func(head map[string]string, ns string) {
				head["apps/podinfo/kustomization.yaml"] = "resources:\n  - deployment.yaml\n  - widget.yaml\n"
				head["apps/podinfo/widget.yaml"] = "apiVersion: unserved.gitward.test/v1\nkind: Widget\nmetadata:\n  name: gear\n  namespace: " + ns + "\nspec:\n  size: 3\n"
			},
			title: func(ns string) string {
				return "Widget.unserved.gitward.test " + ns + "/gear (the cluster does not serve Widget unserved.gitward.test/v1; is its CustomResourceDefinition installed?)"
			},
		},
		{
			name:    "forbidden",
			limited: true,
			head: func(head map[string]string, ns string) {
				head["apps/podinfo/kustomization.yaml"] = "resources:\n  - deployment.yaml\n  - settings.yaml\n"
				head["apps/podinfo/settings.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: " + ns + "\ndata:\n  level: debug\n"
			},
			title: func(ns string) string {
				return "ConfigMap " + ns + "/settings (forbidden: gitward needs get on configmaps in namespace " + ns + ")"
			},
		},
	} {
		for _, mode := range []struct {
			name       string
			conclusion forge.Conclusion
		}{{"notify", forge.ConclusionNeutral}, {"enforce", forge.ConclusionFailure}} {
			t.Run(refusal.name+"/"+mode.name, func(t *testing.T) {
				fx := newFixture(t, "refused-"+refusal.name+"-"+mode.name, policy(mode.name))
				fx.setHead(func(head map[string]string) { refusal.head(head, fx.ns) })
				if refusal.limited {
					fx.cap.Clusters = clusters{limitedUser(t, fx, "gitward-limited-"+mode.name)}
				}
				fx.evaluate()
				run := fx.check()
				want := "Merging would fail to apply 1 object: " + refusal.title(fx.ns)
				if run.Conclusion != mode.conclusion || run.Title != want {
					t.Fatalf("check = %s %q\nwant    %s %q\n%s", run.Conclusion, run.Title, mode.conclusion, want, run.Summary)
				}
				if !strings.Contains(run.Summary, "What merging would fail to apply") || !strings.Contains(run.Summary, "Drift mode is `"+mode.name+"`") {
					t.Errorf("the summary does not say what fails and what the mode makes of it:\n%s", run.Summary)
				}
				comments := fx.comments()
				if len(comments) != 1 {
					t.Fatalf("want one sticky comment, got %d", len(comments))
				}
				body := comments[0].Body
				if strings.Contains(body, "change nothing") || !strings.Contains(body, "❌ fail to apply 1 object") {
					t.Errorf("the live changes hide the refusal:\n%s", body)
				}
			})
		}
	}
}
