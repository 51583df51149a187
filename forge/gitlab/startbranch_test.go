package gitlab_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/gitlab"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
	"github.com/gitward/gitward/forge/snapshot"
)

func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH")
	}
}

var ledgerFiles = []forge.FileChange{
	{Path: "index.json", Content: []byte("{\"records\":[]}\n")},
	{Path: "records/2026/x.json", Content: []byte("{\"x\":1}")},
	{Path: "records/2026/bin", Content: []byte{0, 0xff, '\r', '\n', 0x80}},
	{Path: "records/empty", Content: []byte{}},
}

func TestStartBranchWritesARootCommit(t *testing.T) {
	needGit(t)
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	sha, err := fx.f.StartBranch(ctx, repo, forge.BranchCommit{Branch: "gitward/audit", Message: "Start the audit ledger\n", Files: ledgerFiles})
	if err != nil {
		t.Fatal(err)
	}
	if len(sha) != 40 {
		t.Fatalf("sha = %q", sha)
	}
	if head, err := fx.f.BranchHead(ctx, repo, "gitward/audit"); err != nil || head != sha {
		t.Fatalf("BranchHead = %s, %v; want %s", head, err, sha)
	}
	c, err := fx.f.Commit(ctx, repo, sha)
	if err != nil {
		t.Fatal(err)
	}
	if c.SHA != sha || len(c.Parents) != 0 || c.Message != "Start the audit ledger\n" ||
		c.Author.Name != "gitward" || c.Committer.Email != "gitward@users.noreply."+repo.Host || c.Committer.Date.IsZero() {
		t.Fatalf("Commit = %+v", c)
	}
	for _, fc := range ledgerFiles {
		b, err := fx.f.File(ctx, repo, sha, fc.Path)
		if err != nil || string(b) != string(fc.Content) {
			t.Errorf("File(%s) = %q, %v; want %q", fc.Path, b, err, fc.Content)
		}
	}
	if _, err := fx.f.File(ctx, repo, sha, "README.md"); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("a file of the default branch is in the root commit: %v", err)
	}
	snap, err := fx.f.Snapshot(ctx, repo, sha)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	var paths []string
	err = fs.WalkDir(snap.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"index.json", "records/2026/bin", "records/2026/x.json", "records/empty"}
	sort.Strings(paths)
	if !slices.Equal(paths, want) {
		t.Fatalf("snapshot files = %q, want %q", paths, want)
	}
	b, err := fs.ReadFile(snap.FS(), "records/2026/bin")
	if err != nil || string(b) != string(ledgerFiles[2].Content) {
		t.Fatalf("binary file = %q, %v", b, err)
	}

	// The ledger then grows through the commits API.
	next, err := fx.f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "gitward/audit", ExpectedHead: sha, Message: "record 1",
		Files: []forge.FileChange{{Path: "index.json", Content: []byte("{\"records\":[1]}\n")}, {Path: "records/2026/y.json", Content: []byte("{}")}}})
	if err != nil {
		t.Fatal(err)
	}
	if head, err := fx.f.BranchHead(ctx, repo, "gitward/audit"); err != nil || head != next {
		t.Fatalf("BranchHead after commit = %s, %v; want %s", head, err, next)
	}
	c2, err := fx.f.Commit(ctx, repo, next)
	if err != nil || !slices.Equal(c2.Parents, []string{sha}) {
		t.Fatalf("Commit(next) = %+v, %v", c2, err)
	}
	if b, err := fx.f.File(ctx, repo, next, "records/2026/x.json"); err != nil || string(b) != "{\"x\":1}" {
		t.Fatalf("carried file = %q, %v", b, err)
	}
	// The API-made head is still an existing branch to Git.
	if _, err := fx.f.StartBranch(ctx, repo, forge.BranchCommit{Branch: "gitward/audit", Message: "again", Files: ledgerFiles}); !errors.Is(err, forge.ErrConflict) {
		t.Fatalf("StartBranch over the grown ledger: %v, want ErrConflict", err)
	}
	if head := fx.srv.BranchHead(proj, "gitward/audit"); head != next {
		t.Fatalf("a refused push moved the branch to %s", head)
	}
}

