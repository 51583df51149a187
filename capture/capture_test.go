package capture

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gitward/gitward/config"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// webApp is an app whose manifests live in its own directory, written the
// way people write them: comments, keys in their own order, flow style.
var webApp = map[string]string{
	"apps/web/kustomization.yaml": `namespace: NS
resources:
- deployment.yaml
- configmap.yaml
`,
	"apps/web/deployment.yaml": `# The web frontend. Owned by team payments.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    team: payments   # who to page
    app: web
spec:
  # Two is enough outside business hours.
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: "ghcr.io/stefanprodan/podinfo:6.5.0" # pinned
        ports:
        - containerPort: 9898
        resources:
          limits:
            memory: 128Mi
`,
	"apps/web/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  # info in production, debug when asked
  level: info
  color: blue
`,
}

func TestCaptureEditsPlainFilesInPlace(t *testing.T) {
	e := newEnv(t)
	ns := namespace("plain")
	fsys := repo(webApp, ns)
	apps := discover(t, fsys)
	web := app(t, apps, "apps/web")
	e.deploy(fsys, web)

	t.Run("a cluster as git left it has nothing to capture", func(t *testing.T) {
		ch := e.plan(fsys, apps, web)
		if !ch.Empty() || ch.Diff != "" {
			t.Fatalf("in sync, yet:\n%s", report(ch))
		}
	})

	e.edit("Deployment", ns, "web", func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, int64(4), "spec", "replicas")
		u.SetLabels(map[string]string{"app": "web"})
		container(t, u, func(c map[string]any) {
			c["image"] = "ghcr.io/stefanprodan/podinfo:6.5.1-hotfix"
			c["resources"] = map[string]any{"limits": map[string]any{"memory": "256Mi"}}
		})
	})
	e.edit("ConfigMap", ns, "settings", func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, "debug", "data", "level")
	})

	ch := e.plan(fsys, apps, web)
	if len(ch.Refusals) > 0 {
		t.Fatalf("refused:\n%s", report(ch))
	}
	equalText(t, "the captured fields", captured(ch), strings.ReplaceAll(`ConfigMap NS/settings /data/level in place apps/web/configmap.yaml
Deployment.apps NS/web /metadata/labels/team in place apps/web/deployment.yaml
Deployment.apps NS/web /spec/replicas in place apps/web/deployment.yaml
Deployment.apps NS/web /spec/template/spec/containers/0/image in place apps/web/deployment.yaml
Deployment.apps NS/web /spec/template/spec/containers/0/resources/limits/memory in place apps/web/deployment.yaml
`, "NS", ns))
	// Comments, key order, flow style and quoting stay; the removed label
	// goes with its comment.
	equalText(t, "deployment.yaml", file(t, ch, "apps/web/deployment.yaml"), `# The web frontend. Owned by team payments.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  # Two is enough outside business hours.
  replicas: 4
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: "ghcr.io/stefanprodan/podinfo:6.5.1-hotfix" # pinned
        ports:
        - containerPort: 9898
        resources:
          limits:
            memory: 256Mi
`)
	equalText(t, "configmap.yaml", file(t, ch, "apps/web/configmap.yaml"), `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  # info in production, debug when asked
  level: debug
  color: blue
`)
	if got := fmt.Sprint(paths(ch)); got != "[apps/web/configmap.yaml apps/web/deployment.yaml]" {
		t.Errorf("writes %s", got)
	}
	gitApply(t, fsys, ch)
	if !strings.Contains(ch.Diff, "--- a/apps/web/deployment.yaml\n+++ b/apps/web/deployment.yaml\n") ||
		!strings.Contains(ch.Diff, "-  replicas: 2\n+  replicas: 4\n") {
		t.Errorf("the diff:\n%s", ch.Diff)
	}

	t.Run("once written, the cluster and git agree", func(t *testing.T) {
		after := fstest.MapFS{}
		for p, f := range fsys {
			after[p] = f
		}
		for _, f := range ch.Files {
			after[f.Path] = &fstest.MapFile{Data: f.Content, Mode: 0o644}
		}
		if again := e.plan(after, apps, web); !again.Empty() {
			t.Errorf("still something to capture:\n%s", report(again))
		}
	})
}

// sharedBase is a base two overlays use, each deploying it to its own
// namespace. Every directory with a kustomization is an app, so base is
// one too.
var sharedBase = map[string]string{
	"base/kustomization.yaml": `resources:
  - web.yaml
  - worker.yaml
`,
	"base/web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/stefanprodan/podinfo:6.5.0
          env:
            - name: LEVEL
              value: info
          resources:
            limits:
              memory: 128Mi
`,
	"base/worker.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  replicas: 1
  selector:
    matchLabels:
      app: worker
  template:
    metadata:
      labels:
        app: worker
    spec:
      containers:
        - name: worker
          image: ghcr.io/acme/worker:1.0.0
`,
	"overlays/prod/kustomization.yaml": `# Production.
namespace: NS-prod
resources:
  - ../../base
`,
	"overlays/staging/kustomization.yaml": `namespace: NS-staging
resources:
  - ../../base
images:
  - name: ghcr.io/stefanprodan/podinfo
    newTag: 6.5.0-rc.1 # release candidate
`,
}

func TestCaptureOverAShareBaseUsesTheOverlay(t *testing.T) {
	e := newEnv(t)
	ns := namespace("overlay")
	fsys := repo(sharedBase, ns)
	apps := discover(t, fsys)
	prod, staging := app(t, apps, "overlays/prod"), app(t, apps, "overlays/staging")
	e.deploy(fsys, prod)
	e.deploy(fsys, staging)

	t.Run("an image and a replica count become images and replicas entries", func(t *testing.T) {
		e.edit("Deployment", ns+"-prod", "web", func(u *unstructured.Unstructured) {
			container(t, u, func(c map[string]any) { c["image"] = "ghcr.io/stefanprodan/podinfo:6.5.1-hotfix" })
		})
		e.scale(ns+"-prod", "worker", 3)
		ch := e.plan(fsys, apps, prod)
		if len(ch.Refusals) > 0 {
			t.Fatalf("refused:\n%s", report(ch))
		}
		equalText(t, "the captured fields", captured(ch), strings.ReplaceAll(`Deployment.apps NS-prod/web /spec/template/spec/containers/0/image images entry overlays/prod/kustomization.yaml
Deployment.apps NS-prod/worker /spec/replicas replicas entry overlays/prod/kustomization.yaml
`, "NS", ns))
		equalText(t, "the prod kustomization", file(t, ch, "overlays/prod/kustomization.yaml"), strings.ReplaceAll(`# Production.
namespace: NS-prod
resources:
  - ../../base
images:
  - name: ghcr.io/stefanprodan/podinfo
    newTag: 6.5.1-hotfix
replicas:
  - name: worker
    count: 3
`, "NS", ns))
		if got := fmt.Sprint(paths(ch)); got != "[overlays/prod/kustomization.yaml]" {
			t.Errorf("writes %s; the base is never edited", got)
		}
	})

	t.Run("an existing images entry is edited", func(t *testing.T) {
		e.edit("Deployment", ns+"-staging", "web", func(u *unstructured.Unstructured) {
			container(t, u, func(c map[string]any) { c["image"] = "ghcr.io/stefanprodan/podinfo:6.5.0-rc.2" })
		})
		ch := e.plan(fsys, apps, staging)
		equalText(t, "the staging kustomization", file(t, ch, "overlays/staging/kustomization.yaml"), strings.ReplaceAll(`namespace: NS-staging
resources:
  - ../../base
images:
  - name: ghcr.io/stefanprodan/podinfo
    newTag: 6.5.0-rc.2 # release candidate
`, "NS", ns))
	})
}

func TestCaptureOtherChangesAsAnOverlayPatch(t *testing.T) {
	e := newEnv(t)
	ns := namespace("patch")
	fsys := repo(sharedBase, ns)
	apps := discover(t, fsys)
	prod := app(t, apps, "overlays/prod")
	e.deploy(fsys, prod)
	e.edit("Deployment", ns+"-prod", "web", func(u *unstructured.Unstructured) {
		container(t, u, func(c map[string]any) {
			c["env"] = []any{map[string]any{"name": "LEVEL", "value": "debug"}}
			c["resources"] = map[string]any{"limits": map[string]any{"memory": "256Mi"}}
		})
	})
	ch := e.plan(fsys, apps, prod)
	if len(ch.Refusals) > 0 {
		t.Fatalf("refused:\n%s", report(ch))
	}
	patch := "overlays/prod/gitward-capture-deployment-web.yaml"
	equalText(t, "the captured fields", captured(ch), strings.ReplaceAll(strings.ReplaceAll(`Deployment.apps NS-prod/web /spec/template/spec/containers/0/env/0/value patch PATCH
Deployment.apps NS-prod/web /spec/template/spec/containers/0/resources/limits/memory patch PATCH
`, "NS", ns), "PATCH", patch))
	equalText(t, "the patch", file(t, ch, patch), strings.ReplaceAll(`# Captured by gitward from the cluster: what Deployment.apps NS-prod/web runs that git did not say.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          env:
            - name: LEVEL
              value: debug
          resources:
            limits:
              memory: 256Mi
`, "NS", ns))
	equalText(t, "the prod kustomization", file(t, ch, "overlays/prod/kustomization.yaml"), strings.ReplaceAll(`# Production.
namespace: NS-prod
resources:
  - ../../base
patches:
  - path: gitward-capture-deployment-web.yaml
`, "NS", ns))
	if got := fmt.Sprint(paths(ch)); got != "[overlays/prod/gitward-capture-deployment-web.yaml overlays/prod/kustomization.yaml]" {
		t.Errorf("writes %s", got)
	}
	if !strings.Contains(ch.Diff, "--- /dev/null\n+++ b/"+patch+"\n@@ -0,0 +1,16 @@\n") {
		t.Errorf("the new file is not a creation in the diff:\n%s", ch.Diff)
	}
	gitApply(t, fsys, ch)
}

// gitApply applies the change's diff with git apply to the snapshot written
// out, and checks that it gives the change's files.
func gitApply(t *testing.T, fsys fstest.MapFS, ch *Change) {
	t.Helper()
	dir := t.TempDir()
	for p, f := range fsys {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("git", "apply", "-")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(ch.Diff)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git apply: %v\n%s\n%s", err, out, ch.Diff)
	}
	for _, f := range ch.Files {
		got, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil || string(got) != string(f.Content) {
			t.Errorf("git apply gives %s:\n%s\nwant:\n%s", f.Path, got, f.Content)
		}
	}
}

func TestCaptureRefusesASharedBaseWithoutAnOverlay(t *testing.T) {
	e := newEnv(t)
	ns := namespace("shared")
	fsys := repo(sharedBase, ns)
	apps := discover(t, fsys)
	// The base is an app of its own, deployed as it is: its objects come
	// straight from files the overlays read too, and its kustomization is
	// one they read as well.
	base := app(t, apps, "base")
	base.Namespace = ns
	e.deploy(fsys, base)
	e.edit("Deployment", ns, "web", func(u *unstructured.Unstructured) {
		container(t, u, func(c map[string]any) { c["image"] = "ghcr.io/stefanprodan/podinfo:6.5.1-hotfix" })
	})
	ch := e.plan(fsys, apps, base)
	if len(ch.Files) > 0 || ch.Diff != "" || len(ch.Captured) > 0 {
		t.Fatalf("a shared base was written:\n%s", report(ch))
	}
	if len(ch.Refusals) != 1 {
		t.Fatalf("refusals:\n%s", report(ch))
	}
	want := "Deployment.apps " + ns + "/web: cannot be captured: " +
		"its source base/web.yaml is a base shared with overlays/prod, overlays/staging, and capture never edits a shared base; " +
		"the app's kustomization base/kustomization.yaml is also read by overlays/prod, overlays/staging, so the app has no overlay of its own to write to"
	equalText(t, "the refusal", ch.Refusals[0].String(), want)
}

func TestCaptureRefusesSecretValues(t *testing.T) {
	e := newEnv(t)
	ns := namespace("secret")
	const inGit, byHand = "correct-horse-battery", "hunter2-rotated-by-hand"
	fsys := repo(map[string]string{
		"apps/db/kustomization.yaml": "namespace: NS\nresources:\n  - db.yaml\n",
		"apps/db/db.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: db-settings
data:
  pool: "10"
---
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: ` + inGit + "\n",
	}, ns)
	apps := discover(t, fsys)
	db := app(t, apps, "apps/db")
	e.deploy(fsys, db)
	e.edit("Secret", ns, "db", func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, base64.StdEncoding.EncodeToString([]byte(byHand)), "data", "password")
	})
	e.edit("ConfigMap", ns, "db-settings", func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, "20", "data", "pool")
	})
	ch := e.plan(fsys, apps, db)
	if len(ch.Refusals) != 1 {
		t.Fatalf("refusals:\n%s", report(ch))
	}
	equalText(t, "the refusal", ch.Refusals[0].String(), "Secret "+ns+"/db: /data/password of the Secret differs in the cluster; "+
		"capture never writes Secret values into git in plaintext: put the new value into its encrypted source (SOPS, SealedSecret or your secret store) by hand")
	// The ConfigMap is still captured, but not in its file, whose diff
	// would show the Secret's value as context.
	equalText(t, "the captured fields", captured(ch), "ConfigMap "+ns+"/db-settings /data/pool patch apps/db/gitward-capture-configmap-db-settings.yaml\n")
	everything := fmt.Sprintf("%#v\n%s", ch, report(ch))
	for _, f := range ch.Files {
		everything += string(f.Content)
	}
	for _, v := range []string{inGit, byHand} {
		for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v))} {
			if strings.Contains(everything, form) {
				t.Errorf("the change holds the Secret value %q", form)
			}
		}
	}
}

