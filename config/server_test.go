package config

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.yaml.in/yaml/v3"
)

// testKey is an RSA private key in PEM, made once per test binary.
var testKey = func() string {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}()

const testWebhookSecret = "s3cr3t-webhook-value"

// env makes a LookupEnv from pairs.
func env(pairs ...string) LookupEnv {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// writeFiles writes name→content into a temporary directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDefaultServerIsSecure(t *testing.T) {
	s, err := LoadServer("", env("HOME", "/home/gw"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"it listens on 8080", s.HTTP.Address == ":8080"},
		{"webhook bodies stop at GitHub's 25 MiB", s.HTTP.MaxWebhookBody == 25<<20},
		{"slow clients time out", s.HTTP.ReadHeaderTimeout.Std() == 10*time.Second && s.HTTP.ReadTimeout.Std() == 30*time.Second},
		{"shutdown waits 30 seconds", s.HTTP.ShutdownGracePeriod.Std() == 30*time.Second},
		{"no GitHub App is configured", !s.GitHub.Enabled() && !s.GitHub.PrivateKey.IsSet() && !s.GitHub.WebhookSecret.IsSet()},
		{"GitHub is github.com", s.GitHub.WebURL == "https://github.com/" && s.GitHub.V3APIURL == "https://api.github.com/" && s.GitHub.V4APIURL == "https://api.github.com/graphql"},
		{"no GitLab host is configured", !s.GitLab.Enabled()},
		{"four workers take a queue of 100", s.Workers.Count == 4 && s.Workers.QueueSize == 100},
		{"resync runs every five minutes", s.Resync.Interval.Std() == 5*time.Minute},
		{"snapshots are cached under ~/.cache", s.Snapshots.Dir == "/home/gw/.cache/gitward/snapshots"},
		{"the snapshot cache holds 2 GiB", s.Snapshots.CacheSize == 2<<30},
		{"a snapshot extracts to at most 512 MiB", s.Snapshots.MaxSize == 512<<20},
		{"a snapshot holds at most 100000 files", s.Snapshots.MaxFiles == 100000},
		{"a snapshot file is at most 64 MiB", s.Snapshots.MaxFileSize == 64<<20},
		{"a render has a time limit", s.Render.TimeLimit.Std() == time.Minute},
		{"a render has an output limit", s.Render.MaxOutputSize == 64<<20},
		{"no remote base may be fetched", len(s.Render.AllowedRemoteBases) == 0},
		{"no cluster is configured", len(s.Clusters) == 0},
		{"drift is scanned every 15 minutes", s.Drift.ScanInterval.Std() == 15*time.Minute},
		{"logs are JSON at info", s.Logging.Level == "info" && s.Logging.Format == "json"},
		{"leader election is off", !s.LeaderElection.Enabled && s.LeaderElection.Name == "gitward"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("defaults: %+v", s)
			}
		})
	}
}

