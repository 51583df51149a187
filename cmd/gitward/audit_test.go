package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/audit/audittest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// knownHistory is a repository whose main branch holds a commit from
// before gitward, two merges, a direct push and a merge by breaking glass
// in June, and a merge in July, with a ledger recording all of them.
func knownHistory(t *testing.T) (*audittest.Repo, []audit.Staged) {
	t.Helper()
	r := audittest.New(t)
	r.Commit("initial, before gitward")
	day := func(d, h int) time.Time { return time.Date(2025, 6, d, h, 0, 0, 0, time.UTC) }
	alice := audit.Person{Name: "Alice", Email: "alice@example.com", Login: "alice", Date: day(2, 9)}
	merge := func(pr int, title string, at time.Time) audit.Record {
		sha := r.Commit(title)
		return audit.Record{
			Kind: audit.KindMerge, RecordedAt: at.Add(time.Minute), GitwardVersion: "v1.0.0",
			Repository: "github.com/acme/gitops", Branch: "main", Covers: []string{sha},
			PullRequest: &audit.PullRequest{
				Number: pr, Title: title, URL: "https://github.com/acme/gitops/pull/" + itoa(pr), Author: "alice",
				BaseRef: "main", BaseSHA: strings.Repeat("b", 40), HeadSHA: strings.Repeat("c", 40), MergeSHA: sha, MergedAt: at, MergedBy: "carol",
			},
			Commits: []audit.Commit{{SHA: strings.Repeat("c", 40), Subject: title, Author: alice, Committer: alice,
				Signature: audit.Signature{Signed: true, Verified: true, Signer: "alice@example.com"}}},
			Approvals: []audit.Approval{{User: "bob", Via: "review", ID: 9000 + int64(pr), SHA: strings.Repeat("c", 40), At: at.Add(-time.Hour)}},
			ChangeControl: &audit.ChangeControl{Conclusion: "success", Title: "1 of 1 approvals; commits signed",
				SeparationOfDuties: audit.Rule{Name: "separation of duties", OK: true, Reason: "no approver authored or committed a commit"}},
			Checks:    []audit.Check{{Name: "gitward/diff", Conclusion: "success"}, {Name: "gitward/drift", Conclusion: "neutral"}, {Name: "gitward/change-control", Conclusion: "success"}},
			Manifests: &audit.Manifests{SHA: sha, Apps: []audit.RenderedApp{{Name: "web", Path: "apps/web", Digest: audit.Digest([]byte(title))}}},
		}
	}
	var recs []audit.Record
	recs = append(recs, merge(17, "Scale web to 3", day(3, 10)))
	recs = append(recs, merge(18, "Add the api | gateway", day(5, 14)))
	hotfix := r.Commit("hotfix straight to main")
	recs = append(recs, audit.Record{
		Kind: audit.KindUnreviewed, RecordedAt: day(9, 22), GitwardVersion: "v1.0.0",
		Repository: "github.com/acme/gitops", Branch: "main", Covers: []string{hotfix},
		Push:    &audit.Push{Ref: "refs/heads/main", Before: recs[1].PullRequest.MergeSHA, After: hotfix, Pusher: "root", PusherName: "root", PusherEmail: "root@example.com"},
		Commits: []audit.Commit{{SHA: hotfix, Subject: "hotfix straight to main", Author: audit.Person{Name: "Root", Email: "root@example.com", Login: "root"}}},
	})
	bg := merge(19, "Roll back the database migration", day(20, 3))
	bg.Approvals = nil
	bg.Commits[0].Signature = audit.Signature{Signed: true, Reason: "unknown_key"}
	bg.ChangeControl = &audit.ChangeControl{Conclusion: "success", Title: "Break-glass by @oncall: database is down",
		SeparationOfDuties: audit.Rule{Name: "separation of duties", OK: true, Reason: "no approvals to check"},
		Rules:              []audit.Rule{{Name: "approvals", Reason: "0 of 1 approvals"}}}
	bg.BreakGlass = &audit.BreakGlass{User: "oncall", Reason: "database is down", CommentID: 4242, At: day(20, 2), Decisive: true}
	recs = append(recs, bg)
	recs = append(recs, merge(20, "July change", time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC)))
	staged, err := audit.Chain(recs)
	if err != nil {
		t.Fatal(err)
	}
	r.WriteLedger(audit.DefaultBranch, audittest.Staged(staged))
	return r, staged
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "audit", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/gitward -run TestAuditExport -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test ./cmd/gitward -run TestAuditExport -update and review the diff.\n--- got ---\n%s", path, got)
	}
}

