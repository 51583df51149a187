package githubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Webhooks: the double can send the deliveries GitHub sends to an app for
// each user action (see actions.go). Deliveries are POSTed over real HTTP,
// signed with X-Hub-Signature-256, one at a time and in the order of the
// actions, as GitHub's per-repository delivery order has them. GitHub does
// not redeliver a failed delivery, and neither does the double.

// Delivery is one webhook delivery the double sent.
type Delivery struct {
	ID      string
	Event   string
	Action  string
	Payload []byte
	// Status is the HTTP status the app answered with; 0 when the
	// delivery was dropped by a DeliveryFault or failed in transport.
	Status int
	Err    error
	// Sent is when the delivery was answered (wall clock, for latency
	// measurements only).
	Sent time.Time
}

// DeliveryFault decides how many times a delivery is sent: 0 loses it, 1
// sends it, 2 or more duplicates it (each copy with the same delivery ID,
// as GitHub's redelivery does).
type DeliveryFault func(event, action string) int

type webhooks struct {
	mu         sync.Mutex // serialises deliveries, keeps their order
	url        string
	secret     string
	client     *http.Client
	fault      DeliveryFault
	deliveries []Delivery
}

// SendWebhooks makes the double deliver the webhooks of user actions to
// url, signed with secret. An empty url stops deliveries.
func (s *Server) SendWebhooks(url, secret string) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.url, s.hooks.secret = url, secret
	if s.hooks.client == nil {
		s.hooks.client = &http.Client{Timeout: 30 * time.Second}
	}
}

// SetDeliveryFault installs f to lose or duplicate deliveries; nil sends
// every delivery once.
func (s *Server) SetDeliveryFault(f DeliveryFault) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.fault = f
}

// Deliveries returns every delivery sent (or lost) so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return append([]Delivery(nil), s.hooks.deliveries...)
}

// event is one webhook waiting to be sent; actions build it with s.mu held
// and send it after releasing it.
type event struct {
	name, action string
	payload      obj
}

// envelope adds the fields every repository webhook carries: the
// repository, the sender and the app's installation.
func (s *Server) envelope(r *repo, sender string, action string, fields obj) obj {
	o := obj{
		"repository":   s.repoObj(r),
		"sender":       s.userObj(sender),
		"installation": obj{"id": r.installationID, "node_id": nodeID("Installation", r.installationID)},
	}
	if action != "" {
		o["action"] = action
	}
	for k, v := range fields {
		o[k] = v
	}
	return o
}

// deliver sends events in order. It must be called without s.mu held.
func (s *Server) deliver(events ...event) {
	h := &s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ev := range events {
		payload, err := json.Marshal(ev.payload)
		if err != nil {
			s.report("githubtest: webhook %s: %v", ev.name, err)
			continue
		}
		d := Delivery{ID: DeliveryID(), Event: ev.name, Action: ev.action, Payload: payload}
		if h.url == "" {
			h.deliveries = append(h.deliveries, d)
			continue
		}
		copies := 1
		if h.fault != nil {
			copies = h.fault(ev.name, ev.action)
		}
		if copies == 0 {
			h.deliveries = append(h.deliveries, d)
			continue
		}
		for i := 0; i < copies; i++ {
			d.Status, d.Err = h.post(d)
			d.Sent = time.Now()
			h.deliveries = append(h.deliveries, d)
		}
	}
}

func (h *webhooks) post(d Delivery) (int, error) {
	req, err := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/githubtest")
	req.Header.Set("X-GitHub-Event", d.Event)
	req.Header.Set("X-GitHub-Delivery", d.ID)
	req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	req.Header.Set("X-Hub-Signature-256", Sign(d.Payload, h.secret))
	res, err := h.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("deliver %s %s: %w", d.Event, d.ID, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}