func TestEnvVarsTable(t *testing.T) {
	want := `GITWARD_SERVER_ADDRESS server.address
GITWARD_SERVER_READ_HEADER_TIMEOUT server.read_header_timeout
GITWARD_SERVER_READ_TIMEOUT server.read_timeout
GITWARD_SERVER_WRITE_TIMEOUT server.write_timeout
GITWARD_SERVER_IDLE_TIMEOUT server.idle_timeout
GITWARD_SERVER_SHUTDOWN_GRACE_PERIOD server.shutdown_grace_period
GITWARD_SERVER_MAX_WEBHOOK_BODY server.max_webhook_body
GITWARD_GITHUB_APP_ID github.app_id
GITWARD_GITHUB_WEB_URL github.web_url
GITWARD_GITHUB_V3_API_URL github.v3_api_url
GITWARD_GITHUB_V4_API_URL github.v4_api_url
GITWARD_GITHUB_PRIVATE_KEY_FILE github.private_key_file
GITWARD_GITHUB_WEBHOOK_SECRET_FILE github.webhook_secret_file
GITWARD_GITHUB_HTTP_CACHE_SIZE github.http_cache_size
GITWARD_GITHUB_PRIVATE_KEY github.private_key secret
GITWARD_GITHUB_WEBHOOK_SECRET github.webhook_secret secret
GITWARD_GITLAB_WEBHOOK_SECRET_FILE gitlab.webhook_secret_file
GITWARD_GITLAB_WEBHOOK_SECRET gitlab.webhook_secret secret
GITWARD_WORKERS workers.count
GITWARD_QUEUE_SIZE workers.queue_size
GITWARD_RESYNC_INTERVAL resync.interval
GITWARD_RESYNC_REPO_CONCURRENCY resync.repo_concurrency
GITWARD_SNAPSHOTS_DIR snapshots.dir
GITWARD_SNAPSHOTS_CACHE_SIZE snapshots.cache_size
GITWARD_SNAPSHOTS_MAX_SIZE snapshots.max_size
GITWARD_SNAPSHOTS_MAX_FILES snapshots.max_files
GITWARD_SNAPSHOTS_MAX_FILE_SIZE snapshots.max_file_size
GITWARD_RENDER_TIME_LIMIT render.time_limit
GITWARD_RENDER_MAX_OUTPUT_SIZE render.max_output_size
GITWARD_RENDER_CACHE_SIZE render.cache_size
GITWARD_DRIFT_SCAN_INTERVAL drift.scan_interval
GITWARD_DRIFT_CONCURRENCY drift.concurrency
GITWARD_LOG_LEVEL logging.level
GITWARD_LOG_FORMAT logging.format
GITWARD_LEADER_ELECTION_ENABLED leader_election.enabled
GITWARD_LEADER_ELECTION_NAMESPACE leader_election.namespace
GITWARD_LEADER_ELECTION_NAME leader_election.name
GITWARD_LEADER_ELECTION_LEASE_DURATION leader_election.lease_duration
GITWARD_LEADER_ELECTION_RENEW_DEADLINE leader_election.renew_deadline
GITWARD_LEADER_ELECTION_RETRY_PERIOD leader_election.retry_period`
	var lines []string
	for _, v := range EnvVars() {
		line := v.Name + " " + v.Key
		if v.Secret {
			line += " secret"
		}
		lines = append(lines, line)
	}
	if got := strings.Join(lines, "\n"); got != want {
		t.Errorf("EnvVars changed; update the table here and in the docs:\n%s", got)
	}
}

func TestEnvOverridesEveryKey(t *testing.T) {
	dir := writeFiles(t, map[string]string{"key.pem": testKey, "hook": testWebhookSecret})
	file := filepath.Join(dir, "gitward.yaml")
	os.WriteFile(file, []byte("workers:\n  count: 8\nlogging:\n  level: debug\n"), 0o600)
	s, err := LoadServer(file, env(
		"HOME", "/home/gw",
		"GITWARD_SERVER_ADDRESS", "127.0.0.1:9000",
		"GITWARD_SERVER_MAX_WEBHOOK_BODY", "1MiB",
		"GITWARD_GITHUB_APP_ID", "42",
		"GITWARD_GITHUB_WEB_URL", "https://ghe.example.com",
		"GITWARD_GITHUB_PRIVATE_KEY_FILE", filepath.Join(dir, "key.pem"),
		"GITWARD_GITHUB_WEBHOOK_SECRET_FILE", filepath.Join(dir, "hook"),
		"GITWARD_WORKERS", "16",
		"GITWARD_QUEUE_SIZE", "500",
		"GITWARD_RESYNC_INTERVAL", "0",
		"GITWARD_SNAPSHOTS_DIR", "/cache",
		"GITWARD_SNAPSHOTS_MAX_FILES", "10",
		"GITWARD_LOG_LEVEL", "warn",
		"GITWARD_LEADER_ELECTION_ENABLED", "true",
	))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"the address comes from the environment", s.HTTP.Address == "127.0.0.1:9000"},
		{"a size is read with its unit", s.HTTP.MaxWebhookBody == 1<<20},
		{"the app ID comes from the environment", s.GitHub.AppID == 42},
		{"the API URLs follow a GitHub Enterprise web URL", s.GitHub.WebURL == "https://ghe.example.com/" && s.GitHub.V3APIURL == "https://ghe.example.com/api/v3/" && s.GitHub.V4APIURL == "https://ghe.example.com/api/graphql"},
		{"the key is read from the file the environment names", s.GitHub.PrivateKey.Reveal() == strings.TrimRight(testKey, "\n")},
		{"the webhook secret is read from its file", s.GitHub.WebhookSecret.Reveal() == testWebhookSecret},
		{"the environment wins over the file", s.Workers.Count == 16 && s.Logging.Level == "warn"},
		{"the queue size comes from the environment", s.Workers.QueueSize == 500},
		{"resync 0 turns it off", s.Resync.Interval == 0},
		{"the snapshot dir comes from the environment", s.Snapshots.Dir == "/cache" && s.Snapshots.MaxFiles == 10},
		{"leader election is turned on", s.LeaderElection.Enabled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("got %+v", s)
			}
		})
	}
}

func TestEnvErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		name, variable, value, want string
	}{
		{"no workers is refused", "GITWARD_WORKERS", "0", "env GITWARD_WORKERS: workers.count: must be at least 1, got 0"},
		{"a word for a count is refused", "GITWARD_QUEUE_SIZE", "many", `env GITWARD_QUEUE_SIZE: workers.queue_size: must be an integer, got "many"`},
		{"a bare number is not a duration", "GITWARD_RESYNC_INTERVAL", "300", `env GITWARD_RESYNC_INTERVAL: resync.interval: invalid duration "300": use a Go duration like 30s, 5m or 1h30m`},
		{"a too frequent resync is refused", "GITWARD_RESYNC_INTERVAL", "1s", "env GITWARD_RESYNC_INTERVAL: resync.interval: must be 0 (off) or at least 10s, got 1s"},
		{"an unknown log level lists the levels", "GITWARD_LOG_LEVEL", "verbose", `env GITWARD_LOG_LEVEL: logging.level: must be one of debug, info, warn, error; got "verbose"`},
		{"plain http to a remote API is refused", "GITWARD_GITHUB_V3_API_URL", "http://ghe.example.com/api/v3/", `env GITWARD_GITHUB_V3_API_URL: github.v3_api_url: URL "http://ghe.example.com/api/v3/" must use https`},
		{"a body limit above GitHub's is refused", "GITWARD_SERVER_MAX_WEBHOOK_BODY", "100MiB", "env GITWARD_SERVER_MAX_WEBHOOK_BODY: server.max_webhook_body: must be at most 25MiB, got 100MiB"},
		{"a bad boolean is refused", "GITWARD_LEADER_ELECTION_ENABLED", "yes please", `env GITWARD_LEADER_ELECTION_ENABLED: leader_election.enabled: must be true or false, got "yes please"`},
		{"an address without port is refused", "GITWARD_SERVER_ADDRESS", "localhost", `env GITWARD_SERVER_ADDRESS: server.address: invalid listen address "localhost": want host:port, like :8080 or 127.0.0.1:8080`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadServer("", env("HOME", "/h", tc.variable, tc.value))
			if err == nil || err.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestServerFileErrorsNameKeyAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"no workers is refused", "workers:\n  count: 0\n", "gitward.yaml:2:10: workers.count: must be at least 1, got 0"},
		{"a private key in the file is refused", "github:\n  app_id: 1\n  private_key: |\n    -----BEGIN RSA PRIVATE KEY-----\n",
			"gitward.yaml:3:3: github.private_key: secret values cannot be written in the config file: name a file with github.private_key_file or set GITWARD_GITHUB_PRIVATE_KEY"},
		{"a webhook secret in the file is refused", "github:\n  webhook_secret: hunter2\n",
			"gitward.yaml:2:3: github.webhook_secret: secret values cannot be written in the config file: name a file with github.webhook_secret_file or set GITWARD_GITHUB_WEBHOOK_SECRET"},
		{"a GitLab token in the file is refused", "gitlab:\n  hosts:\n    - base_url: https://gitlab.com/\n      token: glpat-xxx\n",
			"gitward.yaml:4:7: gitlab.hosts[0].token: secret values cannot be written in the config file: name a file with gitlab.hosts[0].token_file or name an environment variable with gitlab.hosts[0].token_env"},
		{"an unknown key gets a suggestion", "workers:\n  cuont: 2\n", `gitward.yaml:2:3: workers.cuont: unknown key (did you mean "count"?)`},
		{"a cluster with kubeconfig and in_cluster is refused", "clusters:\n  - name: prod\n    kubeconfig: kube.yaml\n    in_cluster: true\n",
			"gitward.yaml:4:17: clusters[0].in_cluster: set either kubeconfig or in_cluster: true, not both"},
		{"a cluster without credentials is refused", "clusters:\n  - name: prod\n",
			"gitward.yaml:2:5: clusters[0]: set kubeconfig (and optionally context), or in_cluster: true"},
		{"duplicate cluster names are refused", "clusters:\n  - {name: prod, in_cluster: true}\n  - {name: prod, in_cluster: true}\n",
			`gitward.yaml:3:12: clusters[1].name: duplicate name "prod" (first at line 2)`},
		{"a lease shorter than its renew deadline is refused", "leader_election:\n  lease_duration: 5s\n",
			"gitward.yaml:2:19: leader_election.lease_duration: 5s must be longer than renew_deadline 10s"},
		{"a file limit above the snapshot limit is refused", "snapshots:\n  max_size: 10MiB\n",
			"gitward.yaml:2:13: snapshots.max_size: max_file_size 64MiB is larger than max_size 10MiB"},
		{"a bad remote-base glob is refused", "render:\n  allowed_remote_bases: ['github.com/acme/{platform']\n",
			`gitward.yaml:2:26: render.allowed_remote_bases[0]: invalid glob "github.com/acme/{platform": missing closing }`},
		{"an app ID without key and secret is refused", "github:\n  app_id: 7\n",
			"gitward.yaml:2:3: github.private_key_file: the GitHub App needs its private key: set github.private_key_file or GITWARD_GITHUB_PRIVATE_KEY\n" +
				"gitward.yaml:2:3: github.webhook_secret_file: the GitHub App needs its webhook secret: set github.webhook_secret_file or GITWARD_GITHUB_WEBHOOK_SECRET"},
		{"a missing key file is named", "github:\n  app_id: 7\n  private_key_file: missing.pem\n  webhook_secret_file: missing\n",
			"gitward.yaml:3:21: github.private_key_file: cannot read the secret: open DIR/missing.pem: no such file or directory\n" +
				"gitward.yaml:4:24: github.webhook_secret_file: cannot read the secret: open DIR/missing: no such file or directory"},
		{"a GitLab host needs a token", "gitlab:\n  webhook_secret_file: hook\n  hosts:\n    - base_url: https://gitlab.com\n",
			"gitward.yaml:4:7: gitlab.hosts[0].token_file: the GitLab host needs an access token: set token_file or token_env"},
		{"GitLab needs a webhook secret", "gitlab:\n  hosts:\n    - base_url: https://gitlab.com\n      token_env: GL_TOKEN\n",
			"gitward.yaml:2:3: gitlab.webhook_secret_file: GitLab needs a webhook secret token: set gitlab.webhook_secret_file or GITWARD_GITLAB_WEBHOOK_SECRET"},
		{"a token variable that is unset is named", "gitlab:\n  webhook_secret_file: hook\n  hosts:\n    - base_url: https://gitlab.com\n      token_env: NOT_SET\n",
			"gitward.yaml:5:18: gitlab.hosts[0].token_env: environment variable NOT_SET is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"gitward.yaml": tc.yaml, "hook": testWebhookSecret})
			_, err := LoadServer(filepath.Join(dir, "gitward.yaml"), env("HOME", "/h", "GL_TOKEN", "glpat-secret"))
			want := strings.ReplaceAll(tc.want, "gitward.yaml", filepath.Join(dir, "gitward.yaml"))
			want = strings.ReplaceAll(want, "DIR/", dir+"/")
			if err == nil || err.Error() != want {
				t.Errorf("got\n%v\nwant\n%s", err, want)
			}
		})
	}
}

