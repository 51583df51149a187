package githubtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// specPath is where the trimmed description lives, relative to the module
// root. internal/tools/trimopenapi writes it.
const specPath = "testdata/github/openapi/api.github.com.json"

// spec is GitHub's description parsed once per test binary, with a router
// over its operations.
type spec struct {
	doc      *openapi3.T
	routes   []*route
	loadTime time.Duration
}

// route is one operation with the regular expression that matches its
// escaped request path.
type route struct {
	*routers.Route
	re     *regexp.Regexp
	params []string
}

var (
	specOnce   sync.Once
	loadedSpec *spec
	specErr    error
)

// loadSpec parses the trimmed description the first time it is needed.
func loadSpec() (*spec, error) {
	specOnce.Do(func() {
		start := time.Now()
		root, err := ModuleRoot()
		if err != nil {
			specErr = err
			return
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(filepath.Join(root, specPath))
		if err != nil {
			specErr = fmt.Errorf("githubtest: load %s: %w", specPath, err)
			return
		}
		// GitHub's own examples do not all match its schemas; they were
		// dropped by the trimmer and are not part of the contract.
		if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
			specErr = fmt.Errorf("githubtest: %s is not a valid OpenAPI description: %w", specPath, err)
			return
		}
		s := &spec{doc: doc}
		for _, path := range doc.Paths.InMatchingOrder() {
			item := doc.Paths.Value(path)
			for method, op := range item.Operations() {
				re, names := compilePath(path, append(item.Parameters, op.Parameters...))
				s.routes = append(s.routes, &route{
					Route: &routers.Route{
						Spec:      doc,
						Path:      path,
						PathItem:  item,
						Method:    method,
						Operation: op,
					},
					re:     re,
					params: names,
				})
			}
		}
		// Literal segments beat parameters: "/git/refs" must not be taken
		// for a ref called "refs" by a multi-segment pattern.
		sort.SliceStable(s.routes, func(i, j int) bool {
			return literalLen(s.routes[i].Path) > literalLen(s.routes[j].Path)
		})
		s.loadTime = time.Since(start)
		loadedSpec = s
	})
	return loadedSpec, specErr
}

// SpecLoadTime reports how long parsing GitHub's description took; it is
// paid once per test binary.
func SpecLoadTime() time.Duration {
	s, err := loadSpec()
	if err != nil {
		return 0
	}
	return s.loadTime
}

func literalLen(path string) int {
	return len(regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(path, ""))
}

// compilePath turns "/repos/{owner}/{repo}/contents/{path}" into a regular
// expression over the escaped URL path. Parameters GitHub marks with
// x-multi-segment (refs and file paths) may contain slashes.
func compilePath(path string, params openapi3.Parameters) (*regexp.Regexp, []string) {
	multi := map[string]bool{}
	for _, p := range params {
		if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
			if v, ok := p.Value.Extensions["x-multi-segment"].(bool); ok && v {
				multi[p.Value.Name] = true
			}
		}
	}
	var names []string
	var b strings.Builder
	b.WriteString("^")
	rest := path
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		j := strings.IndexByte(rest[i:], '}') + i
		b.WriteString(regexp.QuoteMeta(rest[:i]))
		name := rest[i+1 : j]
		names = append(names, name)
		if multi[name] {
			b.WriteString("(.+?)")
		} else {
			b.WriteString("([^/]+)")
		}
		rest = rest[j+1:]
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()), names
}

