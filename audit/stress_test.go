package audit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/audit/audittest"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/github/githubtest"
)

// laggyForge answers some reads of the ledger head with an earlier head,
// as a lagging replica or cache of the forge would: one of the last few
// heads it answered, or that the branch does not exist before it did.
type laggyForge struct {
	forge.Forge
	mu    sync.Mutex
	rng   *rand.Rand
	heads []string // heads answered so far, oldest first; "" is no branch
}

func (l *laggyForge) BranchHead(ctx context.Context, repo forge.Repo, branch string) (string, error) {
	head, err := l.Forge.BranchHead(ctx, repo, branch)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && (len(l.heads) == 0 || l.heads[len(l.heads)-1] != head) {
		l.heads = append(l.heads, head)
	}
	if len(l.heads) < 2 || l.rng.IntN(4) != 0 {
		return head, err
	}
	old := l.heads[max(0, len(l.heads)-1-l.rng.IntN(3)-1)]
	if old == "" {
		return "", fmt.Errorf("lagging read: %w", forge.ErrNotFound)
	}
	return old, nil
}

// TestManyWritersFormOneLinearChainWithOneRecordPerMerge races eight
// writers in two processes over rounds of merges, each merge appended by
// two of them (a webhook and a resync, or two replicas), while a quarter
// of the head reads lag behind. The ledger must end as one linear chain
// with exactly one record per merge that gitward audit verify accepts.
func TestManyWritersFormOneLinearChainWithOneRecordPerMerge(t *testing.T) {
	const writers, rounds = 8, 3
	f, gh, repo := newForge(t)
	lf := &laggyForge{Forge: f, rng: rand.New(rand.NewPCG(1, 2)), heads: []string{""}}
	processes := []*audit.Marks{{}, {}}
	ctx := context.Background()
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		errs := make(chan error, 2*writers)
		for w := 0; w < writers; w++ {
			l := &audit.Ledger{Attempts: 100, Backoff: 2 * time.Millisecond, Marks: processes[w%2]}
			mine, next := round*writers+w+1, round*writers+(w+1)%writers+1
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, pr := range []int{mine, next} {
					if _, err := l.Append(ctx, lf, repo, mergeRec(pr, sha(1000+pr))); err != nil {
						errs <- fmt.Errorf("round %d, PR %d: %w", round, pr, err)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	recs := ledgerRecords(t, gh)
	assertChain(t, gh, recs)
	seen := map[int]int{}
	for _, r := range recs {
		seen[r.PullRequest.Number]++
	}
	for pr := 1; pr <= writers*rounds; pr++ {
		if seen[pr] != 1 {
			t.Errorf("PR %d has %d records, want 1", pr, seen[pr])
		}
	}
	if len(recs) != writers*rounds {
		t.Errorf("%d records, want %d", len(recs), writers*rounds)
	}
	verifyClone(t, gh)
}

// verifyClone copies the double's ledger commit by commit into a real git
// repository and runs gitward audit verify's checks on it.
func verifyClone(t *testing.T, gh *githubtest.Server) {
	t.Helper()
	var chain []string
	for sha := gh.Ref(repoName, "heads/"+audit.DefaultBranch); sha != ""; {
		chain = append([]string{sha}, chain...)
		c, _ := gh.GitCommit(repoName, sha)
		sha = ""
		if len(c.Parents) == 1 {
			sha = c.Parents[0]
		}
	}
	var changes []audittest.Change
	before := map[string]string{}
	for _, sha := range chain {
		c, _ := gh.GitCommit(repoName, sha)
		files := gh.Files(repoName, sha)
		ch := audittest.Change{Message: c.Message, Files: map[string][]byte{}}
		for p, content := range files {
			if before[p] != content {
				ch.Files[p] = []byte(content)
			}
		}
		for p := range before {
			if _, ok := files[p]; !ok {
				ch.Files[p] = nil
			}
		}
		changes = append(changes, ch)
		before = files
	}
	r := audittest.New(t)
	main := r.Commit("before gitward")
	r.WriteLedger(audit.DefaultBranch, changes)
	rep, err := audit.Clone{Dir: r.Dir}.Verify(context.Background(), audit.VerifyOptions{Branch: "main", Since: main})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Intact() || len(rep.Records) != len(chain) {
		var all []string
		for _, f := range rep.All() {
			all = append(all, string(f))
		}
		t.Errorf("audit verify read %d of %d records and found:\n  %s", len(rep.Records), len(chain), strings.Join(all, "\n  "))
	}
}
