package app

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// filler is a request body of n bytes made as it is read, so the client
// side of a test holds no payload in memory.
type filler struct{ left int64 }

func (f *filler) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), f.left)
	for i := range p[:n] {
		p[i] = 'a'
	}
	f.left -= n
	return int(n), nil
}

// peakHeap samples the heap while run runs and returns the most it held.
func peakHeap(run func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	run()
	close(done)
	<-sampled
	return peak.Load()
}

// flood posts n bodies of size bytes at once, each with the headers set
// sets, and returns the statuses of the answers that arrived (a server
// that refuses a body may close the connection before the client has
// written it all).
func flood(t *testing.T, url string, n int, size int64, set func(h http.Header)) map[int]int {
	t.Helper()
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodPost, url, &filler{left: size})
			if err != nil {
				t.Error(err)
				return
			}
			req.ContentLength = size
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("delivery-%d", i))
			set(req.Header)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return // the server closed the connection on a refused body
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return statuses
}

func TestUnsignedDeliveriesAreRefusedBeforeTheirBodiesAreRead(t *testing.T) {
	srv := httptest.NewServer(newGitHubWebhook([]byte("secret"), 0, nil, nil, NewMetrics()))
	defer srv.Close()
	var statuses map[int]int
	peak := peakHeap(func() {
		statuses = flood(t, srv.URL, 100, 24<<20, func(http.Header) {})
	})
	t.Logf("peak heap %d MiB; answers %v", peak>>20, statuses)
	if peak > 200<<20 {
		t.Errorf("100 unsigned 24 MiB deliveries took the heap to %d MiB, want under 200 MiB", peak>>20)
	}
	for status := range statuses {
		if status != http.StatusUnauthorized {
			t.Errorf("an unsigned delivery was answered %d, want 401", status)
		}
	}
}

func TestDeliveriesWithMadeUpSignaturesHoldAtMostTheBudget(t *testing.T) {
	srv := httptest.NewServer(newGitHubWebhook([]byte("secret"), 0, nil, nil, NewMetrics()))
	defer srv.Close()
	var statuses map[int]int
	peak := peakHeap(func() {
		statuses = flood(t, srv.URL, 12, 24<<20, func(h http.Header) {
			h.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
		})
	})
	t.Logf("peak heap %d MiB; answers %v", peak>>20, statuses)
	if peak > 200<<20 {
		t.Errorf("12 concurrent 24 MiB deliveries with wrong signatures took the heap to %d MiB, want under 200 MiB", peak>>20)
	}
	if statuses[http.StatusUnauthorized] != 12 {
		t.Errorf("answers %v, want 12 × 401 (each body read and its signature refused)", statuses)
	}
}

func TestOverlongOrMalformedHeadersAreRefusedBeforeTheBody(t *testing.T) {
	h := newGitHubWebhook([]byte("secret"), 0, nil, nil, NewMetrics())
	for name, tc := range map[string]struct {
		header, value string
		want          int
	}{
		"event too long":     {"X-GitHub-Event", strings.Repeat("e", 65), http.StatusBadRequest},
		"delivery too long":  {"X-GitHub-Delivery", strings.Repeat("d", 65), http.StatusBadRequest},
		"signature not hex":  {"X-Hub-Signature-256", "sha256=" + strings.Repeat("z", 64), http.StatusUnauthorized},
		"signature too long": {"X-Hub-Signature-256", "sha256=" + strings.Repeat("0", 66), http.StatusUnauthorized},
		"signature sha1":     {"X-Hub-Signature-256", "sha1=" + strings.Repeat("0", 40), http.StatusUnauthorized},
	} {
		t.Run(name, func(t *testing.T) {
			body := &filler{left: 1 << 20}
			req := httptest.NewRequest(http.MethodPost, "/api/github/hook", body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-GitHub-Delivery", "d")
			req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
			req.Header.Set(tc.header, tc.value)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if body.left != 1<<20 {
				t.Errorf("%d bytes of the body were read before the headers were judged", 1<<20-body.left)
			}
		})
	}
}