func TestCaptureLeavesOutFieldsIgnoreRulesHide(t *testing.T) {
	e := newEnv(t)
	ns := namespace("ignore")
	fsys := repo(webApp, ns)
	apps := discover(t, fsys)
	web := app(t, apps, "apps/web")
	e.deploy(fsys, web)
	e.scale(ns, "web", 7) // the autoscaler
	e.edit("Deployment", ns, "web", func(u *unstructured.Unstructured) {
		container(t, u, func(c map[string]any) { c["image"] = "ghcr.io/stefanprodan/podinfo:6.5.1-hotfix" })
	})
	cfg, err := config.ParseRepo(".gitward.yaml", []byte(`version: 1
drift:
  ignore:
    - name: hpa-replicas
      match: {group: apps, kind: Deployment}
      field_managers: [kube-controller-manager]
`))
	if err != nil {
		t.Fatal(err)
	}
	ch := e.plan(fsys, apps, web, cfg.Drift.Ignore...)
	equalText(t, "the captured fields", captured(ch), "Deployment.apps "+ns+"/web /spec/template/spec/containers/0/image in place apps/web/deployment.yaml\n")
	got := file(t, ch, "apps/web/deployment.yaml")
	if !strings.Contains(got, "  replicas: 2\n") || strings.Contains(got, "7") {
		t.Errorf("the autoscaler's replicas were captured:\n%s", got)
	}
	if len(ch.Hidden) != 1 || ch.Hidden[0].Rule != "hpa-replicas" || ch.Hidden[0].Fields != 1 {
		t.Errorf("hidden: %v", ch.Hidden)
	}
}

