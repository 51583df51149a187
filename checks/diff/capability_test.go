package diff_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitward/gitward/checks/changecontrol"
	"github.com/gitward/gitward/checks/diff"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/forgetest"
	"github.com/gitward/gitward/render"
)

// baseTree is a small GitOps repository: a shared base, two overlays of
// it, and an unrelated app.
var baseTree = map[string]string{
	"README.md":                       "# clusters\n",
	"base/podinfo/kustomization.yaml": "resources:\n  - deployment.yaml\n  - secret.yaml\n",
	"base/podinfo/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.5.0
`,
	"base/podinfo/secret.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: podinfo-db
stringData:
  password: hunter2-original
`,
	"apps/staging/kustomization.yaml": "namespace: staging\nresources:\n  - ../../base/podinfo\n",
	"apps/prod/kustomization.yaml":    "namespace: prod\nresources:\n  - ../../base/podinfo\nreplicas:\n  - name: podinfo\n    count: 3\n",
	"apps/other/kustomization.yaml":   "configMapGenerator:\n  - name: other\n    literals: [a=1]\n",
	".gitward.yaml":                   "version: 1\ndiscovery:\n  exclude: [\"base/**\"]\n",
}

type fixture struct {
	t    *testing.T
	fake *forgetest.Fake
	f    forge.Forge // the fake, or a wrapper of it
	ref  forge.PRRef
	head string // the pull request's head when the fixture was made
	cap  *diff.Capability
}

// newFixture seeds a pull request whose head tree is baseTree with edits
// applied (an empty value deletes a file).
func newFixture(t *testing.T, edits map[string]string) *fixture {
	t.Helper()
	f := forgetest.New(t)
	repo := f.AddRepo("octo-org/clusters", "main")
	base := f.Push(repo, "main", forgetest.Commit{Files: baseTree})
	change := forgetest.Commit{Parent: base, Files: map[string]string{}}
	for p, c := range edits {
		if c == "" {
			change.Remove = append(change.Remove, p)
		} else {
			change.Files[p] = c
		}
	}
	head := f.Push(repo, "change", change)
	ref := f.OpenPullRequest(repo, forgetest.PullRequest{Title: "change", Author: forge.User{Login: "alice"}, Head: "change"})
	c := diff.New(&diff.Engine{Renderer: render.NewRenderer(render.Options{CacheSize: 64 << 20})})
	return &fixture{t: t, fake: f, f: f, ref: ref, head: head, cap: c}
}

func (fx *fixture) evaluate() error {
	e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{fx.cap}, Backoff: time.Millisecond}
	return e.Evaluate(fx.t.Context(), fx.f, fx.ref)
}

func (fx *fixture) comments() []forge.Comment {
	fx.t.Helper()
	cs, err := fx.fake.Comments(fx.t.Context(), fx.ref.Thread())
	if err != nil {
		fx.t.Fatal(err)
	}
	return cs
}

// check returns the one check run on the head the fixture was made with.
func (fx *fixture) check() forge.CheckRun {
	fx.t.Helper()
	runs, err := fx.fake.CheckRuns(fx.t.Context(), fx.ref.Repo, fx.head)
	if err != nil {
		fx.t.Fatal(err)
	}
	if len(runs) != 1 {
		fx.t.Fatalf("got %d check runs, want one gitward/diff updated in place", len(runs))
	}
	return runs[0]
}

func TestAChangeToASharedBaseReRendersEveryOverlay(t *testing.T) {
	fx := newFixture(t, map[string]string{
		"base/podinfo/deployment.yaml": strings.Replace(baseTree["base/podinfo/deployment.yaml"], "6.5.0", "6.6.0", 1),
	})
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	cs := fx.comments()
	if len(cs) != 1 {
		t.Fatalf("got %d comments, want one", len(cs))
	}
	body := cs[0].Body
	for _, want := range []string{"`apps/prod`", "`apps/staging`", "-        - image: ghcr.io/stefanprodan/podinfo:6.5.0", "+        - image: ghcr.io/stefanprodan/podinfo:6.6.0", "2 apps affected"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "apps/other") {
		t.Error("an app that reads nothing changed was rendered")
	}
	run := fx.check()
	if run.Name != "gitward/diff" || run.Conclusion != forge.ConclusionSuccess || !strings.Contains(run.Title, "2 affected apps render") {
		t.Errorf("check = %s %s %q", run.Name, run.Conclusion, run.Title)
	}
}

