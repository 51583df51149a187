package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// demoRepo builds a git repository from examples/demo: base/ as the first
// commit and head/ copied over it as the second.
func demoRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	copyTree(t, filepath.Join("..", "..", "examples", "demo", "base"), dir)
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-qm", "base")
	copyTree(t, filepath.Join("..", "..", "examples", "demo", "head"), dir)
	git("add", "-A")
	git("commit", "-qm", "head")
	return dir
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPreviewPrintsTheRenderedDiffComment(t *testing.T) {
	repo := demoRepo(t)
	r := gitward(t, nil, "preview", "--repo", repo, "--base", "HEAD~1", "--head", "HEAD")
	// The demo's commits are not signed and its database Secret is plain.
	if r.code != 1 || !strings.Contains(r.stderr, "change control fails: signed commits, plaintext secrets") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"<!-- gitward:rendered-diff part 1 of 1 -->",
		"`clusters/prod/podinfo`", "`clusters/staging/podinfo`", "`clusters/prod/dashboards`",
		"+              cpu: 200m",
		"🔒 Hidden values: added `replica-password`; changed `password`.",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	for _, secret := range []string{"demo-only-hunter2", "demo-only-rotated-hunter3", "demo-only-new-value"} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("preview shows the secret value %q", secret)
		}
	}
}

func TestPreviewAsJSON(t *testing.T) {
	repo := demoRepo(t)
	r := gitward(t, nil, "preview", "--repo", repo, "--base", "HEAD~1", "--head", "HEAD", "--format", "json")
	if r.code != 1 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var out struct {
		RenderedDiff struct {
			Apps []struct {
				Name string
				Diff struct{ Changed int }
			}
		}
		ChangeControl struct {
			State string
			Rules []struct{ Name, State, Reason string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if len(out.RenderedDiff.Apps) != 3 {
		t.Errorf("got %d apps, want 3", len(out.RenderedDiff.Apps))
	}
	if out.ChangeControl.State != "fail" || len(out.ChangeControl.Rules) == 0 {
		t.Errorf("change control %+v, want the failing rules", out.ChangeControl)
	}
}

func TestPreviewExitsOneWhenAnAppStopsRendering(t *testing.T) {
	repo := demoRepo(t)
	path := filepath.Join(repo, "clusters/staging/podinfo/kustomization.yaml")
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), "resources:\n", "resources:\n  - missing.yaml\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "break staging")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	r := gitward(t, nil, "preview", "--repo", repo, "--base", "HEAD~1", "--head", "HEAD")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (stderr %s)", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "missing.yaml") || !strings.Contains(r.stderr, "clusters/staging/podinfo does not render at head") {
		t.Errorf("the failure is not explained:\n%s\n%s", r.stdout, r.stderr)
	}
}

func TestPreviewErrors(t *testing.T) {
	repo := demoRepo(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a revision that does not exist", []string{"--base", "no-such-branch", "--head", "HEAD"}, "no-such-branch"},
		{"a missing head", []string{"--base", "HEAD~1"}, "--base and --head are required"},
		{"an unknown format", []string{"--base", "HEAD~1", "--head", "HEAD", "--format", "yaml"}, "--format must be markdown or json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := gitward(t, nil, append([]string{"preview", "--repo", repo}, tc.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 with %q", r.code, r.stderr, tc.want)
			}
		})
	}
	t.Run("an invalid policy at base", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(repo, ".gitward.yaml"), []byte("version: 1\nbogus: true\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "break policy")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		r := gitward(t, nil, "preview", "--repo", repo, "--base", "HEAD", "--head", "HEAD~1")
		if r.code != 2 || !strings.Contains(r.stderr, ".gitward.yaml:2:1: bogus: unknown key") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

func TestRenderPrintsWhatKustomizeBuildPrints(t *testing.T) {
	repo := demoRepo(t)
	r := gitward(t, nil, "render", "--repo", repo, "clusters/prod/podinfo")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"kind: Deployment", "replicas: 3", "namespace: podinfo", "kind: Secret"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("render lacks %q:\n%s", want, r.stdout)
		}
	}
	all := gitward(t, nil, "render", "--repo", repo, "--all", "--rev", "HEAD~1")
	if all.code != 0 || strings.Count(all.stdout, "kind: Deployment") != 2 || strings.Contains(all.stdout, "cpu: 200m") {
		t.Errorf("render --all --rev HEAD~1: exit %d, output:\n%s", all.code, all.stdout)
	}
	bad := gitward(t, nil, "render", "--repo", repo, "no/such/app")
	if bad.code != 2 || !strings.Contains(bad.stderr, "no/such/app") {
		t.Errorf("render of a missing app: exit %d, stderr %q", bad.code, bad.stderr)
	}
	if both := gitward(t, nil, "render", "--repo", repo, "--all", "x"); both.code != 2 {
		t.Errorf("render with paths and --all: exit %d", both.code)
	}
}