func TestStartBranchOnAnExistingBranchIsConflict(t *testing.T) {
	needGit(t)
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	// A branch the model made through the API, and one made by a push.
	for _, branch := range []string{"main", "feature"} {
		before := fx.srv.BranchHead(proj, branch)
		_, err := fx.f.StartBranch(ctx, repo, forge.BranchCommit{Branch: branch, Message: "root", Files: ledgerFiles})
		if !errors.Is(err, forge.ErrConflict) {
			t.Fatalf("StartBranch(%s): %v, want ErrConflict", branch, err)
		}
		t.Log(err)
		if after := fx.srv.BranchHead(proj, branch); after != before {
			t.Fatalf("%s moved from %s to %s", branch, before, after)
		}
	}
	sha, err := fx.f.StartBranch(ctx, repo, forge.BranchCommit{Branch: "ledger", Message: "root", Files: ledgerFiles})
	if err != nil {
		t.Fatal(err)
	}
	for _, files := range [][]forge.FileChange{ledgerFiles, {{Path: "other", Content: []byte("x")}}} {
		_, err = fx.f.StartBranch(ctx, repo, forge.BranchCommit{Branch: "ledger", Message: "root", Files: files})
		if !errors.Is(err, forge.ErrConflict) {
			t.Fatalf("StartBranch on a pushed branch: %v, want ErrConflict", err)
		}
		t.Log(err)
	}
	if head := fx.srv.BranchHead(proj, "ledger"); head != sha {
		t.Fatalf("ledger moved from %s to %s", sha, head)
	}
	// The merge request's branches are unaffected.
	if mr := fx.srv.MergeRequest(proj, int64(fx.iid)); mr.SHA != fx.c2 {
		t.Fatalf("merge request head = %s, want %s", mr.SHA, fx.c2)
	}
}

func TestStartBranchNeverShowsTheToken(t *testing.T) {
	needGit(t)
	const secret = "glpat-Sup3rSecret-wrong-token"
	encoded := base64.StdEncoding.EncodeToString([]byte("oauth2:" + secret))
	check := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("StartBranch succeeded")
		}
		if msg := err.Error(); strings.Contains(msg, secret) || strings.Contains(msg, encoded) || strings.Contains(msg, "Sup3rSecret") {
			t.Fatalf("the token shows in the error: %s", msg)
		}
		t.Log(err)
	}
	ctx := context.Background()

	t.Run("bad credentials", func(t *testing.T) {
		srv := gitlabtest.New(t)
		srv.AddProject(proj, gitlabtest.ProjectOptions{})
		// The API accepts the client's token; Git refuses the one given.
		f := gitlab.New(srv.Client(), gitlab.Options{Host: repo.Host, Token: []byte(secret)})
		_, err := f.StartBranch(ctx, repo, forge.BranchCommit{Branch: "ledger", Message: "m", Files: ledgerFiles})
		check(t, err)
		if errors.Is(err, forge.ErrConflict) || !strings.Contains(err.Error(), "token was refused") {
			t.Fatalf("bad credentials: %v", err)
		}
		if srv.BranchHead(proj, "ledger") != "" {
			t.Fatal("the branch was created")
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := gitlabtest.New(t)
		srv.AddProject(proj, gitlabtest.ProjectOptions{})
		srv.SetCloneURL(proj, "http://127.0.0.1:1/"+proj+".git")
		f := gitlab.New(srv.Client(), gitlab.Options{Host: repo.Host, Token: []byte(secret)})
		_, err := f.StartBranch(ctx, repo, forge.BranchCommit{Branch: "ledger", Message: "m", Files: ledgerFiles})
		check(t, err)
	})
	t.Run("token in the clone URL's place", func(t *testing.T) {
		// Even if git echoed the URL with the token in it, it is scrubbed.
		srv := gitlabtest.New(t)
		srv.AddProject(proj, gitlabtest.ProjectOptions{})
		srv.SetCloneURL(proj, "http://127.0.0.1:1/"+secret+".git")
		f := gitlab.New(srv.Client(), gitlab.Options{Host: repo.Host, Token: []byte(secret)})
		_, err := f.StartBranch(ctx, repo, forge.BranchCommit{Branch: "ledger", Message: "m", Files: ledgerFiles})
		check(t, err)
	})
}

