package snapshot_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitward/gitward/forge/snapshot"
)

// source serves one archive and counts how often it is fetched.
type source struct {
	data  []byte
	calls atomic.Int32
}

func (s *source) fetch(ctx context.Context) (io.ReadCloser, error) {
	s.calls.Add(1)
	return io.NopCloser(bytes.NewReader(s.data)), nil
}

func repo(t testing.TB, content string) *source {
	return &source{data: archive(t, globalHeader("1a2b3c4d"), dir(top), file(top+"kustomization.yaml", content))}
}

func newCache(t *testing.T, dir string, maxBytes int64) *snapshot.Cache {
	t.Helper()
	c, err := snapshot.NewCache(dir, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func get(t *testing.T, c *snapshot.Cache, key string, src *source) *snapshot.Snapshot {
	t.Helper()
	s, err := c.Get(context.Background(), key, src.fetch, snapshot.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCacheHitDoesNotFetch(t *testing.T) {
	c := newCache(t, t.TempDir(), 1<<30)
	src := repo(t, "resources: []\n")
	first := get(t, c, "github.com/o/r@abc123", src)
	first.Release()
	second := get(t, c, "github.com/o/r@abc123", src)
	defer second.Release()

	if n := src.calls.Load(); n != 1 {
		t.Errorf("fetched %d times, want 1", n)
	}
	if second.Dir != first.Dir || second.Key != "github.com/o/r@abc123" || second.Stats.Files != 1 {
		t.Errorf("second snapshot = %+v, want the first one's tree %s", second, first.Dir)
	}
	b, err := fs.ReadFile(second.FS(), "kustomization.yaml")
	if err != nil || string(b) != "resources: []\n" {
		t.Errorf("kustomization.yaml = %q, %v", b, err)
	}
}

func TestCacheFetchesOnceForConcurrentGets(t *testing.T) {
	c := newCache(t, t.TempDir(), 1<<30)
	gate := make(chan struct{})
	src := repo(t, "x")
	fetch := func(ctx context.Context) (io.ReadCloser, error) {
		<-gate
		return src.fetch(ctx)
	}
	var wg, started sync.WaitGroup
	dirs := make([]string, 32)
	for i := range dirs {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			s, err := c.Get(context.Background(), "github.com/o/r@abc123", fetch, snapshot.Limits{})
			if err != nil {
				t.Error(err)
				return
			}
			dirs[i] = s.Dir
			s.Release()
		}()
	}
	started.Wait()
	time.Sleep(10 * time.Millisecond) // let most of them join the one fetch
	close(gate)
	wg.Wait()
	if n := src.calls.Load(); n != 1 {
		t.Errorf("fetched %d times, want 1", n)
	}
	for _, d := range dirs {
		if d != dirs[0] {
			t.Errorf("trees differ: %s and %s", d, dirs[0])
		}
	}
}

func TestCacheDoesNotKeepFailures(t *testing.T) {
	tests := []struct {
		name  string
		fetch func(context.Context) (io.ReadCloser, error)
		want  string
	}{
		{
			name: "a failed download is reported as one",
			fetch: func(context.Context) (io.ReadCloser, error) {
				return nil, errors.New("github: download archive of o/r at abc123: 502 Bad Gateway")
			},
			want: "snapshot github.com/o/r@abc123: download: github: download archive of o/r at abc123: 502 Bad Gateway",
		},
		{
			name: "a download that breaks midway is reported as a download error",
			fetch: func(context.Context) (io.ReadCloser, error) {
				data := repo(t, strings.Repeat("x", 64<<10)).data
				return io.NopCloser(io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotestErr{})), nil
			},
			want: "snapshot github.com/o/r@abc123: download: connection reset",
		},
		{
			name: "an unsafe archive is reported as an extraction error",
			fetch: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(archive(t, dir(top), link(top+"a", "/etc")))), nil
			},
			want: `snapshot github.com/o/r@abc123: extract: symlink "owner-repo-1a2b3c4/a" -> "/etc": absolute target leaves the tree`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := newCache(t, dir, 1<<30)
			_, err := c.Get(context.Background(), "github.com/o/r@abc123", tt.fetch, snapshot.Limits{})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			assertEmpty(t, dir)

			src := repo(t, "ok")
			s := get(t, c, "github.com/o/r@abc123", src)
			s.Release()
			if n := src.calls.Load(); n != 1 {
				t.Errorf("the retry fetched %d times, want 1", n)
			}
		})
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	dir := t.TempDir()
	probe := newCache(t, t.TempDir(), 1<<30)
	get(t, probe, "probe", repo(t, "x")).Release()
	_, one := probe.Usage() // every tree below has this size

	t.Run("the least recently used tree goes first", func(t *testing.T) {
		c := newCache(t, dir, 2*one)
		a, b, cc := repo(t, "a"), repo(t, "b"), repo(t, "c")
		get(t, c, "a", a).Release()
		get(t, c, "b", b).Release()
		get(t, c, "a", a).Release() // a is now more recent than b
		get(t, c, "c", cc).Release()

		if n, size := c.Usage(); n != 2 || size > 2*one {
			t.Errorf("usage = %d trees, %d bytes; want 2 within %d", n, size, 2*one)
		}
		get(t, c, "a", a).Release()
		get(t, c, "c", cc).Release()
		get(t, c, "b", b).Release()
		if a.calls.Load() != 1 || cc.calls.Load() != 1 || b.calls.Load() != 2 {
			t.Errorf("fetches a=%d b=%d c=%d, want b alone fetched again", a.calls.Load(), b.calls.Load(), cc.calls.Load())
		}
	})

	t.Run("a tree in use is never evicted", func(t *testing.T) {
		c := newCache(t, t.TempDir(), one)
		held := get(t, c, "held", repo(t, "h"))
		other := get(t, c, "other", repo(t, "o"))
		if n, _ := c.Usage(); n != 2 {
			t.Errorf("%d trees while both are in use, want 2", n)
		}
		assertReadable(t, held)
		other.Release()
		if n, _ := c.Usage(); n != 1 {
			t.Errorf("%d trees after releasing one over budget, want 1", n)
		}
		assertReadable(t, held)
		held.Release()
		held.Release() // a second release changes nothing
		if n, _ := c.Usage(); n != 1 {
			t.Errorf("%d trees, want 1", n)
		}
	})
}

