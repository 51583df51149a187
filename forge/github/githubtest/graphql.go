package githubtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"
)

// The GraphQL API (POST /graphql, or /api/graphql on Enterprise Server).
//
// Every query is parsed and validated against graphQLSchema, an excerpt
// of GitHub's public GraphQL schema (github.com/octokit/graphql-schema)
// holding the types gitward queries, with their fields and arguments as
// GitHub declares them. A field outside the excerpt is refused as an
// unknown field, as GitHub refuses a misspelt one, so a query that passes
// here uses only fields GitHub has. Answers follow GitHub's shapes: HTTP
// 200 with "data" and "errors" side by side, null for an object that
// cannot be resolved (with a NOT_FOUND error naming its path), a
// RATE_LIMITED error once the GraphQL budget is spent (SetGraphQLRateLimitRemaining),
// and GitHub's pagination errors for a connection read without first or
// last, or with more than 100.
//
// Commit.authors lists the commit's author, then each Co-authored-by
// trailer, each GitActor's user being the account GitHub links its e-mail
// to: an e-mail a user verified (AddUserEmail), an identity a seeded
// commit linked, or a GitHub private address of a known login.
//
// Not modelled: query cost beyond one point per query, node limits,
// secondary rate limits, and every type outside the excerpt.

// graphQLSchema is the excerpt of GitHub's GraphQL schema the double
// serves.
const graphQLSchema = `
schema { query: Query }

scalar DateTime
scalar GitObjectID
scalar GitTimestamp
scalar URI

type Query {
  rateLimit(dryRun: Boolean = false): RateLimit
  repository(followRenames: Boolean = true, name: String!, owner: String!): Repository
}

type RateLimit {
  cost: Int!
  limit: Int!
  nodeCount: Int!
  remaining: Int!
  resetAt: DateTime!
  used: Int!
}

type Repository {
  id: ID!
  name: String!
  nameWithOwner: String!
  pullRequest(number: Int!): PullRequest
}

type PullRequest {
  id: ID!
  number: Int!
  commits(after: String, before: String, first: Int, last: Int): PullRequestCommitConnection!
}

type PullRequestCommitConnection {
  nodes: [PullRequestCommit]
  pageInfo: PageInfo!
  totalCount: Int!
}

type PullRequestCommit {
  id: ID!
  commit: Commit!
}

type Commit {
  id: ID!
  oid: GitObjectID!
  message: String!
  authors(after: String, before: String, first: Int, last: Int): GitActorConnection!
}

type GitActorConnection {
  nodes: [GitActor]
  pageInfo: PageInfo!
  totalCount: Int!
}

type GitActor {
  date: GitTimestamp
  email: String
  name: String
  user: User
}

type User {
  id: ID!
  login: String!
  databaseId: Int
}

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
}
`

var loadedGraphQLSchema = gqlparser.MustLoadSchema(&ast.Source{Name: "github.graphql", Input: graphQLSchema})

// DefaultGraphQLRateLimit is the GraphQL API's hourly budget of points.
const DefaultGraphQLRateLimit = 5000

// AddUserEmail records that login verified email on their account, so
// GitHub links commits and Co-authored-by trailers with that address to
// them.
func (s *Server) AddUserEmail(login, email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userID(login)
	if s.emails == nil {
		s.emails = map[string]string{}
	}
	s.emails[strings.ToLower(email)] = login
}

// SetGraphQLRateLimitRemaining sets how many points the GraphQL budget
// still holds; at zero every query answers RATE_LIMITED.
func (s *Server) SetGraphQLRateLimitRemaining(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.graphQLSpent = DefaultGraphQLRateLimit - n
}

// isGraphQLPath reports whether a request path is the GraphQL endpoint.
func isGraphQLPath(p string) bool { return p == "/graphql" || p == "/api/graphql" }