func TestSecretValuesNeverReachTheComment(t *testing.T) {
	fx := newFixture(t, map[string]string{
		"base/podinfo/secret.yaml": strings.Replace(baseTree["base/podinfo/secret.yaml"], "hunter2-original", "hunter3-rotated", 1),
	})
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	all := fmt.Sprint(fx.comments(), fx.check())
	for _, v := range []string{"hunter2-original", "hunter3-rotated", "aHVudGVyMi1vcmlnaW5hbA", "aHVudGVyMy1yb3RhdGVk"} {
		if strings.Contains(all, v) {
			t.Errorf("the secret value %q was published", v)
		}
	}
	if !strings.Contains(fx.comments()[0].Body, "changed `password`") {
		t.Errorf("the comment does not say which key changed:\n%s", fx.comments()[0].Body)
	}
}

func TestAnAppThatNoLongerRendersFailsTheCheckWithItsFile(t *testing.T) {
	fx := newFixture(t, map[string]string{
		"apps/prod/kustomization.yaml": "namespace: prod\nresources:\n  - ../../base/podinfo\n  - missing.yaml\n",
	})
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	run := fx.check()
	if run.Conclusion != forge.ConclusionFailure {
		t.Fatalf("conclusion %s, want failure", run.Conclusion)
	}
	if !strings.Contains(run.Summary, "missing.yaml") {
		t.Errorf("summary does not name the missing file:\n%s", run.Summary)
	}
	if len(run.Annotations) != 1 || !strings.HasPrefix(run.Annotations[0].Path, "apps/prod/") {
		t.Errorf("annotations = %+v, want one on the prod overlay", run.Annotations)
	}
	if !strings.Contains(fx.comments()[0].Body, "render failed at head") {
		t.Error("the comment does not show the failure")
	}
}

func TestNoAffectedAppMeansNoCommentUntilThereWasOne(t *testing.T) {
	fx := newFixture(t, map[string]string{"README.md": "# clusters, documented\n"})
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	if n := len(fx.comments()); n != 0 {
		t.Errorf("a change that affects no app got %d comments", n)
	}
	if run := fx.check(); run.Conclusion != forge.ConclusionSuccess || !strings.Contains(run.Title, "No app is affected") {
		t.Errorf("check = %s %q", run.Conclusion, run.Title)
	}

	// An earlier comment is kept current rather than left stale.
	if _, err := fx.f.CreateComment(t.Context(), fx.ref.Thread(), diff.Sticky.Marker(1, 1)+"old diff"); err != nil {
		t.Fatal(err)
	}
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	cs := fx.comments()
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "no app renders differently") {
		t.Errorf("comments = %+v", cs)
	}
}

// movingHead is a forge whose pull request gets a new head after the first
// read, as when someone pushes while gitward renders.
type movingHead struct {
	forge.Forge
	reads atomic.Int32
}

func (m *movingHead) PullRequest(ctx context.Context, ref forge.PRRef) (*forge.PullRequest, error) {
	pr, err := m.Forge.PullRequest(ctx, ref)
	if err == nil && m.reads.Add(1) > 1 {
		pr.HeadSHA = strings.Repeat("d", 40)
	}
	return pr, err
}

func TestAResultForAnOlderHeadIsNeverPublished(t *testing.T) {
	fx := newFixture(t, map[string]string{
		"base/podinfo/deployment.yaml": strings.Replace(baseTree["base/podinfo/deployment.yaml"], "6.5.0", "6.6.0", 1),
	})
	fx.f = &movingHead{Forge: fx.f}
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	if n := len(fx.comments()); n != 0 {
		t.Errorf("a stale render was published as %d comments", n)
	}
	// The check run belongs to the commit that was rendered, so it is
	// still right to conclude it there.
	if run := fx.check(); run.HeadSHA != fx.head {
		t.Errorf("the check was published on %s", run.HeadSHA)
	}
}

