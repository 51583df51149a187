package audit_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/forge"
	ghforge "github.com/gitward/gitward/forge/github"
	"github.com/gitward/gitward/forge/github/githubtest"
)

const repoName = "acme/gitops"

func newForge(t *testing.T) (*ghforge.Forge, *githubtest.Server, forge.Repo) {
	t.Helper()
	gh := githubtest.New(t)
	gh.AddInstallation(7, "acme")
	gh.AddRepo(7, "acme", "gitops", "main")
	f := ghforge.New(gh.ClientCreator(t), ghforge.Options{AppID: githubtest.DefaultAppID})
	return f, gh, forge.Repo{Host: "github.com", Owner: "acme", Name: "gitops", InstallationID: 7, DefaultBranch: "main"}
}

func sha(n int) string { return fmt.Sprintf("%040x", n) }

// ledgerRecords reads the ledger branch back from the double: each record
// along the first-parent chain from the head, oldest first, checking that
// each commit has exactly one parent but the root.
func ledgerRecords(t *testing.T, gh *githubtest.Server) []audit.Record {
	t.Helper()
	head := gh.Ref(repoName, "heads/"+audit.DefaultBranch)
	if head == "" {
		t.Fatal("no ledger branch")
	}
	var out []audit.Record
	for sha := head; sha != ""; {
		c, ok := gh.GitCommit(repoName, sha)
		if !ok {
			t.Fatalf("ledger commit %s is missing", sha)
		}
		_, rest, _ := strings.Cut(c.Message, audit.TrailerRecord)
		path, _, _ := strings.Cut(rest, "\n")
		files := gh.Files(repoName, sha)
		rec, err := audit.Decode([]byte(strings.TrimSuffix(files[path], "\n")))
		if err != nil {
			t.Fatalf("record %s at %s: %v", path, sha[:7], err)
		}
		out = append([]audit.Record{rec}, out...)
		switch len(c.Parents) {
		case 0:
			sha = ""
		case 1:
			sha = c.Parents[0]
		default:
			t.Fatalf("ledger commit %s has %d parents", sha[:7], len(c.Parents))
		}
	}
	return out
}

// assertChain checks records are numbered from 1 and each links to the
// hash of the one before.
func assertChain(t *testing.T, gh *githubtest.Server, recs []audit.Record) {
	t.Helper()
	prev := ""
	for i, r := range recs {
		if r.Seq != i+1 || r.PrevHash != prev {
			t.Errorf("record %d: seq %d prev_hash %q, want seq %d prev_hash %q", i, r.Seq, r.PrevHash, i+1, prev)
		}
		data, err := audit.Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		prev = audit.Hash(data)
	}
	files := gh.Files(repoName, audit.DefaultBranch)
	if want := fmt.Sprintf(`"hash":%q`, prev); !strings.Contains(files[audit.LatestFile], want) {
		t.Errorf("%s = %s, want the last record's hash %s", audit.LatestFile, files[audit.LatestFile], prev)
	}
}

func TestAppendStartsTheLedgerWithARootCommitAndChainsRecords(t *testing.T) {
	ctx := context.Background()
	f, gh, repo := newForge(t)
	gh.SetTree(repoName, sha(1), map[string]string{"apps/web/kustomization.yaml": "resources: []\n"})
	gh.SetRef(repoName, "heads/main", sha(1))
	l := &audit.Ledger{Marks: &audit.Marks{}}

	first, err := l.Append(ctx, f, repo, mergeRec(17, sha(10)))
	if err != nil {
		t.Fatal(err)
	}
	root, _ := gh.GitCommit(repoName, first.Commit)
	if len(root.Parents) != 0 {
		t.Errorf("the first ledger commit has parents %v; it must be a root commit", root.Parents)
	}
	if files := gh.Files(repoName, audit.DefaultBranch); len(files) != 3 || files["apps/web/kustomization.yaml"] != "" {
		t.Errorf("the ledger holds %v; it must hold only the ledger's files", keys(files))
	}
	second, err := l.Append(ctx, f, repo, unreviewedRec(sha(11)))
	if err != nil {
		t.Fatal(err)
	}
	if second.Seq != 2 || second.Path != "records/000002-push-"+sha(11)[:12]+".json" {
		t.Errorf("second entry = %+v", second)
	}
	recs := ledgerRecords(t, gh)
	assertChain(t, gh, recs)
	if gh.Ref(repoName, "heads/main") != sha(1) {
		t.Error("appending moved main")
	}
	if n := gh.Calls("git/update-ref"); n != 1 {
		t.Errorf("git/update-ref called %d times, want 1 (the first append creates the branch)", n)
	}
}