// gqlError is one entry of a GraphQL "errors" list.
type gqlError struct {
	Type      string           `json:"type,omitempty"`
	Path      []any            `json:"path,omitempty"`
	Locations []map[string]int `json:"locations,omitempty"`
	Message   string           `json:"message"`
}

func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request, body []byte) {
	logged := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body, OperationID: "graphql"}
	status, header, out := s.answerGraphQL(r, body)
	logged.Status = status
	s.log(logged)
	if header == nil {
		header = http.Header{}
	}
	header.Set("X-GitHub-Request-Id", strings.ToUpper(randomHex(8)))
	writeJSON(w, status, header, out)
}

func (s *Server) answerGraphQL(r *http.Request, body []byte) (int, http.Header, any) {
	if r.Method != http.MethodPost {
		s.report("%s %s: GitHub's GraphQL API answers POST only", r.Method, r.URL.Path)
		return http.StatusNotFound, nil, errorBody("Not Found")
	}
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.mu.Lock()
	instID, ok := s.tokens[cred]
	s.mu.Unlock()
	if (strings.ToLower(scheme) != "bearer" && strings.ToLower(scheme) != "token") || !ok {
		s.report("%s %s: the GraphQL API needs an installation token", r.Method, r.URL.Path)
		return http.StatusUnauthorized, nil, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/graphql"}
	}
	if rep, ok := s.faultFor(r.Method, r.URL.Path, r.URL.Path); ok {
		return rep.status, nil, rep.body
	}
	var req struct {
		Query         string         `json:"query"`
		OperationName string         `json:"operationName"`
		Variables     map[string]any `json:"variables"`
	}
	if err := json.Unmarshal(body, &req); err != nil || strings.TrimSpace(req.Query) == "" {
		s.report("POST %s: the body is not a GraphQL request: %v", r.URL.Path, err)
		return http.StatusBadRequest, nil, map[string]any{"message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/graphql"}
	}
	header := http.Header{}
	s.mu.Lock()
	spent := s.graphQLSpent
	if spent < DefaultGraphQLRateLimit {
		s.graphQLSpent++
	}
	remaining := DefaultGraphQLRateLimit - s.graphQLSpent
	s.mu.Unlock()
	header.Set("X-RateLimit-Limit", strconv.Itoa(DefaultGraphQLRateLimit))
	header.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	header.Set("X-RateLimit-Used", strconv.Itoa(DefaultGraphQLRateLimit-remaining))
	header.Set("X-RateLimit-Resource", "graphql")
	header.Set("X-RateLimit-Reset", strconv.FormatInt(s.now().Add(time.Hour).Unix(), 10))
	if spent >= DefaultGraphQLRateLimit {
		return http.StatusOK, header, map[string]any{"errors": []gqlError{{Type: "RATE_LIMITED",
			Message: fmt.Sprintf("API rate limit already exceeded for installation ID %d.", instID)}}}
	}

	doc, errs := gqlparser.LoadQueryWithRules(loadedGraphQLSchema, req.Query, nil) // nil: the default rules
	if len(errs) > 0 {
		s.t.Logf("githubtest: GraphQL query refused: %v", errs)
		return http.StatusOK, header, map[string]any{"errors": queryErrors(errs)}
	}
	op := doc.Operations.ForName(req.OperationName)
	if op == nil || op.Operation != ast.Query {
		return http.StatusOK, header, map[string]any{"errors": []gqlError{{Message: "The double answers queries only; no such query in the document"}}}
	}
	vars, err := validator.VariableValues(loadedGraphQLSchema, op, req.Variables)
	if err != nil {
		return http.StatusOK, header, map[string]any{"errors": []gqlError{{Message: err.Error()}}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x := &gqlExec{s: s, vars: vars, doc: doc, installation: instID}
	data := x.selection(x.query(), op.SelectionSet, nil)
	out := map[string]any{"data": data}
	if len(x.errors) > 0 {
		out["errors"] = x.errors
	}
	return http.StatusOK, header, out
}

// queryErrors turns parse and validation errors into GitHub's form.
func queryErrors(errs gqlerror.List) []gqlError {
	out := make([]gqlError, 0, len(errs))
	for _, e := range errs {
		ge := gqlError{Message: e.Message}
		for _, l := range e.Locations {
			ge.Locations = append(ge.Locations, map[string]int{"line": l.Line, "column": l.Column})
		}
		out = append(out, ge)
	}
	return out
}

// gqlObject is a resolved GraphQL object: its type name and a resolver per
// field. A resolver returns a scalar, a gqlObject, a list of them, or nil,
// and an error that nulls the field.
type gqlObject struct {
	typeName string
	fields   map[string]func(args map[string]any) (any, *gqlError)
}

// gqlExec executes one query against the double's state; s.mu is held.
type gqlExec struct {
	s            *Server
	vars         map[string]any
	doc          *ast.QueryDocument
	installation int64
	errors       []gqlError
}

func (x *gqlExec) selection(o *gqlObject, set ast.SelectionSet, path []any) map[string]any {
	out := map[string]any{}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			key := sel.Alias
			if key == "" {
				key = sel.Name
			}
			if sel.Name == "__typename" {
				out[key] = o.typeName
				continue
			}
			resolve := o.fields[sel.Name]
			if resolve == nil {
				x.s.report("GraphQL: %s.%s is in the schema excerpt but the double does not resolve it", o.typeName, sel.Name)
				out[key] = nil
				continue
			}
			p := append(append([]any(nil), path...), key)
			v, err := resolve(sel.ArgumentMap(x.vars))
			if err != nil {
				err.Path = p
				err.Locations = []map[string]int{{"line": sel.Position.Line, "column": sel.Position.Column}}
				x.errors = append(x.errors, *err)
				out[key] = nil
				continue
			}
			out[key] = x.complete(v, sel.SelectionSet, p)
		case *ast.InlineFragment:
			if sel.TypeCondition == "" || sel.TypeCondition == o.typeName {
				for k, v := range x.selection(o, sel.SelectionSet, path) {
					out[k] = v
				}
			}
		case *ast.FragmentSpread:
			if f := x.doc.Fragments.ForName(sel.Name); f != nil && f.TypeCondition == o.typeName {
				for k, v := range x.selection(o, f.SelectionSet, path) {
					out[k] = v
				}
			}
		}
	}
	return out
}