func TestAuditExportMatchesTheGoldenFiles(t *testing.T) {
	r, _ := knownHistory(t)
	for _, format := range []string{"csv", "json", "markdown"} {
		t.Run(format, func(t *testing.T) {
			res := gitward(t, nil, "audit", "export", "--repo", r.Dir, "--since", "2025-06-01", "--until", "2025-06-30", "--format", format)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			ext := map[string]string{"csv": "csv", "json": "json", "markdown": "md"}[format]
			golden(t, "export."+ext, []byte(res.stdout))
			if strings.Contains(res.stdout, "July change") {
				t.Error("a change after --until was exported")
			}
		})
	}
}

func TestAuditExportRefusesALedgerThatDoesNotVerify(t *testing.T) {
	r, staged := knownHistory(t)
	changes := audittest.Staged(staged)
	r.WriteLedger(audit.DefaultBranch, append(changes[:1:1], changes[2:]...))
	res := gitward(t, nil, "audit", "export", "--repo", r.Dir, "--since", "2025-06-01", "--format", "csv")
	if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, "record 000002 was removed") || !strings.Contains(res.stderr, "no evidence was exported") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
}

func TestAuditVerify(t *testing.T) {
	t.Run("an intact ledger exits 0", func(t *testing.T) {
		r, staged := knownHistory(t)
		res := gitward(t, nil, "audit", "verify", "--repo", r.Dir, "--default-branch", "main")
		if res.code != 0 {
			t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
		}
		want := "ledger gitward/audit: 5 records, hash chain intact; tip record 000005 (PR #20), " + staged[4].Hash + "\n" +
			"main: 5 first-parent commits since the first commit a record covers, each covered by a record\n"
		if res.stdout != want {
			t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, want)
		}
	})
	t.Run("a broken link exits 1 and names the records", func(t *testing.T) {
		r, staged := knownHistory(t)
		changes := audittest.Staged(staged)
		changes[1].Files[staged[1].Path] = bytes.Replace(staged[1].Files[0].Content, []byte(`"user":"bob"`), []byte(`"user":"eve"`), 1)
		r.WriteLedger(audit.DefaultBranch, changes)
		res := gitward(t, nil, "audit", "verify", "--repo", r.Dir, "--default-branch", "main")
		if res.code != 1 {
			t.Fatalf("exit %d, want 1\n%s%s", res.code, res.stdout, res.stderr)
		}
		for _, want := range []string{
			"record 000002 (PR #18) was changed after it was written",
			"record 000003 (unreviewed push " + staged[2].Record.Push.After[:7] + "): prev_hash does not match record 000002\n",
		} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
			}
		}
		if !strings.Contains(res.stderr, "problems in the ledger gitward/audit and the coverage of main") {
			t.Errorf("stderr: %s", res.stderr)
		}
	})
	t.Run("a ledger that does not end at the tip kept elsewhere exits 1", func(t *testing.T) {
		r, staged := knownHistory(t)
		ok := gitward(t, nil, "audit", "verify", "--repo", r.Dir, "--default-branch", "main", "--expect-tip", staged[4].Hash)
		if ok.code != 0 {
			t.Fatalf("the right tip: exit %d\n%s%s", ok.code, ok.stdout, ok.stderr)
		}
		res := gitward(t, nil, "audit", "verify", "--repo", r.Dir, "--default-branch", "main", "--expect-tip", staged[3].Hash)
		if res.code != 1 || !strings.Contains(res.stdout, "not the expected "+staged[3].Hash) {
			t.Errorf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
		}
	})
	t.Run("an uncovered commit exits 1", func(t *testing.T) {
		r, _ := knownHistory(t)
		sha := r.Commit("pushed while gitward was down")
		res := gitward(t, nil, "audit", "verify", "--repo", r.Dir, "--default-branch", "main")
		if res.code != 1 || res.stdout != "commit "+sha[:7]+" on main is covered by no record\n" {
			t.Errorf("exit %d\nstdout:\n%s", res.code, res.stdout)
		}
	})
	t.Run("a clone without the ledger exits 2", func(t *testing.T) {
		r := audittest.New(t)
		r.Commit("x")
		res := gitward(t, nil, "audit", "verify", "--repo", r.Dir)
		if res.code != 2 || !strings.Contains(res.stderr, "no such branch gitward/audit") || !strings.Contains(res.stderr, "git fetch origin gitward/audit:gitward/audit") {
			t.Errorf("exit %d\nstderr:\n%s", res.code, res.stderr)
		}
	})
	t.Run("a directory that is no repository exits 2", func(t *testing.T) {
		res := gitward(t, nil, "audit", "verify", "--repo", t.TempDir())
		if res.code != 2 {
			t.Errorf("exit %d\nstderr:\n%s", res.code, res.stderr)
		}
	})
}
