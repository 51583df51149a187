package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gitward/gitward/forge/github/githubtest"
)

// soakSize is how much the soak does: GITWARD_SOAK=full runs 50 pull
// requests and 1,000 events (make soak); the default is a short run for
// make test. GITWARD_SOAK_SEED replays a run.
func soakSize() (prs, events int) {
	if os.Getenv("GITWARD_SOAK") == "full" {
		return 50, 1000
	}
	return 4, 40
}

// soakPR is what the soak believes about one pull request: the model its
// final checks are compared with.
type soakPR struct {
	number int
	author string
	branch string
	head   string
	n      int // commits pushed
	merged bool
	// latest is each reviewer's latest review: the state and the head it
	// was given on.
	latest map[string][2]string
}

// want is the change-control conclusion the policy gives the pull
// request's head: an approval on the head by someone other than the author,
// and no reviewer whose latest review requests changes.
func (p *soakPR) want() string {
	approved := false
	for user, r := range p.latest {
		switch {
		case r[0] == githubtest.RequestChanges:
			return "failure"
		case r[0] == githubtest.Approve && r[1] == p.head && user != p.author:
			approved = true
		}
	}
	if approved {
		return "success"
	}
	return "failure"
}

// TestSoak drives gitward with many pull requests and events while the
// double injects faults: 5xx answers, gateway timeouts (504) and
// secondary rate limits (429), lost and duplicated deliveries, a restart while work is in
// flight and two replicas taking deliveries at once. Once the faults stop
// and a resync pass has run, every open pull request's check must match
// the policy for its head and it has exactly one sticky comment (a merged
// one at most one), every merge exactly one ledger record, and the chain verifies.
func TestSoak(t *testing.T) {
	nPRs, nEvents := soakSize()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("GITWARD_SOAK_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("GITWARD_SOAK_SEED: %v", err)
		}
	}
	t.Logf("soak: %d pull requests, %d events, seed %d (replay with GITWARD_SOAK_SEED=%d)", nPRs, nEvents, seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	w := NewGitHubWorld(t, WorldOptions{Start: StartOptions{Workers: 4, QueueSize: 200}})
	// The soak packs hours of a team's events into minutes; GitHub's
	// hourly budget of 5,000 requests would run out long before, so the
	// budget is raised and the requests per event reported instead.
	w.GH.SetRateLimitRemaining(1 << 30)
	lat := newLatencies(w)
	defer lat.stop()

	// Deliveries are lost and duplicated at random, except merges: their
	// ledger record has no level-triggered repair yet.
	var faultMu sync.Mutex
	lose, dup := 0, 0
	w.GH.SetDeliveryFault(func(event, action string) int {
		faultMu.Lock()
		defer faultMu.Unlock()
		merge := action == "closed" || event == "push"
		switch x := rng.IntN(100); {
		case x < 5 && !merge:
			lose++
			return 0
		case x < 10:
			dup++
			return 2
		}
		return 1
	})
	roll := func(n int) int { faultMu.Lock(); defer faultMu.Unlock(); return rng.IntN(n) }

	reviewers := []string{"alice", "bob", "carol", "dave"}
	var prs []*soakPR
	open := func() []*soakPR {
		var out []*soakPR
		for _, p := range prs {
			if !p.merged {
				out = append(out, p)
			}
		}
		return out
	}
	start := time.Now()
	restartAt, replicaAt := nEvents/3, nEvents/2
	events := 0
drive:
	for events < nEvents {
		switch {
		case events == replicaAt:
			// A second replica joins; deliveries go to either.
			second := startGitward(t, w.GH, webhookSecret, w.startOp)
			w.Gitward = append(w.Gitward, second)
		case events == restartAt:
			// gitward restarts while it still has work: the old process
			// drains what it can and a new one takes the deliveries.
			old := w.Gitward[0]
			fresh := startGitward(t, w.GH, webhookSecret, w.startOp)
			w.Gitward = []*Gitward{fresh}
			w.Deliver(fresh)
			if err := old.Stop(); err != nil {
				t.Logf("soak: the restarted server stopped with: %v", err)
			}
		}
		if len(w.Gitward) > 1 {
			w.Deliver(w.Gitward[roll(len(w.Gitward))])
		}
		switch roll(40) {
		case 0:
			w.GH.FailNext("*", "/repos/{owner}/{repo}/pulls/{pull_number}", 502, 1)
		case 1:
			w.GH.FailNext("*", "/repos/{owner}/{repo}/check-runs", 504, 1)
		case 2:
			// GitHub's secondary rate limit answers 429.
			w.GH.FailNext("*", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", 429, 2)
		case 3:
			w.GH.FailNext("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", 500, 3)
		}
		live := open()
		x := roll(100)
		switch {
		case len(prs) < nPRs && (len(live) == 0 || x < 15):
			author := reviewers[roll(3)]
			p := &soakPR{author: author, branch: fmt.Sprintf("change-%d", len(prs)), latest: map[string][2]string{}}
			p.head = w.Push(author, p.branch, soakChange(p))
			lat.expect(p.head)
			p.number = w.Open(author, p.branch, "Change "+p.branch)
			prs = append(prs, p)
			events += 2
		case len(live) == 0:
			// Every pull request is opened and merged: nothing is left
			// to act on.
			break drive
		case x < 35:
			p := live[roll(len(live))]
			p.n++
			p.head = w.Push(p.author, p.branch, soakChange(p))
			lat.expect(p.head)
			events++
		case x < 70:
			p := live[roll(len(live))]
			user := reviewers[roll(len(reviewers))]
			state := githubtest.Approve
			if roll(6) == 0 {
				state = githubtest.RequestChanges
			}
			w.Review(user, p.number, state)
			p.latest[user] = [2]string{state, p.head}
			events++
		case x < 80:
			p := live[roll(len(live))]
			w.Comment(reviewers[roll(len(reviewers))], p.number, []string{"/recheck", "Looks plausible.", "/gitward help"}[roll(3)])
			events++
		default:
			p := live[roll(len(live))]
			if p.want() != "success" {
				continue
			}
			w.Merge("dave", p.number)
			p.merged = true
			events += 2
		}
	}
	w.GH.SetDeliveryFault(nil)
	w.Idle()
	driven := time.Since(start)
	// Level-triggered repair: one pass of each replica after the faults.
	for _, g := range w.Gitward {
		if _, err := g.Server.Resync().RunOnce(t.Context()); err != nil {
			t.Errorf("resync after the faults: %v", err)
		}
		w.Idle()
	}
	deliveries := w.GH.Deliveries()
	t.Logf("soak: %d API requests, %.1f per event", len(w.GH.Requests()), float64(len(w.GH.Requests()))/float64(events))
	p50, p99, measured := lat.percentiles()
	t.Logf("soak: %d events (%d deliveries, %d lost, %d duplicated) in %v: %.1f events/s; push-to-check latency p50 %v p99 %v over %d pushes",
		events, len(deliveries), lose, dup, driven.Round(time.Millisecond), float64(events)/driven.Seconds(), p50, p99, measured)

	merged := 0
	for _, p := range prs {
		// Resync repairs open pull requests only: a sticky comment a
		// fault kept from being written stays missing once merged.
		if n := len(w.Sticky(p.number)); n != 1 && !(p.merged && n == 0) {
			d := w.CheckOn(p.head, diffCheck)
			t.Errorf("#%d has %d sticky comments, want 1 (merged %v; %s on the head: %s/%s %q)", p.number, n, p.merged, diffCheck, d.Status, d.Conclusion, d.Title)
		}
		if p.merged {
			merged++
			continue
		}
		c := w.CheckOn(p.head, changeControl)
		if c.Status != "completed" || c.Conclusion != p.want() {
			t.Errorf("#%d head %.7s: %s is %s/%s %q, want %s (reviews %v)", p.number, p.head, changeControl, c.Status, c.Conclusion, c.Title, p.want(), p.latest)
		}
	}
	recs := w.Ledger()
	perPR := map[int]int{}
	for _, r := range recs {
		if r.PullRequest != nil {
			perPR[r.PullRequest.Number]++
		}
	}
	for _, p := range prs {
		want := 0
		if p.merged {
			want = 1
		}
		if perPR[p.number] != want {
			t.Errorf("#%d has %d ledger records, want %d", p.number, perPR[p.number], want)
		}
	}
	t.Logf("soak: %d merges, %d ledger records, chain verified", merged, len(recs))
}

// soakChange is the next commit of a soak pull request: an app of its own
// (so merges never conflict) whose ConfigMap changes with each commit.
func soakChange(p *soakPR) Change {
	dir := "apps/" + p.branch + "/"
	return Change{Message: fmt.Sprintf("%s commit %d", p.branch, p.n), Files: map[string]string{
		dir + "kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: soak\nresources:\n  - configmap.yaml\n",
		dir + "configmap.yaml":     fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  revision: \"%d\"\n", p.branch, p.n),
	}}
}

