package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/audit/audittest"
)

// history is a repository whose main branch has an initial commit from
// before gitward, then four merges and one direct push, and a faithful
// ledger recording them.
type history struct {
	repo    *audittest.Repo
	main    []string // first-parent commits of main, oldest first
	records []audit.Record
	staged  []audit.Staged
}

var recorded = time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)

func mergeRec(pr int, mergeSHA string) audit.Record {
	return audit.Record{
		Kind: audit.KindMerge, RecordedAt: recorded.Add(time.Duration(pr) * time.Hour), GitwardVersion: "v1.0.0",
		Repository: "github.com/acme/gitops", Branch: "main", Covers: []string{mergeSHA},
		PullRequest: &audit.PullRequest{
			Number: pr, Title: fmt.Sprintf("Change %d", pr), URL: fmt.Sprintf("https://github.com/acme/gitops/pull/%d", pr),
			Author: "alice", BaseRef: "main", MergeSHA: mergeSHA, MergedAt: recorded.Add(time.Duration(pr) * time.Hour), MergedBy: "carol",
		},
		Approvals:     []audit.Approval{{User: "bob", Via: "review", ID: int64(pr), SHA: mergeSHA, At: recorded}},
		ChangeControl: &audit.ChangeControl{Conclusion: "success", SeparationOfDuties: audit.Rule{Name: "separation of duties", OK: true, Reason: "no approver wrote a commit"}},
	}
}

func unreviewedRec(sha string) audit.Record {
	return audit.Record{
		Kind: audit.KindUnreviewed, RecordedAt: recorded.Add(30 * time.Minute), GitwardVersion: "v1.0.0",
		Repository: "github.com/acme/gitops", Branch: "main", Covers: []string{sha},
		Push:    &audit.Push{Ref: "refs/heads/main", Before: strings.Repeat("0", 40), After: sha, Pusher: "root"},
		Commits: []audit.Commit{{SHA: sha, Subject: "hotfix", Author: audit.Person{Login: "root"}}},
	}
}

func newHistory(t *testing.T) *history {
	t.Helper()
	h := &history{repo: audittest.New(t)}
	h.main = append(h.main, h.repo.Commit("initial, before gitward"))
	for _, pr := range []int{17, 18, 0, 19, 20} {
		if pr == 0 {
			sha := h.repo.Commit("direct push")
			h.main = append(h.main, sha)
			h.records = append(h.records, unreviewedRec(sha))
			continue
		}
		sha := h.repo.Commit(fmt.Sprintf("Merge pull request #%d", pr))
		h.main = append(h.main, sha)
		h.records = append(h.records, mergeRec(pr, sha))
	}
	var err error
	if h.staged, err = audit.Chain(h.records); err != nil {
		t.Fatal(err)
	}
	h.repo.WriteLedger(audit.DefaultBranch, audittest.Staged(h.staged))
	return h
}

// verify runs the whole verification on the clone.
func verify(t *testing.T, r *audittest.Repo, since string) []string {
	t.Helper()
	rep, err := audit.Clone{Dir: r.Dir}.Verify(context.Background(), audit.VerifyOptions{Branch: "main", Since: since})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range rep.All() {
		out = append(out, string(f))
	}
	return out
}

func assertFindings(t *testing.T, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, g := range got {
			if strings.Contains(g, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("no finding says %q; findings:\n  %s", w, strings.Join(got, "\n  "))
		}
	}
}

