package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// webhookSecret is the webhook secret the server configs of these tests use.
const webhookSecret = "correct-horse-battery-staple"

// privateKeyPEM is a GitHub App private key as GitHub hands it out: an RSA
// key in a PKCS#1 PEM block. One key serves every test.
var privateKeyPEM = sync.OnceValue(func() []byte {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
})

// serverConfig writes a server config holding yaml into a new folder, next
// to the files private-key.pem and webhook-secret it may refer to, and
// returns its path.
func serverConfig(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "private-key.pem"), string(privateKeyPEM()))
	write(t, filepath.Join(dir, "webhook-secret"), webhookSecret+"\n")
	path := filepath.Join(dir, "gitward.yaml")
	write(t, path, yaml)
	return path
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// githubApp is a valid server config of a GitHub App whose key and secret
// are in the files serverConfig writes. The snapshot cache lives beside it
// because the tests' environment has no HOME to find a cache folder in.
const githubApp = `github:
  app_id: 42
  private_key_file: private-key.pem
  webhook_secret_file: webhook-secret
snapshots:
  dir: snapshots
`

func TestConfigValidateAcceptsAValidFile(t *testing.T) {
	t.Parallel()
	example := filepath.Join("..", "..", "config", "testdata", "example.gitward.yaml")
	tests := []struct {
		name string
		args []string
		want string // in stdout
	}{
		{
			name: "the bundled example policy",
			args: []string{"config", "validate", example},
			want: example + ": valid gitward repository config (version 1)",
		},
		{
			name: "a policy that sets only the version",
			args: []string{"config", "validate", "testdata/minimal.gitward.yaml"},
			want: "testdata/minimal.gitward.yaml: valid gitward repository config (version 1)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := gitward(t, nil, tt.args...)
			if r.code != 0 {
				t.Fatalf("exit code = %d, want 0; stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.want) {
				t.Errorf("stdout = %q, want it to contain %q", r.stdout, tt.want)
			}
			if r.stderr != "" {
				t.Errorf("stderr = %q, want nothing", r.stderr)
			}
		})
	}
}

func TestConfigValidateServerAcceptsAValidServerConfig(t *testing.T) {
	t.Parallel()
	path := serverConfig(t, githubApp+"workers:\n  count: 8\n")
	r := gitward(t, nil, "config", "validate", "--server", path)
	if r.code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if want := path + ": valid server config\n"; r.stdout != want {
		t.Errorf("stdout = %q, want %q", r.stdout, want)
	}
}

func TestConfigValidateRejectsABrokenPolicyWithEveryProblemsLine(t *testing.T) {
	t.Parallel()
	const file = "testdata/broken.gitward.yaml"
	r := gitward(t, nil, "config", "validate", file)
	if r.code != 2 {
		t.Fatalf("exit code = %d, want 2; stderr:\n%s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	tests := []struct {
		name string
		at   string // file:line:col: key:
		want string
	}{
		{"a misspelt key is named with its fix", file + ":8:5: apps[0].namespaces:", `did you mean "namespace"?`},
		{"a value outside an enum lists the allowed ones", file + ":11:9: drift.mode:", `notify, enforce; got "strict"`},
		{"a string where a number belongs", file + ":14:13: approvals.required:", "must be an integer"},
		{"a bad glob inside a list", file + ":17:15: approvals.rules[0].paths[0]:", `invalid glob "clusters/prod/[**"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := lineWith(r.stderr, tt.at, tt.want); !ok {
				t.Errorf("stderr has no line starting %q with %q:\n%s", tt.at, tt.want, r.stderr)
			}
		})
	}
}

func TestConfigValidateFailsWithExitTwo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	syntax := filepath.Join(dir, "syntax.yaml")
	write(t, syntax, "version: 1\napps:\n  - name: [\n")
	empty := filepath.Join(dir, "empty.yaml")
	write(t, empty, "")
	missing := filepath.Join(dir, "missing.yaml")
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"a missing file", []string{"config", "validate", missing}, missing + ": no such file"},
		{"a YAML syntax error", []string{"config", "validate", syntax}, syntax + ":3: invalid YAML"},
		{"an empty file", []string{"config", "validate", empty}, "set version: 1"},
		{"a server config that is not one", []string{"config", "validate", "--server", "testdata/broken.gitward.yaml"}, "testdata/broken.gitward.yaml:3:1: version: unknown key"},
		{"a missing server config", []string{"config", "validate", "--server", missing}, missing + ": no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := gitward(t, nil, tt.args...)
			if r.code != 2 {
				t.Errorf("exit code = %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tt.want)
			}
		})
	}
}

func TestConfigSchemaPrintsAJSONSchema(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		title string
	}{
		{"of the repository policy", []string{"config", "schema"}, ".gitward.yaml"},
		{"of the server config with --server", []string{"config", "schema", "--server"}, "server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := gitward(t, nil, tt.args...)
			if r.code != 0 {
				t.Fatalf("exit code = %d, want 0; stderr:\n%s", r.code, r.stderr)
			}
			if !json.Valid([]byte(r.stdout)) {
				t.Fatalf("stdout is not JSON:\n%.500s", r.stdout)
			}
			var schema struct {
				Schema     string         `json:"$schema"`
				Title      string         `json:"title"`
				Properties map[string]any `json:"properties"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &schema); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(schema.Schema, "https://json-schema.org/") {
				t.Errorf("$schema = %q, want a json-schema.org dialect", schema.Schema)
			}
			if !strings.Contains(schema.Title, tt.title) {
				t.Errorf("title = %q, want it to mention %q", schema.Title, tt.title)
			}
			if len(schema.Properties) == 0 {
				t.Error("the schema describes no properties")
			}
		})
	}
}

func TestConfigEnvListsEveryVariable(t *testing.T) {
	r := gitward(t, nil, "config", "env")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"GITWARD_WORKERS", "workers.count", "GITWARD_GITHUB_WEBHOOK_SECRET", "never printed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("config env output lacks %q:\n%s", want, r.stdout)
		}
	}
}