func TestSecretsComeFromFilesOrEnvironmentOnly(t *testing.T) {
	flat := strings.ReplaceAll(strings.TrimRight(testKey, "\n"), "\n", `\n`)
	for _, tc := range []struct {
		name    string
		yaml    string
		env     []string
		wantErr string
	}{
		{name: "files named in the config are read, relative to it",
			yaml: "github:\n  app_id: 1\n  private_key_file: key.pem\n  webhook_secret_file: hook\n"},
		{name: "values in the environment are used",
			yaml: "github:\n  app_id: 1\n",
			env:  []string{"GITWARD_GITHUB_PRIVATE_KEY", testKey, "GITWARD_GITHUB_WEBHOOK_SECRET", testWebhookSecret}},
		{name: "a key flattened to one line is unflattened",
			yaml: "github:\n  app_id: 1\n  webhook_secret_file: hook\n",
			env:  []string{"GITWARD_GITHUB_PRIVATE_KEY", flat}},
		{name: "a file and a variable for the same secret are refused",
			yaml:    "github:\n  app_id: 1\n  private_key_file: key.pem\n  webhook_secret_file: hook\n",
			env:     []string{"GITWARD_GITHUB_PRIVATE_KEY", testKey},
			wantErr: "github.private_key_file: set either GITWARD_GITHUB_PRIVATE_KEY or github.private_key_file, not both"},
		{name: "an empty secret file is refused",
			yaml:    "github:\n  app_id: 1\n  private_key_file: key.pem\n  webhook_secret_file: empty\n",
			wantErr: "github.webhook_secret_file: the secret from github.webhook_secret_file is empty"},
		{name: "a key that is not PEM is refused without quoting it",
			yaml:    "github:\n  app_id: 1\n  private_key_file: hook\n  webhook_secret_file: hook\n",
			wantErr: "github.private_key_file: the private key is not PEM-encoded: use the .pem file GitHub generated for the app"},
		{name: "secrets without an app ID are refused",
			yaml:    "github:\n  webhook_secret_file: hook\n",
			wantErr: "github.app_id: is required when a GitHub private key or webhook secret is set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"gitward.yaml": tc.yaml, "key.pem": testKey, "hook": testWebhookSecret + "\n", "empty": "\n"})
			s, err := LoadServer(filepath.Join(dir, "gitward.yaml"), env(append([]string{"HOME", "/h"}, tc.env...)...))
			if tc.wantErr != "" {
				if err == nil || !strings.HasSuffix(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want ...%s", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), testWebhookSecret) || strings.Contains(err.Error(), "PRIVATE KEY-----") {
					t.Errorf("the error quotes the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.GitHub.PrivateKey.Reveal() != strings.TrimRight(testKey, "\n") || s.GitHub.WebhookSecret.Reveal() != testWebhookSecret {
				t.Errorf("secrets not loaded as written (trailing newline trimmed)")
			}
		})
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	dir := writeFiles(t, map[string]string{"key.pem": testKey, "hook": testWebhookSecret, "token": "glpat-topsecret",
		"gitward.yaml": "github:\n  app_id: 1\n  private_key_file: key.pem\n  webhook_secret_file: hook\n" +
			"gitlab:\n  webhook_secret_file: hook\n  hosts:\n    - {base_url: https://gitlab.com, token_file: token}\n"})
	s, err := LoadServer(filepath.Join(dir, "gitward.yaml"), env("HOME", "/h"))
	if err != nil {
		t.Fatal(err)
	}
	if s.GitLab.Hosts[0].Token.Reveal() != "glpat-topsecret" {
		t.Fatal("token not loaded")
	}
	var zl, sl bytes.Buffer
	logger := zerolog.New(&zl)
	logger.Info().Interface("config", s).Any("github", s.GitHub).Stringer("key", s.GitHub.PrivateKey).Msgf("loaded %v", s)
	slog.New(slog.NewJSONHandler(&sl, nil)).Info("loaded", "key", s.GitHub.PrivateKey, "config", s)
	jsonOut, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	yamlOut, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":       fmt.Sprintf("%v", s),
		"%+v":      fmt.Sprintf("%+v", *s),
		"%#v":      fmt.Sprintf("%#v", *s),
		"%s":       fmt.Sprintf("%s", s.GitHub.PrivateKey),
		"%q":       fmt.Sprintf("%q", s.GitHub.WebhookSecret),
		"%x":       fmt.Sprintf("%x", s.GitHub.WebhookSecret),
		"json":     string(jsonOut),
		"yaml":     string(yamlOut),
		"zerolog":  zl.String(),
		"slog":     sl.String(),
		"an error": fmt.Errorf("wrapped: %v", s.GitLab.Hosts[0].Token).Error(),
	}
	keyBody := strings.Split(testKey, "\n")[1]
	for name, out := range outputs {
		t.Run("printing with "+name+" redacts", func(t *testing.T) {
			for _, secret := range []string{testWebhookSecret, keyBody, "glpat-topsecret"} {
				if strings.Contains(out, secret) {
					t.Errorf("%s output contains a secret: %.300s", name, out)
				}
			}
			if name != "%x" && !strings.Contains(out, "[redacted]") {
				t.Errorf("%s output does not say [redacted]: %.300s", name, out)
			}
		})
	}
}

func TestExampleServerConfigLoads(t *testing.T) {
	example, err := os.ReadFile("testdata/server.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, content := range map[string]string{
		"github/private-key.pem": testKey, "github/webhook-secret": testWebhookSecret,
		"gitlab/webhook-secret": testWebhookSecret, "gitlab/token": "glpat-x",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700)
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)
	}
	file := filepath.Join(dir, "gitward.yaml")
	os.WriteFile(file, bytes.ReplaceAll(example, []byte("/etc/gitward/"), []byte(dir+"/")), 0o600)
	s, err := LoadServer(file, env("GITLAB_COM_TOKEN", "glpat-y"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.GitHub.Enabled() || s.GitHub.AppID != 123456 || len(s.GitLab.Hosts) != 2 || s.GitLab.Hosts[1].Token.Reveal() != "glpat-y" ||
		len(s.Clusters) != 2 || !s.Clusters[1].InCluster || s.Snapshots.Dir != "/var/cache/gitward/snapshots" {
		t.Errorf("got %+v", s)
	}
	if c, ok := s.Cluster("prod"); !ok || c.Context != "prod-admin" {
		t.Errorf("cluster prod: %+v %v", c, ok)
	}
	if _, ok := s.Cluster("dev"); ok {
		t.Error("found an unconfigured cluster")
	}
	d := DefaultServer()
	d.Snapshots.Dir = s.Snapshots.Dir
	if s.HTTP != d.HTTP || s.Workers != d.Workers || s.Resync != d.Resync || s.Snapshots != d.Snapshots ||
		s.Drift != d.Drift || s.Logging != d.Logging || s.LeaderElection != d.LeaderElection {
		t.Error("the example's comments promise the defaults, but its values differ from them")
	}
}

func TestPathsInTheFileAreRelativeToIt(t *testing.T) {
	dir := writeFiles(t, map[string]string{"gitward.yaml": "snapshots:\n  dir: cache\nclusters:\n  - {name: prod, kubeconfig: kube/prod.yaml}\n"})
	s, err := LoadServer(filepath.Join(dir, "gitward.yaml"), env())
	if err != nil {
		t.Fatal(err)
	}
	if s.Snapshots.Dir != filepath.Join(dir, "cache") || s.Clusters[0].Kubeconfig != filepath.Join(dir, "kube/prod.yaml") {
		t.Errorf("got %q and %q", s.Snapshots.Dir, s.Clusters[0].Kubeconfig)
	}
	s, err = LoadServer(filepath.Join(dir, "gitward.yaml"), env("GITWARD_SNAPSHOTS_DIR", "rel"))
	if err != nil || s.Snapshots.Dir != "rel" {
		t.Errorf("a path from the environment should stay as given: %v %q", err, s.Snapshots.Dir)
	}
}

func TestSnapshotDirDefault(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  LookupEnv
		want string
		err  string
	}{
		{"XDG_CACHE_HOME comes first", env("XDG_CACHE_HOME", "/xdg", "HOME", "/home/gw"), "/xdg/gitward/snapshots", ""},
		{"a relative XDG_CACHE_HOME is ignored", env("XDG_CACHE_HOME", "xdg", "HOME", "/home/gw"), "/home/gw/.cache/gitward/snapshots", ""},
		{"without either there is no default", env(), "", "snapshots.dir: has no default because HOME and XDG_CACHE_HOME are unset: set snapshots.dir or GITWARD_SNAPSHOTS_DIR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadServer("", tc.env)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("got %v", err)
				}
				return
			}
			if err != nil || s.Snapshots.Dir != tc.want {
				t.Errorf("got %v %q", err, s.Snapshots.Dir)
			}
		})
	}
}