func TestCaptureRefusesWhatTheRenderCannotHold(t *testing.T) {
	e := newEnv(t)
	ns := namespace("verify")
	files := map[string]string{
		// The canary overlay adds an env var with a JSON 6902 patch, which
		// kustomize applies after every strategic-merge patch.
		"overlays/canary/kustomization.yaml": `namespace: NS-canary
resources:
  - ../../base
patchesJson6902:
  - target: {group: apps, version: v1, kind: Deployment, name: web}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value: {name: CANARY, value: "true"}
`,
	}
	for p, c := range sharedBase {
		files[p] = c
	}
	fsys := repo(files, ns)
	apps := discover(t, fsys)
	canary := app(t, apps, "overlays/canary")
	e.deploy(fsys, canary)
	e.edit("Deployment", ns+"-canary", "web", func(u *unstructured.Unstructured) {
		container(t, u, func(c map[string]any) {
			c["env"] = []any{map[string]any{"name": "LEVEL", "value": "info"}}
		})
	})
	ch := e.plan(fsys, apps, canary)
	if len(ch.Files) > 0 || len(ch.Refusals) != 1 {
		t.Fatalf("want one refusal and nothing written:\n%s", report(ch))
	}
	want := "Deployment.apps " + ns + "-canary/web: cannot be captured: " +
		"its source base/web.yaml is a base shared with base, overlays/prod, overlays/staging, and capture never edits a shared base; " +
		"/spec/template/spec/containers/0/env/1 is not an image or a replica count, so no images: or replicas: entry can hold it; " +
		"patch in overlays/canary/gitward-capture-deployment-web.yaml: the render would still differ from the cluster at /spec/template/spec/containers/0/env/1"
	equalText(t, "the refusal", ch.Refusals[0].String(), want)
}
