package changecontrol_test

import (
	"errors"
	"fmt"
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
	"github.com/gitward/gitward/forge/forgetest"
	"github.com/gitward/gitward/render"
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
	t          *testing.T
	f          *forgetest.Fake
	ref        forge.PRRef
	edits      map[string]string
	base, head string // the pull request's commits; head is set by commit
}

// newFixture opens a pull request from a branch at the base commit, which
// holds baseTree; commit adds the change, edits, to it.
func newFixture(t *testing.T, edits map[string]string) *fixture {
	t.Helper()
	f := forgetest.New(t)
	repo := f.AddRepo("octo-org/clusters", "main")
	base := f.Push(repo, "main", forgetest.Commit{Files: baseTree})
	f.ForcePush(repo, "change", base)
	ref := f.OpenPullRequest(repo, forgetest.PullRequest{Title: "change", Author: forge.User{Login: "alice"}, Head: "change"})
	return &fixture{t: t, f: f, ref: ref, edits: edits, base: base}
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

// commit adds a commit by alice with the fixture's edits to the pull
// request; a verified one carries a real SSH signature over its payload,
// as GitHub returns it.
func (fx *fixture) commit(verified bool, reason string) {
	payload := "tree " + strings.Repeat("a", 40) + "\nparent " + fx.base + "\nauthor Alice <alice@example.com> 1764200000 +0000\ncommitter Alice <alice@example.com> 1764200000 +0000\n\nScale podinfo\n"
	signature := ""
	if verified {
		signature = sshSignature(fx.t, payload)
	}
	alice := forge.Identity{Name: "Alice", Email: "alice@example.com", Login: "alice", Date: time.Now().Add(-time.Hour)}
	fx.head = fx.f.Push(fx.ref.Repo, "change", forgetest.Commit{
		Files:     fx.edits,
		Author:    alice,
		Committer: alice,
		Message:   "Scale podinfo",
		Signature: forge.Signature{Verified: verified, Reason: reason, Signature: signature, Payload: payload},
	})
}

// approve gives bob write access and his approving review on the head.
func (fx *fixture) approve() {
	fx.f.SetPermission(fx.ref.Repo, "bob", forge.PermissionWrite)
	fx.f.AddReview(fx.ref, forge.Review{User: forge.User{Login: "bob"}, State: forge.ReviewApproved, CommitSHA: fx.head, SubmittedAt: time.Now()})
}

func (fx *fixture) evaluate() error {
	engine := &diff.Engine{Renderer: render.NewRenderer(render.Options{})}
	e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{changecontrol.New(engine)}, Backoff: time.Millisecond}
	return e.Evaluate(fx.t.Context(), fx.f, fx.ref)
}

func (fx *fixture) check() forge.CheckRun {
	fx.t.Helper()
	runs, err := fx.f.CheckRuns(fx.t.Context(), fx.ref.Repo, fx.head)
	if err != nil {
		fx.t.Fatal(err)
	}
	if len(runs) != 1 {
		fx.t.Fatalf("got %d check runs, want gitward/change-control updated in place", len(runs))
	}
	return runs[0]
}

func TestASignedChangeApprovedOnTheHeadPasses(t *testing.T) {
	fx := newFixture(t, map[string]string{"apps/podinfo/deployment.yaml": strings.Replace(baseTree["apps/podinfo/deployment.yaml"], "replicas: 1", "replicas: 2", 1)})
	fx.commit(true, "valid")
	fx.approve()
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	run := fx.check()
	if run.Name != "gitward/change-control" || run.Conclusion != forge.ConclusionSuccess {
		t.Fatalf("check = %s %s %q\n%s", run.Name, run.Conclusion, run.Title, run.Summary)
	}
	if !strings.Contains(run.Summary, "@bob") {
		t.Errorf("summary does not name the approver:\n%s", run.Summary)
	}
}

func TestAnUnsignedCommitFailsTheCheck(t *testing.T) {
	fx := newFixture(t, map[string]string{"apps/podinfo/deployment.yaml": strings.Replace(baseTree["apps/podinfo/deployment.yaml"], "replicas: 1", "replicas: 2", 1)})
	fx.commit(false, "unsigned")
	fx.approve()
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	run := fx.check()
	if run.Conclusion != forge.ConclusionFailure || !strings.Contains(run.Summary, "is not signed") {
		t.Errorf("check = %s %q\n%s", run.Conclusion, run.Title, run.Summary)
	}
}

func TestAPlaintextSecretFailsTheCheckNamingItsFile(t *testing.T) {
	fx := newFixture(t, map[string]string{
		"apps/podinfo/kustomization.yaml": "resources:\n  - deployment.yaml\n  - secret.yaml\n",
		"apps/podinfo/secret.yaml":        "# database credentials\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2-plaintext\n",
	})
	fx.commit(true, "valid")
	fx.approve()
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	run := fx.check()
	if run.Conclusion != forge.ConclusionFailure {
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
	fx.approve()
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	if run := fx.check(); run.Conclusion != forge.ConclusionSuccess {
		t.Errorf("check = %s %q\n%s", run.Conclusion, run.Title, run.Summary)
	}
}

func TestAnApprovalCommentOlderThanTheHeadDoesNotCount(t *testing.T) {
	fx := newFixture(t, map[string]string{"apps/podinfo/deployment.yaml": strings.Replace(baseTree["apps/podinfo/deployment.yaml"], "replicas: 1", "replicas: 2", 1)})
	fx.commit(true, "valid")
	fx.f.SetPermission(fx.ref.Repo, "bob", forge.PermissionWrite)
	bob := forge.User{Login: "bob"}
	// Written an hour ago, before gitward first saw this head: it was an
	// approval of an earlier head.
	fx.f.AddComment(fx.ref.Thread(), forge.Comment{User: bob, Body: "/approve", CreatedAt: time.Now().Add(-time.Hour), UpdatedAt: time.Now().Add(-time.Hour)})
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	if run := fx.check(); run.Conclusion != forge.ConclusionFailure {
		t.Errorf("an approval from before the head was pushed counted: %q", run.Title)
	}
	// The same words after the push count.
	fx.f.AddComment(fx.ref.Thread(), forge.Comment{User: bob, Body: "/approve", CreatedAt: time.Now().Add(time.Second), UpdatedAt: time.Now().Add(time.Second)})
	if err := fx.evaluate(); err != nil {
		t.Fatal(err)
	}
	if run := fx.check(); run.Conclusion != forge.ConclusionSuccess {
		t.Errorf("a fresh /approve did not count: %q\n%s", run.Title, run.Summary)
	}
}

func TestFactsThatCannotBeReadNeverTurnTheCheckGreen(t *testing.T) {
	fx := newFixture(t, map[string]string{"apps/podinfo/deployment.yaml": "x"})
	fx.commit(true, "valid")
	fx.f.FailNext("Reviews", errors.New("502 Bad Gateway"), 10)
	err := fx.evaluate()
	if err == nil {
		t.Fatal("no error")
	}
	run := fx.check()
	if run.Conclusion != forge.ConclusionFailure || !strings.Contains(run.Summary, "502") {
		t.Errorf("check = %s %q", run.Conclusion, run.Summary)
	}
}
