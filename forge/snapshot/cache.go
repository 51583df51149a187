package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Cache keeps extracted repository trees on disk, one per key (a repository
// and commit SHA), within a size budget.
//
// Each key lives in its own folder, "<readable prefix>-<hash>", holding
// meta.json and tree/. A tree is extracted into a ".tmp-" folder and renamed
// into place only once complete, so a crash never leaves a tree that looks
// finished; leftover temporary folders are removed on start once they are
// stale. Several processes may share the folder: one that loses the race to
// rename uses the winner's tree.
//
// Trees are leased: every Snapshot that Get returns holds a reference until
// Release, and the cache evicts only unreferenced trees, least recently used
// first, whenever its estimated size exceeds the budget. A tree in use may
// keep the cache over budget until it is released. Leases are per process.
type Cache struct {
	dir      string
	maxBytes int64

	mu      sync.Mutex
	entries map[string]*entry // by folder name
	calls   map[string]*call  // loads in flight, by folder name
	total   int64
	clock   uint64 // orders uses for LRU
	trashN  uint64
}

// entry is one tree on disk.
type entry struct {
	name  string
	key   string
	stats Stats
	size  int64
	refs  int
	used  uint64
}

// call is one download and extraction that concurrent Gets share.
type call struct {
	done    chan struct{}
	cancel  context.CancelFunc
	waiters int // guarded by Cache.mu
	ent     *entry
	err     error
}

// meta is what meta.json records about a tree.
type meta struct {
	Key   string `json:"key"`
	Stats Stats  `json:"stats"`
}

const (
	tempPrefix = ".tmp-"
	metaFile   = "meta.json"
	treeDir    = "tree"
	// blockBytes is charged per file and folder on top of their content, to
	// approximate disk blocks and inodes in the size estimate.
	blockBytes = 4096
)

// staleTemp is how old a temporary folder must be before a starting cache
// removes it; younger ones may belong to another process still extracting.
var staleTemp = time.Hour

// entryName matches the folders the cache creates, and nothing else, so that
// it never deletes what it did not make.
var entryName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*-[0-9a-f]{32}$`)

// NewCache opens or creates a cache in dir that keeps about maxBytes of
// trees. It indexes the trees already there (last use from their
// modification time), removes stale temporary folders and evicts down to
// maxBytes.
func NewCache(dir string, maxBytes int64) (*Cache, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("snapshot cache: size limit must be positive, got %d", maxBytes)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("snapshot cache: %w", err)
	}
	c := &Cache{
		dir:      dir,
		maxBytes: maxBytes,
		entries:  make(map[string]*entry),
		calls:    make(map[string]*call),
	}
	if err := c.scan(); err != nil {
		return nil, fmt.Errorf("snapshot cache: %w", err)
	}
	c.mu.Lock()
	trash := c.evictLocked()
	c.mu.Unlock()
	removeAll(trash)
	return c, nil
}

// scan rebuilds the index from the folder.
func (c *Cache) scan() error {
	des, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	type found struct {
		e     *entry
		mtime time.Time
	}
	var all []found
	for _, de := range des {
		name := de.Name()
		p := filepath.Join(c.dir, name)
		switch {
		case strings.HasPrefix(name, tempPrefix):
			if info, err := de.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
				_ = os.RemoveAll(p)
			}
		case entryName.MatchString(name) && de.IsDir():
			m, err := readMeta(p, name)
			if err != nil {
				// Trees are renamed into place complete with their
				// meta.json, so this one was damaged after the fact.
				_ = os.RemoveAll(p)
				continue
			}
			info, err := de.Info()
			if err != nil {
				continue
			}
			all = append(all, found{&entry{name: name, key: m.Key, stats: m.Stats, size: footprint(m.Stats)}, info.ModTime()})
		}
	}
	slices.SortStableFunc(all, func(a, b found) int { return a.mtime.Compare(b.mtime) })
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range all {
		c.clock++
		f.e.used = c.clock
		c.entries[f.e.name] = f.e
		c.total += f.e.size
	}
	return nil
}

// readMeta reads the meta.json of the tree folder p, checking that it
// belongs under name and that its tree exists.
func readMeta(p, name string) (meta, error) {
	var m meta
	b, err := os.ReadFile(filepath.Join(p, metaFile))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", metaFile, err)
	}
	if folderName(m.Key) != name {
		return m, fmt.Errorf("%s: key %q does not belong in %s", metaFile, m.Key, name)
	}
	info, err := os.Lstat(filepath.Join(p, treeDir))
	if err != nil {
		return m, err
	}
	if !info.IsDir() {
		return m, fmt.Errorf("%s is not a folder", treeDir)
	}
	return m, nil
}

// folderName turns a key into a safe folder name: a readable prefix and a
// hash of the whole key, which is what makes it unique.
func folderName(key string) string {
	sum := sha256.Sum256([]byte(key))
	prefix := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}, key)
	prefix = strings.TrimLeft(prefix, ".-")
	if len(prefix) > 80 {
		prefix = prefix[:80]
	}
	if prefix == "" {
		prefix = "snapshot"
	}
	return prefix + "-" + hex.EncodeToString(sum[:16])
}

// footprint estimates the disk space a tree takes.
func footprint(st Stats) int64 {
	return st.Bytes + blockBytes*int64(st.Files+st.Dirs+1)
}

// Usage reports how many trees the cache holds and their estimated size on
// disk in bytes.
func (c *Cache) Usage() (trees int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.total
}

// Get returns the tree for key, calling fetch for a gzip'd tar archive of it
// and extracting that within limits only when the cache does not hold it
// yet. Concurrent Gets of one key share one fetch; a failed fetch or
// extraction is not cached. The caller must Release the snapshot when done
// with it.
//
// fetch runs with a context that keeps the first caller's values but is
// cancelled only once every caller waiting for it has given up.
func (c *Cache) Get(ctx context.Context, key string, fetch func(context.Context) (io.ReadCloser, error), limits Limits) (*Snapshot, error) {
	return c.get(ctx, key, fetch, limits, true)
}

func (c *Cache) get(ctx context.Context, key string, fetch func(context.Context) (io.ReadCloser, error), limits Limits, retry bool) (*Snapshot, error) {
	if key == "" {
		return nil, errors.New("snapshot: empty cache key")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", key, err)
	}
	name := folderName(key)

	c.mu.Lock()
	if e, ok := c.entries[name]; ok {
		c.useLocked(e)
		e.refs++
		c.mu.Unlock()
		touch(filepath.Join(c.dir, name))
		s, err := c.open(e)
		if errors.Is(err, fs.ErrNotExist) && retry {
			// Another process sharing the folder evicted it: fetch again.
			return c.get(ctx, key, fetch, limits, false)
		}
		return s, err
	}
	cl, ok := c.calls[name]
	if !ok {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cl = &call{done: make(chan struct{}), cancel: cancel}
		c.calls[name] = cl
		go c.load(fctx, cl, name, key, fetch, limits)
	}
	cl.waiters++
	c.mu.Unlock()

	select {
	case <-cl.done:
	case <-ctx.Done():
		c.mu.Lock()
		select {
		case <-cl.done:
			// Finished as we gave up: take the result after all.
		default:
			cl.waiters--
			if cl.waiters == 0 {
				cl.cancel()
				if c.calls[name] == cl {
					delete(c.calls, name)
				}
			}
			c.mu.Unlock()
			return nil, fmt.Errorf("snapshot %s: %w", key, ctx.Err())
		}
		c.mu.Unlock()
	}
	if cl.err != nil {
		return nil, cl.err
	}
	return c.open(cl.ent)
}

// useLocked marks e as the most recently used tree.
func (c *Cache) useLocked(e *entry) {
	c.clock++
	e.used = c.clock
}

// load fetches and extracts one tree, then hands a reference to every
// caller still waiting.
func (c *Cache) load(ctx context.Context, cl *call, name, key string, fetch func(context.Context) (io.ReadCloser, error), limits Limits) {
	defer cl.cancel()
	e, err := c.fill(ctx, name, key, fetch, limits)

	c.mu.Lock()
	if c.calls[name] == cl {
		delete(c.calls, name)
	}
	var trash []string
	if err == nil {
		if old, ok := c.entries[name]; ok {
			e = old // an abandoned load of the same key got there first
		} else {
			c.entries[name] = e
			c.total += e.size
		}
		c.useLocked(e)
		e.refs += cl.waiters
		trash = c.evictLocked()
	}
	cl.ent, cl.err = e, err
	close(cl.done)
	c.mu.Unlock()
	removeAll(trash)
}

// fill downloads and extracts key into a temporary folder and renames it
// into place.
func (c *Cache) fill(ctx context.Context, name, key string, fetch func(context.Context) (io.ReadCloser, error), limits Limits) (*entry, error) {
	tmp, err := os.MkdirTemp(c.dir, tempPrefix)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", key, err)
	}
	defer os.RemoveAll(tmp) // gone already once renamed

	rc, err := fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: download: %w", key, err)
	}
	defer rc.Close()
	dr := &downloadReader{r: rc}
	st, err := extract(ctx, dr, filepath.Join(tmp, treeDir), limits)
	if err != nil {
		if dr.err != nil && !errors.Is(err, ErrLimit) && !errors.Is(err, ErrUnsafe) {
			return nil, fmt.Errorf("snapshot %s: download: %w", key, dr.err)
		}
		return nil, fmt.Errorf("snapshot %s: extract: %w", key, err)
	}
	b, err := json.Marshal(meta{Key: key, Stats: st})
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", key, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, metaFile), b, 0o644); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", key, err)
	}
	dst := filepath.Join(c.dir, name)
	if err := os.Rename(tmp, dst); err != nil {
		// Another process may have put the same tree in place first.
		m, merr := readMeta(dst, name)
		if merr != nil {
			return nil, fmt.Errorf("snapshot %s: %w", key, err)
		}
		st = m.Stats
	}
	touch(dst)
	return &entry{name: name, key: key, stats: st, size: footprint(st)}, nil
}

// downloadReader remembers a read error, so that a broken download is
// reported as one rather than as a corrupt archive.
type downloadReader struct {
	r   io.Reader
	err error
}

func (d *downloadReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF && d.err == nil {
		d.err = err
	}
	return n, err
}

// open hands out a Snapshot of e, which the caller has referenced.
func (c *Cache) open(e *entry) (*Snapshot, error) {
	dir := filepath.Join(c.dir, e.name, treeDir)
	root, err := os.OpenRoot(dir)
	if err != nil {
		c.mu.Lock()
		e.refs--
		if errors.Is(err, fs.ErrNotExist) && c.entries[e.name] == e {
			// Removed behind our back: forget it so the next Get refetches.
			delete(c.entries, e.name)
			c.total -= e.size
		}
		c.mu.Unlock()
		return nil, fmt.Errorf("snapshot %s: open: %w", e.key, err)
	}
	return &Snapshot{Key: e.key, Dir: dir, Stats: e.stats, root: root, cache: c, ent: e}, nil
}

// release drops one reference to e and evicts if the cache is over budget.
func (c *Cache) release(e *entry) {
	c.mu.Lock()
	e.refs--
	var trash []string
	if e.refs == 0 {
		trash = c.evictLocked()
	}
	c.mu.Unlock()
	removeAll(trash)
}

// evictLocked drops unreferenced trees, least recently used first, until the
// cache fits its budget. It moves each tree aside at once, so that a new Get
// never sees a half-deleted one, and returns the folders to delete after the
// lock is released.
func (c *Cache) evictLocked() []string {
	var trash []string
	for c.total > c.maxBytes {
		var victim *entry
		for _, e := range c.entries {
			if e.refs == 0 && (victim == nil || e.used < victim.used) {
				victim = e
			}
		}
		if victim == nil {
			break
		}
		src := filepath.Join(c.dir, victim.name)
		c.trashN++
		dst := filepath.Join(c.dir, fmt.Sprintf("%sevict-%d-%d", tempPrefix, os.Getpid(), c.trashN))
		if err := os.Rename(src, dst); err != nil {
			dst = src
		}
		delete(c.entries, victim.name)
		c.total -= victim.size
		trash = append(trash, dst)
	}
	return trash
}

func removeAll(paths []string) {
	for _, p := range paths {
		_ = os.RemoveAll(p)
	}
}

// touch records a use in the folder's modification time, which orders
// eviction after a restart.
func touch(p string) {
	now := time.Now()
	_ = os.Chtimes(p, now, now)
}

// Snapshot is a repository tree extracted on disk. It is shared: treat Dir
// as read-only, and call Release when done so the cache may evict it.
type Snapshot struct {
	// Key is the cache key the tree was requested under.
	Key string
	// Dir is the root of the tree.
	Dir string
	// Stats describes the tree.
	Stats Stats

	root  *os.Root
	cache *Cache
	ent   *entry
	once  sync.Once
}

// FS returns read-only access to the tree that refuses to leave it, even
// through symlinks. It stops working once the snapshot is released.
func (s *Snapshot) FS() fs.FS {
	return s.root.FS()
}

// Release ends this use of the snapshot. Calling it again does nothing.
func (s *Snapshot) Release() {
	s.once.Do(func() {
		if s.root != nil {
			s.root.Close()
		}
		if s.cache != nil {
			s.cache.release(s.ent)
		}
	})
}
