package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitward/gitward/app"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/github/githubtest"
	"github.com/rs/zerolog"
)

const webhookSecret = "s3cret-webhook-value-7c1d"

// privateKey returns the GitHub App key the double accepts.
func privateKey(t testing.TB) []byte { return githubtest.PrivateKey(t) }

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// recorder is a capability that records each evaluation and publishes a
// successful gitward/change-control check. A test can make it block.
type recorder struct {
	mu    sync.Mutex
	seen  []evaluated
	block chan struct{} // when non-nil, each Evaluate waits for a value or ctx
	began chan int      // when non-nil, receives the PR number as Evaluate starts
	fail  error
}

type evaluated struct {
	Number  int
	HeadSHA string
	BaseSHA string
	Config  bool
}

func (r *recorder) Name() string     { return "recorder" }
func (r *recorder) Checks() []string { return []string{"gitward/change-control"} }

func (r *recorder) Evaluate(ctx context.Context, ev *evaluation.Evaluation) error {
	if r.began != nil {
		r.began <- ev.PR.Ref.Number
	}
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	r.seen = append(r.seen, evaluated{ev.PR.Ref.Number, ev.PR.HeadSHA, ev.PR.BaseSHA, ev.Config != nil})
	r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	run := ev.CheckRun("gitward/change-control")
	run.Status = forge.CheckCompleted
	run.Conclusion = forge.ConclusionSuccess
	run.Title = "recorded"
	run.Summary = "recorded by the test capability"
	return ev.Publish(ctx, run)
}

func (r *recorder) evaluations() []evaluated {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]evaluated(nil), r.seen...)
}

// harness is a gitward server wired to a GitHub double.
type harness struct {
	t    testing.TB
	gh   *githubtest.Server
	srv  *app.Server
	cap  *recorder
	logs *syncBuffer
	url  string // set by serve
}

func newHarness(t *testing.T, tweak ...func(*app.Options)) *harness {
	t.Helper()
	return newHarnessWith(t, githubtest.New(t), tweak...)
}

// newHarnessWith wires a server to an existing double.
func newHarnessWith(t testing.TB, gh *githubtest.Server, tweak ...func(*app.Options)) *harness {
	t.Helper()
	logs := &syncBuffer{}
	rec := &recorder{}
	opts := app.Options{
		Address:             "127.0.0.1:0",
		ShutdownGrace:       5 * time.Second,
		GitHubAppID:         githubtest.DefaultAppID,
		GitHubPrivateKey:    privateKey(t),
		GitHubWebhookSecret: []byte(webhookSecret),
		GitHubWebURL:        "https://github.com/",
		GitHubV3APIURL:      gh.URL + "/",
		Workers:             2,
		QueueSize:           10,
		SnapshotDir:         t.TempDir(),
		SnapshotMaxBytes:    1 << 30,
		Capabilities:        []evaluation.Capability{rec},
		PushRecheck:         time.Millisecond,
		Logger:              zerolog.New(logs).Level(zerolog.DebugLevel),
	}
	for _, f := range tweak {
		f(&opts)
	}
	srv, err := app.New(opts)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	return &harness{t: t, gh: gh, srv: srv, cap: rec, logs: logs}
}

// serve runs the server on a loopback port until the test ends, and
// returns a function that stops it and reports Serve's result.
func (h *harness) serve() (stop func() error) {
	h.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	h.url = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.Serve(ctx, ln) }()
	var once sync.Once
	var result error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case result = <-done:
			case <-time.After(30 * time.Second):
				h.t.Errorf("server did not stop")
			}
		})
		return result
	}
	h.t.Cleanup(func() { _ = stop() })
	waitFor(h.t, "server to be ready", func() bool {
		res, err := http.Get(h.url + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return stop
}

// post sends a webhook to the server's handler in-process.
func (h *harness) post(req *http.Request) *httptest.ResponseRecorder {
	h.t.Helper()
	w := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(w, req)
	return w
}

// deliver signs and posts a payload in-process.
func (h *harness) deliver(event string, payload []byte) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.post(githubtest.SignedRequest(h.t, "http://gitward.test/api/github/hook", event, payload, webhookSecret))
}

// seedPR seeds the repository and pull request a webhook payload names, so
// the evaluation it triggers finds them on the double.
func (h *harness) seedPR(payload []byte) (repo string, number int, head string) {
	h.t.Helper()
	var ev struct {
		Number       int `json:"number"`
		Installation struct {
			ID int64 `json:"id"`
		} `json:"installation"`
		Repository struct {
			Name          string `json:"name"`
			DefaultBranch string `json:"default_branch"`
			Owner         struct {
				Login string `json:"login"`
			} `json:"owner"`
		} `json:"repository"`
		PullRequest struct {
			Title string `json:"title"`
			User  struct {
				Login string `json:"login"`
			} `json:"user"`
			Base struct {
				Ref string `json:"ref"`
				SHA string `json:"sha"`
			} `json:"base"`
			Head struct {
				Ref string `json:"ref"`
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		h.t.Fatal(err)
	}
	repo = ev.Repository.Owner.Login + "/" + ev.Repository.Name
	h.addRepo(ev.Installation.ID, repo, ev.Repository.DefaultBranch)
	h.gh.AddPullRequest(repo, githubtest.PullRequest{
		Number:  ev.Number,
		Title:   ev.PullRequest.Title,
		Author:  ev.PullRequest.User.Login,
		BaseRef: ev.PullRequest.Base.Ref,
		BaseSHA: ev.PullRequest.Base.SHA,
		HeadRef: ev.PullRequest.Head.Ref,
		HeadSHA: ev.PullRequest.Head.SHA,
	})
	return repo, ev.Number, ev.PullRequest.Head.SHA
}

// seededRepos remembers what each double was seeded with. It is keyed by
// the double itself, not its URL: a later double may listen on the port of
// one that has closed.
var seededRepos sync.Map

type seeded struct {
	gh  *githubtest.Server
	key string
}

// addRepo seeds an installation and repository once per double.
func (h *harness) addRepo(installation int64, repo, defaultBranch string) {
	if _, loaded := seededRepos.LoadOrStore(seeded{h.gh, repo}, true); loaded {
		return
	}
	owner, name, _ := strings.Cut(repo, "/")
	if _, loaded := seededRepos.LoadOrStore(seeded{h.gh, "installation " + owner}, true); !loaded {
		h.gh.AddInstallation(installation, owner)
	}
	h.gh.AddRepo(installation, owner, name, defaultBranch)
}

// metric returns the text exposition of /metrics.
func (h *harness) metrics() string {
	h.t.Helper()
	w := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(w.Body)
	return string(body)
}

// waitFor polls cond until it holds or ten seconds pass. It bounds the wait
// for asynchronous work; it asserts nothing about speed.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	// Generous: the bound only catches a hang, and a machine busy with
	// other builds may take many seconds to run one job under -race.
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitTick is the polling interval of waits for asynchronous work.
func waitTick() { time.Sleep(2 * time.Millisecond) }

func readCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
