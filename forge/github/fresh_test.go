package github_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/checks/changecontrol"
	"github.com/gitward/gitward/checks/diff"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/github"
	"github.com/gitward/gitward/forge/github/githubtest"
	"github.com/gitward/gitward/forge/snapshot"
	"github.com/gitward/gitward/render"
	"github.com/gregjones/httpcache"
	"github.com/palantir/go-githubapp/githubapp"
)

// The double sends GitHub's "Cache-Control: private, max-age=60" on every
// read, and the client creator caches responses as gitward's server
// configures it (app.Options.GitHubCacheBytes). These scenarios happen within that minute: each verdict must
// still be built on what GitHub says now.

const freshRepo = "octo-org/clusters"

var freshBase = map[string]string{
	".gitward.yaml":                   "version: 1\napprovals:\n  required: 1\nsignatures:\n  require_signed_commits: false\n",
	"apps/podinfo/kustomization.yaml": "resources:\n  - configmap.yaml\n",
	"apps/podinfo/configmap.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo\ndata:\n  color: blue\n",
}

type freshFixture struct {
	t     *testing.T
	gh    *githubtest.Server
	f     *github.Forge
	ref   forge.PRRef
	eval  *evaluation.Evaluator
	base  string
	heads int
}

func newFreshFixture(t *testing.T, opts ...githubtest.Option) *freshFixture {
	t.Helper()
	gh := githubtest.New(t, opts...)
	gh.AddInstallation(7, "octo-org")
	gh.AddRepo(7, "octo-org", "clusters", "main")
	gh.SetPermission(freshRepo, "bob", "write")
	cache, err := snapshot.NewCache(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	base := strings.Repeat("b", 40)
	gh.SetTree(freshRepo, base, freshBase)
	fx := &freshFixture{
		t:    t,
		gh:   gh,
		f:    github.New(gh.ClientCreator(t, githubapp.WithClientCaching(false, func() httpcache.Cache { return httpcache.NewMemoryCache() })), github.Options{AppID: githubtest.DefaultAppID, Snapshots: cache}),
		base: base,
		eval: &evaluation.Evaluator{
			Capabilities: []evaluation.Capability{changecontrol.New(&diff.Engine{Renderer: render.NewRenderer(render.Options{})})},
			Backoff:      time.Millisecond,
		},
	}
	n := gh.AddPullRequest(freshRepo, githubtest.PullRequest{Title: "blue to green", Author: "alice", BaseRef: "main", BaseSHA: base, HeadRef: "green"})
	fx.ref = forge.PRRef{Repo: forge.Repo{Host: "github.com", Owner: "octo-org", Name: "clusters", InstallationID: 7, DefaultBranch: "main"}, Number: n}
	fx.push()
	return fx
}

// push makes a new head commit on the pull request's branch, as a push does.
func (fx *freshFixture) push() string {
	fx.heads++
	head := strings.Repeat(string(rune('0'+fx.heads)), 40)
	tree := map[string]string{}
	for k, v := range freshBase {
		tree[k] = v
	}
	tree["apps/podinfo/configmap.yaml"] = strings.Replace(freshBase["apps/podinfo/configmap.yaml"], "blue", "green"+strings.Repeat("!", fx.heads), 1)
	fx.gh.SetTree(freshRepo, head, tree)
	fx.gh.AddPullRequest(freshRepo, githubtest.PullRequest{Number: fx.ref.Number, Title: "blue to green", Author: "alice", BaseRef: "main", BaseSHA: fx.base, HeadRef: "green", HeadSHA: head})
	fx.gh.AddCommit(freshRepo, fx.ref.Number, githubtest.Commit{SHA: head, Message: "green", Author: githubtest.Identity{Name: "Alice", Email: "alice@example.com", Login: "alice", Date: time.Now()}})
	fx.gh.SetFiles(freshRepo, fx.ref.Number, []githubtest.File{{Filename: "apps/podinfo/configmap.yaml", Status: "modified"}})
	return head
}

func (fx *freshFixture) evaluate() {
	fx.t.Helper()
	if err := fx.eval.Evaluate(fx.t.Context(), fx.f, fx.ref); err != nil {
		fx.t.Fatal(err)
	}
}

// check returns gitward/change-control on sha, or fails when there is none.
func (fx *freshFixture) check(sha string) githubtest.CheckRun {
	fx.t.Helper()
	for _, cr := range fx.gh.CheckRuns(freshRepo, sha) {
		if cr.Name == "gitward/change-control" {
			return cr
		}
	}
	fx.t.Fatalf("no gitward/change-control check on %s", sha[:7])
	return githubtest.CheckRun{}
}

func (fx *freshFixture) review(state, sha string) {
	fx.gh.AddReview(freshRepo, fx.ref.Number, githubtest.Review{User: "bob", State: state, CommitID: sha})
}

func TestAnApprovalJustAfterOpeningIsSeen(t *testing.T) {
	fx := newFreshFixture(t)
	head := strings.Repeat("1", 40)
	fx.evaluate()
	if c := fx.check(head); c.Conclusion == "success" {
		t.Fatalf("unapproved change passed: %q", c.Title)
	}
	fx.review("APPROVED", head)
	fx.evaluate()
	if c := fx.check(head); c.Conclusion != "success" {
		t.Errorf("bob's approval, given seconds after the pull request opened, was not seen: %s %q", c.Conclusion, c.Title)
	}
}

// TestAnApprovalIsSeenWhenGitHubsClockIsAhead: a cache reckons an answer's
// age from its Date header, so with GitHub's clock a little ahead of
// gitward's the age comes out negative; asking for answers no older than
// zero seconds would still take the cached one as fresh.
func TestAnApprovalIsSeenWhenGitHubsClockIsAhead(t *testing.T) {
	fx := newFreshFixture(t, githubtest.WithClock(func() time.Time { return time.Now().Add(30 * time.Second) }))
	head := strings.Repeat("1", 40)
	fx.evaluate()
	fx.review("APPROVED", head)
	fx.evaluate()
	if c := fx.check(head); c.Conclusion != "success" {
		t.Errorf("bob's approval was not seen with GitHub's clock 30 s ahead: %s %q", c.Conclusion, c.Title)
	}
}

func TestAPushGetsItsOwnCheck(t *testing.T) {
	fx := newFreshFixture(t)
	fx.evaluate()
	head := fx.push()
	fx.evaluate()
	if c := fx.check(head); c.HeadSHA != head {
		t.Errorf("check on %s names head %s", head[:7], c.HeadSHA)
	}
}

func TestChangesRequestedAfterAnApprovalTurnTheCheckRed(t *testing.T) {
	fx := newFreshFixture(t)
	head := strings.Repeat("1", 40)
	fx.review("APPROVED", head)
	fx.evaluate()
	if c := fx.check(head); c.Conclusion != "success" {
		t.Fatalf("approved change did not pass: %s %q\n%s", c.Conclusion, c.Title, c.Summary)
	}
	fx.review("CHANGES_REQUESTED", head)
	fx.evaluate()
	if c := fx.check(head); c.Conclusion == "success" {
		t.Errorf("the check stayed green after bob requested changes: %q", c.Title)
	}
}
