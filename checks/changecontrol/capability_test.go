package changecontrol_test

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitward/gitward/checks/changecontrol"
	"github.com/gitward/gitward/checks/diff"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	ghforge "github.com/gitward/gitward/forge/github"
	"github.com/gitward/gitward/forge/github/githubtest"
	"github.com/gitward/gitward/forge/snapshot"
	"github.com/gitward/gitward/render"
)

const repoName = "octo-org/clusters"

var (
	baseSHA = strings.Repeat("b", 40)
	headSHA = strings.Repeat("c", 40)
)

var baseTree = map[string]string{
	".gitward.yaml":                   "version: 1\napprovals:\n  required: 1\n",
	"apps/podinfo/kustomization.yaml": "resources:\n  - deployment.yaml\n",
	"apps/podinfo/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
spec:
  replicas: 1
`,
}

type fixture struct {
	t   *testing.T
	f   *ghforge.Forge
	gh  *githubtest.Server
	ref forge.PRRef
	n   int
}

func newFixture(t *testing.T, edits map[string]string) *fixture {
	t.Helper()
	gh := githubtest.New(t)
	clients := gh.ClientCreator(t)
	cache, err := snapshot.NewCache(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	gh.AddInstallation(7, "octo-org")
	gh.AddRepo(7, "octo-org", "clusters", "main")
	head := maps.Clone(baseTree)
	var files []githubtest.File
	for p, c := range edits {
		head[p] = c
		files = append(files, githubtest.File{Filename: p, Status: "modified"})
	}
	gh.SetTree(repoName, baseSHA, baseTree)
	gh.SetTree(repoName, headSHA, head)
	n := gh.AddPullRequest(repoName, githubtest.PullRequest{Title: "change", Author: "alice", BaseRef: "main", BaseSHA: baseSHA, HeadRef: "change", HeadSHA: headSHA})
	gh.SetFiles(repoName, n, files)
	f := ghforge.New(clients, ghforge.Options{AppID: githubtest.DefaultAppID, Snapshots: cache})
	ref := forge.PRRef{Repo: forge.Repo{Host: "github.com", Owner: "octo-org", Name: "clusters", InstallationID: 7, DefaultBranch: "main"}, Number: n}
	return &fixture{t: t, f: f, gh: gh, ref: ref, n: n}
}

var (
	sshOnce sync.Once
	sshKey  string
	sshErr  error
)

// sshSignature signs payload as git does with gpg.format=ssh, with a key
// made once per test binary by the real ssh-keygen.
func sshSignature(t *testing.T, payload string) string {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	sshOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gitward-ssh-")
		if err != nil {
			sshErr = err
			return
		}
		sshKey = filepath.Join(dir, "id_ed25519")
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@example.com", "-f", sshKey).CombinedOutput(); err != nil {
			sshErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if sshErr != nil {
		t.Fatal(sshErr)
	}
	cmd := exec.Command("ssh-keygen", "-q", "-Y", "sign", "-n", "git", "-f", sshKey)
	cmd.Stdin = strings.NewReader(payload)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// commit adds a commit by alice to the pull request; a verified one carries
// a real SSH signature over its payload, as GitHub returns it.
func (fx *fixture) commit(verified bool, reason string) {
	payload := "tree " + strings.Repeat("a", 40) + "\nparent " + baseSHA + "\nauthor Alice <alice@example.com> 1764200000 +0000\ncommitter Alice <alice@example.com> 1764200000 +0000\n\nScale podinfo\n"
	signature := ""
	if verified {
		signature = sshSignature(fx.t, payload)
	}
	fx.gh.AddCommit(repoName, fx.n, githubtest.Commit{
		Signature: signature,
		Payload:   payload,
		SHA:       headSHA,
		Parents:   []string{baseSHA},
		Author:    githubtest.Identity{Name: "Alice", Email: "alice@example.com", Login: "alice", Date: time.Now().Add(-time.Hour)},
		Committer: githubtest.Identity{Name: "Alice", Email: "alice@example.com", Login: "alice", Date: time.Now().Add(-time.Hour)},
		Message:   "Scale podinfo",
		Verified:  verified,
		Reason:    reason,
	})
}

func (fx *fixture) evaluate() error {
	engine := &diff.Engine{Renderer: render.NewRenderer(render.Options{})}
	e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{changecontrol.New(engine)}, Backoff: time.Millisecond}
	return e.Evaluate(fx.t.Context(), fx.f, fx.ref)
}

func (fx *fixture) check() githubtest.CheckRun {
	fx.t.Helper()
	runs := fx.gh.CheckRuns(repoName, headSHA)
	if len(runs) != 1 {
		fx.t.Fatalf("got %d check runs, want gitward/change-control updated in place", len(runs))
	}
	return runs[0]
}

func TestASignedChangeApprovedOnTheHeadPasses(t *testing.T) {
	fx := newFixture(t, map[string]string{"apps/podinfo/deployment.yaml": strings.Replace(baseTree["apps/podinfo/deployment.yaml"], "replicas: 1", "replicas: 2", 1)})
	fx.commit(true, "valid")
	fx.gh.SetPermission(repoName, "bob", "write")
	fx.gh.AddReview(repoName, fx.n, githubtest.Review{User: "bob", State: "APPROVED", CommitID: headSHA, SubmittedAt: time.Now()})
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	run := fx.check()
	if run.Name != "gitward/change-control" || run.Conclusion != "success" {
		t.Fatalf("check = %s %s %q\n%s", run.Name, run.Conclusion, run.Title, run.Summary)
	}
	if !strings.Contains(run.Summary, "@bob") {
		t.Errorf("summary does not name the approver:\n%s", run.Summary)
	}
}

func TestAnUnsignedCommitFailsTheCheck(t *testing.T) {
	fx := newFixture(t, map[string]string{"apps/podinfo/deployment.yaml": strings.Replace(baseTree["apps/podinfo/deployment.yaml"], "replicas: 1", "replicas: 2", 1)})
	fx.commit(false, "unsigned")
	fx.gh.SetPermission(repoName, "bob", "write")
	fx.gh.AddReview(repoName, fx.n, githubtest.Review{User: "bob", State: "APPROVED", CommitID: headSHA, SubmittedAt: time.Now()})
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	run := fx.check()
	if run.Conclusion != "failure" || !strings.Contains(run.Summary, "is not signed") {
		t.Errorf("check = %s %q\n%s", run.Conclusion, run.Title, run.Summary)
	}
}

func TestAPlaintextSecretFailsTheCheckNamingItsFile(t *testing.T) {
	fx := newFixture(t, map[string]string{
		"apps/podinfo/kustomization.yaml": "resources:\n  - deployment.yaml\n  - secret.yaml\n",
		"apps/podinfo/secret.yaml":        "# database credentials\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2-plaintext\n",
	})
	fx.commit(true, "valid")
	fx.gh.SetPermission(repoName, "bob", "write")
	fx.gh.AddReview(repoName, fx.n, githubtest.Review{User: "bob", State: "APPROVED", CommitID: headSHA, SubmittedAt: time.Now()})
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	run := fx.check()
	if run.Conclusion != "failure" {
		t.Fatalf("conclusion %s, want failure", run.Conclusion)
	}
	if !strings.Contains(run.Summary, "apps/podinfo/secret.yaml") || strings.Contains(run.Summary, "hunter2") {
		t.Errorf("summary must name the file and never the value:\n%s", run.Summary)
	}
	found := false
	for _, a := range run.Annotations {
		if a.Path == "apps/podinfo/secret.yaml" && a.StartLine == 3 {
			found = true
		}
	}
	if !found {
		t.Errorf("no annotation at apps/podinfo/secret.yaml:3: %+v", run.Annotations)
	}
}

func TestASealedSecretPasses(t *testing.T) {
	fx := newFixture(t, map[string]string{
		"apps/podinfo/kustomization.yaml": "resources:\n  - deployment.yaml\n  - sealed.yaml\n",
		"apps/podinfo/sealed.yaml":        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\nspec:\n  encryptedData:\n    password: AgBy3i4OJSWK+PiTySYZZA==\n",
	})
	fx.commit(true, "valid")
	fx.gh.SetPermission(repoName, "bob", "write")
	fx.gh.AddReview(repoName, fx.n, githubtest.Review{User: "bob", State: "APPROVED", CommitID: headSHA, SubmittedAt: time.Now()})
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	if run := fx.check(); run.Conclusion != "success" {
		t.Errorf("check = %s %q\n%s", run.Conclusion, run.Title, run.Summary)
	}
}

func TestAnApprovalCommentOlderThanTheHeadDoesNotCount(t *testing.T) {
	fx := newFixture(t, map[string]string{"apps/podinfo/deployment.yaml": strings.Replace(baseTree["apps/podinfo/deployment.yaml"], "replicas: 1", "replicas: 2", 1)})
	fx.commit(true, "valid")
	fx.gh.SetPermission(repoName, "bob", "write")
	// Written an hour ago, before gitward first saw this head: it was an
	// approval of an earlier head.
	fx.gh.AddComment(repoName, fx.n, githubtest.Comment{User: "bob", Body: "/approve", CreatedAt: time.Now().Add(-time.Hour), UpdatedAt: time.Now().Add(-time.Hour)})
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	if run := fx.check(); run.Conclusion != "failure" {
		t.Errorf("an approval from before the head was pushed counted: %q", run.Title)
	}
	// The same words after the push count.
	fx.gh.AddComment(repoName, fx.n, githubtest.Comment{User: "bob", Body: "/approve", CreatedAt: time.Now().Add(time.Second), UpdatedAt: time.Now().Add(time.Second)})
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	if run := fx.check(); run.Conclusion != "success" {
		t.Errorf("a fresh /approve did not count: %q\n%s", run.Title, run.Summary)
	}
}

func TestFactsThatCannotBeReadNeverTurnTheCheckGreen(t *testing.T) {
	fx := newFixture(t, map[string]string{"apps/podinfo/deployment.yaml": "x"})
	fx.commit(true, "valid")
	fx.gh.FailNext("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", 502, 10)
	err := fx.evaluate()
	if err == nil {
		t.Fatal("no error")
	}
	run := fx.check()
	if run.Conclusion != "failure" || !strings.Contains(run.Summary, "502") {
		t.Errorf("check = %s %q", run.Conclusion, run.Summary)
	}
}
