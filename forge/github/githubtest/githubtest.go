// Package githubtest is an in-process double of GitHub's REST API for
// gitward's handler and adapter tests.
//
// Every request the double receives is matched to an operation of GitHub's
// OpenAPI description (the trimmed copy in testdata/github/openapi) and
// validated against it: method, path, parameters and body. Every response it
// serves is validated against the same description. A violation, a request
// that matches no operation, or a request without the credentials GitHub
// would demand fails the test that owns the Server. State lives in memory
// and is seeded with small methods (AddRepo, AddPullRequest, SetTree, ...);
// what gitward wrote (check runs, comments, labels, refs) can be read back
// (CheckRuns, Comments, Labels, Ref, ...).
//
// The double speaks for one GitHub App: app endpoints (/app/...) need an app
// JWT, and everything else needs an installation token the double issued
// from POST /app/installations/{id}/access_tokens, exactly the dance
// go-githubapp's ClientCreator (ghinstallation) performs. The API is served
// both at the root and under /api/v3 (GitHub Enterprise Server style), so a
// client may use URL or URL+"/api/v3/" as its base.
//
// Where gitward's correctness depends on it, the double behaves as GitHub
// does rather than ideally:
//   - every successful GET carries GitHub's caching headers (Cache-Control
//     "private, max-age=60, s-maxage=60", ETag, Last-Modified, Vary, and a
//     Date from the double's clock); If-None-Match and If-Modified-Since
//     that still match are answered 304 without a body, and a 304 does not
//     count against the rate limit;
//   - listing a pull request's commits stops at 250 and its files at 3000,
//     while the pull request's commits and changed_files count them all;
//   - the primary rate limit (SetRateLimitRemaining), secondary rate
//     limits (SecondaryRateLimitNext: 403, retry-after, GitHub's message)
//     and any error status (FailNext) can be injected;
//   - the API can lag behind webhooks: Later holds a change (a review, a
//     push) for a number of further requests, and WithCommitLinkLag delays
//     a merge commit's link to its pull request. Both count requests, not
//     time, and Settle applies what is held.
//
// What it still does not model: installation tokens expiring (they never
// do here), the Vary header's effect on which cached answers GitHub itself
// would serve, per-resource Last-Modified (it is the time the double first
// served an answer), secondary limits that trip by themselves (on request
// rate, concurrency or content creation), GitHub's own timeouts and 5xx on
// huge pull requests unless injected, the 300-file
// cap of the diff and patch media types (gitward does not ask for them),
// abuse detection, replication lag of anything but reviews, pushes and
// merge links, and webhook deliveries (a test sends those itself).
//
// The GraphQL API is served at /graphql and /api/graphql for the queries
// gitward makes, validated against an excerpt of GitHub's GraphQL schema;
// graphql.go says what it answers and what it does not model.
package githubtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// Default identity of the GitHub App the double serves.
const (
	DefaultAppID   int64 = 4242
	DefaultAppSlug       = "gitward"
	// DefaultRateLimit is the hourly request budget of an installation.
	DefaultRateLimit = 5000
)

// docsURL is the documentation_url of the double's error bodies.
const docsURL = "https://docs.github.com/rest"

// Server is the GitHub API double. Create it with New; it is safe for
// concurrent use.
type Server struct {
	// URL is the base address of the API, without a trailing slash, for
	// example "http://127.0.0.1:41234". The API is also served under
	// URL+"/api/v3".
	URL string

	t    testing.TB
	spec *spec
	http *httptest.Server
	cfg  config

	mu            sync.Mutex
	requests      []Request
	faults        []*fault
	rateLimit     int
	rateRemaining int
	nextID        int64
	users         map[string]int64
	installations map[int64]*installation
	tokens        map[string]int64 // installation token → installation ID
	repos         map[string]*repo // "owner/name" →
	teams         map[string]map[string]teamMember
	gpgKeys       map[string][]*gpgKey      // login →
	validators    map[string]cacheValidator // request URI → last answer's ETag
	lagged        []*lagged                 // changes not yet visible (see Later)
	codeloadToken string
	emails        map[string]string // verified e-mail → login (graphql.go)
	graphQLSpent  int
	sshKeys       map[string][]string // login → SSH signing keys (see AddSSHSigningKey)
	hooks         webhooks
}