func (x *gqlExec) complete(v any, set ast.SelectionSet, path []any) any {
	switch v := v.(type) {
	case *gqlObject:
		if v == nil {
			return nil
		}
		return x.selection(v, set, path)
	case []*gqlObject:
		list := make([]any, len(v))
		for i, o := range v {
			list[i] = x.complete(o, set, append(append([]any(nil), path...), i))
		}
		return list
	}
	return v
}

func (x *gqlExec) query() *gqlObject {
	s := x.s
	return &gqlObject{typeName: "Query", fields: map[string]func(map[string]any) (any, *gqlError){
		"rateLimit": func(map[string]any) (any, *gqlError) {
			remaining := DefaultGraphQLRateLimit - s.graphQLSpent
			return &gqlObject{typeName: "RateLimit", fields: scalars(map[string]any{
				"cost": 1, "limit": DefaultGraphQLRateLimit, "nodeCount": 0, "remaining": remaining,
				"used": s.graphQLSpent, "resetAt": s.now().Add(time.Hour).Format(time.RFC3339),
			})}, nil
		},
		"repository": func(args map[string]any) (any, *gqlError) {
			full := fmt.Sprint(args["owner"]) + "/" + fmt.Sprint(args["name"])
			r := s.repos[full]
			if r == nil || r.installationID != x.installation {
				return nil, &gqlError{Type: "NOT_FOUND", Message: fmt.Sprintf("Could not resolve to a Repository with the name '%s'.", full)}
			}
			return x.repository(r), nil
		},
	}}
}