func TestAppendRecordsASubjectOnce(t *testing.T) {
	ctx := context.Background()
	f, gh, repo := newForge(t)
	l := &audit.Ledger{}
	first, err := l.Append(ctx, f, repo, mergeRec(17, sha(10)))
	if err != nil {
		t.Fatal(err)
	}
	again, err := l.Append(ctx, f, repo, mergeRec(17, sha(10)))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Existing || again.Seq != first.Seq || again.Hash != first.Hash {
		t.Errorf("a redelivered merge gave %+v, want the existing %+v", again, first)
	}
	if n := len(ledgerRecords(t, gh)); n != 1 {
		t.Errorf("%d records, want 1", n)
	}
}

func TestAppendScrubsCredentials(t *testing.T) {
	ctx := context.Background()
	f, gh, repo := newForge(t)
	rec := mergeRec(17, sha(10))
	rec.PullRequest.Title = "Rotate token ghp_" + strings.Repeat("a", 36)
	rec.Checks = []audit.Check{{Name: audit.CheckDiff, Conclusion: "success", Summary: "password: hunter22 in the old render"}}
	if _, err := (&audit.Ledger{}).Append(ctx, f, repo, rec); err != nil {
		t.Fatal(err)
	}
	for path, content := range gh.Files(repoName, audit.DefaultBranch) {
		if strings.Contains(content, "ghp_aaaa") || strings.Contains(content, "hunter22") {
			t.Errorf("%s holds a credential: %s", path, content)
		}
	}
}

// racingForge holds every goroutine's first read of the ledger head until
// all of them have read it, so every writer starts from the same head and
// all but one must lose the compare-and-swap.
type racingForge struct {
	forge.Forge
	barrier sync.WaitGroup
	mu      sync.Mutex
	waited  map[int]bool
}

type writerKey struct{}

func (r *racingForge) BranchHead(ctx context.Context, repo forge.Repo, branch string) (string, error) {
	head, err := r.Forge.BranchHead(ctx, repo, branch)
	id := ctx.Value(writerKey{}).(int)
	r.mu.Lock()
	first := !r.waited[id]
	r.waited[id] = true
	r.mu.Unlock()
	if first {
		r.barrier.Done()
		r.barrier.Wait()
	}
	return head, err
}

func TestConcurrentAppendsFormOneLinearChain(t *testing.T) {
	for _, existing := range []int{0, 1} {
		t.Run(fmt.Sprintf("with %d records before", existing), func(t *testing.T) {
			f, gh, repo := newForge(t)
			ctx := context.Background()
			for i := 0; i < existing; i++ {
				if _, err := (&audit.Ledger{}).Append(ctx, f, repo, mergeRec(1+i, sha(100+i))); err != nil {
					t.Fatal(err)
				}
			}
			const writers = 2
			rf := &racingForge{Forge: f, waited: map[int]bool{}}
			rf.barrier.Add(writers)
			l := &audit.Ledger{Backoff: 20 * time.Millisecond, Marks: &audit.Marks{}}
			var wg sync.WaitGroup
			errs := make([]error, writers)
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[w] = l.Append(context.WithValue(ctx, writerKey{}, w), rf, repo, mergeRec(50+w, sha(200+w)))
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			recs := ledgerRecords(t, gh)
			if len(recs) != existing+writers {
				t.Fatalf("%d records, want %d", len(recs), existing+writers)
			}
			assertChain(t, gh, recs)
			var prs []int
			for _, r := range recs[existing:] {
				prs = append(prs, r.PullRequest.Number)
			}
			if !reflect.DeepEqual(prs, []int{50, 51}) && !reflect.DeepEqual(prs, []int{51, 50}) {
				t.Errorf("recorded pull requests %v, want both 50 and 51", prs)
			}
			if existing == 0 && gh.Calls("git/create-ref") != writers {
				t.Errorf("both writers should have tried to start the branch; create-ref called %d times", gh.Calls("git/create-ref"))
			}
			// The loser either loses the compare-and-swap or, when the
			// winner's append is already noted, reads the head again first.
			if existing == 1 && gh.Calls("git/update-ref") < writers {
				t.Errorf("update-ref called %d times, want at least one per writer", gh.Calls("git/update-ref"))
			}
		})
	}
}

