package localgit_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/localgit"
	"github.com/gitward/gitward/forge/snapshot"
)

// gitRepo makes a repository in a temporary folder with the real git.
func gitRepo(t *testing.T) (dir string, run func(args ...string) string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir = t.TempDir()
	run = func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=A", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=A", "GIT_COMMITTER_EMAIL=a@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q", "-b", "main")
	return dir, run
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newRepo(t *testing.T, dir string) *localgit.Repo {
	t.Helper()
	cache, err := snapshot.NewCache(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return &localgit.Repo{Dir: dir, Snapshots: cache}
}

func TestChangedFilesMatchWhatAForgeReports(t *testing.T) {
	dir, git := gitRepo(t)
	write(t, dir, "apps/a/kustomization.yaml", "resources: [deploy.yaml]\n")
	write(t, dir, "apps/a/deploy.yaml", strings.Repeat("line\n", 50))
	write(t, dir, "apps/b/old.yaml", strings.Repeat("same\n", 50))
	write(t, dir, "gone.yaml", "x: 1\n")
	git("add", "-A")
	git("commit", "-qm", "base")
	base := git("rev-parse", "HEAD")
	write(t, dir, "apps/a/deploy.yaml", strings.Repeat("line\n", 49)+"changed\n")
	git("mv", "apps/b/old.yaml", "apps/b/new.yaml")
	git("rm", "-q", "gone.yaml")
	write(t, dir, "apps/c/kustomization.yaml", "resources: []\n")
	git("add", "-A")
	git("commit", "-qm", "head")

	r := newRepo(t, dir)
	head, err := r.Resolve(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.ChangedFiles(t.Context(), base, head)
	if err != nil {
		t.Fatal(err)
	}
	want := []forge.ChangedFile{
		{Path: "apps/a/deploy.yaml", Status: forge.FileModified},
		{Path: "apps/b/new.yaml", PreviousPath: "apps/b/old.yaml", Status: forge.FileRenamed},
		{Path: "apps/c/kustomization.yaml", Status: forge.FileAdded},
		{Path: "gone.yaml", Status: forge.FileRemoved},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changed files:\n got %+v\nwant %+v", got, want)
	}
}

func TestSnapshotHoldsTheCommitsTree(t *testing.T) {
	dir, git := gitRepo(t)
	write(t, dir, "apps/a/kustomization.yaml", "resources: [deploy.yaml]\n")
	write(t, dir, "apps/a/deploy.yaml", "kind: Deployment\n")
	if err := os.Symlink("../a/deploy.yaml", filepath.Join(dir, "apps/link.yaml")); err != nil {
		t.Fatal(err)
	}
	git("add", "-A")
	git("commit", "-qm", "one")
	first := git("rev-parse", "HEAD")
	write(t, dir, "apps/a/deploy.yaml", "kind: StatefulSet\n")
	git("commit", "-qam", "two")

	r := newRepo(t, dir)
	snap, err := r.Snapshot(t.Context(), first)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	data, err := os.ReadFile(filepath.Join(snap.Dir, "apps/a/deploy.yaml"))
	if err != nil || string(data) != "kind: Deployment\n" {
		t.Errorf("snapshot content = %q, %v; want the first commit's", data, err)
	}
	if target, err := os.Readlink(filepath.Join(snap.Dir, "apps/link.yaml")); err != nil || target != "../a/deploy.yaml" {
		t.Errorf("in-tree symlink = %q, %v", target, err)
	}
}

func TestSnapshotRefusesASymlinkOutOfTheTree(t *testing.T) {
	dir, git := gitRepo(t)
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "passwd.yaml")); err != nil {
		t.Fatal(err)
	}
	git("add", "-A")
	git("commit", "-qm", "escape")
	r := newRepo(t, dir)
	_, err := r.Snapshot(t.Context(), git("rev-parse", "HEAD"))
	if err == nil || !strings.Contains(err.Error(), "passwd.yaml") {
		t.Fatalf("error = %v, want a refusal naming the link", err)
	}
}

func TestResolveRefusesWhatIsNotACommit(t *testing.T) {
	dir, git := gitRepo(t)
	write(t, dir, "a", "b")
	git("add", "-A")
	git("commit", "-qm", "one")
	r := newRepo(t, dir)
	for _, rev := range []string{"no-such-branch", "--output=/tmp/x", "HEAD:a"} {
		if _, err := r.Resolve(t.Context(), rev); err == nil {
			t.Errorf("Resolve(%q) succeeded", rev)
		}
	}
}