func (x *gqlExec) repository(r *repo) *gqlObject {
	return &gqlObject{typeName: "Repository", fields: map[string]func(map[string]any) (any, *gqlError){
		"id":            constant(nodeID("R", r.id)),
		"name":          constant(r.name),
		"nameWithOwner": constant(r.fullName()),
		"pullRequest": func(args map[string]any) (any, *gqlError) {
			n, _ := intArg(args["number"])
			p := r.pulls[n]
			if p == nil {
				return nil, &gqlError{Type: "NOT_FOUND", Message: fmt.Sprintf("Could not resolve to a PullRequest with the number of %d.", n)}
			}
			return x.pull(r, p), nil
		},
	}}
}

// maxPullCommits is how many commits GitHub lists for a pull request, in
// GraphQL as in REST.
const maxPullCommits = 250

func (x *gqlExec) pull(r *repo, p *pull) *gqlObject {
	return &gqlObject{typeName: "PullRequest", fields: map[string]func(map[string]any) (any, *gqlError){
		"id":     constant(nodeID("PR", p.id)),
		"number": constant(p.Number),
		"commits": func(args map[string]any) (any, *gqlError) {
			shas := p.commits
			if len(shas) > maxPullCommits {
				shas = shas[:maxPullCommits]
			}
			nodes := make([]*gqlObject, len(shas))
			for i, sha := range shas {
				c := r.commits[sha]
				nodes[i] = &gqlObject{typeName: "PullRequestCommit", fields: map[string]func(map[string]any) (any, *gqlError){
					"id":     constant(nodeID("PRC", sha)),
					"commit": constant(x.commit(c)),
				}}
			}
			return connection("commits", nodes, len(p.commits), args)
		},
	}}
}

func (x *gqlExec) commit(c *commit) *gqlObject {
	return &gqlObject{typeName: "Commit", fields: map[string]func(map[string]any) (any, *gqlError){
		"id":      constant(nodeID("C", c.SHA)),
		"oid":     constant(c.SHA),
		"message": constant(c.Message),
		"authors": func(args map[string]any) (any, *gqlError) {
			var actors []*gqlObject
			actor := func(name, email, date string, login string) *gqlObject {
				if login == "" {
					login = x.s.linkedLogin(email)
				}
				var user any
				if login != "" {
					user = &gqlObject{typeName: "User", fields: scalars(map[string]any{
						"id": nodeID("U", x.s.userID(login)), "login": login, "databaseId": x.s.userID(login),
					})}
				}
				return &gqlObject{typeName: "GitActor", fields: map[string]func(map[string]any) (any, *gqlError){
					"name": constant(name), "email": constant(email), "date": constant(date),
					"user": constant(user),
				}}
			}
			date := ""
			if !c.Author.Date.IsZero() {
				date = c.Author.Date.Format(time.RFC3339)
			}
			actors = append(actors, actor(c.Author.Name, c.Author.Email, date, c.Author.Login))
			for _, m := range coAuthorTrailerRE.FindAllStringSubmatch(c.Message, -1) {
				actors = append(actors, actor(m[1], m[2], date, ""))
			}
			return connection("authors", actors, len(actors), args)
		},
	}}
}

// coAuthorTrailerRE matches a Co-authored-by trailer in the form GitHub
// credits: "Co-authored-by: Name <email>".
var coAuthorTrailerRE = regexp.MustCompile(`(?im)^co-authored-by:[ \t]*(.*?)[ \t]*<([^>\s]+)>[ \t]*\r?$`)

// githubNoreplyRE matches GitHub's private commit addresses.
var githubNoreplyRE = regexp.MustCompile(`(?i)^(?:[0-9]+\+)?([a-z0-9-]+)@users\.noreply\.github\.com$`)

