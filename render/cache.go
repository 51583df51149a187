package render

import (
	"container/list"
	"sync"
)

// rendered is what one render of a cache key produced.
type rendered struct {
	yaml  []byte
	files []string
	err   error
}

func (r *rendered) size() int64 {
	n := int64(len(r.yaml)) + 256
	for _, f := range r.files {
		n += int64(len(f)) + 16
	}
	if r.err != nil {
		n += int64(len(r.err.Error()))
	}
	return n
}

// cache keeps renders by key, least recently used first out, within a
// budget of bytes, and makes concurrent renders of one key wait for the
// first instead of repeating it.
type cache struct {
	max int64

	mu      sync.Mutex
	size    int64
	lru     *list.List // of *cacheEntry, most recent first
	entries map[string]*list.Element
	flights map[string]*flight
}

type cacheEntry struct {
	key string
	val *rendered
	n   int64
}

// flight is a render in progress that others with the same key wait for.
type flight struct {
	done    chan struct{}
	val     *rendered
	ok      bool // val may be shared: the render finished
	waiters int  // callers waiting besides the leader, under cache.mu
}

func newCache(max int64) *cache {
	return &cache{max: max, lru: list.New(), entries: map[string]*list.Element{}, flights: map[string]*flight{}}
}

func (c *cache) get(key string) (*rendered, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*cacheEntry).val, true
}

// put stores val unless the cache is off or val alone is over the budget.
func (c *cache) put(key string, val *rendered) {
	n := val.size()
	if c.max <= 0 || n > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.size -= el.Value.(*cacheEntry).n
		c.lru.Remove(el)
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry{key: key, val: val, n: n})
	c.size += n
	for c.size > c.max {
		el := c.lru.Back()
		e := el.Value.(*cacheEntry)
		c.lru.Remove(el)
		delete(c.entries, e.key)
		c.size -= e.n
	}
}

// join returns the flight for key, and whether the caller leads it (must
// run the render and call land) rather than wait for it.
func (c *cache) join(key string) (*flight, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.flights[key]; ok {
		f.waiters++
		return f, false
	}
	f := &flight{done: make(chan struct{})}
	c.flights[key] = f
	return f, true
}

// land ends a flight; ok says whether val is a finished render that the
// waiters may share, rather than the leader giving up.
func (c *cache) land(key string, f *flight, val *rendered, ok bool) {
	c.mu.Lock()
	delete(c.flights, key)
	c.mu.Unlock()
	f.val, f.ok = val, ok
	close(f.done)
}

// usage returns the number of renders kept and their bytes.
func (c *cache) usage() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.size
}