// Option configures a Server.
type Option func(*config)

type config struct {
	appID   int64
	appSlug string
	webURL  string
	clock   func() time.Time
	latency time.Duration
	linkLag int
}

// WithApp sets the ID and slug of the GitHub App the double serves. Check
// runs the app creates carry this ID, a JWT whose numeric "iss" names
// another app is refused, and comments the app writes are by "<slug>[bot]".
func WithApp(id int64, slug string) Option {
	return func(c *config) { c.appID, c.appSlug = id, slug }
}

// WithWebURL sets the web address used in html_url fields; the default is
// "https://github.com".
func WithWebURL(u string) Option {
	return func(c *config) { c.webURL = strings.TrimSuffix(u, "/") }
}

// WithClock replaces the clock used for timestamps the double assigns.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.clock = now }
}

// WithLatency delays every API response by d, for timeout tests. A request
// whose context ends first gets no response.
func WithLatency(d time.Duration) Option {
	return func(c *config) { c.latency = d }
}

// WithCommitLinkLag makes GET /repos/{owner}/{repo}/commits/{sha}/pulls
// list a pull request merged by MergePullRequest only after n more API
// requests (or Settle), as GitHub links a merge commit to its pull request
// a moment after the push event.
func WithCommitLinkLag(n int) Option {
	return func(c *config) { c.linkLag = n }
}

// New starts a GitHub API double that reports violations to t and stops
// when t's test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	sp, err := loadSpec()
	if err != nil {
		t.Fatalf("githubtest: %v", err)
	}
	cfg := config{
		appID:   DefaultAppID,
		appSlug: DefaultAppSlug,
		webURL:  "https://github.com",
		clock:   time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		t:             t,
		spec:          sp,
		cfg:           cfg,
		rateLimit:     DefaultRateLimit,
		rateRemaining: DefaultRateLimit,
		nextID:        1000,
		users:         map[string]int64{},
		installations: map[int64]*installation{},
		tokens:        map[string]int64{},
		repos:         map[string]*repo{},
		teams:         map[string]map[string]teamMember{},
		gpgKeys:       map[string][]*gpgKey{},
		validators:    map[string]cacheValidator{},
		codeloadToken: randomHex(16),
	}
	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.http.URL
	t.Cleanup(s.http.Close)
	return s
}

// Client returns an HTTP client for the double's server.
func (s *Server) Client() *http.Client { return s.http.Client() }

// Request is one request the double received.
type Request struct {
	Method string
	// Path is the URL path as received (with any /api/v3 prefix).
	Path  string
	Query url.Values
	Body  []byte
	// OperationID is GitHub's operationId ("pulls/get"), "codeload" for an
	// archive download, or "" when the request matched no operation.
	OperationID string
	// Status is the HTTP status the double answered with.
	Status int
}

// Requests returns every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls counts the requests for one operation, by GitHub's operationId
// (for example "checks/create" or "issues/create-comment").
func (s *Server) Calls(operationID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.OperationID == operationID {
			n++
		}
	}
	return n
}

// ResetRequests forgets the request log, so a test can assert on what one
// step called.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

type fault struct {
	method, pattern string
	status, times   int
	// header and body replace the plain error answer when set.
	header http.Header
	body   map[string]any
}

// FailNext makes the next `times` requests whose method and path match
// answer with status and a GitHub-style error body, without touching
// state. pattern is either a path template from GitHub's description
// ("/repos/{owner}/{repo}/pulls/{pull_number}") or a path.Match glob over
// the request path ("/repos/acme/*/pulls/7"); method "" or "*" matches any
// method. Requests are still validated first.
func (s *Server) FailNext(method, pattern string, status, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: strings.ToUpper(method), pattern: pattern, status: status, times: times})
}

// SecondaryRateLimitNext makes the next `times` requests whose method and
// path match (as for FailNext) answer as GitHub does when a secondary rate
// limit trips: 403 with a retry-after header in seconds and GitHub's
// message, without touching state or the primary rate limit.
func (s *Server) SecondaryRateLimitNext(method, pattern string, retryAfter time.Duration, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{
		method: strings.ToUpper(method), pattern: pattern, status: http.StatusForbidden, times: times,
		header: http.Header{"Retry-After": {strconv.Itoa(int(retryAfter.Seconds()))}},
		body: map[string]any{
			"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID " + strings.ToUpper(randomHex(4)) + ":" + strings.ToUpper(randomHex(6)) + ".",
			"documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		},
	})
}

