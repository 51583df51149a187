package app_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitward/gitward/app"
	dto "github.com/prometheus/client_model/go"
)

const gitlabSecret = "gitlab-webhook-secret"

// glRecorder is a GitLab handler that keeps what it was handed.
type glRecorder struct {
	mu     sync.Mutex
	events []string
	done   chan struct{}
}

func newGLRecorder() *glRecorder { return &glRecorder{done: make(chan struct{}, 100)} }

func (r *glRecorder) Handle(_ context.Context, event string, payload []byte) error {
	r.mu.Lock()
	r.events = append(r.events, event)
	r.mu.Unlock()
	r.done <- struct{}{}
	return nil
}

// intake returns the GitLab intake on a pool of one worker.
func intake(t *testing.T, secret []byte, maxBody int64, m *app.Metrics, h app.GitLabHandler) http.Handler {
	t.Helper()
	pool := app.NewPool(1, 10, m, nil)
	t.Cleanup(func() { _ = pool.Shutdown(context.Background()) })
	return app.NewGitLabWebhook(secret, maxBody, m, h, pool)
}

// gitlabPayload reads a real GitLab webhook example from testdata.
func gitlabPayload(t testing.TB, set, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "gitlab", "webhooks", set, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gitlabRequest(event string, body []byte, token string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://gitward.test/api/gitlab/hook", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if event != "" {
		r.Header.Set("X-Gitlab-Event", event)
	}
	if token != "" {
		r.Header.Set("X-Gitlab-Token", token)
	}
	return r
}

func TestGitLabWebhookRejectsBadDeliveries(t *testing.T) {
	payload := gitlabPayload(t, "gitlab-org-api-client-go", "merge_request.json")
	tests := []struct {
		name    string
		req     *http.Request
		maxBody int64
		status  int
		event   string
		outcome string
	}{
		{"no token", gitlabRequest("Merge Request Hook", payload, ""), 0, http.StatusUnauthorized, "unverified", "bad_signature"},
		{"wrong token", gitlabRequest("Merge Request Hook", payload, "guess"), 0, http.StatusUnauthorized, "unverified", "bad_signature"},
		{"token prefix", gitlabRequest("Merge Request Hook", payload, gitlabSecret[:5]), 0, http.StatusUnauthorized, "unverified", "bad_signature"},
		{"too large", gitlabRequest("Merge Request Hook", payload, gitlabSecret), 100, http.StatusRequestEntityTooLarge, "merge_request", "too_large"},
		{"no event header", gitlabRequest("", payload, gitlabSecret), 0, http.StatusBadRequest, "none", "bad_request"},
		{"malformed JSON", gitlabRequest("Merge Request Hook", payload[:len(payload)/2], gitlabSecret), 0, http.StatusBadRequest, "merge_request", "bad_request"},
		{"not the event's shape", gitlabRequest("Merge Request Hook", []byte(`{"object_attributes": 7}`), gitlabSecret), 0, http.StatusBadRequest, "merge_request", "bad_request"},
		{"GET", func() *http.Request {
			r := gitlabRequest("Merge Request Hook", nil, gitlabSecret)
			r.Method = http.MethodGet
			return r
		}(), 0, http.StatusMethodNotAllowed, "merge_request", "bad_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := app.NewMetrics()
			r := newGLRecorder()
			h := intake(t, []byte(gitlabSecret), tc.maxBody, m, r)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tc.req)
			if rec.Code != tc.status {
				t.Fatalf("status = %d (%s), want %d", rec.Code, strings.TrimSpace(rec.Body.String()), tc.status)
			}
			if n := count(t, m, []string{"gitlab", tc.event, tc.outcome}); n != 1 {
				t.Errorf("deliveries{gitlab,%s,%s} = %v, want 1", tc.event, tc.outcome, n)
			}
			if len(r.done) != 0 {
				t.Error("a refused delivery reached the handler")
			}
		})
	}
	t.Run("no secret configured refuses all", func(t *testing.T) {
		rec := httptest.NewRecorder()
		intake(t, nil, 0, app.NewMetrics(), newGLRecorder()).ServeHTTP(rec, gitlabRequest("Merge Request Hook", payload, ""))
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("status = %d, want 401", rec.Code)
		}
	})
}

// TestGitLabWebhookAcceptsEveryRealPayload sends each example GitLab
// publishes, with the event header SOURCE.txt pairs it with: merge
// request, note and push events are queued for the handler, the rest
// ignored; all 202.
func TestGitLabWebhookAcceptsEveryRealPayload(t *testing.T) {
	eventFor := func(name string) (event, label, outcome string) {
		switch {
		case strings.Contains(name, "merge_request") && !strings.HasPrefix(name, "note_") && !strings.HasPrefix(name, "emoji_"):
			return "Merge Request Hook", "merge_request", "queued"
		case strings.HasPrefix(name, "note_"):
			return "Note Hook", "note", "queued"
		case name == "push.json":
			return "Push Hook", "push", "queued"
		case name == "tag_push.json":
			return "Tag Push Hook", "tag_push", "ignored"
		case name == "pipeline.json":
			return "Pipeline Hook", "pipeline", "queued"
		case name == "job.json", name == "build.json":
			return "Job Hook", "job", "ignored"
		case strings.HasPrefix(name, "emoji_"):
			return "Emoji Hook", "emoji", "ignored"
		}
		return "", "", ""
	}
	n := 0
	for _, set := range []string{"gitlab-org-api-client-go", "xanzy-go-gitlab"} {
		files, err := filepath.Glob(filepath.Join("..", "testdata", "gitlab", "webhooks", set, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no payloads in %s: %v", set, err)
		}
		for _, f := range files {
			name := filepath.Base(f)
			event, label, outcome := eventFor(name)
			if event == "" {
				t.Errorf("%s/%s: no event header known for this payload", set, name)
				continue
			}
			t.Run(set+"/"+name, func(t *testing.T) {
				m := app.NewMetrics()
				rec := httptest.NewRecorder()
				r := newGLRecorder()
				intake(t, []byte(gitlabSecret), 0, m, r).ServeHTTP(rec, gitlabRequest(event, gitlabPayload(t, set, name), gitlabSecret))
				if rec.Code != http.StatusAccepted {
					t.Fatalf("status = %d (%s), want 202", rec.Code, strings.TrimSpace(rec.Body.String()))
				}
				if outcome == "queued" {
					select {
					case <-r.done:
					case <-time.After(10 * time.Second):
						t.Fatal("the handler was never called")
					}
					if r.events[0] != event {
						t.Errorf("handler got %q, want %q", r.events[0], event)
					}
				} else if len(r.done) != 0 {
					t.Error("an ignored event reached the handler")
				}
				if got := count(t, m, []string{"gitlab", label, outcome}); got != 1 {
					t.Errorf("deliveries{gitlab,%s,%s} = %v, want 1", label, outcome, got)
				}
			})
			n++
		}
	}
	if n < 20 {
		t.Fatalf("only %d payloads exercised", n)
	}
}

// count reads one series of gitward_webhook_deliveries_total.
func count(t *testing.T, m *app.Metrics, labels []string) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Deliveries.WithLabelValues(labels...).Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.GetCounter().GetValue()
}