func TestVerifyAnIntactLedger(t *testing.T) {
	h := newHistory(t)
	if got := verify(t, h.repo, ""); len(got) != 0 {
		t.Fatalf("an intact ledger has findings:\n  %s", strings.Join(got, "\n  "))
	}
	rep, err := audit.Clone{Dir: h.repo.Dir}.Verify(context.Background(), audit.VerifyOptions{Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Records) != 5 || rep.Commits != 5 || rep.Tip().Hash != h.staged[4].Hash {
		t.Errorf("records %d, commits checked %d (want 5 and 5: from the first recorded commit on)", len(rep.Records), rep.Commits)
	}
}

func TestVerifyFindsEachTamperCase(t *testing.T) {
	short := func(sha string) string { return sha[:7] }
	tests := []struct {
		name   string
		tamper func(t *testing.T, h *history) []string // returns the findings expected
	}{
		{"a record edited by a later commit", func(t *testing.T, h *history) []string {
			st := h.staged[1]
			edited := bytes.Replace(st.Files[0].Content, []byte(`"user":"bob"`), []byte(`"user":"mallory"`), 1)
			sha := h.repo.AppendLedger(audit.DefaultBranch, audittest.Change{Message: "fix typo", Files: map[string][]byte{st.Path: edited}})
			return []string{
				"ledger commit " + short(sha) + " changes record 000002 (PR #18) after it was written",
				"ledger commit " + short(sha) + " adds no record",
			}
		}},
		{"a record edited by rewriting history", func(t *testing.T, h *history) []string {
			changes := audittest.Staged(h.staged)
			st := h.staged[1]
			changes[1].Files[st.Path] = bytes.Replace(st.Files[0].Content, []byte(`"user":"bob"`), []byte(`"user":"mallory"`), 1)
			h.repo.WriteLedger(audit.DefaultBranch, changes)
			return []string{
				"record 000002 (PR #18) was changed after it was written: it does not hash to the " + st.Hash,
				"record 000003 (unreviewed push " + short(h.main[3]) + "): prev_hash does not match record 000002",
			}
		}},
		{"a record whose JSON was reformatted", func(t *testing.T, h *history) []string {
			changes := audittest.Staged(h.staged)
			st := h.staged[0]
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, st.Files[0].Content, "", "  "); err != nil {
				t.Fatal(err)
			}
			changes[0].Files[st.Path] = pretty.Bytes()
			h.repo.WriteLedger(audit.DefaultBranch, changes)
			return []string{"record 000001 (PR #17) was edited: records/000001-pr-17.json is not in the canonical form gitward writes"}
		}},
		{"a record with a field the schema does not know", func(t *testing.T, h *history) []string {
			changes := audittest.Staged(h.staged)
			st := h.staged[3]
			changes[3].Files[st.Path] = bytes.Replace(st.Files[0].Content, []byte(`{"approvals"`), []byte(`{"approved_by_cto":true,"approvals"`), 1)
			h.repo.WriteLedger(audit.DefaultBranch, changes)
			return []string{`records/000004-pr-19.json (added by ledger commit`, `is not a valid gitward.dev/audit/v1 record: json: unknown field "approved_by_cto"`}
		}},
		{"a removed record", func(t *testing.T, h *history) []string {
			changes := audittest.Staged(h.staged)
			h.repo.WriteLedger(audit.DefaultBranch, append(changes[:2:2], changes[3:]...))
			return []string{
				"record 000003 was removed: 000004 links to a record that is not in the ledger",
				"commit " + short(h.main[3]) + " on main is covered by no record",
			}
		}},
		{"two records swapped", func(t *testing.T, h *history) []string {
			changes := audittest.Staged(h.staged)
			changes[3], changes[4] = changes[4], changes[3]
			h.repo.WriteLedger(audit.DefaultBranch, changes)
			return []string{"records were reordered: record 000005 (PR #20) comes before record 000004 (PR #19) in the ledger"}
		}},
		{"a forged prev_hash, re-hashed by the forger", func(t *testing.T, h *history) []string {
			forged := h.staged[2].Record
			forged.PrevHash = audit.Hash([]byte("a record that never was"))
			st, err := audit.Stage(forged)
			if err != nil {
				t.Fatal(err)
			}
			staged := append([]audit.Staged(nil), h.staged...)
			staged[2] = st
			h.repo.WriteLedger(audit.DefaultBranch, audittest.Staged(staged))
			return []string{
				"record 000003 (unreviewed push " + short(h.main[3]) + "): prev_hash does not match record 000002",
				"record 000004 (PR #19): prev_hash does not match record 000003",
			}
		}},
		{"a commit on main that no record covers", func(t *testing.T, h *history) []string {
			sha := h.repo.Commit("pushed while gitward was down")
			return []string{"commit " + short(sha) + " on main is covered by no record"}
		}},
		{"a ledger that is not linear", func(t *testing.T, h *history) []string {
			head := h.repo.Git("rev-parse", audit.DefaultBranch)
			side := h.repo.Git("commit-tree", head+"^{tree}", "-p", head+"~1", "-m", "side")
			merge := h.repo.Git("commit-tree", head+"^{tree}", "-p", head, "-p", side, "-m", "merge")
			h.repo.Git("update-ref", "refs/heads/"+audit.DefaultBranch, merge)
			return []string{"ledger commit " + short(merge) + " has 2 parents: the ledger must be one linear chain"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHistory(t)
			want := tc.tamper(t, h)
			assertFindings(t, verify(t, h.repo, ""), want...)
		})
	}
}

func TestVerifySince(t *testing.T) {
	h := newHistory(t)
	uncovered := h.repo.Commit("unrecorded")
	h.repo.Commit("also unrecorded")
	got := verify(t, h.repo, uncovered)
	if len(got) != 1 || !strings.Contains(got[0], "covered by no record") || strings.Contains(got[0], uncovered[:7]) {
		t.Errorf("--since %s: findings %v, want only the commit after it", uncovered[:7], got)
	}
	// From the start, the commit made before gitward recorded anything
	// is gitward's to account for too.
	rep, err := audit.Clone{Dir: h.repo.Dir}.Verify(context.Background(), audit.VerifyOptions{Branch: "main", Since: h.main[0]})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Coverage) != 2 {
		t.Errorf("coverage findings since the initial commit = %v", rep.Coverage)
	}
}

func TestVerifyWithoutALedgerIsAnError(t *testing.T) {
	r := audittest.New(t)
	r.Commit("x")
	_, err := audit.Clone{Dir: r.Dir}.Verify(context.Background(), audit.VerifyOptions{Branch: "main"})
	if err == nil || !strings.Contains(err.Error(), "no such branch gitward/audit") {
		t.Fatalf("err = %v", err)
	}
}
