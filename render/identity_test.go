package render_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/gitward/gitward/render"
)

// fixtureRepos are the real GitOps repositories whose every kustomization
// gitward must render exactly as the kustomize CLI does.
var fixtureRepos = []string{"bjw-s-labs-home-ops", "fluxcd-flux2-kustomize-helm-example"}

// identityRepos are fixtureRepos and render/testdata/features, a small
// repository that uses the kustomize features the fixtures do not.
var identityRepos = append(append([]string(nil), fixtureRepos...), "features")

// unbuildable are the kustomizations of the fixtures that cannot build
// because their copy left out non-YAML generator inputs (see SOURCE.txt),
// with the file each must name.
var unbuildable = map[string]string{
	"bjw-s-labs-home-ops/kubernetes/apps/network/envoy-gateway/gateway": "resources/block-user-agents.lua",
	"bjw-s-labs-home-ops/kubernetes/apps/selfhosted/searxng/app":        "resources/limiter.toml",
	"bjw-s-labs-home-ops/kubernetes/apps/selfhosted/webhook/app":        "resources/radarr-pushover.sh",
}

func fixture(name string) string {
	if name == "features" {
		return filepath.Join("testdata", "features")
	}
	return filepath.Join("..", "testdata", "gitops-repos", name)
}

// kustomizeCLI returns the kustomize CLI the output must match, or skips
// the test when it is absent, unless GITWARD_REQUIRE_KUSTOMIZE is set, in
// which case it builds it with scripts/kustomize.sh.
func kustomizeCLI(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("KUSTOMIZE"); p != "" {
		return p
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	bin := filepath.Join(cache, "gitward", "kustomize", render.KustomizeCLIVersion, "kustomize")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if os.Getenv("GITWARD_REQUIRE_KUSTOMIZE") == "" {
		t.Skipf("kustomize CLI %s not found at %s: run scripts/kustomize.sh to build it, or set GITWARD_REQUIRE_KUSTOMIZE=1 to have this test build it (and fail without it)",
			render.KustomizeCLIVersion, bin)
	}
	out, err := exec.Command("bash", filepath.Join("..", "scripts", "kustomize.sh")).Output()
	if err != nil {
		t.Fatalf("GITWARD_REQUIRE_KUSTOMIZE is set and scripts/kustomize.sh failed: %v", err)
	}
	return strings.TrimSpace(string(out))
}

type cliResult struct {
	out, stderr []byte
	err         error
}

// cliBuildAll runs `kustomize build DIR` in repo for every dir, a few at a time.
func cliBuildAll(bin, repo string, dirs []string) []cliResult {
	out := make([]cliResult, len(dirs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, d := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			cmd := exec.Command(bin, "build", d)
			cmd.Dir = repo
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			out[i] = cliResult{stdout.Bytes(), stderr.Bytes(), err}
		}()
	}
	wg.Wait()
	return out
}

func TestRenderMatchesKustomizeCLIOnEveryFixtureKustomization(t *testing.T) {
	bin := kustomizeCLI(t)
	for _, name := range identityRepos {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			repo := fixture(name)
			tree, err := render.OpenTree(repo)
			if err != nil {
				t.Fatal(err)
			}
			defer tree.Close()
			apps, err := render.Discover(tree.FS(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if name == "features" {
				// Discovery does not follow symlinked directories; kustomize does.
				apps = append(apps, render.App{Name: "overlays/alias", Path: "overlays/alias"})
			}
			g := render.BuildGraph(tree, apps)
			results, err := render.NewRenderer(render.Options{}).RenderAll(context.Background(), g, apps)
			if err != nil {
				t.Fatal(err)
			}
			dirs := make([]string, len(apps))
			for i, a := range apps {
				dirs[i] = a.Path
			}
			cli := cliBuildAll(bin, repo, dirs)
			same, failed := 0, 0
			for i, a := range apps {
				got, want := results[i], cli[i]
				id := name + "/" + a.Path
				if missing, ok := unbuildable[id]; ok {
					failed++
					if want.err == nil || got.Err == nil {
						t.Errorf("%s: should fail in both (CLI error %v, gitward error %v)", id, want.err, got.Err)
						continue
					}
					if !strings.Contains(string(want.stderr), missing) || !strings.Contains(got.Err.Error(), missing) {
						t.Errorf("%s: both errors should name %s\nCLI:     %s\ngitward: %v", id, missing, want.stderr, got.Err)
					}
					continue
				}
				if want.err != nil {
					t.Errorf("%s: the CLI failed: %v\n%s", id, want.err, want.stderr)
					continue
				}
				if got.Err != nil {
					t.Errorf("%s: gitward failed where the CLI did not: %v", id, got.Err)
					continue
				}
				if !bytes.Equal(got.YAML, want.out) {
					t.Errorf("%s: output differs from the CLI's (%d bytes vs %d)\n%s", id, len(got.YAML), len(want.out), firstDiff(got.YAML, want.out))
					continue
				}
				same++
			}
			t.Logf("%s: %d kustomizations, %d byte-identical to kustomize %s, %d fail in both", name, len(apps), same, render.KustomizeCLIVersion, failed)
		})
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(i+1) + ":\n  gitward: " + gl + "\n  CLI:     " + wl
		}
	}
	return ""
}

func itoa(n int) string {
	return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(n))
}

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
