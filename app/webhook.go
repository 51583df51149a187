package app

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gitward/gitward/report/markdown"
	"golang.org/x/sync/semaphore"

	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// MaxGitHubPayload is the largest webhook body GitHub sends (25 MB);
// larger deliveries are capped by GitHub and never arrive.
const MaxGitHubPayload = 25 << 20

// githubWebhook checks a delivery before go-githubapp's EventDispatcher sees
// it, so each kind of bad request gets its own status: 405 for a method
// other than POST, 400 without event or delivery headers or with long ones,
// 401 without a well-formed signature header — all before the body is
// read — then 413 over the size limit, 401 when the HMAC-SHA256 of the
// body, computed as it is read, does not match, 415 for a non-JSON body
// and 400 for malformed JSON. Only then is it dispatched (202).
type githubWebhook struct {
	secret     []byte
	maxBody    int64
	dispatcher http.Handler
	metrics    *Metrics
	// budget bounds the body bytes read and not yet authenticated, across
	// all deliveries: twice the largest body.
	budget *semaphore.Weighted
}

func newGitHubWebhook(secret []byte, maxBody int64, handlers []githubapp.EventHandler, sched githubapp.Scheduler, m *Metrics) http.Handler {
	if maxBody <= 0 {
		maxBody = MaxGitHubPayload
	}
	w := &githubWebhook{secret: secret, maxBody: maxBody, metrics: m, budget: semaphore.NewWeighted(2 * maxBody)}
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
	// Until the signature is checked, the headers are attacker controlled:
	// clipped in the log, kept out of metric labels.
	log := zerolog.Ctx(r.Context()).With().
		Str(githubapp.LogKeyEventType, markdown.Clip(event, maxHeaderField)).
		Str(githubapp.LogKeyDeliveryID, markdown.Clip(delivery, maxHeaderField)).
		Logger()
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

	// Everything that can be judged from the request line and headers is
	// judged before a byte of the body is read.
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reject(http.StatusMethodNotAllowed, "bad_request", "webhooks must be POSTed")
		return
	}
	switch {
	case event == "":
		reject(http.StatusBadRequest, "bad_request", "missing X-GitHub-Event header")
		return
	case len(event) > maxHeaderField:
		reject(http.StatusBadRequest, "bad_request", "X-GitHub-Event header is too long")
		return
	case delivery == "":
		reject(http.StatusBadRequest, "bad_request", "missing X-GitHub-Delivery header")
		return
	case len(delivery) > maxHeaderField:
		reject(http.StatusBadRequest, "bad_request", "X-GitHub-Delivery header is too long")
		return
	}
	sig := r.Header.Get(gh.SHA256SignatureHeader)
	if sig == "" {
		reject(http.StatusUnauthorized, "bad_signature", "missing X-Hub-Signature-256 header")
		return
	}
	want, ok := parseSignature(sig)
	if !ok {
		reject(http.StatusUnauthorized, "bad_signature", "X-Hub-Signature-256 is not sha256= and 64 hex digits")
		return
	}
	if r.ContentLength > h.maxBody {
		reject(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("payload of %d bytes is over the %d byte limit", r.ContentLength, h.maxBody))
		return
	}
	body, status, err := h.readSigned(r, want)
	if err != nil {
		outcome := "bad_request"
		switch status {
		case http.StatusUnauthorized:
			outcome = "bad_signature"
		case http.StatusRequestEntityTooLarge:
			outcome = "too_large"
		}
		reject(status, outcome, err.Error())
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

// maxHeaderField bounds the event and delivery headers: GitHub's are an
// event name and a GUID.
const maxHeaderField = 64

// parseSignature reads "sha256=" and 64 hex digits.
func parseSignature(sig string) ([]byte, bool) {
	hexSum, ok := strings.CutPrefix(sig, "sha256=")
	if !ok || len(hexSum) != 2*sha256.Size {
		return nil, false
	}
	sum, err := hex.DecodeString(hexSum)
	return sum, err == nil
}

// readSigned reads the body while hashing it, within the budget of
// unauthenticated bytes all deliveries share, and returns it only if its
// HMAC-SHA256 is want. The budget is held only while the body is
// unauthenticated, so a flood of large deliveries with made-up signatures
// holds at most the budget, however many arrive at once. On failure it
// returns the status to answer with.
func (h *githubWebhook) readSigned(r *http.Request, want []byte) ([]byte, int, error) {
	weight := h.maxBody
	if r.ContentLength >= 0 {
		weight = r.ContentLength
	}
	if err := h.budget.Acquire(r.Context(), weight); err != nil {
		return nil, http.StatusServiceUnavailable, errors.New("too many deliveries are being read; try again")
	}
	defer h.budget.Release(weight)
	mac := hmac.New(sha256.New, h.secret)
	// A body of known length is read into a buffer of that size; one of
	// unknown length starts small and grows as it arrives.
	size := weight
	if r.ContentLength < 0 {
		size = min(weight, 64<<10)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	n, err := io.Copy(io.MultiWriter(buf, mac), io.LimitReader(r.Body, weight+1))
	switch {
	case err != nil:
		return nil, http.StatusBadRequest, errors.New("could not read the request body")
	case n > weight && r.ContentLength >= 0:
		return nil, http.StatusBadRequest, errors.New("the body is longer than its Content-Length")
	case n > weight:
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("payload is over the %d byte limit", h.maxBody)
	case !hmac.Equal(mac.Sum(nil), want):
		return nil, http.StatusUnauthorized, errors.New("X-Hub-Signature-256 does not match the payload")
	}
	return buf.Bytes(), 0, nil
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
