package app

import (
	"net/http"
	"strconv"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the Prometheus series gitward exports at /metrics. Each server
// has its own registry, so tests can run several servers side by side.
type Metrics struct {
	Registry *prometheus.Registry

	Deliveries       *prometheus.CounterVec
	QueueDepth       prometheus.Gauge
	QueueCapacity    prometheus.Gauge
	QueueWait        prometheus.Histogram
	QueueRejected    *prometheus.CounterVec
	JobsDeduplicated *prometheus.CounterVec
	HandlerLatency   *prometheus.HistogramVec
	APIRequests      *prometheus.CounterVec
	APILatency       *prometheus.HistogramVec
	RateLimitLeft    *prometheus.GaugeVec
	ResyncRuns       *prometheus.CounterVec
	ResyncQueued     prometheus.Counter
	ResyncLast       prometheus.Gauge
}

// NewMetrics registers gitward's series, plus the Go runtime and process
// collectors, in a new registry.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitward_webhook_deliveries_total",
			Help: "Webhook deliveries received, by forge, event and outcome (queued, ignored, ping, bad_signature, bad_request, too_large, queue_full).",
		}, []string{"forge", "event", "outcome"}),
		QueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gitward_queue_depth",
			Help: "Jobs waiting in the work queue.",
		}),
		QueueCapacity: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gitward_queue_capacity",
			Help: "Size of the work queue.",
		}),
		QueueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gitward_queue_wait_seconds",
			Help:    "Time jobs spent in the queue before a worker took them.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
		QueueRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitward_queue_rejected_total",
			Help: "Jobs refused because the queue was full or the server was stopping; the resync loop re-evaluates what they would have.",
		}, []string{"kind"}),
		JobsDeduplicated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitward_jobs_deduplicated_total",
			Help: "Jobs dropped because the same work was already queued.",
		}, []string{"kind"}),
		HandlerLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gitward_handler_duration_seconds",
			Help:    "Time to handle one job, by kind (webhook event or resync) and outcome (success, error, panic).",
			Buckets: prometheus.ExponentialBuckets(0.005, 3, 10),
		}, []string{"kind", "outcome"}),
		APIRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitward_forge_api_requests_total",
			Help: "Requests to forge APIs, by forge, method and status class (2xx, 3xx, 4xx, 5xx, error).",
		}, []string{"forge", "method", "status"}),
		APILatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gitward_forge_api_request_duration_seconds",
			Help:    "Latency of forge API requests.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 8),
		}, []string{"forge"}),
		RateLimitLeft: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitward_forge_rate_limit_remaining",
			Help: "Requests left in the forge's current rate-limit window, as the latest response reported it, by forge and resource.",
		}, []string{"forge", "resource"}),
		ResyncRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitward_resync_runs_total",
			Help: "Resync passes over all open pull requests, by outcome.",
		}, []string{"outcome"}),
		ResyncQueued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gitward_resync_evaluations_total",
			Help: "Pull requests the resync loop queued for evaluation because their checks were missing or stale.",
		}),
		ResyncLast: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gitward_resync_last_success_timestamp_seconds",
			Help: "Unix time of the last complete resync pass.",
		}),
	}
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.Deliveries, m.QueueDepth, m.QueueCapacity, m.QueueWait, m.QueueRejected,
		m.JobsDeduplicated, m.HandlerLatency, m.APIRequests, m.APILatency,
		m.RateLimitLeft, m.ResyncRuns, m.ResyncQueued, m.ResyncLast,
	)
	return m
}

// Handler serves the registry in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// GitHubMiddleware counts GitHub API requests and records the rate-limit
// headers of each response. It never reads bodies.
func (m *Metrics) GitHubMiddleware() githubapp.ClientMiddleware {
	return m.apiMiddleware("github", "X-RateLimit-Remaining", "X-RateLimit-Resource")
}

// GitLabTransport counts GitLab API requests through next and records
// GitLab's RateLimit-Remaining header. It never reads bodies.
func (m *Metrics) GitLabTransport(next http.RoundTripper) http.RoundTripper {
	return m.apiMiddleware("gitlab", "RateLimit-Remaining", "")(next)
}

func (m *Metrics) apiMiddleware(forgeName, remainingHeader, resourceHeader string) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			start := time.Now()
			res, err := next.RoundTrip(r)
			m.APILatency.WithLabelValues(forgeName).Observe(time.Since(start).Seconds())
			if err != nil {
				m.APIRequests.WithLabelValues(forgeName, r.Method, "error").Inc()
				return res, err
			}
			m.APIRequests.WithLabelValues(forgeName, r.Method, statusClass(res.StatusCode)).Inc()
			if left := res.Header.Get(remainingHeader); left != "" {
				if n, perr := strconv.ParseFloat(left, 64); perr == nil {
					resource := ""
					if resourceHeader != "" {
						resource = res.Header.Get(resourceHeader)
					}
					if resource == "" {
						resource = "core"
					}
					m.RateLimitLeft.WithLabelValues(forgeName, resource).Set(n)
				}
			}
			return res, nil
		})
	}
}

func statusClass(code int) string {
	switch {
	case code >= 500:
		return "5xx"
	case code >= 400:
		return "4xx"
	case code >= 300:
		return "3xx"
	default:
		return "2xx"
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