func TestAppendRefusesALedgerMovedBackwards(t *testing.T) {
	ctx := context.Background()
	f, gh, repo := newForge(t)
	l := &audit.Ledger{Backoff: time.Millisecond, Marks: &audit.Marks{}}
	first, err := l.Append(ctx, f, repo, mergeRec(1, sha(1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, f, repo, mergeRec(2, sha(2))); err != nil {
		t.Fatal(err)
	}
	// Someone force-moves the branch back to the first record.
	gh.SetRef(repoName, "heads/"+audit.DefaultBranch, first.Commit)
	_, err = l.Append(ctx, f, repo, mergeRec(3, sha(3)))
	if !errors.Is(err, audit.ErrRewound) {
		t.Fatalf("err = %v, want ErrRewound", err)
	}
	if !strings.Contains(err.Error(), "it held record 000002") || !strings.Contains(err.Error(), "still holds the earlier record 000001") {
		t.Errorf("err = %v; want it to name both records", err)
	}
	if got := gh.Ref(repoName, "heads/"+audit.DefaultBranch); got != first.Commit {
		t.Errorf("the branch was written to after the rewind")
	}
	// Deleting the branch is moving it backwards too.
	l2 := &audit.Ledger{Attempts: 3, Backoff: time.Millisecond, Marks: &audit.Marks{}}
	f2, gh2, repo2 := newForge(t)
	if _, err := l2.Append(ctx, f2, repo2, mergeRec(1, sha(1))); err != nil {
		t.Fatal(err)
	}
	gh2.FailNext("GET", "/repos/{owner}/{repo}/git/ref/{ref}", 404, 3)
	if _, err := l2.Append(ctx, f2, repo2, mergeRec(2, sha(2))); !errors.Is(err, audit.ErrRewound) {
		t.Errorf("a vanished branch: err = %v, want ErrRewound", err)
	}
}

// laggingForge answers the first reads of the ledger head from before
// the last append, as a lagging replica or cache of the forge would.
type laggingForge struct {
	forge.Forge
	mu    sync.Mutex
	old   string // the head to answer with; "" answers that the branch does not exist
	reads int    // how many reads still lag
}

func (l *laggingForge) BranchHead(ctx context.Context, repo forge.Repo, branch string) (string, error) {
	l.mu.Lock()
	lag := l.reads > 0
	l.reads--
	l.mu.Unlock()
	switch {
	case lag && l.old == "":
		return "", fmt.Errorf("lagging read: %w", forge.ErrNotFound)
	case lag:
		return l.old, nil
	}
	return l.Forge.BranchHead(ctx, repo, branch)
}

func TestAppendReadsAStaleHeadAgain(t *testing.T) {
	for _, existing := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d records seen", existing), func(t *testing.T) {
			ctx := context.Background()
			f, gh, repo := newForge(t)
			l := &audit.Ledger{Backoff: time.Millisecond, Marks: &audit.Marks{}}
			old := ""
			for i := 0; i < existing; i++ {
				if i == existing-1 {
					old = gh.Ref(repoName, "heads/"+audit.DefaultBranch)
				}
				if _, err := l.Append(ctx, f, repo, mergeRec(1+i, sha(1+i))); err != nil {
					t.Fatal(err)
				}
			}
			// The next two reads of the head answer from before the last
			// append (with one record seen: from before the branch existed).
			lf := &laggingForge{Forge: f, old: old, reads: 2}
			entry, err := l.Append(ctx, lf, repo, mergeRec(9, sha(9)))
			if err != nil {
				t.Fatalf("a stale read of the ledger head stopped the append: %v", err)
			}
			if entry.Seq != existing+1 {
				t.Errorf("appended record %d, want %d", entry.Seq, existing+1)
			}
			recs := ledgerRecords(t, gh)
			if len(recs) != existing+1 {
				t.Fatalf("%d records, want %d", len(recs), existing+1)
			}
			assertChain(t, gh, recs)
		})
	}
}

