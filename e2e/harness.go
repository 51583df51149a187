// Package e2e runs gitward end to end, the way its users meet it: a server
// wired exactly as `gitward serve` wires it (app.OptionsFromConfig from a
// server config file, the HMAC webhook intake on /api/github/hook, the
// worker pool, resync and every capability) receives, over real HTTP, the
// webhooks a forge double sends for each user action, and the tests read
// the outcome back from the double: check runs, the sticky comment, the
// audit ledger.
//
// A World is one forge with its people and one GitOps repository. Only
// GitHub's world exists today (GitHubWorld); a GitLab world answers the same
// interface.
package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitward/gitward/app"
	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge/github/githubtest"
	"github.com/rs/zerolog"
)

// World is one forge as the scenarios drive it: people act, gitward
// answers, the test reads the outcome.
type World interface {
	// Push writes one commit by user onto branch and returns the new head.
	Push(user, branch string, c Change) string
	// Open opens a pull request from branch and returns its number.
	Open(user, branch, title string) int
	// Approve approves the pull request's head as user.
	Approve(user string, pr int)
	// Comment writes a comment as user and returns its ID.
	Comment(user string, pr int, body string) int64
	// Merge merges the pull request as user and returns the merge commit.
	Merge(user string, pr int) string
	// Check returns gitward's check (or status) name on the pull
	// request's current head.
	Check(pr int, name string) Check
	// Sticky returns gitward's sticky comments on the pull request.
	Sticky(pr int) []string
	// Ledger returns the audit ledger's records, verifying its chain.
	Ledger() []audit.Stored
	// Idle waits until every delivery is answered and gitward has no work.
	Idle()
}

// Change is the content of one commit.
type Change struct {
	Message string
	Files   map[string]string
	Delete  []string
	// SignedBy names whose key signs the commit: "" is the author's own
	// key, "-" leaves it unsigned, another login signs with that user's key.
	SignedBy string
	// Committer, when set, is the committer's login (the author is the
	// pushing user).
	Committer string
	// Trailers are appended to the message ("Co-authored-by: ...").
	Trailers []string
}

// Check is one check run as a scenario reads it; zero when absent.
type Check struct {
	Name, Status, Conclusion, Title, Summary, Text string
	HeadSHA                                        string
	Count                                          int // runs of this name on the head
}

// Clock is the double's clock: the wall clock, except that a comment
// (Tick) is always at least one second later, at GitHub's one-second
// resolution, than anything written before it. gitward binds a bare
// /approve to the head by comparing the comment's time with its own check
// runs' start, so no test needs to sleep for a timestamp to move. Only
// comments tick: the clock must stay close to the wall clock, which the
// app's JWTs are stamped with.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if wall := time.Now().UTC().Truncate(time.Second); wall.After(c.now) {
		c.now = wall
	}
	return c.now
}

// Tick moves the clock one second past the later of the wall clock and its
// last time.
func (c *Clock) Tick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now().UTC().Truncate(time.Second)
	if c.now.After(now) {
		now = c.now
	}
	c.now = now.Add(time.Second)
}

// User is a person of the world, with an SSH signing key registered on the
// forge.
type User struct {
	Login, Name, Email string
	key                string // private key file
	PublicKey          string
}

// sign signs payload as git does with gpg.format=ssh.
func (u *User) sign(payload string) (string, error) {
	cmd := exec.Command("ssh-keygen", "-q", "-Y", "sign", "-n", "git", "-f", u.key)
	cmd.Stdin = strings.NewReader(payload)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("ssh-keygen -Y sign as %s: %w", u.Login, err)
	}
	return string(out), nil
}

// newUser makes a user with a fresh ed25519 key from the real ssh-keygen.
func newUser(t testing.TB, dir, login string) *User {
	t.Helper()
	key := filepath.Join(dir, login+"_ed25519")
	email := login + "@example.com"
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", email, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen for %s: %v: %s", login, err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	name := strings.ToUpper(login[:1]) + login[1:]
	return &User{Login: login, Name: name, Email: email, key: key, PublicKey: strings.TrimSpace(string(pub))}
}

// Gitward is one running gitward server.
type Gitward struct {
	Server *app.Server
	URL    string
	Logs   *SyncBuffer
	stop   func() error
	// stopped is set when the test stopped the server itself.
	stopped bool
}

// Stop shuts the server down gracefully and returns Serve's result. Work
// not finished within the shutdown grace period is cut short, as when a
// pod is replaced; the test that stops a server judges that error.
func (g *Gitward) Stop() error {
	g.stopped = true
	return g.stop()
}

// SyncBuffer is a log sink safe for concurrent writers.
type SyncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serverConfig is the server config file the harness writes: the settings
// an operator writes for GitHub, with the double's API address. Resync and
// the drift scan are off (the scenarios run resync passes themselves).
const serverConfig = `server:
  address: 127.0.0.1:0
  shutdown_grace_period: 5s
github:
  app_id: %d
  web_url: https://github.com/
  v3_api_url: %s/
  v4_api_url: %s/graphql
  private_key_file: %s
  webhook_secret_file: %s
workers:
  count: %d
  queue_size: %d
resync:
  interval: "0"
snapshots:
  dir: %s
drift:
  scan_interval: "%s"
logging:
  level: debug
`

