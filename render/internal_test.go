package render

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "-> "); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// snapshotOf writes files as the tree of one commit and reads its graph.
func snapshotOf(t *testing.T, files map[string]string, apps ...App) *Graph {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	tree, err := OpenTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tree.Close() })
	return BuildGraph(tree, apps)
}

var (
	overlay = App{Name: "overlay", Path: "overlay"}
	commit1 = map[string]string{
		"base/kustomization.yaml":    "resources:\n  - cm.yaml\n",
		"base/cm.yaml":               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"1\"\n",
		"overlay/kustomization.yaml": "namePrefix: x-\nresources:\n  - ../base\n",
		"README.md":                  "docs\n",
	}
)

func with(files map[string]string, name, content string) map[string]string {
	out := map[string]string{name: content}
	for k, v := range files {
		if k != name {
			out[k] = v
		}
	}
	return out
}

func render1(t *testing.T, r *Renderer, g *Graph, a App) Result {
	t.Helper()
	res, err := r.Render(context.Background(), g, a)
	if err != nil {
		t.Fatal(err)
	}
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	return res
}

func TestAnUnchangedAppRendersOnceAcrossCommits(t *testing.T) {
	r := NewRenderer(Options{CacheSize: 1 << 20})
	first := render1(t, r, snapshotOf(t, commit1, overlay), overlay)
	if first.Cached {
		t.Fatal("first render came from the cache")
	}
	// Another commit, another snapshot directory, a change no render reads.
	second := render1(t, r, snapshotOf(t, with(commit1, "README.md", "changed\n"), overlay), overlay)
	if !second.Cached || string(second.YAML) != string(first.YAML) {
		t.Errorf("unchanged inputs: cached=%v, same output=%v", second.Cached, string(second.YAML) == string(first.YAML))
	}
	// A change to the base the overlay uses.
	third := render1(t, r, snapshotOf(t, with(commit1, "base/cm.yaml", strings.Replace(commit1["base/cm.yaml"], `"1"`, `"2"`, 1)), overlay), overlay)
	if third.Cached || !strings.Contains(string(third.YAML), `a: "2"`) {
		t.Errorf("changed base: cached=%v\n%s", third.Cached, third.YAML)
	}
	if r.builds.Load() != 2 {
		t.Errorf("kustomize ran %d times, want 2", r.builds.Load())
	}
}

func TestConcurrentRendersOfOneKeyRunKustomizeOnce(t *testing.T) {
	r := NewRenderer(Options{Concurrency: 1}) // no cache: only the flight shares
	g := snapshotOf(t, commit1, overlay)
	r.slots <- struct{}{} // hold the only slot so that every render queues
	var wg sync.WaitGroup
	results := make([]Result, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = render1(t, r, g, overlay)
		}()
	}
	key, err := g.key(overlay.Path)
	if err != nil {
		t.Fatal(err)
	}
	for waiting := 0; waiting < len(results)-1; time.Sleep(time.Millisecond) {
		r.cache.mu.Lock()
		if f := r.cache.flights[key]; f != nil {
			waiting = f.waiters
		}
		r.cache.mu.Unlock()
	}
	<-r.slots
	wg.Wait()
	if n := r.builds.Load(); n != 1 {
		t.Errorf("kustomize ran %d times for one key, want 1", n)
	}
	for _, res := range results {
		if string(res.YAML) != string(results[0].YAML) || len(res.YAML) == 0 {
			t.Fatal("renders of one key differ")
		}
	}
}

func TestTheCacheStaysWithinItsBudget(t *testing.T) {
	c := newCache(1000)
	val := func(n int) *rendered { return &rendered{yaml: make([]byte, n)} }
	c.put("a", val(300)) // 556 bytes with overhead
	c.put("b", val(100)) // 356
	if _, ok := c.get("a"); !ok {
		t.Fatal("a is gone")
	}
	c.put("c", val(100)) // over budget: b, the least recently used, goes
	if _, ok := c.get("b"); ok {
		t.Error("b was kept over the budget")
	}
	if n, size := c.usage(); n != 2 || size > 1000 {
		t.Errorf("usage = %d renders, %d bytes", n, size)
	}
	c.put("huge", val(5000))
	if _, ok := c.get("huge"); ok {
		t.Error("a render larger than the whole cache was kept")
	}
	off := newCache(0)
	off.put("a", val(1))
	if _, ok := off.get("a"); ok {
		t.Error("a cache of size 0 kept a render")
	}
}