// find returns the operation matching method and the escaped path, with
// its unescaped path parameters.
func (s *spec) find(method, escapedPath string) (*route, map[string]string) {
	for _, r := range s.routes {
		if r.Method != method {
			continue
		}
		m := r.re.FindStringSubmatch(escapedPath)
		if m == nil {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, name := range r.params {
			v, err := url.PathUnescape(m[i+1])
			if err != nil {
				ok = false
				break
			}
			params[name] = v
		}
		if ok {
			return r, params
		}
	}
	return nil, nil
}

// pathKnown reports whether any operation, whatever its method, matches.
func (s *spec) pathKnown(escapedPath string) bool {
	for _, r := range s.routes {
		if r.re.MatchString(escapedPath) {
			return true
		}
	}
	return false
}

// ModuleRoot returns the directory holding gitward's go.mod, found by
// walking up from the working directory (a package directory under go
// test) or, failing that, from this source file.
func ModuleRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for {
			data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err == nil && strings.Contains(string(data), "module github.com/gitward/gitward\n") {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", errors.New("githubtest: cannot find the gitward module root (go.mod) above the working directory")
}

// responseSchema returns the JSON schema of an operation's response with
// the given status, or nil when the description has none.
func responseSchema(op *openapi3.Operation, status int) *openapi3.Schema {
	ref := op.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return nil
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// filler completes a response value with every field its schema requires,
// so handlers spell out only what means something to a test and the rest is
// still what GitHub's description promises. Nullable fields become null;
// the rest get an empty, zero or placeholder value of the right format.
type filler struct {
	now     string
	baseURL string
}

func (f *filler) fill(s *openapi3.Schema, v any, name string) any {
	if s == nil {
		return v
	}
	if v == nil {
		if s.Nullable {
			return nil
		}
		return f.synth(s, name)
	}
	for _, sub := range s.AllOf {
		v = f.fill(sub.Value, v, name)
	}
	if len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		v = f.fillAlternative(s, v, name)
	}
	switch val := v.(type) {
	case map[string]any:
		for _, req := range s.Required {
			if _, ok := val[req]; !ok {
				if p := s.Properties[req]; p != nil {
					val[req] = f.fill(p.Value, nil, req)
				}
			}
		}
		for k, child := range val {
			if p := s.Properties[k]; p != nil && child != nil {
				val[k] = f.fill(p.Value, child, k)
			}
		}
	case []any:
		if s.Items != nil {
			for i, child := range val {
				val[i] = f.fill(s.Items.Value, child, name)
			}
		}
	}
	return v
}

// fillAlternative completes v for the first oneOf/anyOf branch it can be
// made valid for.
func (f *filler) fillAlternative(s *openapi3.Schema, v any, name string) any {
	branches := s.OneOf
	if len(branches) == 0 {
		branches = s.AnyOf
	}
	if d := s.Discriminator; d != nil {
		if obj, ok := v.(map[string]any); ok {
			if key, ok := obj[d.PropertyName].(string); ok {
				if ref, ok := d.Mapping[key]; ok {
					for _, b := range branches {
						if b.Ref == ref {
							return f.fill(b.Value, v, name)
						}
					}
				}
			}
		}
	}
	for _, b := range branches {
		candidate := f.fill(b.Value, deepCopy(v), name)
		if b.Value.VisitJSON(candidate, openapi3.VisitAsResponse()) == nil &&
			s.VisitJSON(candidate, openapi3.VisitAsResponse()) == nil {
			return candidate
		}
	}
	return v
}

func (f *filler) synth(s *openapi3.Schema, name string) any {
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	if len(s.AllOf) > 0 || len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		if branch := firstBranch(s); branch != nil && !branch.Type.Is("object") && !(branch.Type == nil && len(branch.Properties) > 0) {
			return f.synth(branch, name)
		}
		return f.fill(s, map[string]any{}, name)
	}
	switch {
	case s.Type.Is("object") || (s.Type == nil && len(s.Properties) > 0):
		return f.fill(s, map[string]any{}, name)
	case s.Type.Is("array"):
		return []any{}
	case s.Type.Is("integer"), s.Type.Is("number"):
		if s.Min != nil {
			return *s.Min
		}
		return 0
	case s.Type.Is("boolean"):
		return false
	case s.Type.Is("string"):
		switch {
		case s.Format == "date-time":
			return f.now
		case s.Format == "uri" || strings.HasSuffix(name, "url"):
			return f.baseURL + "/_unset/" + name
		case s.Format == "email":
			return "noreply@example.com"
		}
		return ""
	}
	return nil
}

func firstBranch(s *openapi3.Schema) *openapi3.Schema {
	for _, list := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		if len(list) > 0 && list[0].Value != nil {
			return list[0].Value
		}
	}
	return nil
}

// normalize turns any JSON-marshalable value into maps, slices, strings,
// float64s and bools, the form kin-openapi validates.
func normalize(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func deepCopy(v any) any {
	switch val := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(val))
		for k, child := range val {
			out[k] = deepCopy(child)
		}
		return out
	case []any:
		out := make([]any, len(val))
		for i, child := range val {
			out[i] = deepCopy(child)
		}
		return out
	}
	return v
}

func init() {
	// GitHub's description marks URLs with format "uri"; kin-openapi does
	// not check that format by default. Responses the double serves must
	// carry absolute URLs, as GitHub's do.
	openapi3.DefineStringFormatValidator("uri", uriValidator{})
}

type uriValidator struct{}

func (uriValidator) Validate(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	return nil
}
