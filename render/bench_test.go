package render_test

import (
	"bytes"
	"context"
	"os/exec"
	"runtime"
	"sync"
	"testing"

	"github.com/gitward/gitward/render"
)

const benchRepo = "bjw-s-labs-home-ops"

// buildable returns the apps of the home-ops fixture that build.
func buildable(b *testing.B, tree *render.Tree) []render.App {
	apps, err := render.Discover(tree.FS(), nil)
	if err != nil {
		b.Fatal(err)
	}
	out := apps[:0]
	for _, a := range apps {
		if _, bad := unbuildable[benchRepo+"/"+a.Path]; !bad {
			out = append(out, a)
		}
	}
	return out
}

// BenchmarkRenderAll renders every buildable kustomization of the home-ops
// fixture as `gitward render --all` does: open the snapshot, discover apps,
// read the graph, render them all GOMAXPROCS at a time, without a cache.
func BenchmarkRenderAll(b *testing.B) {
	var n int
	for b.Loop() {
		tree, err := render.OpenTree(fixture(benchRepo))
		if err != nil {
			b.Fatal(err)
		}
		apps := buildable(b, tree)
		g := render.BuildGraph(tree, apps)
		results, err := render.NewRenderer(render.Options{}).RenderAll(context.Background(), g, apps)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range results {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
		n = len(apps)
		tree.Close()
	}
	b.ReportMetric(float64(n), "kustomizations")
}

// BenchmarkRenderAllCached is BenchmarkRenderAll at a second commit whose
// kustomizations did not change: every render comes from the cache, and the
// cost is reading the snapshot and hashing what each app reads.
func BenchmarkRenderAllCached(b *testing.B) {
	r := render.NewRenderer(render.Options{CacheSize: 256 << 20})
	run := func() {
		tree, err := render.OpenTree(fixture(benchRepo))
		if err != nil {
			b.Fatal(err)
		}
		defer tree.Close()
		apps := buildable(b, tree)
		if _, err := r.RenderAll(context.Background(), render.BuildGraph(tree, apps), apps); err != nil {
			b.Fatal(err)
		}
	}
	run()
	for b.Loop() {
		run()
	}
}

// BenchmarkKustomizeCLIAll renders the same kustomizations with one
// `kustomize build DIR` process each, sequentially and GOMAXPROCS at a
// time, after checking once that every output is gitward's byte for byte.
// It is skipped without the CLI (scripts/kustomize.sh builds it).
func BenchmarkKustomizeCLIAll(b *testing.B) {
	bin := kustomizeCLI(b)
	tree, err := render.OpenTree(fixture(benchRepo))
	if err != nil {
		b.Fatal(err)
	}
	defer tree.Close()
	apps := buildable(b, tree)
	results, err := render.NewRenderer(render.Options{}).RenderAll(context.Background(), render.BuildGraph(tree, apps), apps)
	if err != nil {
		b.Fatal(err)
	}
	dirs := make([]string, len(apps))
	for i, a := range apps {
		dirs[i] = a.Path
	}
	for i, c := range cliBuildAll(bin, fixture(benchRepo), dirs) {
		if c.err != nil || !bytes.Equal(c.out, results[i].YAML) {
			b.Fatalf("%s: the CLI's output is not gitward's (CLI error %v)", dirs[i], c.err)
		}
	}
	for _, workers := range []struct {
		name string
		n    int
	}{{"sequential", 1}, {"parallel", runtime.GOMAXPROCS(0)}} {
		b.Run(workers.name, func(b *testing.B) {
			for b.Loop() {
				cliRun(b, bin, fixture(benchRepo), dirs, workers.n)
			}
			b.ReportMetric(float64(len(dirs)), "kustomizations")
		})
	}
}

// cliRun runs `kustomize build DIR` for every dir, n at a time.
func cliRun(b *testing.B, bin, repo string, dirs []string, n int) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, d := range dirs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cmd := exec.Command(bin, "build", d)
			cmd.Dir = repo
			if err := cmd.Run(); err != nil {
				b.Errorf("kustomize build %s: %v", d, err)
			}
		}()
	}
	wg.Wait()
}