func assertReadable(t *testing.T, s *snapshot.Snapshot) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(s.Dir, "kustomization.yaml")); err != nil {
		t.Errorf("tree %s of %s: %v", s.Dir, s.Key, err)
	}
}

func TestCacheRestart(t *testing.T) {
	dir := t.TempDir()
	c := newCache(t, dir, 1<<30)
	src := map[string]*source{"old": repo(t, "old"), "new": repo(t, "new")}
	trees := map[string]string{}
	for _, key := range []string{"old", "new"} {
		s := get(t, c, key, src[key])
		trees[key] = filepath.Dir(s.Dir)
		s.Release()
	}
	_, both := c.Usage()
	long := time.Now().Add(-3 * time.Hour)
	if err := os.Chtimes(trees["old"], long, long); err != nil {
		t.Fatal(err)
	}

	// What a crash leaves behind, and what must survive.
	mkdir := func(name string, age time.Duration) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Join(p, "tree", "half"), 0o755); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(-age)
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	mkdir(".tmp-stale", 2*time.Hour)
	mkdir(".tmp-busy", 0) // another process may still be extracting
	mkdir("github.com_o_r_abc-0123456789abcdef0123456789abcdef", 0)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not ours"), 0o644); err != nil {
		t.Fatal(err)
	}

	restarted := newCache(t, dir, both-1)

	t.Run("stale temporary folders and broken trees are removed", func(t *testing.T) {
		for name, want := range map[string]bool{
			".tmp-stale": false,
			".tmp-busy":  true,
			"github.com_o_r_abc-0123456789abcdef0123456789abcdef": false,
			"notes.txt": true,
		} {
			_, err := os.Stat(filepath.Join(dir, name))
			if got := err == nil; got != want {
				t.Errorf("%s exists = %v, want %v", name, got, want)
			}
		}
	})
	t.Run("the index is rebuilt and the oldest tree evicted to fit", func(t *testing.T) {
		if n, _ := restarted.Usage(); n != 1 {
			t.Errorf("%d trees, want 1", n)
		}
		if _, err := os.Stat(trees["old"]); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the least recently used tree survived: %v", err)
		}
		s := get(t, restarted, "new", src["new"])
		defer s.Release()
		if n := src["new"].calls.Load(); n != 1 {
			t.Errorf("the surviving tree was fetched again (%d fetches)", n)
		}
		if s.Stats.Files != 1 || filepath.Dir(s.Dir) != trees["new"] {
			t.Errorf("snapshot = %+v, want the tree in %s", s, trees["new"])
		}
	})
}

