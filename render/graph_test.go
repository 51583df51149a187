package render_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/render"
)

// platform is a repository of two overlays over a shared base, a component
// one of them uses, and an app of its own.
var platform = map[string]string{
	"base/kustomization.yaml":           "resources:\n  - deploy.yaml\nconfigMapGenerator:\n  - name: conf\n    files:\n      - app.conf=conf/app.conf\n    envs:\n      - conf/env\n",
	"base/deploy.yaml":                  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n",
	"base/conf/app.conf":                "a=1\n",
	"base/conf/env":                     "B=2\n",
	"components/mon/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - sm.yaml\n",
	"components/mon/sm.yaml":            "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: web\n",
	"overlays/a/kustomization.yaml": "resources:\n  - ../../base\ncomponents:\n  - ../../components/mon\npatches:\n  - path: replicas.yaml\n" +
		"replacements:\n  - path: repl.yaml\nconfigurations:\n  - conf.yaml\ncrds:\n  - crd.json\n",
	"overlays/a/replicas.yaml":     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
	"overlays/a/repl.yaml":         "[]\n",
	"overlays/a/conf.yaml":         "{}\n",
	"overlays/a/crd.json":          "{}\n",
	"overlays/b/Kustomization":     "namePrefix: b-\nresources:\n  - ../../base\n",
	"standalone/kustomization.yml": "resources:\n  - cm.yaml\n",
	"standalone/cm.yaml":           configMap,
	"docs/README.md":               "not an app\n",
}

func pathsOf(apps []render.App) []string {
	var out []string
	for _, a := range apps {
		out = append(out, a.Path)
	}
	return out
}

