// Command trimopenapi cuts GitHub's OpenAPI description down to the REST
// operations gitward calls, so the GitHub API double in
// forge/github/githubtest can validate every request and response against
// GitHub's own schemas without carrying a 13 MB file in the repository.
//
// It keeps `openapi`, `info` and `servers`, the listed operations (with their
// path-level parameters) and every component they reference, transitively.
// Examples are dropped to save space; they are documentation, not contract.
//
// Regenerate the trimmed description from the repository root with:
//
//	go run ./internal/tools/trimopenapi \
//	    -in ../shared/fixtures/github-openapi/api.github.com.json \
//	    -out testdata/github/openapi/api.github.com.json
//
// The input is generated/api.github.com.json from the npm package
// @octokit/openapi@23.0.2 (see testdata/github/openapi/SOURCE.txt).
// To support a new GitHub call in the double, add it to operations and rerun.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// operations are the GitHub REST operations gitward calls, as method and
// path template exactly as they appear in GitHub's description.
var operations = []struct{ Method, Path string }{
	// GitHub App and installations.
	{"GET", "/app/installations"},
	{"POST", "/app/installations/{installation_id}/access_tokens"},
	{"GET", "/app/installations/{installation_id}"},
	{"GET", "/installation/repositories"},
	{"GET", "/repos/{owner}/{repo}"},
	// Pull requests.
	{"GET", "/repos/{owner}/{repo}/pulls"},
	{"POST", "/repos/{owner}/{repo}/pulls"},
	{"GET", "/repos/{owner}/{repo}/pulls/{pull_number}"},
	{"PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}"},
	{"GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits"},
	{"GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files"},
	{"GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"},
	// Issue comments.
	{"GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"},
	{"POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"},
	{"PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"},
	{"DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}"},
	{"POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"},
	// Issues and labels.
	{"GET", "/repos/{owner}/{repo}/issues"},
	{"POST", "/repos/{owner}/{repo}/issues"},
	{"GET", "/repos/{owner}/{repo}/issues/{issue_number}"},
	{"PATCH", "/repos/{owner}/{repo}/issues/{issue_number}"},
	{"POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels"},
	{"DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"},
	// Permissions and membership.
	{"GET", "/repos/{owner}/{repo}/collaborators/{username}/permission"},
	{"GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}"},
	// OpenPGP public keys users registered, for verifying commit signatures.
	{"GET", "/users/{username}/gpg_keys"},
	// Contents, archives and check runs.
	{"GET", "/repos/{owner}/{repo}/tarball/{ref}"},
	{"GET", "/repos/{owner}/{repo}/contents/{path}"},
	{"GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"},
	{"POST", "/repos/{owner}/{repo}/check-runs"},
	{"PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}"},
	// Git data.
	{"GET", "/repos/{owner}/{repo}/git/ref/{ref}"},
	{"POST", "/repos/{owner}/{repo}/git/refs"},
	{"PATCH", "/repos/{owner}/{repo}/git/refs/{ref}"},
	{"POST", "/repos/{owner}/{repo}/git/blobs"},
	{"POST", "/repos/{owner}/{repo}/git/trees"},
	{"POST", "/repos/{owner}/{repo}/git/commits"},
	{"GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}"},
	{"GET", "/repos/{owner}/{repo}/commits/{ref}"},
	// The pull requests a commit on the default branch came from, to find
	// pushes that bypassed review.
	{"GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls"},
	// Rate limit.
	{"GET", "/rate_limit"},
}

func main() {
	in := flag.String("in", "", "GitHub's full OpenAPI description (api.github.com.json)")
	out := flag.String("out", "testdata/github/openapi/api.github.com.json", "where to write the trimmed description")
	flag.Parse()
	if *in == "" {
		fmt.Fprintln(os.Stderr, "trimopenapi: -in is required (GitHub's api.github.com.json)")
		os.Exit(2)
	}
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "trimopenapi:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	trimmed, stats, err := trim(raw)
	if err != nil {
		return fmt.Errorf("trim %s: %w", in, err)
	}
	if err := os.WriteFile(out, trimmed, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "trimopenapi: wrote %s: %d bytes, %d operations, %s\n", out, len(trimmed), len(operations), stats)
	return nil
}

