// Package audittest builds real git repositories for tests of the audit
// trail: a protected branch with commits, and ledger branches written
// commit by commit with git plumbing, faithfully or tampered with.
package audittest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/audit"
)

// Epoch is the date of the first commit a Repo makes; each later commit is
// a minute later, so SHAs are the same on every run.
var Epoch = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

// Repo is a git repository in a temporary directory.
type Repo struct {
	t     testing.TB
	Dir   string
	clock time.Time
}

// New initialises a repository whose default branch is main.
func New(t testing.TB) *Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	r := &Repo{t: t, Dir: t.TempDir(), clock: Epoch}
	r.Git("init", "--quiet", "--initial-branch=main")
	return r
}

// Git runs git in the repository and returns its trimmed output.
func (r *Repo) Git(args ...string) string {
	return r.gitEnv(nil, nil, args...)
}

func (r *Repo) gitEnv(env []string, stdin []byte, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.Dir}, args...)...)
	stamp := r.clock.Format(time.RFC3339)
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "LC_ALL=C",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_AUTHOR_DATE="+stamp,
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com", "GIT_COMMITTER_DATE="+stamp,
	)
	cmd.Env = append(cmd.Env, env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		r.t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// Commit adds a commit to main with one file changed and returns its SHA.
func (r *Repo) Commit(message string) string {
	r.t.Helper()
	r.clock = r.clock.Add(time.Minute)
	name := filepath.Join(r.Dir, "changes.txt")
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		r.t.Fatal(err)
	}
	fmt.Fprintln(f, message)
	f.Close()
	r.Git("add", "changes.txt")
	r.Git("commit", "--quiet", "-m", message)
	return r.Git("rev-parse", "HEAD")
}

// Change is one ledger commit to write: its message and the files it
// writes (a nil content deletes the path).
type Change struct {
	Message string
	Files   map[string][]byte
}

// Staged turns staged records into the ledger commits that add them.
func Staged(list []audit.Staged) []Change {
	out := make([]Change, len(list))
	for i, st := range list {
		files := map[string][]byte{}
		for _, f := range st.Files {
			files[f.Path] = f.Content
		}
		out[i] = Change{Message: st.Message, Files: files}
	}
	return out
}

// WriteLedger replaces branch with a chain of commits, the first a root
// commit, each writing its change on top of the previous tree, and
// returns the commits' SHAs. It writes with git plumbing, without a work
// tree, as GitHub's Git Data API does.
func (r *Repo) WriteLedger(branch string, changes []Change) []string {
	r.t.Helper()
	index := filepath.Join(r.t.TempDir(), "index")
	env := []string{"GIT_INDEX_FILE=" + index}
	var shas []string
	parent := ""
	for _, ch := range changes {
		r.clock = r.clock.Add(time.Minute)
		paths := make([]string, 0, len(ch.Files))
		for p := range ch.Files {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			content := ch.Files[p]
			if content == nil {
				r.gitEnv(env, nil, "update-index", "--force-remove", "--", p)
				continue
			}
			blob := r.gitEnv(env, content, "hash-object", "-w", "--stdin")
			r.gitEnv(env, nil, "update-index", "--add", "--cacheinfo", "100644,"+blob+","+p)
		}
		tree := r.gitEnv(env, nil, "write-tree")
		args := []string{"commit-tree", tree, "-F", "-"}
		if parent != "" {
			args = append(args, "-p", parent)
		}
		parent = r.gitEnv(env, []byte(ch.Message), args...)
		shas = append(shas, parent)
	}
	if parent != "" {
		r.Git("update-ref", "refs/heads/"+branch, parent)
	}
	return shas
}

// AppendLedger adds one commit on top of branch, writing the change.
func (r *Repo) AppendLedger(branch string, ch Change) string {
	r.t.Helper()
	head := r.Git("rev-parse", "refs/heads/"+branch)
	index := filepath.Join(r.t.TempDir(), "index")
	env := []string{"GIT_INDEX_FILE=" + index}
	r.gitEnv(env, nil, "read-tree", head)
	r.clock = r.clock.Add(time.Minute)
	for p, content := range ch.Files {
		if content == nil {
			r.gitEnv(env, nil, "update-index", "--force-remove", "--", p)
			continue
		}
		blob := r.gitEnv(env, content, "hash-object", "-w", "--stdin")
		r.gitEnv(env, nil, "update-index", "--add", "--cacheinfo", "100644,"+blob+","+p)
	}
	tree := r.gitEnv(env, nil, "write-tree")
	sha := r.gitEnv(env, []byte(ch.Message), "commit-tree", tree, "-p", head, "-F", "-")
	r.Git("update-ref", "refs/heads/"+branch, sha)
	return sha
}