func TestDiscoverFindsEveryKustomizationRootInPathOrder(t *testing.T) {
	files := maps.Clone(platform)
	files["kustomization.yaml"] = "resources:\n  - standalone\n"
	files[".git/kustomization.yaml"] = "resources: []\n"
	tree := newRepo(t, files)
	apps, err := render.Discover(tree.FS(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".", "base", "components/mon", "overlays/a", "overlays/b", "standalone"}
	if got := pathsOf(apps); !reflect.DeepEqual(got, want) {
		t.Errorf("apps = %v, want %v", got, want)
	}
	for _, a := range apps {
		if a.Name != a.Path {
			t.Errorf("app %s is named %q, want its path", a.Path, a.Name)
		}
	}
}

func TestDiscoverSkipsExcludedDirectories(t *testing.T) {
	cfg := parseRepoConfig(t, "version: 1\ndiscovery:\n  exclude:\n    - components/**\n    - base\nclusters:\n  - name: prod\n    paths: [overlays/**]\n")
	apps, err := render.Discover(newRepo(t, platform).FS(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"overlays/a", "overlays/b", "standalone"}
	if got := pathsOf(apps); !reflect.DeepEqual(got, want) {
		t.Errorf("apps = %v, want %v", got, want)
	}
	if apps[0].Cluster != "prod" || apps[2].Cluster != "" {
		t.Errorf("clusters = %q, %q; want prod from the mapping, and none", apps[0].Cluster, apps[2].Cluster)
	}
}

func TestDiscoverTakesTheConfiguredAppsOnly(t *testing.T) {
	cfg := parseRepoConfig(t, `version: 1
apps:
  - {name: web-a, path: overlays/a, cluster: staging, namespace: web}
  - {name: solo, path: standalone}
  - {name: not-yet, path: apps/new}
`)
	apps, err := render.Discover(newRepo(t, platform).FS(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []render.App{
		{Name: "web-a", Path: "overlays/a", Cluster: "staging", Namespace: "web"},
		{Name: "solo", Path: "standalone"},
	}
	if !reflect.DeepEqual(apps, want) {
		t.Errorf("apps = %+v, want %+v (an app without a kustomization at this commit is left out)", apps, want)
	}
}

func parseRepoConfig(t *testing.T, y string) *config.Repo {
	t.Helper()
	cfg, err := config.ParseRepo(".gitward.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func platformGraph(t *testing.T, files map[string]string) *render.Graph {
	t.Helper()
	tree := newRepo(t, files)
	apps, err := render.Discover(tree.FS(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return render.BuildGraph(tree, apps)
}

func TestGraphListsEveryFileAnAppReads(t *testing.T) {
	g := platformGraph(t, platform)
	app, _ := g.App("overlays/a")
	want := []string{
		"base/conf/app.conf", "base/conf/env", "base/deploy.yaml", "base/kustomization.yaml",
		"components/mon/kustomization.yaml", "components/mon/sm.yaml",
		"overlays/a/conf.yaml", "overlays/a/crd.json", "overlays/a/kustomization.yaml",
		"overlays/a/repl.yaml", "overlays/a/replicas.yaml",
	}
	if got := g.Files(app); !reflect.DeepEqual(got, want) {
		t.Errorf("files =\n%v\nwant\n%v", got, want)
	}
}

func TestAffectedFollowsTheGraphTransitively(t *testing.T) {
	files := maps.Clone(platform)
	files["overlays/b/Kustomization"] = "namePrefix: b-\nresources:\n  - ../../base\n  - extra.yaml\n"
	g := platformGraph(t, files)
	for _, tc := range []struct {
		name    string
		changed []string
		want    []string
	}{
		{"a generator input of the shared base re-renders every overlay using it",
			[]string{"base/conf/app.conf"}, []string{"base", "overlays/a", "overlays/b"}},
		{"a component's resource re-renders the component and the overlay using it",
			[]string{"components/mon/sm.yaml"}, []string{"components/mon", "overlays/a"}},
		{"an overlay's patch re-renders that overlay only",
			[]string{"overlays/a/replicas.yaml"}, []string{"overlays/a"}},
		{"a file no render reads affects nothing",
			[]string{"docs/README.md", "base/unused.yaml"}, nil},
		{"adding a file an app is missing affects that app",
			[]string{"overlays/b/extra.yaml"}, []string{"overlays/b"}},
		{"paths may start with ./ or /",
			[]string{"./standalone/cm.yaml", "/overlays/a/repl.yaml"}, []string{"overlays/a", "standalone"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pathsOf(g.Affected(tc.changed)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("affected = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPlanRendersNewAppsAtHeadAndDeletedAppsAtBase(t *testing.T) {
	base := platformGraph(t, platform)
	headFiles := maps.Clone(platform)
	delete(headFiles, "standalone/kustomization.yml")
	delete(headFiles, "standalone/cm.yaml")
	headFiles["newapp/kustomization.yaml"] = "resources:\n  - cm.yaml\n"
	headFiles["newapp/cm.yaml"] = configMap
	headFiles["base/deploy.yaml"] = strings.Replace(platform["base/deploy.yaml"], "replicas: 1", "replicas: 2", 1)
	head := platformGraph(t, headFiles)

	changed := []string{"base/deploy.yaml", "standalone/kustomization.yml", "standalone/cm.yaml", "newapp/kustomization.yaml", "newapp/cm.yaml"}
	got := render.Plan(base, head, changed)
	want := []render.Target{
		{App: render.App{Name: "base", Path: "base"}, AtBase: true, AtHead: true},
		{App: render.App{Name: "newapp", Path: "newapp"}, AtHead: true},
		{App: render.App{Name: "overlays/a", Path: "overlays/a"}, AtBase: true, AtHead: true},
		{App: render.App{Name: "overlays/b", Path: "overlays/b"}, AtBase: true, AtHead: true},
		{App: render.App{Name: "standalone", Path: "standalone"}, AtBase: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan =\n%+v\nwant\n%+v", got, want)
	}
	if got := render.Plan(base, head, []string{"docs/README.md"}); len(got) != 0 {
		t.Errorf("a change no app reads planned %+v", got)
	}
}

func TestPlanCountsTheOldPathOfARename(t *testing.T) {
	base := platformGraph(t, platform)
	headFiles := maps.Clone(platform)
	delete(headFiles, "base/deploy.yaml")
	headFiles["base/deployment.yaml"] = platform["base/deploy.yaml"]
	head := platformGraph(t, headFiles) // base/kustomization.yaml still names deploy.yaml
	got := render.Plan(base, head, []string{"base/deploy.yaml", "base/deployment.yaml"})
	if names := targetNames(got); !reflect.DeepEqual(names, []string{"base", "overlays/a", "overlays/b"}) {
		t.Errorf("plan = %v", names)
	}
}

func targetNames(ts []render.Target) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.App.Name)
	}
	return out
}

func TestGraphPredictsEveryFileKustomizeReads(t *testing.T) {
	// The render cache is keyed by the files the graph predicts; a render
	// reading any other file would make the key incomplete.
	for _, name := range identityRepos {
		t.Run(name, func(t *testing.T) {
			tree := openTree(t, fixture(name))
			apps, err := render.Discover(tree.FS(), nil)
			if err != nil {
				t.Fatal(err)
			}
			g := render.BuildGraph(tree, apps)
			results, err := render.NewRenderer(render.Options{}).RenderAll(context.Background(), g, apps)
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range apps {
				if got, want := results[i].Files, g.Files(a); !reflect.DeepEqual(got, want) {
					t.Errorf("%s read %v, the graph predicted %v", a.Path, got, want)
				}
			}
		})
	}
}

func TestSymlinksInsideTheRepositoryAreFollowed(t *testing.T) {
	// A linked file must stay under its kustomization's directory, as
	// kustomize's load restrictions ask; a linked base directory may be
	// anywhere in the repository.
	tree := newRepo(t, map[string]string{
		"app/data/cm.yaml":            configMap,
		"app/kustomization.yaml":      "resources:\n  - cm.yaml\n  - base\n",
		"app/cm.yaml":                 "-> data/cm.yaml",
		"app/base":                    "-> ../realbase",
		"realbase/kustomization.yaml": "resources:\n  - svc.yaml\n",
		"realbase/svc.yaml":           "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n",
	})
	app := render.App{Name: "app", Path: "app"}
	g := render.BuildGraph(tree, []render.App{app})
	res, err := render.NewRenderer(render.Options{}).Render(context.Background(), g, app)
	if err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	if !strings.Contains(string(res.YAML), "name: settings") || !strings.Contains(string(res.YAML), "kind: Service") {
		t.Errorf("render misses linked files:\n%s", res.YAML)
	}
	for _, changed := range []string{"app/data/cm.yaml", "app/cm.yaml", "app/base", "realbase/svc.yaml"} {
		if len(g.Affected([]string{changed})) != 1 {
			t.Errorf("a change to %s does not affect the app", changed)
		}
	}
}

func TestDiscoverAndRenderARepositoryOnDisk(t *testing.T) {
	// OpenTree over a directory, as `gitward render --repo DIR` uses it.
	dir := t.TempDir()
	writeRepo(t, dir, map[string]string{"kustomization.yaml": kustomizationOf, "cm.yaml": configMap})
	tree := openTree(t, dir)
	res := renderApp(t, render.NewRenderer(render.Options{}), tree, ".")
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "cm.yaml"))
	if string(res.YAML) != "apiVersion: v1\ndata:\n  greeting: hello\nkind: ConfigMap\nmetadata:\n  name: settings\n" || len(want) == 0 {
		t.Errorf("render =\n%s", res.YAML)
	}
}