func TestCacheGivesUpWithItsCaller(t *testing.T) {
	c := newCache(t, t.TempDir(), 1<<30)
	fetchDone := make(chan error, 1)
	blocked := func(ctx context.Context) (io.ReadCloser, error) {
		<-ctx.Done()
		fetchDone <- ctx.Err()
		return nil, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Get(ctx, "github.com/o/r@abc123", blocked, snapshot.Limits{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the caller's deadline", err)
	}
	select {
	case err := <-fetchDone:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("fetch ended with %v, want cancelled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the fetch kept running after its only caller gave up")
	}
	src := repo(t, "x")
	get(t, c, "github.com/o/r@abc123", src).Release()
	if n := src.calls.Load(); n != 1 {
		t.Errorf("fetched %d times after the abandoned one, want 1", n)
	}
}

func TestCachesSharingAFolder(t *testing.T) {
	dir := t.TempDir()
	a, b := newCache(t, dir, 1<<30), newCache(t, dir, 1<<30)
	src := repo(t, "shared")
	var wg sync.WaitGroup
	snaps := make([]*snapshot.Snapshot, 2)
	for i, c := range []*snapshot.Cache{a, b} {
		wg.Go(func() {
			s, err := c.Get(context.Background(), "github.com/o/r@abc123", src.fetch, snapshot.Limits{})
			if err != nil {
				t.Error(err)
				return
			}
			snaps[i] = s
		})
	}
	wg.Wait()
	for _, s := range snaps {
		if s != nil {
			assertReadable(t, s)
			s.Release()
		}
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != 1 {
		t.Errorf("folder holds %d entries, want one tree", len(des))
	}
}

func TestCacheKeysStayInsideTheFolder(t *testing.T) {
	dir := t.TempDir()
	c := newCache(t, dir, 1<<30)
	s := get(t, c, "../../etc@x", repo(t, "x"))
	defer s.Release()
	if filepath.Dir(filepath.Dir(s.Dir)) != dir {
		t.Errorf("tree %s is not directly inside %s", s.Dir, dir)
	}
}

func TestNewCacheRefusesNoBudget(t *testing.T) {
	if _, err := snapshot.NewCache(t.TempDir(), 0); err == nil {
		t.Error("a cache without a size limit was accepted")
	}
}

func TestCacheRefetchesATreeRemovedBehindItsBack(t *testing.T) {
	c := newCache(t, t.TempDir(), 1<<30)
	src := repo(t, "x")
	s := get(t, c, "github.com/o/r@abc123", src)
	s.Release()
	if err := os.RemoveAll(filepath.Dir(s.Dir)); err != nil { // as another process's eviction would
		t.Fatal(err)
	}
	s = get(t, c, "github.com/o/r@abc123", src)
	defer s.Release()
	assertReadable(t, s)
	if n := src.calls.Load(); n != 2 {
		t.Errorf("fetched %d times, want 2", n)
	}
}
