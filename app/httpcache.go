package app

import (
	"container/list"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gregjones/httpcache"
)

// boundedCache is an in-memory HTTP response cache for go-githubapp's
// caching middleware (httpcache.Cache) that keeps at most maxBytes of
// responses, evicting the least recently used. GitHub answers a request
// revalidated with an ETag by 304, which does not count against the rate
// limit, so the cache saves both latency and quota. The GitHub adapter asks
// for that revalidation on every read a verdict depends on (see
// forge/github/fresh.go); only reads addressed by commit SHA are served
// from the cache without asking while GitHub's max-age allows.
type boundedCache struct {
	mu       sync.Mutex
	maxBytes int64
	size     int64
	order    *list.List // front: most recently used
	entries  map[string]*list.Element
	views    atomic.Int64
}

// view returns a cache that shares this one's byte budget but not its
// entries. go-githubapp asks for a cache per client, and clients are made
// per installation, so no installation can ever be served a response
// cached for another, whatever Vary headers the server sends.
func (c *boundedCache) view() httpcache.Cache {
	return &cacheView{c: c, prefix: strconv.FormatInt(c.views.Add(1), 10) + " "}
}

type cacheView struct {
	c      *boundedCache
	prefix string
}

func (v *cacheView) Get(key string) ([]byte, bool) { return v.c.Get(v.prefix + key) }
func (v *cacheView) Set(key string, resp []byte)   { v.c.Set(v.prefix+key, resp) }
func (v *cacheView) Delete(key string)             { v.c.Delete(v.prefix + key) }

type cacheEntry struct {
	key  string
	resp []byte
}

func newBoundedCache(maxBytes int64) *boundedCache {
	return &boundedCache{maxBytes: maxBytes, order: list.New(), entries: map[string]*list.Element{}}
}

// Get returns a cached response.
func (c *boundedCache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry).resp, true
}

// Set stores a response; one larger than the whole cache is not kept.
func (c *boundedCache) Set(key string, resp []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.removeLocked(el)
	}
	n := int64(len(key) + len(resp))
	if n > c.maxBytes {
		return
	}
	c.entries[key] = c.order.PushFront(&cacheEntry{key: key, resp: resp})
	c.size += n
	for c.size > c.maxBytes {
		c.removeLocked(c.order.Back())
	}
}

// Delete drops a response.
func (c *boundedCache) Delete(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.removeLocked(el)
	}
}

func (c *boundedCache) removeLocked(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.order.Remove(el)
	delete(c.entries, e.key)
	c.size -= int64(len(e.key) + len(e.resp))
}
