package app

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/rs/zerolog"
	gl "gitlab.com/gitlab-org/api/client-go"
)

// MaxGitLabPayload is the default cap on a GitLab webhook body. GitLab's
// own limit on webhook payloads is 25 MB as well.
const MaxGitLabPayload = 25 << 20

// gitlabEvents names the X-Gitlab-Event values gitward takes in, for the
// metric label; any other event is accepted and ignored.
var gitlabEvents = map[gl.EventType]string{
	gl.EventTypeMergeRequest: "merge_request",
	gl.EventTypeNote:         "note",
	gl.EventConfidentialNote: "note",
	gl.EventTypePush:         "push",
	gl.EventTypePipeline:     "pipeline",
}

// gitlabWebhook takes in GitLab deliveries at /api/gitlab/hook. GitLab
// authenticates a delivery by sending the configured secret token verbatim
// in X-Gitlab-Token, compared here in constant time: missing or wrong →
// 401. Then: 405 for a method other than POST, 413 over the size limit, 400
// without X-Gitlab-Event, 400 for malformed JSON or a payload that does not
// decode as its event, 202 otherwise.
//
// Merge request, note, push and pipeline events are queued for the handler and
// counted with the outcome "queued" (503 "queue_full" when the queue has no
// room: the resync loop, told by the pool, picks the change up). Other
// events are counted as "ignored".
type gitlabWebhook struct {
	secret  []byte
	maxBody int64
	metrics *Metrics
	handler GitLabHandler
	pool    *Pool
}

// GitLabHandler acts on one GitLab delivery; handlers.GitLab is one.
type GitLabHandler interface {
	Handle(ctx context.Context, event string, payload []byte) error
}

// NewGitLabWebhook returns the GitLab webhook intake, queueing deliveries
// for h on pool. An empty secret refuses every delivery.
func NewGitLabWebhook(secret []byte, maxBody int64, m *Metrics, h GitLabHandler, pool *Pool) http.Handler {
	if maxBody <= 0 {
		maxBody = MaxGitLabPayload
	}
	return &gitlabWebhook{secret: secret, maxBody: maxBody, metrics: m, handler: h, pool: pool}
}

func (h *gitlabWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	event := gl.HookEventType(r)
	log := zerolog.Ctx(r.Context()).With().Str("forge", "gitlab").Str("event_type", string(event)).
		Str("gitlab_event_uuid", r.Header.Get("X-Gitlab-Event-UUID")).Logger()
	// Until the token is checked the event header is attacker controlled:
	// keep it out of metric labels.
	label := "unverified"
	reject := func(status int, outcome, msg string) {
		h.metrics.Deliveries.WithLabelValues("gitlab", label, outcome).Inc()
		log.Warn().Int("status", status).Str("outcome", outcome).Msg(msg)
		http.Error(w, msg, status)
	}

	token := r.Header.Get("X-Gitlab-Token")
	if len(h.secret) == 0 || token == "" {
		reject(http.StatusUnauthorized, "bad_signature", "missing X-Gitlab-Token header")
		return
	}
	if subtle.ConstantTimeCompare([]byte(token), h.secret) != 1 {
		reject(http.StatusUnauthorized, "bad_signature", "X-Gitlab-Token does not match the configured secret")
		return
	}
	label = gitlabMetricEvent(event)
	body, ok := readDelivery(w, r, h.maxBody, reject)
	if !ok {
		return
	}
	if event == "" {
		reject(http.StatusBadRequest, "bad_request", "missing X-Gitlab-Event header")
		return
	}
	if !json.Valid(body) {
		reject(http.StatusBadRequest, "bad_request", "payload is not valid JSON")
		return
	}
	if _, known := gitlabEvents[event]; !known {
		h.metrics.Deliveries.WithLabelValues("gitlab", label, "ignored").Inc()
		log.Debug().Str("outcome", "ignored").Msg("Webhook accepted")
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if _, err := gl.ParseWebhook(event, body); err != nil {
		reject(http.StatusBadRequest, "bad_request", "payload does not decode as "+string(event))
		return
	}
	err := h.pool.Submit(log.WithContext(context.Background()), Job{
		Kind: "gitlab_" + label,
		Run: func(ctx context.Context) error {
			return h.handler.Handle(ctx, string(event), body)
		},
	})
	if err != nil {
		h.metrics.Deliveries.WithLabelValues("gitlab", label, "queue_full").Inc()
		log.Warn().Err(err).Msg("Work queue full; the resync loop will evaluate this change")
		http.Error(w, "gitward is busy; the change will be evaluated by the next resync", http.StatusServiceUnavailable)
		return
	}
	h.metrics.Deliveries.WithLabelValues("gitlab", label, "queued").Inc()
	log.Debug().Str("outcome", "queued").Msg("Webhook accepted")
	w.WriteHeader(http.StatusAccepted)
}

// gitlabMetricEvent bounds the event label: known events by their short
// name, any other well-formed "... Hook" name folded to snake case, and
// anything else "other".
func gitlabMetricEvent(event gl.EventType) string {
	if name, ok := gitlabEvents[event]; ok {
		return name
	}
	if event == "" {
		return "none"
	}
	s := string(event)
	if len(s) > 40 || !strings.HasSuffix(s, " Hook") {
		return "other"
	}
	s = strings.ToLower(strings.TrimSuffix(s, " Hook"))
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c == ' ') {
			return "other"
		}
	}
	return strings.ReplaceAll(s, " ", "_")
}
