package config

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// compileSchema compiles a generated schema with gitward's own formats
// asserted, as an editor with those formats would.
func compileSchema(t *testing.T, name string, schema []byte) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for fname, check := range formats {
		if fname == "json-pointer" {
			continue // the validator's own RFC 6901 check must agree with ours
		}
		c.RegisterFormat(&jsonschema.Format{Name: fname, Validate: func(v any) error {
			s, ok := v.(string)
			if !ok {
				return nil
			}
			return check(s)
		}})
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(name, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(name)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// schemaValidate validates YAML against a compiled schema. ok is false when
// the YAML has no JSON equivalent (syntax errors, duplicate keys).
func schemaValidate(t *testing.T, sch *jsonschema.Schema, data []byte) (err error, ok bool) {
	t.Helper()
	var v any
	if yaml.Unmarshal(data, &v) != nil {
		return nil, false
	}
	j, jerr := json.Marshal(v)
	if jerr != nil {
		return nil, false
	}
	inst, jerr := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if jerr != nil {
		t.Fatal(jerr)
	}
	return sch.Validate(inst), true
}

// goodRepos are accepted by both the parser and the schema.
var goodRepos = []struct{ name, yaml string }{
	{"the minimal file", "version: 1\n"},
	{"empty lists", "version: 1\napps: []\nclusters: []\ndrift: {ignore: []}\napprovals: {rules: []}\n"},
	{"the core group and cluster-scoped objects", "version: 1\ndrift:\n  ignore:\n    - {name: ns, match: {group: '', namespace: ''}, field_managers: [kubectl]}\n"},
	{"an app at the repository root", "version: 1\napps: [{name: root, path: .}]\n"},
	{"approvals turned off", "version: 1\napprovals: {required: 0}\n"},
	{"glob alternatives and classes", "version: 1\nsecrets:\n  allowed_paths: ['{dev,test}/**', 'tmp/[a-z]*.yaml', 'x/\\{literal\\}']\n"},
	{"a team path from GitLab", "version: 1\nbreak_glass:\n  responders: {teams: [acme/platform/sre]}\n"},
	{"an ssh signer with options", "version: 1\nsignatures:\n  allowed_signers:\n    ssh: ['" + `alice@example.com,bob@example.com cert-authority,namespaces="git,file" ` + strings.SplitN(signer, " ", 2)[1] + "']\n"},
	{"a v5 fingerprint", "version: 1\nsignatures:\n  allowed_signers:\n    openpgp: ['" + strings.Repeat("AB12", 16) + "']\n"},
	{"windows within bounds", "version: 1\nbreak_glass: {default_window: 30m, max_window: 168h}\n"},
}

// parserOnly are the rejections the schema cannot express, with why. The
// test fails when the schema starts to catch one, so the list stays true.
var parserOnly = map[string]string{
	"a too short window is refused":                                         "bounds on durations",
	"a default window longer than the maximum is refused":                   "a rule across two fields",
	"a duplicate key is refused":                                            "YAML-level: no JSON equivalent",
	"a duplicate app name is refused":                                       "uniqueness by one key of list items",
	"a duplicate app path is refused":                                       "uniqueness by one key of list items",
	"a rule cannot need more users than it lists":                           "a rule across two fields",
	"the same fingerprint spaced differently is refused":                    "uniqueness after normalisation",
	"the audit branch cannot be protected":                                  "a rule across two fields",
	"merge keys are refused":                                                "YAML-level: the merged JSON is valid",
	"a YAML syntax error keeps its line":                                    "YAML-level: no JSON equivalent",
	"a tab indent is a syntax error":                                        "YAML-level: no JSON equivalent",
	"a syntax error yaml.v3 places at the block start is found on its line": "YAML-level: no JSON equivalent",
	"a syntax error yaml.v3 gives no line is found on its line":             "YAML-level: no JSON equivalent",
	"an unterminated quote points at its start":                             "YAML-level: no JSON equivalent",
	"two documents are refused":                                             "YAML-level: the first document alone is valid",
}

func TestSchemaAgreesWithParser(t *testing.T) {
	sch := compileSchema(t, "gitward.schema.json", RepoSchema())
	example, err := os.ReadFile("testdata/example.gitward.yaml")
	if err != nil {
		t.Fatal(err)
	}
	good := append(goodRepos, struct{ name, yaml string }{"the commented example", string(example)})
	for _, tc := range good {
		t.Run("both accept: "+tc.name, func(t *testing.T) {
			if _, err := ParseRepo(RepoFile, []byte(tc.yaml)); err != nil {
				t.Errorf("parser rejects: %v", err)
			}
			if err, ok := schemaValidate(t, sch, []byte(tc.yaml)); !ok || err != nil {
				t.Errorf("schema rejects: %v", err)
			}
		})
	}
	for _, tc := range badRepos {
		reason, gap := parserOnly[tc.name]
		if gap {
			t.Run("only the parser rejects ("+reason+"): "+tc.name, func(t *testing.T) {
				if err, ok := schemaValidate(t, sch, []byte(tc.yaml)); ok && err != nil {
					t.Errorf("the schema now rejects it too; drop it from parserOnly: %v", err)
				}
			})
			continue
		}
		t.Run("both reject: "+tc.name, func(t *testing.T) {
			if _, err := ParseRepo(RepoFile, []byte(tc.yaml)); err == nil {
				t.Error("parser accepts")
			}
			if err, ok := schemaValidate(t, sch, []byte(tc.yaml)); !ok || err == nil {
				t.Errorf("schema accepts (convertible: %v)", ok)
			}
		})
	}
	for name := range parserOnly {
		found := false
		for _, tc := range badRepos {
			found = found || tc.name == name
		}
		if !found {
			t.Errorf("parserOnly names %q, which is no case", name)
		}
	}
}

func TestServerSchemaAgreesWithParser(t *testing.T) {
	sch := compileSchema(t, "gitward-server.schema.json", ServerSchema())
	example, err := os.ReadFile("testdata/server.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, yaml string
		valid      bool
	}{
		{"the commented example", string(example), true},
		{"an empty mapping", "{}", true},
		{"a secret value", "github:\n  private_key: x\n", false},
		{"no workers", "workers: {count: 0}\n", false},
		{"a size in words", "server: {max_webhook_body: lots}\n", false},
		{"a resync of zero", "resync: {interval: 0}\n", true},
		{"a cluster with both credentials", "clusters: [{name: a, kubeconfig: k, in_cluster: true}]\n", false},
		{"a cluster with none", "clusters: [{name: a}]\n", false},
		{"a GitLab host with two token sources", "gitlab: {hosts: [{base_url: 'https://gitlab.com/', token_file: f, token_env: T}]}\n", false},
		{"plain http to a remote host", "github: {web_url: 'http://ghe.example.com/'}\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, ok := schemaValidate(t, sch, []byte(tc.yaml))
			if !ok || (err == nil) != tc.valid {
				t.Errorf("schema: %v, want valid=%v", err, tc.valid)
			}
		})
	}
}
