package githubtest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// GitHub's caching headers on an authenticated GET, as api.github.com sends
// them: a client cache may reuse the answer for 60 seconds without asking,
// and may revalidate it with If-None-Match or If-Modified-Since, which
// GitHub answers with 304 Not Modified at no cost to the rate limit.
const (
	cacheControl = "private, max-age=60, s-maxage=60"
	varyHeader   = "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding, Accept, X-Requested-With"
)

// cacheValidator is what the double last served for one URL: the ETag of the
// body and when that body first appeared, so Last-Modified moves only when
// the answer changes.
type cacheValidator struct {
	etag     string
	modified time.Time
}

// conditional reports whether the request carries a validator, so that a
// 304 answer would cost it nothing.
func conditional(r *http.Request) bool {
	return r.Method == http.MethodGet && (r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "")
}

// cacheHeaders adds GitHub's caching headers to a successful GET's answer
// and reports whether the request's validators still match it, in which
// case the answer is 304 without a body.
func (s *Server) cacheHeaders(c *call, header http.Header, data []byte) (notModified bool) {
	sum := sha256.Sum256(data)
	etag := `W/"` + hex.EncodeToString(sum[:]) + `"`
	key := strings.TrimPrefix(c.r.URL.RequestURI(), c.prefix)
	s.mu.Lock()
	v, seen := s.validators[key]
	if !seen || v.etag != etag {
		modified := s.now()
		if seen && !modified.After(v.modified) {
			// A new answer within the second of the old one still gets a
			// later Last-Modified, so If-Modified-Since cannot mistake it
			// for the old one.
			modified = v.modified.Add(time.Second)
		}
		v = cacheValidator{etag: etag, modified: modified}
		s.validators[key] = v
	}
	s.mu.Unlock()

	header.Set("Cache-Control", cacheControl)
	header.Set("Vary", varyHeader)
	header.Set("ETag", etag)
	header.Set("Last-Modified", v.modified.Format(http.TimeFormat))

	// If-None-Match takes precedence over If-Modified-Since (RFC 9110
	// 13.2.2).
	if inm := c.r.Header.Get("If-None-Match"); inm != "" {
		return etagListMatches(inm, etag)
	}
	if ims := c.r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !v.modified.After(t)
	}
	return false
}

// etagListMatches compares an If-None-Match list with an ETag weakly, as
// GitHub does.
func etagListMatches(list, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		if e == "*" || strings.TrimPrefix(e, "W/") == want {
			return true
		}
	}
	return false
}
