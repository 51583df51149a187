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
	dto "github.com/prometheus/client_model/go"
)

const gitlabSecret = "gitlab-webhook-secret"

// gitlabPayload reads a real GitLab webhook example from testdata.
func gitlabPayload(t *testing.T, set, name string) []byte {
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
			h := app.NewGitLabWebhook([]byte(gitlabSecret), tc.maxBody, m)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tc.req)
			if rec.Code != tc.status {
				t.Fatalf("status = %d (%s), want %d", rec.Code, strings.TrimSpace(rec.Body.String()), tc.status)
			}
			if n := count(t, m, []string{"gitlab", tc.event, tc.outcome}); n != 1 {
				t.Errorf("deliveries{gitlab,%s,%s} = %v, want 1", tc.event, tc.outcome, n)
			}
		})
	}
	t.Run("no secret configured refuses all", func(t *testing.T) {
		rec := httptest.NewRecorder()
		app.NewGitLabWebhook(nil, 0, app.NewMetrics()).ServeHTTP(rec, gitlabRequest("Merge Request Hook", payload, ""))
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("status = %d, want 401", rec.Code)
		}
	})
}

// TestGitLabWebhookAcceptsEveryRealPayload sends each example GitLab
// publishes, with the event header SOURCE.txt pairs it with: merge
// request, note and push events are received, the rest ignored; all 202.
func TestGitLabWebhookAcceptsEveryRealPayload(t *testing.T) {
	eventFor := func(name string) (event, label, outcome string) {
		switch {
		case strings.Contains(name, "merge_request") && !strings.HasPrefix(name, "note_") && !strings.HasPrefix(name, "emoji_"):
			return "Merge Request Hook", "merge_request", "received"
		case strings.HasPrefix(name, "note_"):
			return "Note Hook", "note", "received"
		case name == "push.json":
			return "Push Hook", "push", "received"
		case name == "tag_push.json":
			return "Tag Push Hook", "tag_push", "ignored"
		case name == "pipeline.json":
			return "Pipeline Hook", "pipeline", "ignored"
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
				app.NewGitLabWebhook([]byte(gitlabSecret), 0, m).ServeHTTP(rec, gitlabRequest(event, gitlabPayload(t, set, name), gitlabSecret))
				if rec.Code != http.StatusAccepted {
					t.Fatalf("status = %d (%s), want 202", rec.Code, strings.TrimSpace(rec.Body.String()))
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

// TestGitLabHookIsServedOnlyWithASecret checks the server's wiring: the
// GitLab intake exists only when a GitLab webhook secret is configured.
func TestGitLabHookIsServedOnlyWithASecret(t *testing.T) {
	payload := gitlabPayload(t, "gitlab-org-api-client-go", "note_merge_request.json")
	without := newHarness(t)
	if w := without.post(gitlabRequest("Note Hook", payload, gitlabSecret)); w.Code != http.StatusNotFound {
		t.Errorf("without GitLab: status = %d, want 404", w.Code)
	}
	with := newHarness(t, func(o *app.Options) { o.GitLabWebhookSecret = []byte(gitlabSecret) })
	if w := with.post(gitlabRequest("Note Hook", payload, gitlabSecret)); w.Code != http.StatusAccepted {
		t.Errorf("with GitLab: status = %d, want 202", w.Code)
	}
	if w := with.post(gitlabRequest("Note Hook", payload, "wrong")); w.Code != http.StatusUnauthorized {
		t.Errorf("with GitLab, wrong token: status = %d, want 401", w.Code)
	}
	if !strings.Contains(with.metrics(), `gitward_webhook_deliveries_total{event="note",forge="gitlab",outcome="received"} 1`) {
		t.Error("the delivery is not counted under forge=gitlab")
	}
}