// SetRateLimitRemaining sets how many requests the rate limit still
// allows. At zero every API call but GET /rate_limit answers 403 "API rate
// limit exceeded", as GitHub does.
func (s *Server) SetRateLimitRemaining(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateRemaining = n
}

// RateLimitRemaining reports the remaining request budget.
func (s *Server) RateLimitRemaining() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateRemaining
}

// AppJWT returns a JSON web token the double accepts for app endpoints. It
// is not signed; the double only checks its shape, issuer and expiry.
func (s *Server) AppJWT() string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	now := s.now()
	claims, _ := json.Marshal(map[string]any{
		"iat": now.Add(-time.Minute).Unix(),
		"exp": now.Add(9 * time.Minute).Unix(),
		"iss": strconv.FormatInt(s.cfg.appID, 10),
	})
	return header + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString([]byte("githubtest"))
}

// InstallationToken issues an installation token without the JWT exchange,
// for tests that drive the API with a plain go-github client.
func (s *Server) InstallationToken(installationID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.installations[installationID] == nil {
		s.t.Fatalf("githubtest: InstallationToken: no installation %d (AddInstallation first)", installationID)
	}
	return s.issueToken(installationID)
}

func (s *Server) issueToken(installationID int64) string {
	tok := "ghs_" + randomHex(18)
	s.tokens[tok] = installationID
	return tok
}

func (s *Server) now() time.Time { return s.cfg.clock().UTC().Truncate(time.Second) }

func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

// report fails the owning test.
func (s *Server) report(format string, args ...any) {
	s.t.Helper()
	s.t.Errorf("githubtest: "+format, args...)
}

// call is one API request on its way through the double.
type call struct {
	r      *http.Request
	route  *route
	params map[string]string
	query  url.Values
	body   []byte
	// installation is set for requests authenticated with an installation
	// token; repo for operations under /repos/{owner}/{repo}.
	installation *installation
	repo         *repo
	// prefix is "/api/v3" when the client used the Enterprise layout.
	prefix string
}

// reply is what a handler answers.
type reply struct {
	status int
	body   any
	header http.Header
	// unchecked skips response validation: injected faults and rate-limit
	// refusals are GitHub behaviour outside any one operation's description.
	unchecked bool
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if strings.HasPrefix(r.URL.Path, codeloadPrefix) {
		s.serveCodeload(w, r)
		return
	}
	if s.cfg.latency > 0 {
		select {
		case <-time.After(s.cfg.latency):
		case <-r.Context().Done():
			return
		}
	}

	if isGraphQLPath(r.URL.Path) {
		s.serveGraphQL(w, r, body)
		return
	}

	c := &call{r: r, body: body, query: r.URL.Query()}
	escaped := r.URL.EscapedPath()
	if rest, ok := strings.CutPrefix(escaped, "/api/v3/"); ok {
		c.prefix, escaped = "/api/v3", "/"+rest
	}
	c.route, c.params = s.spec.find(r.Method, escaped)
	logged := Request{Method: r.Method, Path: r.URL.Path, Query: c.query, Body: body}
	if c.route == nil {
		logged.Status = http.StatusNotFound
		msg := "no operation in GitHub's description matches"
		if s.spec.pathKnown(escaped) {
			msg = "no operation in the trimmed description has this method for"
		}
		s.log(logged)
		s.report("%s %s: %s it (add it to internal/tools/trimopenapi if gitward should call it)", r.Method, r.URL.Path, msg)
		writeJSON(w, logged.Status, nil, errorBody("Not Found"))
		return
	}
	logged.OperationID = c.route.Operation.OperationID
	status, header, data := s.complete(c, s.handle(c))
	logged.Status = status
	s.log(logged)
	s.countDown()
	writeRaw(w, status, header, data)
}

func (s *Server) log(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
}

var filterOptions = &openapi3filter.Options{
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
	MultiError:         true,
	// The double sees the body gitward sent, not one completed with the
	// description's defaults.
	SkipSettingDefaults: true,
}