// linkedLogin is the account GitHub links an e-mail to, or "": a verified
// address, an address a seeded commit linked, or a private address of a
// known login. s.mu is held.
func (s *Server) linkedLogin(email string) string {
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" {
		return ""
	}
	if l, ok := s.emails[e]; ok {
		return l
	}
	for _, r := range s.repos {
		for _, c := range r.commits {
			for _, id := range []Identity{c.Author, c.Committer} {
				if id.Login != "" && strings.EqualFold(id.Email, e) {
					return id.Login
				}
			}
		}
	}
	if m := githubNoreplyRE.FindStringSubmatch(e); m != nil {
		for login := range s.users {
			if strings.EqualFold(login, m[1]) {
				return login
			}
		}
	}
	return ""
}

// connection pages nodes as GitHub does: first or last is required and
// at most 100; cursors are opaque.
func connection(name string, nodes []*gqlObject, total int, args map[string]any) (any, *gqlError) {
	first, hasFirst := intArg(args["first"])
	last, hasLast := intArg(args["last"])
	switch {
	case !hasFirst && !hasLast:
		return nil, &gqlError{Type: "MISSING_PAGINATION_BOUNDARIES",
			Message: fmt.Sprintf("You must provide a `first` or `last` value to properly paginate the `%s` connection.", name)}
	case hasFirst && first > 100:
		return nil, &gqlError{Type: "EXCESSIVE_PAGINATION",
			Message: fmt.Sprintf("Requesting %d records on the `%s` connection exceeds the `first` limit of 100 records.", first, name)}
	case hasLast && last > 100:
		return nil, &gqlError{Type: "EXCESSIVE_PAGINATION",
			Message: fmt.Sprintf("Requesting %d records on the `%s` connection exceeds the `last` limit of 100 records.", last, name)}
	}
	start, end := 0, len(nodes)
	if a, ok := args["after"].(string); ok {
		i, err := decodeCursor(a)
		if err != nil {
			return nil, &gqlError{Message: fmt.Sprintf("`%s` does not appear to be a valid cursor.", a)}
		}
		start = min(i+1, end)
	}
	if b, ok := args["before"].(string); ok {
		i, err := decodeCursor(b)
		if err != nil {
			return nil, &gqlError{Message: fmt.Sprintf("`%s` does not appear to be a valid cursor.", b)}
		}
		end = max(min(i, end), start)
	}
	if hasFirst && end-start > first {
		end = start + first
	}
	if hasLast && end-start > last {
		start = end - last
	}
	page := nodes[start:end]
	info := map[string]any{"hasNextPage": end < len(nodes), "hasPreviousPage": start > 0, "startCursor": nil, "endCursor": nil}
	if len(page) > 0 {
		info["startCursor"], info["endCursor"] = encodeCursor(start), encodeCursor(end-1)
	}
	return &gqlObject{typeName: name + "Connection", fields: map[string]func(map[string]any) (any, *gqlError){
		"nodes":      constant(page),
		"totalCount": constant(total),
		"pageInfo":   constant(&gqlObject{typeName: "PageInfo", fields: scalars(info)}),
	}}, nil
}

func encodeCursor(i int) string {
	return base64.StdEncoding.EncodeToString([]byte("cursor:v2:" + strconv.Itoa(i)))
}

func decodeCursor(c string) (int, error) {
	raw, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, err
	}
	n, ok := strings.CutPrefix(string(raw), "cursor:v2:")
	if !ok {
		return 0, fmt.Errorf("not a cursor")
	}
	return strconv.Atoi(n)
}

func constant(v any) func(map[string]any) (any, *gqlError) {
	return func(map[string]any) (any, *gqlError) { return v, nil }
}

func scalars(m map[string]any) map[string]func(map[string]any) (any, *gqlError) {
	out := make(map[string]func(map[string]any) (any, *gqlError), len(m))
	for k, v := range m {
		out[k] = constant(v)
	}
	return out
}

// intArg reads an Int argument as gqlparser coerced it.
func intArg(v any) (int, bool) {
	switch v := v.(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	case json.Number:
		n, err := v.Int64()
		return int(n), err == nil
	}
	return 0, false
}