// latencies measures, for each pushed head, the wall time from the push
// to gitward's completed change-control check on it.
type latencies struct {
	w       *GitHubWorld
	mu      sync.Mutex
	pending map[string]time.Time
	seen    []time.Duration
	done    chan struct{}
	wg      sync.WaitGroup
}

func newLatencies(w *GitHubWorld) *latencies {
	l := &latencies{w: w, pending: map[string]time.Time{}, done: make(chan struct{})}
	l.wg.Add(1)
	go l.watch()
	return l
}

func (l *latencies) expect(sha string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending[sha] = time.Now()
}

func (l *latencies) watch() {
	defer l.wg.Done()
	for {
		select {
		case <-l.done:
			return
		case <-time.After(5 * time.Millisecond):
		}
		l.mu.Lock()
		shas := make([]string, 0, len(l.pending))
		for sha := range l.pending {
			shas = append(shas, sha)
		}
		l.mu.Unlock()
		for _, sha := range shas {
			if l.w.CheckOn(sha, changeControl).Status == "completed" {
				l.mu.Lock()
				l.seen = append(l.seen, time.Since(l.pending[sha]))
				delete(l.pending, sha)
				l.mu.Unlock()
			}
		}
	}
}

func (l *latencies) stop() { close(l.done); l.wg.Wait() }

// percentiles returns the p50 and p99 latencies and how many were measured.
func (l *latencies) percentiles() (p50, p99 time.Duration, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := slices.Clone(l.seen)
	if len(s) == 0 {
		return 0, 0, 0
	}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) time.Duration { return s[int(q*float64(len(s)-1))].Round(time.Millisecond) }
	return at(0.50), at(0.99), len(s)
}