func (c *call) validationInput() *openapi3filter.RequestValidationInput {
	req := c.r.Clone(c.r.Context())
	req.Body = io.NopCloser(bytes.NewReader(c.body))
	return &openapi3filter.RequestValidationInput{
		Request:     req,
		PathParams:  c.params,
		QueryParams: c.query,
		Route:       c.route.Route,
		Options:     filterOptions,
	}
}

func (s *Server) handle(c *call) reply {
	op := c.route.Operation.OperationID
	c.body = lenientBody(c)
	if err := openapi3filter.ValidateRequest(c.r.Context(), c.validationInput()); err != nil {
		s.report("%s %s (%s): request does not match GitHub's description: %v", c.r.Method, c.r.URL.RequestURI(), op, err)
		return reply{status: http.StatusUnprocessableEntity, body: map[string]any{
			"message":           "Invalid request.\n\n" + err.Error(),
			"documentation_url": docsURL,
		}, unchecked: true}
	}
	if rep, ok := s.authenticate(c); !ok {
		return rep
	}
	if rep, ok := s.injectedFault(c); ok {
		return rep
	}
	if rep, ok := s.spendRate(c); !ok {
		return rep
	}
	h := handlers[op]
	if h == nil {
		s.report("%s %s: operation %s is in the description but the double does not implement it", c.r.Method, c.r.URL.Path, op)
		return reply{status: http.StatusNotImplemented, body: errorBody("Not Implemented"), unchecked: true}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if owner, ok := c.params["owner"]; ok {
		rp := s.repos[owner+"/"+c.params["repo"]]
		if rp == nil || c.installation == nil || rp.installationID != c.installation.id {
			s.t.Logf("githubtest: %s %s: no repository %s/%s for this installation; answering 404", c.r.Method, c.r.URL.Path, owner, c.params["repo"])
			return notFound()
		}
		c.repo = rp
	}
	return h(s, c)
}

// lenientBody rewrites the few request bodies GitHub accepts although its
// description does not describe them:
//   - a JSON null where the body is optional counts as no body; ghinstallation
//     sends null to access_tokens when it asks for no restrictions;
//   - issues/add-labels: "You can also pass an array of labels directly",
//     says the description (and go-github does), while the schema lists
//     only the {"labels": [...]} object.
func lenientBody(c *call) []byte {
	body := c.body
	if rb := c.route.Operation.RequestBody; string(bytes.TrimSpace(body)) == "null" && (rb == nil || rb.Value == nil || !rb.Value.Required) {
		return nil
	}
	if c.route.Operation.OperationID != "issues/add-labels" {
		return body
	}
	var labels []string
	if json.Unmarshal(body, &labels) != nil {
		return body
	}
	out, _ := json.Marshal(map[string]any{"labels": labels})
	return out
}

func (s *Server) injectedFault(c *call) (reply, bool) {
	return s.faultFor(c.r.Method, c.route.Path, strings.TrimPrefix(c.r.URL.Path, c.prefix))
}

// faultFor answers the first injected fault matching a request by method
// and by path template or path.
func (s *Server) faultFor(method, template, urlPath string) (reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.method != "" && f.method != "*" && f.method != method {
			continue
		}
		if f.pattern != template {
			if ok, _ := path.Match(f.pattern, urlPath); !ok {
				continue
			}
		}
		f.times--
		if f.times <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		if f.body != nil {
			return reply{status: f.status, body: f.body, header: f.header.Clone(), unchecked: true}, true
		}
		return reply{status: f.status, body: errorBody(http.StatusText(f.status)), unchecked: true}, true
	}
	return reply{}, false
}

