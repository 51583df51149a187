package app_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitward/gitward/app"
	"github.com/gitward/gitward/forge/github/githubtest"
)

func TestWebhookIntakeRejectsBadDeliveries(t *testing.T) {
	payload := githubtest.Payload(t, "pull_request", "opened.payload.json")
	hook := "http://gitward.test/api/github/hook"
	signed := func(event string, body []byte) *http.Request {
		return githubtest.SignedRequest(t, hook, event, body, webhookSecret)
	}
	tests := []struct {
		name    string
		req     func() *http.Request
		status  int
		outcome string
	}{
		{"a delivery without a signature is unauthorised", func() *http.Request {
			r := signed("pull_request", payload)
			r.Header.Del("X-Hub-Signature-256")
			return r
		}, http.StatusUnauthorized, "bad_signature"},
		{"a delivery signed with another secret is unauthorised", func() *http.Request {
			return githubtest.SignedRequest(t, hook, "pull_request", payload, "another-secret")
		}, http.StatusUnauthorized, "bad_signature"},
		{"a delivery whose body was changed after signing is unauthorised", func() *http.Request {
			r := signed("pull_request", payload)
			tampered := bytes.Replace(payload, []byte(`"opened"`), []byte(`"closed"`), 1)
			r.Body = readCloser(tampered)
			r.ContentLength = int64(len(tampered))
			return r
		}, http.StatusUnauthorized, "bad_signature"},
		{"a delivery with only the SHA-1 signature is unauthorised", func() *http.Request {
			r := signed("pull_request", payload)
			r.Header.Set("X-Hub-Signature", "sha1="+strings.Repeat("0", 40))
			r.Header.Del("X-Hub-Signature-256")
			return r
		}, http.StatusUnauthorized, "bad_signature"},
		{"a delivery without an event header is a bad request", func() *http.Request {
			r := signed("pull_request", payload)
			r.Header.Del("X-GitHub-Event")
			return r
		}, http.StatusBadRequest, "bad_request"},
		{"a delivery without a delivery ID is a bad request", func() *http.Request {
			r := signed("pull_request", payload)
			r.Header.Del("X-GitHub-Delivery")
			return r
		}, http.StatusBadRequest, "bad_request"},
		{"a signed body that is not JSON is a bad request", func() *http.Request {
			return signed("pull_request", []byte(`{"action": "opened", `))
		}, http.StatusBadRequest, "bad_request"},
		{"a form-encoded delivery is refused with a hint", func() *http.Request {
			r := signed("pull_request", payload)
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, http.StatusUnsupportedMediaType, "bad_request"},
		{"a GET is not allowed", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, hook, nil)
		}, http.StatusMethodNotAllowed, "bad_request"},
		{"a body over GitHub's 25 MB maximum is too large", func() *http.Request {
			big := append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), app.MaxGitHubPayload)...)
			big = append(big, `"}`...)
			return signed("pull_request", big)
		}, http.StatusRequestEntityTooLarge, "too_large"},
		{"a body over the limit is refused even without a length header", func() *http.Request {
			big := append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), app.MaxGitHubPayload)...)
			r := signed("pull_request", append(big, `"}`...))
			r.ContentLength = -1
			return r
		}, http.StatusRequestEntityTooLarge, "too_large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seedPR(payload)
			w := h.post(tc.req())
			if w.Code != tc.status {
				t.Fatalf("status = %d, want %d (body %q)", w.Code, tc.status, w.Body.String())
			}
			if n := len(h.gh.Requests()); n != 0 {
				t.Errorf("a rejected delivery led to %d GitHub API calls", n)
			}
			if err := h.srv.Pool().Shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := h.cap.evaluations(); len(got) != 0 {
				t.Errorf("a rejected delivery was evaluated: %+v", got)
			}
			if !strings.Contains(h.metrics(), `outcome="`+tc.outcome+`"`) {
				t.Errorf("metrics do not count outcome %q", tc.outcome)
			}
		})
	}
}