func TestAppendRefusesAHeadThatDoesNotDescendFromTheOneSeen(t *testing.T) {
	ctx := context.Background()
	f, gh, repo := newForge(t)
	l := &audit.Ledger{Backoff: time.Millisecond, Marks: &audit.Marks{}}
	first, err := l.Append(ctx, f, repo, mergeRec(1, sha(1)))
	if err != nil {
		t.Fatal(err)
	}
	second, err := l.Append(ctx, f, repo, mergeRec(2, sha(2)))
	if err != nil {
		t.Fatal(err)
	}
	// Someone resets the branch to the first record and writes two other
	// records on it: the head is further along, on another history.
	gh.SetRef(repoName, "heads/"+audit.DefaultBranch, first.Commit)
	for i := 0; i < 2; i++ {
		if _, err := (&audit.Ledger{}).Append(ctx, f, repo, mergeRec(20+i, sha(20+i))); err != nil {
			t.Fatal(err)
		}
	}
	rewritten := gh.Ref(repoName, "heads/"+audit.DefaultBranch)
	_, err = l.Append(ctx, f, repo, mergeRec(3, sha(3)))
	if !errors.Is(err, audit.ErrRewound) {
		t.Fatalf("err = %v, want ErrRewound", err)
	}
	want := fmt.Sprintf("held record 000002 at commit %s and now holds record 000003 at commit %s, which does not descend from it", second.Commit[:7], rewritten[:7])
	if !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v\nwant it to say %q", err, want)
	}
	if got := gh.Ref(repoName, "heads/"+audit.DefaultBranch); got != rewritten {
		t.Errorf("the branch was written to after it was rewritten")
	}
}

// forkingForge writes ledger commits on a parent other than the head it
// is given, as a broken adapter would.
type forkingForge struct {
	forge.Forge
	parent string
}

func (f *forkingForge) CommitToBranch(ctx context.Context, repo forge.Repo, bc forge.BranchCommit) (string, error) {
	bc.ExpectedHead = ""
	bc.Parent = f.parent
	bc.Branch += "-fork"
	return f.Forge.CommitToBranch(ctx, repo, bc)
}

func TestAppendChecksTheNewCommitSitsOnTheHeadItRead(t *testing.T) {
	ctx := context.Background()
	f, gh, repo := newForge(t)
	gh.SetRef(repoName, "heads/main", sha(1))
	if _, err := (&audit.Ledger{}).Append(ctx, f, repo, mergeRec(1, sha(1))); err != nil {
		t.Fatal(err)
	}
	_, err := (&audit.Ledger{}).Append(ctx, &forkingForge{Forge: f, parent: sha(1)}, repo, mergeRec(2, sha(2)))
	if !errors.Is(err, audit.ErrCorrupt) || !strings.Contains(err.Error(), "not the head") {
		t.Fatalf("err = %v, want ErrCorrupt naming the head", err)
	}
}

func TestAppendGivesUpAfterBoundedAttempts(t *testing.T) {
	ctx := context.Background()
	f, gh, repo := newForge(t)
	if _, err := (&audit.Ledger{}).Append(ctx, f, repo, mergeRec(1, sha(1))); err != nil {
		t.Fatal(err)
	}
	gh.FailNext("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}", 422, 3)
	_, err := (&audit.Ledger{Attempts: 3, Backoff: time.Millisecond}).Append(ctx, f, repo, mergeRec(2, sha(2)))
	if !errors.Is(err, audit.ErrContended) {
		t.Fatalf("err = %v, want ErrContended", err)
	}
	if n := gh.Calls("git/update-ref"); n != 3 {
		t.Errorf("update-ref called %d times, want 3", n)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
