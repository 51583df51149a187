package github_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gitward/gitward/forge/github/githubtest"
)

// A plaintext Secret in the 3,001st changed file, past what GitHub lists,
// must not slip through: the check fails and says why.
func TestASecretPastGitHubsFileListDoesNotPass(t *testing.T) {
	fx := newFreshFixture(t)
	head := strings.Repeat("1", 40)
	fx.review("APPROVED", head)
	tree := fx.gh.Files(freshRepo, head)
	var files []githubtest.File
	for i := range githubtest.MaxListedFiles {
		p := fmt.Sprintf("docs/note-%04d.md", i)
		tree[p] = "note\n"
		files = append(files, githubtest.File{Filename: p, Status: "added", Additions: 1})
	}
	tree["apps/podinfo/secret.yaml"] = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n"
	files = append(files, githubtest.File{Filename: "apps/podinfo/secret.yaml", Status: "added", Additions: 6})
	fx.gh.SetTree(freshRepo, head, tree)
	fx.gh.SetFiles(freshRepo, fx.ref.Number, files)

	// The evaluation reports the refusal as its error and on the check.
	_ = fx.eval.Evaluate(t.Context(), fx.f, fx.ref)
	c := fx.check(head)
	if c.Conclusion == "success" {
		t.Fatalf("a pull request with a plaintext Secret in file 3001 passed: %q", c.Title)
	}
	if !strings.Contains(c.Title+c.Summary, "3001 changed files") {
		t.Errorf("the check does not say the file list is incomplete: %s %q\n%s", c.Conclusion, c.Title, c.Summary)
	}
}
