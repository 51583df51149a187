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
	gpgKeys       map[string][]*gpgKey // login →
	codeloadToken string
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
	rep := s.handle(c)
	logged.Status = rep.status
	s.log(logged)
	s.respond(w, c, rep)
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
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.method != "" && f.method != "*" && f.method != c.r.Method {
			continue
		}
		if f.pattern != c.route.Path {
			escaped := strings.TrimPrefix(c.r.URL.Path, c.prefix)
			if ok, _ := path.Match(f.pattern, escaped); !ok {
				continue
			}
		}
		f.times--
		if f.times <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return reply{status: f.status, body: errorBody(http.StatusText(f.status)), unchecked: true}, true
	}
	return reply{}, false
}

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
	s.rateRemaining--
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

// respond completes, validates and writes a handler's reply.
func (s *Server) respond(w http.ResponseWriter, c *call, rep reply) {
	header := rep.header
	if header == nil {
		header = http.Header{}
	}
	s.rateHeaders(header)
	header.Set("X-GitHub-Request-Id", strings.ToUpper(randomHex(8)))
	header.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	var data []byte
	if rep.body != nil {
		v, err := normalize(rep.body)
		if err != nil {
			s.report("%s %s: cannot encode the double's response: %v", c.r.Method, c.r.URL.Path, err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if !rep.unchecked {
			f := filler{now: s.now().Format(time.RFC3339), baseURL: s.URL}
			v = f.fill(responseSchema(c.route.Operation, rep.status), v, "")
		}
		data, _ = json.Marshal(v)
		header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if !rep.unchecked {
		s.validateResponse(c, rep.status, header, data)
	}
	writeRaw(w, rep.status, header, data)
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