func TestRendersOverTheTimeLimitAreNotCached(t *testing.T) {
	r := NewRenderer(Options{CacheSize: 1 << 20, TimeLimit: time.Microsecond})
	g := snapshotOf(t, commit1, overlay)
	for i := 0; i < 2; i++ {
		res, err := r.Render(context.Background(), g, overlay)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(res.Err, ErrTimeLimit) || res.Cached {
			t.Fatalf("render %d: err=%v cached=%v", i, res.Err, res.Cached)
		}
	}
	// Abandoned renders finish in the background and free their slots.
	deadline := time.Now().Add(10 * time.Second)
	for len(r.slots) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if len(r.slots) > 0 {
		t.Error("abandoned renders kept their slots")
	}
	if n, _ := r.CacheUsage(); n != 0 {
		t.Errorf("the cache kept %d renders over the time limit", n)
	}
}

func TestACancelledCallerGetsItsContextError(t *testing.T) {
	r := NewRenderer(Options{Concurrency: 1})
	g := snapshotOf(t, commit1, overlay)
	r.slots <- struct{}{}
	defer func() { <-r.slots }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Render(ctx, g, overlay); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's", err)
	}
}

func TestRemoteEntries(t *testing.T) {
	for _, tc := range []struct {
		entry  string
		remote bool
		name   string
	}{
		{"../base", false, ""},
		{"github.com-mirror/base", false, ""},
		{"gitlab.com/acme/platform", false, ""}, // kustomize reads this as a local path
		{"github.com/acme/platform//deploy?ref=v1", true, "github.com/acme/platform/deploy"},
		{"GitHub.com/acme/platform", true, "github.com/acme/platform"},
		{"github.com:acme/platform.git", true, "github.com/acme/platform"},
		{"git@github.com:acme/platform.git//deploy", true, "github.com/acme/platform/deploy"},
		{"git::https://gitlab.com/acme/platform.git//deploy?ref=main", true, "gitlab.com/acme/platform/deploy"},
		{"ssh://git@example.com:2222/org/repo.git", true, "example.com/org/repo"},
		{"https://user:token@example.com/org/repo/_git/x", true, "example.com/org/repo/_git/x"},
		{"https://raw.githubusercontent.com/acme/p/main/patch.yaml", true, "raw.githubusercontent.com/acme/p/main/patch.yaml"},
		{"file:///srv/repo", true, "srv/repo"},
		{"oci://registry/x", true, "registry/x"},
	} {
		if got := isRemote(tc.entry); got != tc.remote {
			t.Errorf("isRemote(%q) = %v", tc.entry, got)
		}
		if tc.remote {
			if got := remoteName(tc.entry); got != tc.name {
				t.Errorf("remoteName(%q) = %q, want %q", tc.entry, got, tc.name)
			}
		}
	}
}

func TestKustomizePathsReadFromTheRepositoryRoot(t *testing.T) {
	for in, want := range map[string]string{
		"open /repo/apps/x.yaml: file does not exist":                "open apps/x.yaml: file does not exist",
		"security; file '/repo/a/../b' is not in or below '/repo/a'": "security; file 'a/../b' is not in or below 'a'",
		"cycle detected: candidate root '/repo' contains":            "cycle detected: candidate root '.' contains",
		"[/repo/a /repo/b]":                 "[a b]",
		"path /repo/repo/x and /repository": "path repo/x and /repository",
	} {
		if got := repoPaths(in); got != want {
			t.Errorf("repoPaths(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSymlinkLoopsEndInAnError(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a": "-> b", "b": "-> a", "c/d": "-> ../c/d"})
	tree, err := OpenTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	for _, p := range []string{"a", "c/d", "a/x"} {
		if _, _, err := tree.Resolve(p); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
			t.Errorf("Resolve(%s) = %v", p, err)
		}
	}
}