func TestStartBranchRefusesBadInput(t *testing.T) {
	needGit(t)
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	one := []forge.FileChange{{Path: "a", Content: []byte("a")}}
	for _, tc := range []struct {
		name string
		bc   forge.BranchCommit
		want string
	}{
		{"expected head", forge.BranchCommit{Branch: "l", ExpectedHead: fx.base, Files: one}, "no expected head"},
		{"parent", forge.BranchCommit{Branch: "l", Parent: fx.base, Files: one}, "no parent"},
		{"no branch", forge.BranchCommit{Files: one}, "no branch name"},
		{"full ref", forge.BranchCommit{Branch: "refs/heads/l", Files: one}, "without refs/heads/"},
		{"bad name", forge.BranchCommit{Branch: "a..b", Files: one}, "not a valid branch name"},
		{"option-like name", forge.BranchCommit{Branch: "--help", Files: one}, "not a valid branch name"},
		{"space", forge.BranchCommit{Branch: "a b", Files: one}, "not a valid branch name"},
		{"HEAD", forge.BranchCommit{Branch: "HEAD", Files: one}, "not a valid branch name"},
		{"no files", forge.BranchCommit{Branch: "l"}, "no files"},
		{"deletion", forge.BranchCommit{Branch: "l", Files: []forge.FileChange{{Path: "a"}}}, "deletes nothing"},
		{"absolute", forge.BranchCommit{Branch: "l", Files: []forge.FileChange{{Path: "/a", Content: []byte("a")}}}, "clean relative path"},
		{"dot-dot", forge.BranchCommit{Branch: "l", Files: []forge.FileChange{{Path: "../a", Content: []byte("a")}}}, "clean relative path"},
		{"unclean", forge.BranchCommit{Branch: "l", Files: []forge.FileChange{{Path: "a//b", Content: []byte("a")}}}, "clean relative path"},
		{"trailing slash", forge.BranchCommit{Branch: "l", Files: []forge.FileChange{{Path: "a/", Content: []byte("a")}}}, "clean relative path"},
		{"dot git", forge.BranchCommit{Branch: "l", Files: []forge.FileChange{{Path: ".git/config", Content: []byte("a")}}}, "clean relative path"},
		{"empty path", forge.BranchCommit{Branch: "l", Files: []forge.FileChange{{Path: "", Content: []byte("a")}}}, "clean relative path"},
		{"twice", forge.BranchCommit{Branch: "l", Files: []forge.FileChange{{Path: "a", Content: []byte("a")}, {Path: "a", Content: []byte("b")}}}, "given twice"},
		{"file and folder", forge.BranchCommit{Branch: "l", Files: []forge.FileChange{{Path: "a", Content: []byte("a")}, {Path: "a/b/c", Content: []byte("b")}}}, "both a file and the folder"},
	} {
		_, err := fx.f.StartBranch(ctx, repo, tc.bc)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	if fx.srv.BranchHead(proj, "l") != "" {
		t.Fatal("a refused StartBranch created the branch")
	}
	// Without a token there is nothing to push with.
	f := gitlab.New(fx.srv.Client(), gitlab.Options{Host: repo.Host, Snapshots: (*snapshot.Cache)(nil)})
	if _, err := f.StartBranch(ctx, repo, forge.BranchCommit{Branch: "l", Files: one}); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("without a token: %v", err)
	}
}