func TestWebhookIntakeAcceptsGoodDeliveries(t *testing.T) {
	t.Run("a signed pull request is queued and evaluated", func(t *testing.T) {
		h := newHarness(t)
		payload := githubtest.Payload(t, "pull_request", "opened.payload.json")
		repo, _, head := h.seedPR(payload)
		w := h.deliver("pull_request", payload)
		if w.Code != http.StatusAccepted {
			t.Fatalf("status = %d, want 202 (body %q)", w.Code, w.Body.String())
		}
		waitFor(t, "the check run", func() bool { return len(h.gh.CheckRuns(repo, head)) == 1 })
		run := h.gh.CheckRuns(repo, head)[0]
		if run.Name != "gitward/change-control" || run.Conclusion != "success" {
			t.Errorf("check run = %s %s, want gitward/change-control success", run.Name, run.Conclusion)
		}
		if !strings.Contains(h.metrics(), `gitward_webhook_deliveries_total{event="pull_request",forge="github",outcome="queued"} 1`) {
			t.Errorf("metrics do not count the queued delivery:\n%s", grep(h.metrics(), "deliveries"))
		}
	})
	t.Run("an unknown event is accepted and ignored", func(t *testing.T) {
		h := newHarness(t)
		w := h.deliver("gollum", []byte(`{"pages":[]}`))
		if w.Code != http.StatusAccepted {
			t.Fatalf("status = %d, want 202", w.Code)
		}
		if err := h.srv.Pool().Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if len(h.cap.evaluations()) != 0 || len(h.gh.Requests()) != 0 {
			t.Errorf("an ignored event did work")
		}
		if !strings.Contains(h.metrics(), `event="gollum",forge="github",outcome="ignored"`) {
			t.Errorf("metrics do not count the ignored delivery")
		}
	})
	t.Run("ping is answered", func(t *testing.T) {
		h := newHarness(t)
		w := h.deliver("ping", []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`))
		if w.Code != http.StatusOK {
			t.Fatalf("status = %d, want 200", w.Code)
		}
	})
	t.Run("a pull request edit that keeps the base is not evaluated", func(t *testing.T) {
		h := newHarness(t)
		payload := githubtest.Payload(t, "pull_request", "opened.payload.json")
		h.seedPR(payload)
		edited := bytes.Replace(payload, []byte(`"action": "opened"`), []byte(`"action": "edited"`), 1)
		if bytes.Equal(edited, payload) {
			t.Fatal("fixture changed: no opened action to rewrite")
		}
		if w := h.deliver("pull_request", edited); w.Code != http.StatusAccepted {
			t.Fatalf("status = %d", w.Code)
		}
		if err := h.srv.Pool().Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := len(h.cap.evaluations()); n != 0 {
			t.Errorf("title edit caused %d evaluations", n)
		}
	})
}

// TestEveryRealPayloadIsHandled posts each recorded GitHub payload, signed,
// and expects a 2xx answer and no handler panic; pull request payloads are
// evaluated against the seeded pull request.
func TestEveryRealPayloadIsHandled(t *testing.T) {
	root, err := githubtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "testdata/github/webhooks/*/*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no payloads found: %v", err)
	}
	h := newHarness(t, func(o *app.Options) { o.QueueSize = len(files) })
	prPayload := githubtest.Payload(t, "pull_request", "opened.payload.json")
	repo, _, head := h.seedPR(prPayload)
	for _, f := range files {
		event := filepath.Base(filepath.Dir(f))
		name := event + "/" + filepath.Base(f)
		payload, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w := h.deliver(event, payload)
		if w.Code/100 != 2 {
			t.Errorf("%s: status %d (%s)", name, w.Code, w.Body.String())
		}
	}
	if err := h.srv.Pool().Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h.logs.String(), "decode ") {
		t.Errorf("a real payload could not be decoded:\n%s", grep(h.logs.String(), "decode "))
	}
	if strings.Contains(h.logs.String(), `"panic"`) {
		t.Errorf("a handler panicked:\n%s", grep(h.logs.String(), "panic"))
	}
	if len(h.gh.CheckRuns(repo, head)) != 1 {
		t.Errorf("pull request payloads published %d check runs on the head, want 1 updated in place", len(h.gh.CheckRuns(repo, head)))
	}
	if got := len(h.cap.evaluations()); got == 0 {
		t.Errorf("no pull request payload was evaluated")
	}
}

// TestLogsCarryKeysButNoPayloadsOrSecrets checks what reaches the log: the
// delivery, installation, repository and pull request keys, and never the
// webhook secret, the private key or payload content.
func TestLogsCarryKeysButNoPayloadsOrSecrets(t *testing.T) {
	h := newHarness(t)
	payload := githubtest.Payload(t, "pull_request", "opened.payload.json")
	h.seedPR(payload)
	req := githubtest.SignedRequest(t, "http://gitward.test/api/github/hook", "pull_request", payload, webhookSecret)
	delivery := req.Header.Get("X-GitHub-Delivery")
	h.post(req)
	h.post(githubtest.SignedRequest(t, "http://gitward.test/api/github/hook", "pull_request", payload, "wrong"))
	if err := h.srv.Pool().Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	logs := h.logs.String()
	for _, want := range []string{
		`"github_delivery_id":"` + delivery + `"`,
		`"github_event_type":"pull_request"`,
		`"github_installation_id":1`,
		`"github_repository_owner":"Codertocat"`,
		`"github_repository_name":"Hello-World"`,
		`"github_pr_num":2`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	key := string(privateKey(t))
	for what, secret := range map[string]string{
		"webhook secret":   webhookSecret,
		"private key":      key[40:80],
		"payload body":     "This is a pretty simple change that we need to pull into master.",
		"payload user url": "https://api.github.com/users/Codertocat/followers",
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain the %s", what)
		}
	}
}

func grep(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
