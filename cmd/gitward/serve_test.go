package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/app"
	"github.com/gitward/gitward/config"
	"github.com/rs/zerolog"
)

func TestServeRefusesABadConfigWithExitTwo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		at   string // the start of the line naming the problem; FILE is the config's path
		want string // also in that line
	}{
		{
			name: "a worker count below the minimum names the key and line",
			yaml: githubApp + "workers:\n  count: 0\n",
			at:   "FILE:8:10: workers.count:",
			want: "must be at least 1, got 0",
		},
		{
			name: "an unknown key names the keys allowed there",
			yaml: githubApp + "webhooks:\n  path: /hook\n",
			at:   "FILE:7:1: webhooks:",
			want: "unknown key; known keys here:",
		},
		{
			name: "a misspelt key suggests the right one",
			yaml: githubApp + "worker:\n  count: 2\n",
			at:   "FILE:7:1: worker:",
			want: `unknown key (did you mean "workers"?)`,
		},
		{
			name: "a wrong type names the type wanted",
			yaml: githubApp + "workers:\n  queue_size: lots\n",
			at:   "FILE:8:15: workers.queue_size:",
			want: `must be an integer, got string "lots"`,
		},
		{
			name: "a webhook secret written in the file says to use a file or the environment",
			yaml: "github:\n  app_id: 42\n  private_key_file: private-key.pem\n  webhook_secret: hunter2-in-yaml\nsnapshots:\n  dir: snapshots\n",
			at:   "FILE:4:3: github.webhook_secret:",
			want: "name a file with github.webhook_secret_file or set GITWARD_GITHUB_WEBHOOK_SECRET",
		},
		{
			name: "a private key file that is not a PEM key",
			yaml: "github:\n  app_id: 42\n  private_key_file: webhook-secret\n  webhook_secret_file: webhook-secret\nsnapshots:\n  dir: snapshots\n",
			at:   "FILE:3:21: github.private_key_file:",
			want: "not PEM-encoded",
		},
		{
			name: "a bad environment override names the variable",
			yaml: githubApp,
			env:  map[string]string{"GITWARD_WORKERS": "zero"},
			at:   "env GITWARD_WORKERS: workers.count:",
			want: `must be an integer, got "zero"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := serverConfig(t, tt.yaml)
			r := gitward(t, tt.env, "serve", "--config", path)
			if r.code != 2 {
				t.Errorf("exit code = %d, want 2", r.code)
			}
			if !strings.HasPrefix(r.stderr, "gitward: invalid server config:\n") {
				t.Errorf("stderr = %q, want it to start with \"gitward: invalid server config:\"", r.stderr)
			}
			at := strings.ReplaceAll(tt.at, "FILE", path)
			if _, ok := lineWith(r.stderr, at, tt.want); !ok {
				t.Errorf("stderr has no line starting %q with %q:\n%s", at, tt.want, r.stderr)
			}
			for _, secret := range []string{"hunter2", webhookSecret} {
				if strings.Contains(r.stderr, secret) {
					t.Errorf("stderr leaks the secret %q:\n%s", secret, r.stderr)
				}
			}
		})
	}
}

func TestServeWithoutAForgeExitsTwo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string // the config file; none when empty
	}{
		{"with no config at all", ""},
		{"with a config that sets up no forge", "workers:\n  count: 2\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"GITWARD_SNAPSHOTS_DIR": t.TempDir()}
			args := []string{"serve"}
			if tt.yaml != "" {
				args = append(args, "--config", serverConfig(t, tt.yaml))
			}
			r := gitward(t, env, args...)
			if r.code != 2 {
				t.Errorf("exit code = %d, want 2", r.code)
			}
			want := "gitward: no forge configured: set github.app_id (or GITWARD_GITHUB_APP_ID) with its private key and webhook secret, or gitlab.hosts with their tokens and gitlab.webhook_secret_file\n"
			if r.stderr != want {
				t.Errorf("stderr = %q, want %q", r.stderr, want)
			}
		})
	}
}

func TestServeMissingConfigFileExitsTwo(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "gitward.yaml")
	r := gitward(t, nil, "serve", "--config", missing)
	if r.code != 2 {
		t.Errorf("exit code = %d, want 2", r.code)
	}
	if !strings.Contains(r.stderr, missing+": no such file") {
		t.Errorf("stderr = %q, want it to name %s", r.stderr, missing)
	}
}

// TestServeServesUntilCancelledThenShutsDownCleanly runs the real serve
// command against a GitHub that is not there: it must listen without
// waiting for GitHub, take webhooks and stop with exit code 0.
func TestServeServesUntilCancelledThenShutsDownCleanly(t *testing.T) {
	t.Parallel()
	path := serverConfig(t, githubApp+"server:\n  address: 127.0.0.1:0\n  shutdown_grace_period: 5s\n")
	env := map[string]string{"GITWARD_GITHUB_V3_API_URL": "http://" + deadAddress(t) + "/"}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--config", path}, lookup(env), &stdout, &stderr) }()

	base := "http://" + servingAddress(t, &stderr, done)
	t.Run("healthz answers ok", func(t *testing.T) {
		if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
			t.Errorf("GET /healthz = %d %q, want 200 \"ok\\n\"", code, body)
		}
	})
	t.Run("readyz answers ok", func(t *testing.T) {
		if code, body := get(t, base+"/readyz"); code != http.StatusOK || body != "ok\n" {
			t.Errorf("GET /readyz = %d %q, want 200 \"ok\\n\"", code, body)
		}
	})
	payload, err := os.ReadFile(filepath.Join("..", "..", "testdata", "github", "webhooks", "pull_request", "opened.payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a webhook signed with another secret gets 401", func(t *testing.T) {
		if code := postWebhook(t, base, "pull_request", payload, "not-the-secret"); code != http.StatusUnauthorized {
			t.Errorf("POST /api/github/hook = %d, want 401", code)
		}
	})
	t.Run("a webhook signed with the secret from the file gets 202", func(t *testing.T) {
		if code := postWebhook(t, base, "pull_request", payload, webhookSecret); code != http.StatusAccepted {
			t.Errorf("POST /api/github/hook = %d, want 202", code)
		}
	})
	t.Run("metrics count both deliveries by outcome", func(t *testing.T) {
		code, body := get(t, base+"/metrics")
		if code != http.StatusOK {
			t.Fatalf("GET /metrics = %d, want 200", code)
		}
		for _, want := range []string{
			`gitward_webhook_deliveries_total{event="unverified",forge="github",outcome="bad_signature"} 1`,
			`gitward_webhook_deliveries_total{event="pull_request",forge="github",outcome="queued"} 1`,
		} {
			if _, ok := lineWith(body, want); !ok {
				t.Errorf("/metrics has no line %q", want)
			}
		}
	})

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code = %d, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not stop within 15s of its context ending; stderr:\n%s", stderr.String())
	}
	logs := stderr.String()
	if !strings.Contains(logs, `"message":"Shutdown complete"`) {
		t.Errorf("the log does not say shutdown completed:\n%s", logs)
	}
	for _, secret := range []string{webhookSecret, "PRIVATE KEY"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log leaks %q:\n%s", secret, logs)
		}
	}
	if out := stdout.String(); out != "" {
		t.Errorf("stdout = %q, want nothing: logs go to stderr", out)
	}
}

// deadAddress returns a local address nothing listens on, so that any call
// to it fails at once without leaving the machine.
func deadAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// servingAddress waits for the "gitward is serving" log line and returns the
// address in it. It fails the test if serve exits first or takes over 10s.
func servingAddress(t *testing.T, log *lockedBuffer, done <-chan int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for line := range strings.Lines(log.String()) {
			var entry struct {
				Message string `json:"message"`
				Address string `json:"address"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Message == "gitward is serving" {
				return entry.Address
			}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d before serving; stderr:\n%s", code, log.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not log \"gitward is serving\" within 10s; stderr:\n%s", log.String())
	return ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// postWebhook delivers payload as GitHub does, signed with secret, and
// returns the status code.
func postWebhook(t *testing.T, base, event string, payload []byte, secret string) int {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(payload)
	req, err := http.NewRequest(http.MethodPost, base+"/api/github/hook", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestServerOptionsForGitLabOnly builds the app from a config that serves
// only GitLab: the hosts and their tokens reach the app, no GitHub App is
// configured, and the app starts without one.
func TestServerOptionsForGitLabOnly(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "token"), "glpat-example\n")
	write(t, filepath.Join(dir, "secret"), "gitlab-secret\n")
	path := serverConfig(t, "gitlab:\n  webhook_secret_file: "+filepath.Join(dir, "secret")+
		"\n  hosts:\n    - base_url: https://gitlab.example.com\n      token_file: "+filepath.Join(dir, "token")+"\n")
	cfg, err := config.LoadServer(path, lookup(map[string]string{"GITWARD_SNAPSHOTS_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	opts, err := serverOptions(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if opts.GitHubAppID != 0 || len(opts.GitHubPrivateKey) != 0 {
		t.Errorf("GitHub is configured: app ID %d", opts.GitHubAppID)
	}
	if len(opts.GitLabHosts) != 1 || opts.GitLabHosts[0].BaseURL != "https://gitlab.example.com/" || string(opts.GitLabHosts[0].Token) != "glpat-example" {
		t.Fatalf("GitLab hosts = %+v", opts.GitLabHosts)
	}
	if string(opts.GitLabWebhookSecret) != "gitlab-secret" {
		t.Errorf("webhook secret = %q", opts.GitLabWebhookSecret)
	}
	srv, err := app.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Forge() != nil || srv.GitLab("gitlab.example.com") == nil {
		t.Errorf("forges: github %v, gitlab %v", srv.Forge(), srv.GitLab("gitlab.example.com"))
	}
}