// TestAuditLedgerOnGitLab runs the audit ledger through the adapter: its
// first commit is a root commit made by StartBranch, the next ones go
// through the commits API, and Append checks each commit's parents.
func TestAuditLedgerOnGitLab(t *testing.T) {
	needGit(t)
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := context.Background()
	l := &audit.Ledger{}
	var entries []audit.Entry
	for i, sha := range []string{fx.c1, fx.c2} {
		rec := audit.Record{
			Kind: audit.KindUnreviewed, RecordedAt: time.Date(2026, 1, 2, 3, 4, i, 0, time.UTC), GitwardVersion: "v1.0.0",
			Repository: repo.String(), Branch: "main", Covers: []string{sha},
			Push:    &audit.Push{Ref: "refs/heads/main", Before: strings.Repeat("0", 40), After: sha, Pusher: "root"},
			Commits: []audit.Commit{{SHA: sha, Subject: "hotfix", Author: audit.Person{Login: "root"}}},
		}
		e, err := l.Append(ctx, fx.f, repo, rec)
		if err != nil {
			t.Fatalf("Append %d: %v", i+1, err)
		}
		entries = append(entries, e)
	}
	root, err := fx.f.Commit(ctx, repo, entries[0].Commit)
	if err != nil || len(root.Parents) != 0 {
		t.Fatalf("first ledger commit = %+v, %v; want a root commit", root, err)
	}
	second, err := fx.f.Commit(ctx, repo, entries[1].Commit)
	if err != nil || !slices.Equal(second.Parents, []string{root.SHA}) {
		t.Fatalf("second ledger commit = %+v, %v", second, err)
	}
	if head := fx.srv.BranchHead(proj, audit.DefaultBranch); head != second.SHA {
		t.Fatalf("ledger head = %s, want %s", head, second.SHA)
	}
}

// TestAuditLedgerWrittenOnGitLabVerifiesInAClone: commits made through the
// commits API are real git objects, so a ledger gitward wrote on GitLab
// (a root commit pushed by StartBranch, then records through the API)
// verifies in a plain git clone of the project, as `gitward audit verify`
// reads it: the hash chain, and the coverage of the pushes it records.
func TestAuditLedgerWrittenOnGitLabVerifiesInAClone(t *testing.T) {
	needGit(t)
	fx := setup(t, gitlabtest.ProjectOptions{})
	ctx := t.Context()
	url := strings.Replace(fx.srv.URL(), "http://", "http://oauth2:"+gitlabtest.Token+"@", 1) + "/" + proj + ".git"
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(cmd.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0",
			"GIT_AUTHOR_NAME=Root", "GIT_AUTHOR_EMAIL=root@example.com", "GIT_COMMITTER_NAME=Root", "GIT_COMMITTER_EMAIL=root@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}

	// Two hotfixes pushed straight to main, each recorded as unreviewed.
	work := t.TempDir()
	git(work, "clone", "--quiet", url, ".")
	l := &audit.Ledger{}
	for i := range 2 {
		before := git(work, "rev-parse", "HEAD")
		git(work, "commit", "--quiet", "--allow-empty", "-m", fmt.Sprintf("hotfix %d", i+1))
		git(work, "push", "--quiet", "origin", "HEAD:main")
		after := git(work, "rev-parse", "HEAD")
		if head := fx.srv.BranchHead(proj, "main"); head != after {
			t.Fatalf("main = %s after the push, want %s", head, after)
		}
		rec := audit.Record{
			Kind: audit.KindUnreviewed, RecordedAt: time.Date(2026, 1, 2, 3, 4, i, 0, time.UTC), GitwardVersion: "v1.0.0",
			Repository: repo.String(), Branch: "main", Covers: []string{after},
			Push:    &audit.Push{Ref: "refs/heads/main", Before: before, After: after, Pusher: "root"},
			Commits: []audit.Commit{{SHA: after, Subject: fmt.Sprintf("hotfix %d", i+1), Author: audit.Person{Login: "root"}}},
		}
		if _, err := l.Append(ctx, fx.f, repo, rec); err != nil {
			t.Fatalf("Append %d: %v", i+1, err)
		}
	}

	clone := t.TempDir()
	git(clone, "clone", "--quiet", url, ".")
	git(clone, "fetch", "--quiet", "origin", audit.DefaultBranch+":"+audit.DefaultBranch)
	if got, want := git(clone, "rev-parse", audit.DefaultBranch), fx.srv.BranchHead(proj, audit.DefaultBranch); got != want {
		t.Fatalf("the clone's ledger is at %s, the double's at %s", got, want)
	}
	rep, err := audit.Clone{Dir: clone}.Verify(ctx, audit.VerifyOptions{Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Intact() || len(rep.Records) != 2 || rep.Commits != 2 {
		t.Fatalf("verify: intact=%v, %d records, %d commits covered; findings: %v", rep.Intact(), len(rep.Records), rep.Commits, rep.All())
	}
}