func TestAnUndownloadableSnapshotFailsTheCheck(t *testing.T) {
	fx := newFixture(t, map[string]string{"apps/other/kustomization.yaml": "resources: []\n"})
	fx.fake.FailNext("Snapshot", errors.New("502 Bad Gateway"), 5)
	err := fx.evaluate()
	if err == nil || !strings.Contains(err.Error(), "download") {
		t.Fatalf("error = %v", err)
	}
	run := fx.check()
	if run.Conclusion != forge.ConclusionFailure || !strings.Contains(run.Summary, "download") {
		t.Errorf("check = %s %q", run.Conclusion, run.Summary)
	}
}

func TestALongDiffIsSplitIntoParts(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n", i)
		for k := 0; k < 40; k++ {
			fmt.Fprintf(&b, "  key-%d: %q\n", k, strings.Repeat("v", 30))
		}
		b.WriteString("---\n")
	}
	fx := newFixture(t, map[string]string{
		"apps/other/kustomization.yaml": "resources:\n  - many.yaml\n",
		"apps/other/many.yaml":          b.String(),
	})
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	cs := fx.comments()
	if len(cs) < 2 {
		t.Fatalf("got %d comments, want the diff split into parts", len(cs))
	}
	for i, c := range cs {
		if len([]rune(c.Body)) > 65536 {
			t.Errorf("part %d is over GitHub's limit", i+1)
		}
		if !strings.Contains(c.Body, fmt.Sprintf("Part %d of %d", i+1, len(cs))) {
			t.Errorf("part %d is not numbered", i+1)
		}
	}
	// Shrinking the change deletes the parts no longer needed.
	fx.fake.Push(fx.ref.Repo, "change", forgetest.Commit{
		Files:  map[string]string{"apps/other/kustomization.yaml": "configMapGenerator:\n  - name: other\n    literals: [a=2]\n"},
		Remove: []string{"apps/other/many.yaml"},
	})
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	if n := len(fx.comments()); n != 1 {
		t.Errorf("after shrinking, %d comments remain, want 1", n)
	}
}

func TestThePolicyCanTurnTheCommentOff(t *testing.T) {
	fx := newFixture(t, map[string]string{
		"base/podinfo/deployment.yaml": strings.Replace(baseTree["base/podinfo/deployment.yaml"], "6.5.0", "6.6.0", 1),
	})
	fx.fake.Push(fx.ref.Repo, "main", forgetest.Commit{Files: map[string]string{
		".gitward.yaml": "version: 1\ndiscovery:\n  exclude: [\"base/**\"]\ncomments:\n  rendered_diff: false\n",
	}})
	if _, err := fx.f.CreateComment(t.Context(), fx.ref.Thread(), diff.Sticky.Marker(1, 1)+"old diff"); err != nil {
		t.Fatal(err)
	}
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	if n := len(fx.comments()); n != 0 {
		t.Errorf("with comments off, %d comments remain", n)
	}
	if run := fx.check(); run.Conclusion != forge.ConclusionSuccess {
		t.Errorf("the check is published either way; got %s", run.Conclusion)
	}
}

// TestCapabilitiesShareTheChangeTheyRead evaluates the rendered diff and
// change control together: the changed files and both trees are read from
// the forge once for the whole evaluation, not once per capability.
func TestCapabilitiesShareTheChangeTheyRead(t *testing.T) {
	fx := newFixture(t, map[string]string{
		"base/podinfo/deployment.yaml": strings.Replace(baseTree["base/podinfo/deployment.yaml"], "6.5.0", "6.6.0", 1),
	})
	e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{fx.cap, changecontrol.New(fx.cap.Engine)}, Backoff: time.Millisecond}
	if err := e.Evaluate(t.Context(), fx.f, fx.ref); err != nil {
		t.Fatal(err)
	}
	if n := len(fx.fake.Calls("ChangedFiles")); n != 1 {
		t.Errorf("the changed files were listed %d times, want once", n)
	}
	if n := len(fx.fake.Calls("Snapshot")); n != 2 {
		t.Errorf("%d snapshots were taken, want the base and the head once each", n)
	}
}
