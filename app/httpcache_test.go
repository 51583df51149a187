package app

import (
	"strings"
	"testing"
)

func TestBoundedCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newBoundedCache(30)
	c.Set("a", []byte(strings.Repeat("x", 9))) // 10 bytes with its key
	c.Set("b", []byte(strings.Repeat("x", 9)))
	c.Set("c", []byte(strings.Repeat("x", 9)))
	if _, ok := c.Get("a"); !ok { // a is now the most recent
		t.Fatal("a was evicted while the cache had room")
	}
	c.Set("d", []byte(strings.Repeat("x", 9))) // evicts b, the least recent
	if _, ok := c.Get("b"); ok {
		t.Error("b survived although it was least recently used")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s was evicted", k)
		}
	}
	c.Set("huge", []byte(strings.Repeat("x", 100)))
	if _, ok := c.Get("huge"); ok {
		t.Error("a response larger than the cache was kept")
	}
	c.Set("a", []byte("y")) // replacing shrinks the accounted size
	c.Delete("c")
	if c.size != int64(len("a")+1+len("d")+9) {
		t.Errorf("size = %d after replace and delete", c.size)
	}
}

func TestCacheViewsDoNotShareEntries(t *testing.T) {
	c := newBoundedCache(1 << 10)
	a, b := c.view(), c.view()
	a.Set("https://api.github.com/repos/o/r/pulls/1", []byte("installation A's answer"))
	if _, ok := b.Get("https://api.github.com/repos/o/r/pulls/1"); ok {
		t.Fatal("one installation's client was served another's cached response")
	}
	if got, ok := a.Get("https://api.github.com/repos/o/r/pulls/1"); !ok || string(got) != "installation A's answer" {
		t.Errorf("the view lost its own entry")
	}
}
