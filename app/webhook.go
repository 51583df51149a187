package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// MaxGitHubPayload is the largest webhook body GitHub sends (25 MB);
// larger deliveries are capped by GitHub and never arrive.
const MaxGitHubPayload = 25 << 20

// githubWebhook checks a delivery before go-githubapp's EventDispatcher sees
// it, so each kind of bad request gets its own status: 405 for a method
// other than POST, 413 over the size limit, 400 without event or delivery
// headers, 401 without a valid HMAC-SHA256 signature, 415 for a non-JSON
// body and 400 for malformed JSON. Only then is it dispatched (202).
type githubWebhook struct {
	secret     []byte
	maxBody    int64
	dispatcher http.Handler
	metrics    *Metrics
}

func newGitHubWebhook(secret []byte, maxBody int64, handlers []githubapp.EventHandler, sched githubapp.Scheduler, m *Metrics) http.Handler {
	if maxBody <= 0 {
		maxBody = MaxGitHubPayload
	}
	w := &githubWebhook{secret: secret, maxBody: maxBody, metrics: m}
	w.dispatcher = githubapp.NewEventDispatcher(handlers, string(secret),
		githubapp.WithScheduler(sched),
		githubapp.WithErrorCallback(w.dispatchError),
		githubapp.WithResponseCallback(w.dispatched),
	)
	return w
}

func (h *githubWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	event := r.Header.Get("X-GitHub-Event")
	delivery := r.Header.Get("X-GitHub-Delivery")
	log := zerolog.Ctx(r.Context()).With().
		Str(githubapp.LogKeyEventType, event).
		Str(githubapp.LogKeyDeliveryID, delivery).
		Logger()
	// Until the signature is checked, the event header is attacker
	// controlled: keep it out of metric labels.
	verified := false
	reject := func(status int, outcome, msg string) {
		label := "unverified"
		if verified {
			label = metricEvent(event)
		}
		h.metrics.Deliveries.WithLabelValues("github", label, outcome).Inc()
		log.Warn().Int("status", status).Str("outcome", outcome).Msg(msg)
		http.Error(w, msg, status)
	}

	body, ok := readDelivery(w, r, h.maxBody, reject)
	if !ok {
		return
	}
	if event == "" {
		reject(http.StatusBadRequest, "bad_request", "missing X-GitHub-Event header")
		return
	}
	if delivery == "" {
		reject(http.StatusBadRequest, "bad_request", "missing X-GitHub-Delivery header")
		return
	}
	sig := r.Header.Get(gh.SHA256SignatureHeader)
	if sig == "" {
		reject(http.StatusUnauthorized, "bad_signature", "missing X-Hub-Signature-256 header")
		return
	}
	if err := gh.ValidateSignature(sig, body, h.secret); err != nil {
		reject(http.StatusUnauthorized, "bad_signature", "X-Hub-Signature-256 does not match the payload")
		return
	}
	verified = true
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		reject(http.StatusUnsupportedMediaType, "bad_request", "webhook content type must be application/json")
		return
	}
	if !json.Valid(body) {
		reject(http.StatusBadRequest, "bad_request", "payload is not valid JSON")
		return
	}

	// The dispatcher adds the event and delivery keys to the request's
	// logger itself.
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	h.dispatcher.ServeHTTP(w, r)
}

// readDelivery checks a webhook delivery's method and size and reads its
// body: 405 for a method other than POST, 413 over maxBody (whether or not
// the request says its length). On a bad request it answers through reject
// and returns false.
func readDelivery(w http.ResponseWriter, r *http.Request, maxBody int64, reject func(status int, outcome, msg string)) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reject(http.StatusMethodNotAllowed, "bad_request", "webhooks must be POSTed")
		return nil, false
	}
	if r.ContentLength > maxBody {
		reject(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("payload of %d bytes is over the %d byte limit", r.ContentLength, maxBody))
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		reject(http.StatusBadRequest, "bad_request", "could not read the request body")
		return nil, false
	}
	if int64(len(body)) > maxBody {
		reject(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("payload is over the %d byte limit", maxBody))
		return nil, false
	}
	return body, true
}

// dispatched answers a delivery the dispatcher accepted: 202 once queued or
// ignored, 200 for ping.
func (h *githubWebhook) dispatched(w http.ResponseWriter, r *http.Request, event string, handled bool) {
	outcome, status := "ignored", http.StatusAccepted
	switch {
	case event == "ping":
		outcome, status = "ping", http.StatusOK
	case handled:
		outcome = "queued"
	}
	h.metrics.Deliveries.WithLabelValues("github", metricEvent(event), outcome).Inc()
	zerolog.Ctx(r.Context()).Debug().Str("outcome", outcome).Msg("Webhook accepted")
	w.WriteHeader(status)
}

// dispatchError answers a delivery the dispatcher could not queue. A full
// queue answers 503 so the delivery shows as failed in GitHub, and the
// resync loop, already told by the pool, evaluates the pull request.
func (h *githubWebhook) dispatchError(w http.ResponseWriter, r *http.Request, err error) {
	event := r.Header.Get("X-GitHub-Event")
	log := zerolog.Ctx(r.Context())
	var verr githubapp.ValidationError
	switch {
	case errors.Is(err, githubapp.ErrCapacityExceeded):
		h.metrics.Deliveries.WithLabelValues("github", metricEvent(event), "queue_full").Inc()
		log.Warn().Err(err).Msg("Work queue full; the resync loop will evaluate this change")
		http.Error(w, "gitward is busy; the change will be evaluated by the next resync", http.StatusServiceUnavailable)
	case errors.As(err, &verr):
		h.metrics.Deliveries.WithLabelValues("github", metricEvent(event), "bad_request").Inc()
		log.Warn().Err(verr.Cause).Msg("Invalid webhook")
		http.Error(w, "invalid webhook", http.StatusBadRequest)
	default:
		h.metrics.Deliveries.WithLabelValues("github", metricEvent(event), "error").Inc()
		log.Error().Err(err).Msg("Could not dispatch webhook")
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
}

// metricEvent bounds the event label to names GitHub sends, so a caller
// cannot grow the metric's cardinality with made-up headers.
func metricEvent(event string) string {
	if event == "" {
		return "none"
	}
	if len(event) > 40 {
		return "other"
	}
	for _, c := range event {
		if !(c >= 'a' && c <= 'z' || c == '_') {
			return "other"
		}
	}
	return event
}