// StartOptions tunes one gitward server of the harness.
type StartOptions struct {
	Workers, QueueSize int
	// Clusters is the clusters section of the server config (YAML), for
	// drift against a real API server.
	Clusters string
	// DriftScan is the drift scan's interval; "" turns the scan off. A
	// server scans once at start, then on the interval.
	DriftScan string
}

// startGitward starts gitward on a loopback port from a server config file
// that points at gh, and stops it when the test ends.
func startGitward(t testing.TB, gh *githubtest.Server, secret string, so StartOptions) *Gitward {
	t.Helper()
	if so.Workers == 0 {
		so.Workers = 2
	}
	if so.QueueSize == 0 {
		so.QueueSize = 100
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(keyFile, githubtest.PrivateKey(t), 0o600); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(dir, "webhook-secret")
	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	if so.DriftScan == "" {
		so.DriftScan = "0"
	}
	cfgText := fmt.Sprintf(serverConfig, githubtest.DefaultAppID, gh.URL, gh.URL, keyFile, secretFile, so.Workers, so.QueueSize, filepath.Join(dir, "snapshots"), so.DriftScan)
	return serveConfig(t, dir, cfgText+so.Clusters)
}

// serveConfig starts gitward on a loopback port from the server config
// cfgText, written in dir, as `gitward serve` does, and stops it when the
// test ends.
func serveConfig(t testing.TB, dir, cfgText string) *Gitward {
	t.Helper()
	cfgFile := filepath.Join(dir, "gitward.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadServer(cfgFile, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("server config: %v", err)
	}
	logs := &SyncBuffer{}
	opts, err := app.OptionsFromConfig(cfg, zerolog.New(logs).Level(zerolog.DebugLevel))
	if err != nil {
		t.Fatal(err)
	}
	// The push check's second look at commits no merged pull request
	// claims waits 15 s by default; the double links merges at once.
	opts.PushRecheck = -1
	srv, err := app.New(opts)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	var result error
	g := &Gitward{Server: srv, URL: "http://" + ln.Addr().String(), Logs: logs}
	g.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case result = <-done:
			case <-time.After(60 * time.Second):
				result = fmt.Errorf("gitward did not stop within a minute")
			}
		})
		return result
	}
	t.Cleanup(func() {
		if err := g.stop(); err != nil && !g.stopped {
			t.Errorf("stop gitward: %v", err)
		}
		if t.Failed() {
			t.Logf("gitward log (last 8 KiB):\n%s", tail(logs.String(), 8<<10))
		}
	})
	waitFor(t, "gitward to be ready", func() bool {
		res, err := http.Get(g.URL + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	// The resync pass every server makes at start is over before the
	// first action, so Idle sees all work it queued.
	waitFor(t, "the first resync pass", func() bool { return resyncPasses(srv) > 0 })
	return g
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// waitFor polls cond until it holds or ten minutes pass (a full soak's
// backlog on a busy machine). It bounds the wait for asynchronous work; it
// asserts nothing about speed.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// verifyLedger verifies a ledger branch whose tip is tip as `gitward
// audit verify` does, reading each commit (parents, message) and its files
// through the double.
func verifyLedger(tip string, commit func(sha string) (parents []string, message string, ok bool), files func(sha string) map[string]string) audit.Verification {
	if tip == "" {
		return audit.Verification{}
	}
	var shas []string
	for sha := tip; sha != ""; {
		shas = append(shas, sha)
		parents, _, ok := commit(sha)
		if !ok || len(parents) == 0 {
			break
		}
		sha = parents[0]
	}
	var commits []audit.LedgerCommit
	prev := map[string]string{}
	for i := len(shas) - 1; i >= 0; i-- {
		parents, message, _ := commit(shas[i])
		now := files(shas[i])
		lc := audit.LedgerCommit{SHA: shas[i], Parents: parents, Message: message, Files: map[string][]byte{}}
		for _, p := range sortedKeys(now) {
			old, had := prev[p]
			switch {
			case !had:
				lc.Changes = append(lc.Changes, audit.PathChange{Status: "A", Path: p})
			case old != now[p]:
				lc.Changes = append(lc.Changes, audit.PathChange{Status: "M", Path: p})
			default:
				continue
			}
			lc.Files[p] = []byte(now[p])
		}
		for _, p := range sortedKeys(prev) {
			if _, ok := now[p]; !ok {
				lc.Changes = append(lc.Changes, audit.PathChange{Status: "D", Path: p})
			}
		}
		commits = append(commits, lc)
		prev = now
	}
	return audit.VerifyLedger(commits)
}

// idle waits until none of the gitward servers has work queued or
// running. A forge double's action returns once its deliveries are
// answered, and an answered delivery is queued, so idle after an action
// means gitward has finished with it.
func idle(t testing.TB, servers []*Gitward) {
	t.Helper()
	waitFor(t, "gitward to be idle", func() bool {
		for _, g := range servers {
			if !g.Server.Pool().Idle() {
				return false
			}
		}
		return true
	})
}

// resync runs one resync pass on the newest server and waits until idle.
func resync(t testing.TB, servers []*Gitward) {
	t.Helper()
	g := servers[len(servers)-1]
	if _, err := g.Server.Resync().RunOnce(t.Context()); err != nil {
		t.Fatalf("resync: %v", err)
	}
	idle(t, servers)
}
