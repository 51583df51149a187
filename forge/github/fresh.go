package github

import (
	"net/http"
	"sync"

	gh "github.com/google/go-github/v60/github"
)

// GitHub marks its answers to authenticated reads as fresh for 60 seconds
// ("Cache-Control: private, max-age=60"), and the response cache of
// go-githubapp's clients honours that: without care, a read of a pull
// request, its reviews, comments or check runs can be answered from the
// cache with what GitHub said up to a minute ago, and a verdict built on it
// is stale. So every read goes through a client whose GET requests ask
// for revalidation (revalidateAll): a cache revalidates its stored answer with
// If-None-Match, GitHub answers 304 when nothing changed (which does not
// count against the rate limit) and the full, current answer otherwise.
// Only reads addressed by commit SHA, whose answer cannot change, may be
// served from the cache unasked (see immutableClient).

// revalidateAll is the Cache-Control of every read. A cache reckons a
// stored answer's age from its Date header, which GitHub's clock writes:
// when that clock is ahead of ours the age comes out negative, and
// "max-age=0" alone would still take the answer as fresh. Asking that it
// stay fresh for a year more (min-fresh) makes every stored answer too old
// for any skew, so the cache always revalidates.
const revalidateAll = "max-age=0, min-fresh=31536000"

// revalidating asks every cache on the way to revalidate GET requests.
type revalidating struct{ next http.RoundTripper }

func (t revalidating) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		r = r.Clone(r.Context())
		r.Header.Set("Cache-Control", revalidateAll)
	}
	return t.next.RoundTrip(r)
}

// freshClients keeps one revalidating client per installation client, so
// go-github's memory of rate limits (which it uses to refuse requests
// locally until a limit resets) lives as long as the client does.
type freshClients struct {
	mu sync.Mutex
	m  map[int64]freshPair // installation ID →
}

type freshPair struct{ cached, fresh *gh.Client }

// of returns the revalidating twin of an installation's client.
func (fc *freshClients) of(installationID int64, c *gh.Client) *gh.Client {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if p, ok := fc.m[installationID]; ok && p.cached == c {
		return p.fresh
	}
	hc := *c.Client()
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = revalidating{next: next}
	fresh := gh.NewClient(&hc)
	fresh.BaseURL, fresh.UploadURL, fresh.UserAgent = c.BaseURL, c.UploadURL, c.UserAgent
	if fc.m == nil {
		fc.m = map[int64]freshPair{}
	}
	fc.m[installationID] = freshPair{cached: c, fresh: fresh}
	return fresh
}
