package render_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/render"
)

// badInput is a repository whose app "app" must not render, and how the
// error must read.
type badInput struct {
	name  string
	files map[string]string
	// outside are files written next to the repository, not in it.
	outside map[string]string
	opts    render.Options
	class   error  // errors.Is(Err, class), when set
	file    string // the *Error's file, when set
	line    int    // the *Error's line, when set
	says    []string
}

func TestBadInputFailsWithAReason(t *testing.T) {
	for _, tc := range []badInput{
		{
			name: "invalid YAML in a kustomization names the file and line",
			files: map[string]string{
				"app/kustomization.yaml": "resources:\n  - cm.yaml\nnamePrefix: [unclosed\n",
				"app/cm.yaml":            configMap,
			},
			// The YAML parser names the line where the flow sequence starts.
			class: render.ErrInvalid, file: "app/kustomization.yaml", line: 3,
			says: []string{"invalid Kustomization", "did not find expected"},
		},
		{
			name: "an unknown field in a kustomization names its line",
			files: map[string]string{
				"app/kustomization.yaml": "namespace: x\nresourcs:\n  - cm.yaml\n",
				"app/cm.yaml":            configMap,
			},
			class: render.ErrInvalid, file: "app/kustomization.yaml", line: 2,
			says: []string{`unknown field "resourcs"`},
		},
		{
			name: "invalid YAML in a resource names the file and line",
			files: map[string]string{
				"app/kustomization.yaml": kustomizationOf,
				"app/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x: y\n",
			},
			file: "app/cm.yaml", line: 4,
			says: []string{"cm.yaml"},
		},
		{
			name: "a missing resource is named from the repository root",
			files: map[string]string{
				"app/kustomization.yaml": "resources:\n  - missing.yaml\n",
			},
			says: []string{"app/missing.yaml"},
		},
		{
			name: "cyclic bases are found",
			files: map[string]string{
				"app/kustomization.yaml":   "resources:\n  - ../other\n",
				"other/kustomization.yaml": "resources:\n  - ../app\n",
			},
			says: []string{"cycle detected"},
		},
		{
			name: "duplicate object IDs are refused",
			files: map[string]string{
				"app/kustomization.yaml": "resources:\n  - cm.yaml\n  - again.yaml\n",
				"app/cm.yaml":            configMap,
				"app/again.yaml":         configMap,
			},
			says: []string{"already registered id", "ConfigMap", "settings"},
		},
		{
			name: "two kustomization files in one directory are refused",
			files: map[string]string{
				"app/kustomization.yaml": kustomizationOf,
				"app/kustomization.yml":  kustomizationOf,
				"app/cm.yaml":            configMap,
			},
			class: render.ErrInvalid, says: []string{"more than one kustomization file"},
		},
		{
			name: "a base that leaves the repository is refused",
			files: map[string]string{
				"app/kustomization.yaml": "resources:\n  - ../../outside\n",
			},
			outside: map[string]string{"outside/kustomization.yaml": kustomizationOf, "outside/cm.yaml": configMap},
			class:   render.ErrOutside, file: "app/kustomization.yaml", line: 2,
			says: []string{"../../outside leads outside the repository"},
		},
		{
			name: "a patch that leaves the repository is refused",
			files: map[string]string{
				"app/kustomization.yaml": kustomizationOf + "patches:\n  - path: ../../../etc/passwd\n",
				"app/cm.yaml":            configMap,
			},
			class: render.ErrOutside, file: "app/kustomization.yaml", line: 4,
		},
		{
			name: "an absolute path is refused",
			files: map[string]string{
				"app/kustomization.yaml": "resources:\n  - /etc/hostname\n",
			},
			class: render.ErrOutside, file: "app/kustomization.yaml", line: 2,
			says: []string{"absolute path /etc/hostname"},
		},
		{
			name: "a symlinked resource that leaves the repository is refused",
			files: map[string]string{
				"app/kustomization.yaml": kustomizationOf,
				"app/cm.yaml":            "-> ../../outside.yaml",
			},
			outside: map[string]string{"outside.yaml": configMap},
			class:   render.ErrOutside, says: []string{"symlink app/cm.yaml"},
		},
		{
			name: "a symlink to an absolute path is refused",
			files: map[string]string{
				"app/kustomization.yaml": kustomizationOf,
				"app/cm.yaml":            "-> /etc/hostname",
			},
			class: render.ErrOutside, says: []string{"symlink app/cm.yaml points to the absolute path /etc/hostname"},
		},
		{
			name: "a symlinked base directory that leaves the repository is refused",
			files: map[string]string{
				"app/kustomization.yaml": "resources:\n  - base\n",
				"app/base":               "-> ../../elsewhere",
			},
			outside: map[string]string{"elsewhere/kustomization.yaml": kustomizationOf, "elsewhere/cm.yaml": configMap},
			class:   render.ErrOutside, says: []string{"symlink app/base"},
		},
		{
			name: "a symlinked kustomization that leaves the repository is refused",
			files: map[string]string{
				"app/kustomization.yaml": "-> ../../k.yaml",
			},
			outside: map[string]string{"k.yaml": kustomizationOf},
			class:   render.ErrOutside, says: []string{"symlink app/kustomization.yaml"},
		},
		{
			name: "a remote git base is refused before kustomize runs",
			files: map[string]string{
				"app/kustomization.yaml": "resources:\n  - github.com/acme/platform//deploy?ref=v1\n",
			},
			class: render.ErrRemote, file: "app/kustomization.yaml", line: 2,
			says: []string{"remote base github.com/acme/platform//deploy?ref=v1 is not allowed", "allowlist github.com/acme/platform/deploy"},
		},
		{
			name: "an allowlisted remote base is still not fetched",
			files: map[string]string{
				"app/kustomization.yaml": "resources:\n  - https://github.com/acme/platform.git//deploy?ref=v1\n",
			},
			opts:  render.Options{AllowedRemoteBases: globs("github.com/acme/**")},
			class: render.ErrRemote, file: "app/kustomization.yaml", line: 2,
			says: []string{"is allowlisted in the server configuration", "does not fetch remote bases", "vendor it"},
		},
		{
			name: "remote files and bases in any field are refused",
			files: map[string]string{
				"app/kustomization.yaml": "resources:\n  - git::https://example.com/org/repo\n  - git@github.com:acme/platform.git\n" +
					"components:\n  - ssh://git@example.com/org/repo\n" +
					"patches:\n  - path: https://raw.githubusercontent.com/acme/p/main/patch.yaml\n" +
					"configMapGenerator:\n  - name: c\n    files:\n      - k=http://example.com/file\n",
			},
			class: render.ErrRemote, file: "app/kustomization.yaml",
			says: []string{"git::https://example.com/org/repo", "git@github.com:acme/platform.git", "ssh://git@example.com/org/repo",
				"https://raw.githubusercontent.com/acme/p/main/patch.yaml", "http://example.com/file"},
		},
		{
			name: "an exec or Go plugin config is refused",
			files: map[string]string{
				"app/kustomization.yaml": kustomizationOf + "transformers:\n  - sed.yaml\n",
				"app/cm.yaml":            configMap,
				"app/sed.yaml":           "apiVersion: someteam.example.com/v1\nkind: SedTransformer\nmetadata:\n  name: sed\n",
			},
			class: render.ErrPlugin, file: "app/sed.yaml", line: 1,
			says: []string{"SedTransformer is not one of kustomize's built-in plugins"},
		},
		{
			name: "an inline KRM function is refused",
			files: map[string]string{
				"app/kustomization.yaml": kustomizationOf + "generators:\n  - |\n    apiVersion: example.com/v1\n    kind: Fn\n" +
					"    metadata:\n      name: fn\n      annotations:\n        config.kubernetes.io/function: |\n          exec:\n            path: /bin/sh\n",
				"app/cm.yaml": configMap,
			},
			class: render.ErrPlugin, file: "app/kustomization.yaml", line: 4,
		},
		{
			name: "helmCharts are refused",
			files: map[string]string{
				"app/kustomization.yaml": "helmCharts:\n  - name: podinfo\n    repo: https://stefanprodan.github.io/podinfo\n",
			},
			class: render.ErrPlugin, file: "app/kustomization.yaml", line: 1,
			says: []string{"gitward runs no helm binary"},
		},
		{
			name: "the built-in Helm generator is refused too",
			files: map[string]string{
				"app/kustomization.yaml": "generators:\n  - helm.yaml\n",
				"app/helm.yaml":          "apiVersion: builtin\nkind: HelmChartInflationGenerator\nmetadata:\n  name: h\nname: podinfo\n",
			},
			class: render.ErrPlugin, file: "app/helm.yaml", line: 1,
		},
		{
			name: "an empty kustomization is refused",
			files: map[string]string{
				"app/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
			},
			class: render.ErrInvalid, says: []string{"kustomization.yaml is empty"},
		},
		{
			name: "an invalid OpenAPI schema crashes kustomize, which is caught",
			files: map[string]string{
				"app/kustomization.yaml": kustomizationOf + "openapi:\n  path: schema.json\n" +
					"patches:\n  - patch: |\n      apiVersion: v1\n      kind: ConfigMap\n      metadata:\n        name: settings\n      data:\n        x: y\n",
				"app/cm.yaml":     configMap,
				"app/schema.json": "{not json",
			},
			class: render.ErrPanic, says: []string{"kustomize crashed"},
		},
		{
			name: "a render over its output limit fails",
			files: map[string]string{
				"app/kustomization.yaml": kustomizationOf,
				"app/cm.yaml":            configMap,
			},
			opts:  render.Options{MaxOutputSize: 64},
			class: render.ErrOutputLimit, says: []string{"over the limit of 64"},
		},
		{
			name: "a render over its time limit is given up",
			files: map[string]string{
				"app/kustomization.yaml": kustomizationOf,
				"app/cm.yaml":            configMap,
			},
			opts:  render.Options{TimeLimit: time.Microsecond},
			class: render.ErrTimeLimit, says: []string{"took longer than the limit of 1µs"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := t.TempDir()
			writeRepo(t, filepath.Join(top, "repo"), tc.files)
			writeRepo(t, top, tc.outside)
			tree := openTree(t, filepath.Join(top, "repo"))
			apps, err := render.Discover(tree.FS(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !hasApp(apps, "app") {
				t.Fatalf("discovery did not find app: %v", apps)
			}
			res := renderApp(t, render.NewRenderer(tc.opts), tree, "app")
			if res.Err == nil {
				t.Fatalf("rendered, want an error:\n%s", res.YAML)
			}
			msg := res.Err.Error()
			t.Log(msg)
			if res.YAML != nil {
				t.Errorf("an error came with YAML")
			}
			if tc.class != nil && !errors.Is(res.Err, tc.class) {
				t.Errorf("error is not %v", tc.class)
			}
			for _, s := range tc.says {
				if !strings.Contains(msg, s) {
					t.Errorf("error does not say %q", s)
				}
			}
			if strings.Contains(msg, top) {
				t.Errorf("error shows where the snapshot is on disk")
			}
			if tc.file != "" || tc.line != 0 {
				ps := render.Problems(res.Err)
				if len(ps) == 0 {
					t.Fatalf("no *render.Error in %T", res.Err)
				}
				if tc.file != "" && ps[0].File != tc.file {
					t.Errorf("file = %q, want %q", ps[0].File, tc.file)
				}
				if tc.line != 0 && ps[0].Line != tc.line {
					t.Errorf("line = %d, want %d", ps[0].Line, tc.line)
				}
			}
		})
	}
}

func hasApp(apps []render.App, path string) bool {
	for _, a := range apps {
		if a.Path == path {
			return true
		}
	}
	return false
}

func globs(patterns ...string) []config.Glob {
	var out []config.Glob
	for _, p := range patterns {
		g, err := config.ParseGlob(p)
		if err != nil {
			panic(err)
		}
		out = append(out, g)
	}
	return out
}

func TestEscapingPathsNeverReadOutsideTheRepository(t *testing.T) {
	// Even through kustomize's own path handling, a file next to the
	// repository is never read: RootOnly-style checks are not what keeps it
	// out, the snapshot file system is.
	top := t.TempDir()
	writeRepo(t, top, map[string]string{"secret.yaml": configMap})
	writeRepo(t, filepath.Join(top, "repo"), map[string]string{
		"app/kustomization.yaml": "resources:\n  - cm.yaml\n",
		"app/cm.yaml":            "-> ../../secret.yaml",
	})
	if _, err := os.Stat(filepath.Join(top, "repo", "app", "cm.yaml")); err != nil {
		t.Fatal(err) // the link does resolve on disk
	}
	tree := openTree(t, filepath.Join(top, "repo"))
	if _, err := tree.ReadFile("app/cm.yaml"); !errors.Is(err, render.ErrOutside) {
		t.Errorf("ReadFile through an escaping link: %v, want ErrOutside", err)
	}
	if _, err := tree.ReadFile("../secret.yaml"); !errors.Is(err, render.ErrOutside) {
		t.Errorf("ReadFile ../: %v, want ErrOutside", err)
	}
}