// document is the part of an OpenAPI description the trimmer reads.
type document struct {
	OpenAPI    json.RawMessage                       `json:"openapi"`
	Info       json.RawMessage                       `json:"info"`
	Servers    json.RawMessage                       `json:"servers"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components map[string]map[string]json.RawMessage `json:"components"`
}

// droppedKinds are component kinds left out of the trimmed description.
var droppedKinds = map[string]bool{"examples": true}

// trim returns the trimmed description and a summary of kept components.
func trim(raw []byte) ([]byte, string, error) {
	var doc document
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, "", err
	}
	paths := map[string]map[string]any{}
	var queue []string
	for _, op := range operations {
		item, ok := doc.Paths[op.Path]
		if !ok {
			return nil, "", fmt.Errorf("path %s not in the description", op.Path)
		}
		method := strings.ToLower(op.Method)
		opRaw, ok := item[method]
		if !ok {
			return nil, "", fmt.Errorf("operation %s %s not in the description", op.Method, op.Path)
		}
		if paths[op.Path] == nil {
			paths[op.Path] = map[string]any{}
			if params, ok := item["parameters"]; ok {
				v, err := decode(params)
				if err != nil {
					return nil, "", err
				}
				paths[op.Path]["parameters"] = v
				queue = append(queue, refs(v)...)
			}
		}
		v, err := decode(opRaw)
		if err != nil {
			return nil, "", fmt.Errorf("%s %s: %w", op.Method, op.Path, err)
		}
		dropExamples(v)
		paths[op.Path][method] = v
		queue = append(queue, refs(v)...)
	}

	components := map[string]map[string]any{}
	seen := map[string]bool{}
	for len(queue) > 0 {
		ref := queue[0]
		queue = queue[1:]
		if seen[ref] {
			continue
		}
		seen[ref] = true
		kind, name, ok := splitRef(ref)
		if !ok {
			return nil, "", fmt.Errorf("unsupported $ref %q (only #/components/<kind>/<name>)", ref)
		}
		if droppedKinds[kind] {
			return nil, "", fmt.Errorf("$ref %q points at a dropped component kind", ref)
		}
		compRaw, ok := doc.Components[kind][name]
		if !ok {
			return nil, "", fmt.Errorf("$ref %q does not resolve", ref)
		}
		v, err := decode(compRaw)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", ref, err)
		}
		dropExamples(v)
		if components[kind] == nil {
			components[kind] = map[string]any{}
		}
		components[kind][name] = v
		queue = append(queue, refs(v)...)
	}

	var buf bytes.Buffer
	buf.WriteString("{\n")
	for _, field := range []struct {
		name  string
		value any
	}{
		{"openapi", doc.OpenAPI},
		{"info", doc.Info},
		{"servers", doc.Servers},
		{"paths", paths},
		{"components", components},
	} {
		if field.name != "openapi" {
			buf.WriteString(",\n")
		}
		b, err := marshal(field.value)
		if err != nil {
			return nil, "", err
		}
		fmt.Fprintf(&buf, " %q: %s", field.name, bytes.TrimSpace(b))
	}
	buf.WriteString("\n}\n")

	kinds := make([]string, 0, len(components))
	for k := range components {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var summary []string
	for _, k := range kinds {
		summary = append(summary, fmt.Sprintf("%d %s", len(components[k]), k))
	}
	return buf.Bytes(), strings.Join(summary, ", "), nil
}

func decode(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// marshal writes v as indented JSON with map keys sorted, so regenerating
// the file gives the same bytes, and without HTML escaping, so Markdown in
// descriptions stays readable.
func marshal(v any) ([]byte, error) {
	if raw, ok := v.(json.RawMessage); ok {
		var err error
		if v, err = decode(raw); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(" ", " ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// refs returns every "$ref" target inside v.
func refs(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				out = append(out, r)
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(v)
	return out
}

// dropExamples removes the "examples" maps of media types and parameters.
// A schema property that happens to be called "examples" is left alone: only
// maps whose entries are example objects (with "$ref" or "value") go.
func dropExamples(v any) {
	switch v := v.(type) {
	case map[string]any:
		if ex, ok := v["examples"].(map[string]any); ok && isExampleMap(ex) {
			delete(v, "examples")
		}
		for _, child := range v {
			dropExamples(child)
		}
	case []any:
		for _, child := range v {
			dropExamples(child)
		}
	}
}

func isExampleMap(m map[string]any) bool {
	if len(m) == 0 {
		return false
	}
	for _, e := range m {
		obj, ok := e.(map[string]any)
		if !ok {
			return false
		}
		_, hasRef := obj["$ref"]
		_, hasValue := obj["value"]
		if !hasRef && !hasValue {
			return false
		}
	}
	return true
}

// splitRef splits "#/components/<kind>/<name>" into kind and name.
func splitRef(ref string) (kind, name string, ok bool) {
	rest, found := strings.CutPrefix(ref, "#/components/")
	if !found {
		return "", "", false
	}
	kind, name, found = strings.Cut(rest, "/")
	if !found || name == "" || strings.Contains(name, "/") {
		return "", "", false
	}
	return kind, unescapePointer(name), true
}

// unescapePointer undoes JSON pointer escaping (RFC 6901) in one token.
func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}