// spendRate charges a request to the rate limit, or refuses it when the
// budget is spent. A conditional GET is charged only when its answer is
// not 304 (see complete).
func (s *Server) spendRate(c *call) (reply, bool) {
	if c.route.Operation.OperationID == "rate-limit/get" {
		return reply{}, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rateRemaining <= 0 {
		return reply{status: http.StatusForbidden, body: map[string]any{
			"message":           "API rate limit exceeded for installation.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
		}, unchecked: true}, false
	}
	if !conditional(c.r) {
		s.rateRemaining--
	}
	return reply{}, true
}

func (s *Server) rateHeaders(h http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.rateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(s.rateRemaining, 0)))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.rateLimit-max(s.rateRemaining, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.now().Add(time.Hour).Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

// complete fills in, validates and finishes a handler's reply: a
// successful GET gets GitHub's caching headers, and becomes 304 without a
// body when the request's validators match it.
func (s *Server) complete(c *call, rep reply) (status int, header http.Header, data []byte) {
	header = rep.header
	if header == nil {
		header = http.Header{}
	}
	header.Set("X-GitHub-Request-Id", strings.ToUpper(randomHex(8)))
	header.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	header.Set("Date", s.now().Format(http.TimeFormat))
	status = rep.status
	if rep.body != nil {
		v, err := normalize(rep.body)
		if err != nil {
			s.report("%s %s: cannot encode the double's response: %v", c.r.Method, c.r.URL.Path, err)
			return http.StatusInternalServerError, header, nil
		}
		if !rep.unchecked {
			f := filler{now: s.now().Format(time.RFC3339), baseURL: s.URL}
			v = f.fill(responseSchema(c.route.Operation, rep.status), v, "")
		}
		data, _ = json.Marshal(v)
		header.Set("Content-Type", "application/json; charset=utf-8")
	}
	cacheable := c.r.Method == http.MethodGet && status == http.StatusOK && !rep.unchecked
	notModified := cacheable && s.cacheHeaders(c, header, data)
	// A conditional GET the handler answered is charged now, unless 304.
	if conditional(c.r) && !rep.unchecked && !notModified && c.route.Operation.OperationID != "rate-limit/get" {
		s.mu.Lock()
		s.rateRemaining--
		s.mu.Unlock()
	}
	s.rateHeaders(header)
	if !rep.unchecked {
		s.validateResponse(c, rep.status, header, data)
	}
	if notModified {
		header.Del("Content-Type")
		return http.StatusNotModified, header, nil
	}
	return status, header, data
}

func (s *Server) validateResponse(c *call, status int, header http.Header, data []byte) {
	op := c.route.Operation
	if op.Responses.Status(status) == nil && status < 400 {
		s.report("%s %s (%s): the double answered %d, which GitHub's description does not list", c.r.Method, c.r.URL.Path, op.OperationID, status)
		return
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: c.validationInput(),
		Status:                 status,
		Header:                 header,
		Options:                filterOptions,
	}
	input.SetBodyBytes(data)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		s.report("%s %s (%s): the double's %d response does not match GitHub's description: %v", c.r.Method, c.r.URL.Path, op.OperationID, status, err)
	}
}

func writeJSON(w http.ResponseWriter, status int, header http.Header, v any) {
	data, _ := json.Marshal(v)
	if header == nil {
		header = http.Header{}
	}
	header.Set("Content-Type", "application/json; charset=utf-8")
	writeRaw(w, status, header, data)
}

func writeRaw(w http.ResponseWriter, status int, header http.Header, data []byte) {
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

func errorBody(message string) map[string]any {
	return map[string]any{"message": message, "documentation_url": docsURL}
}

func notFound() reply {
	return reply{status: http.StatusNotFound, body: errorBody("Not Found")}
}

// unprocessable is GitHub's 422 with a validation-error body.
func unprocessable(message string, errs ...map[string]any) reply {
	body := map[string]any{"message": message, "documentation_url": docsURL}
	if len(errs) > 0 {
		list := make([]any, len(errs))
		for i, e := range errs {
			list[i] = e
		}
		body["errors"] = list
	}
	return reply{status: http.StatusUnprocessableEntity, body: body}
}

// decode reads the request body into v.
func (c *call) decode(v any) error {
	if len(c.body) == 0 {
		return nil
	}
	return json.Unmarshal(c.body, v)
}

// paginate serves one page of items with GitHub's Link header, honouring
// per_page (default 30, at most 100) and page.
func (s *Server) paginate(c *call, items []any) ([]any, http.Header) {
	perPage := 30
	if v, err := strconv.Atoi(c.query.Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	page := 1
	if v, err := strconv.Atoi(c.query.Get("page")); err == nil && v > 0 {
		page = v
	}
	last := max((len(items)+perPage-1)/perPage, 1)
	start := min((page-1)*perPage, len(items))
	end := min(start+perPage, len(items))
	header := http.Header{}
	link := func(p int, rel string) string {
		q := url.Values{}
		for k, v := range c.query {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(p))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, s.URL, c.r.URL.EscapedPath(), q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		header.Set("Link", strings.Join(links, ", "))
	}
	return append([]any{}, items[start:end]...), header
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
