package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gitward/gitward/app"
	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/forge/github/githubtest"
	dto "github.com/prometheus/client_model/go"
)

// The GitHub world: organisation acme, repository acme/platform, users
// alice, bob and carol (writers), dave (a maintainer and break-glass
// responder) and mallory (no access), each with an SSH signing key
// registered on the double; everyone but mallory is an allowed signer in
// the base policy.
const (
	Org      = "acme"
	RepoName = "acme/platform"
	Main     = "main"
	// installationID is the app's installation on acme.
	installationID = 31
	webhookSecret  = "e2e-webhook-secret-9f2c"
	botLogin       = githubtest.DefaultAppSlug + "[bot]"
	// ledgerBranch is the audit ledger branch of the default policy.
	ledgerBranch = "gitward/audit"
)

// People of the world and their repository roles.
var people = map[string]string{"alice": "write", "bob": "write", "carol": "write", "dave": "maintain", "mallory": "none"}

// GitHubWorld is acme/platform on the GitHub double with gitward serving it.
type GitHubWorld struct {
	T     testing.TB
	GH    *githubtest.Server
	Clock *Clock
	Users map[string]*User
	// Gitward are the running servers; deliveries go to the first unless
	// the test points the double elsewhere.
	Gitward []*Gitward
	startOp StartOptions
}

var _ World = (*GitHubWorld)(nil)

// WorldOptions tunes a world.
type WorldOptions struct {
	// Policy replaces the base .gitward.yaml (the allowed signers are
	// appended to it).
	Policy string
	// Files are more files of the initial commit on main.
	Files map[string]string
	Start StartOptions
}

// DefaultPolicy is the base policy of acme/platform.
const DefaultPolicy = `version: 1
approvals:
  required: 1
break_glass:
  responders:
    users: [dave]
`

// NewGitHubWorld sets up acme/platform with a small kustomize app on main
// and starts gitward against it.
func NewGitHubWorld(t testing.TB, wo WorldOptions) *GitHubWorld {
	t.Helper()
	clock := &Clock{}
	gh := githubtest.New(t, githubtest.WithClock(clock.Now))
	w := &GitHubWorld{T: t, GH: gh, Clock: clock, Users: map[string]*User{}, startOp: wo.Start}
	dir := t.TempDir()
	gh.AddInstallation(installationID, Org)
	gh.AddRepo(installationID, Org, "platform", Main)
	var signers []string
	for _, login := range sortedKeys(people) {
		u := newUser(t, dir, login)
		w.Users[login] = u
		gh.AddUser(login, 0)
		gh.SetPermission(RepoName, login, people[login])
		gh.AddSSHSigningKey(login, u.PublicKey)
		if people[login] != "none" {
			signers = append(signers, fmt.Sprintf("    - %s %s", u.Email, u.PublicKey))
		}
	}
	policy := wo.Policy
	if policy == "" {
		policy = DefaultPolicy
	}
	policy = strings.TrimRight(policy, "\n") + "\nsignatures:\n  allowed_signers:\n    ssh:\n" + strings.Join(signers, "\n") + "\n"
	files := map[string]string{".gitward.yaml": policy}
	for p, c := range PodinfoApp(2) {
		files[p] = c
	}
	for p, c := range wo.Files {
		files[p] = c
	}
	gh.As("dave").Push(RepoName, Main, githubtest.NewCommit{
		Author: w.identity("dave"), Message: "Initial platform", Files: files, Sign: w.Users["dave"].sign,
	})
	w.Start()
	return w
}

// PodinfoApp is the files of the small kustomize app apps/podinfo.
func PodinfoApp(replicas int) map[string]string {
	return map[string]string{
		"apps/podinfo/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: podinfo\nresources:\n  - deployment.yaml\n",
		"apps/podinfo/deployment.yaml":    Deployment(replicas),
	}
}

// Deployment is podinfo's Deployment with replicas.
func Deployment(replicas int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
spec:
  replicas: %d
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.7.0
`, replicas)
}

// Start starts one more gitward server on the double; the double delivers
// to the newest.
func (w *GitHubWorld) Start() *Gitward {
	g := startGitward(w.T, w.GH, webhookSecret, w.startOp)
	w.Gitward = append(w.Gitward, g)
	w.GH.SendWebhooks(g.URL+"/api/github/hook", webhookSecret)
	return g
}

// Deliver points the double's deliveries at g.
func (w *GitHubWorld) Deliver(g *Gitward) { w.GH.SendWebhooks(g.URL+"/api/github/hook", webhookSecret) }

func (w *GitHubWorld) identity(login string) githubtest.Identity {
	u := w.Users[login]
	return githubtest.Identity{Name: u.Name, Email: u.Email, Login: login}
}

// Push implements World.
func (w *GitHubWorld) Push(user, branch string, c Change) string {
	w.T.Helper()
	nc := githubtest.NewCommit{Author: w.identity(user), Message: c.Message, Files: c.Files, Delete: c.Delete}
	if nc.Message == "" {
		nc.Message = "Change " + strings.Join(sortedKeys(c.Files), ", ")
	}
	if len(c.Trailers) > 0 {
		nc.Message += "\n\n" + strings.Join(c.Trailers, "\n")
	}
	signer := user
	if c.Committer != "" {
		nc.Committer = w.identity(c.Committer)
		signer = c.Committer
	}
	switch c.SignedBy {
	case "-":
		signer = ""
	case "":
	default:
		signer = c.SignedBy
	}
	if signer != "" {
		nc.Sign = w.Users[signer].sign
	}
	return w.GH.As(user).Push(RepoName, branch, nc)
}

// Open implements World.
func (w *GitHubWorld) Open(user, branch, title string) int {
	return w.GH.As(user).OpenPullRequest(RepoName, githubtest.NewPull{Title: title, Head: branch})
}

// Propose pushes a change on a new branch and opens a pull request for it.
func (w *GitHubWorld) Propose(user, branch string, c Change) int {
	w.Push(user, branch, c)
	return w.Open(user, branch, c.Message)
}

// Approve implements World with an approving review.
func (w *GitHubWorld) Approve(user string, pr int) { w.Review(user, pr, githubtest.Approve) }

// Review submits a review and returns its ID.
func (w *GitHubWorld) Review(user string, pr int, state string) int64 {
	return w.GH.As(user).Review(RepoName, pr, state, "")
}

// Dismiss dismisses a review as user.
func (w *GitHubWorld) Dismiss(user string, pr int, review int64) {
	w.GH.As(user).Dismiss(RepoName, pr, review, "stale")
}

// Comment implements World.
func (w *GitHubWorld) Comment(user string, pr int, body string) int64 {
	w.Clock.Tick()
	return w.GH.As(user).Comment(RepoName, pr, body)
}

// EditComment edits a comment as user.
func (w *GitHubWorld) EditComment(user string, id int64, body string) {
	w.Clock.Tick()
	w.GH.As(user).EditComment(RepoName, id, body)
}

// DeleteComment deletes a comment as user.
func (w *GitHubWorld) DeleteComment(user string, id int64) {
	w.Clock.Tick()
	w.GH.As(user).DeleteComment(RepoName, id)
}

// Merge implements World.
func (w *GitHubWorld) Merge(user string, pr int) string {
	return w.GH.As(user).Merge(RepoName, pr)
}

// Head returns the pull request's head SHA.
func (w *GitHubWorld) Head(pr int) string {
	for _, p := range w.GH.PullRequests(RepoName) {
		if p.Number == pr {
			return p.HeadSHA
		}
	}
	w.T.Fatalf("no pull request #%d", pr)
	return ""
}

// Check implements World.
func (w *GitHubWorld) Check(pr int, name string) Check {
	return w.CheckOn(w.Head(pr), name)
}

// CheckOn returns gitward's check run name on a commit.
func (w *GitHubWorld) CheckOn(sha, name string) Check {
	var c Check
	for _, run := range w.GH.CheckRuns(RepoName, sha) {
		if run.Name != name || run.AppID != githubtest.DefaultAppID {
			continue
		}
		c = Check{Name: run.Name, Status: run.Status, Conclusion: run.Conclusion, Title: run.Title, Summary: run.Summary, Text: run.Text, HeadSHA: run.HeadSHA, Count: c.Count + 1}
	}
	return c
}

// Sticky implements World: gitward's comments carrying a sticky marker.
func (w *GitHubWorld) Sticky(pr int) []string {
	var out []string
	for _, c := range w.BotComments(pr) {
		if strings.HasPrefix(c, "<!-- gitward:") && strings.Contains(strings.SplitN(c, "\n", 2)[0], " part ") {
			out = append(out, c)
		}
	}
	return out
}

// BotComments returns every comment gitward wrote on an issue or pull
// request.
func (w *GitHubWorld) BotComments(number int) []string {
	var out []string
	for _, c := range w.GH.Comments(RepoName, number) {
		if c.User == botLogin {
			out = append(out, c.Body)
		}
	}
	return out
}

// Ledger implements World: it reads the ledger branch's history from the
// double, oldest first along first parents, and fails the test when the
// chain does not verify.
func (w *GitHubWorld) Ledger() []audit.Stored {
	w.T.Helper()
	v := w.VerifyLedger()
	if len(v.Findings) > 0 {
		w.T.Fatalf("the audit ledger does not verify: %v", v.Findings)
	}
	return v.Records
}

// VerifyLedger verifies the ledger branch as `gitward audit verify` does.
func (w *GitHubWorld) VerifyLedger() audit.Verification {
	return verifyLedger(w.GH.Ref(RepoName, "heads/"+ledgerBranch), func(sha string) ([]string, string, bool) {
		c, ok := w.GH.GitCommit(RepoName, sha)
		return c.Parents, c.Message, ok
	}, func(sha string) map[string]string { return w.GH.Files(RepoName, sha) })
}

// Idle implements World: it waits until no gitward server has work.
func (w *GitHubWorld) Idle() { w.T.Helper(); idle(w.T, w.Gitward) }

// Resync runs one resync pass on the newest server and waits until idle.
func (w *GitHubWorld) Resync() { w.T.Helper(); resync(w.T, w.Gitward) }

// Issues returns the titles of the repository's issues.
func (w *GitHubWorld) Issues() []githubtest.Issue { return w.GH.Issues(RepoName) }

// resyncPasses counts the resync passes a server finished, however they
// ended.
func resyncPasses(srv *app.Server) float64 {
	var n float64
	for _, outcome := range []string{"success", "error", "cut_short"} {
		var m dto.Metric
		if err := srv.Metrics().ResyncRuns.WithLabelValues(outcome).Write(&m); err == nil {
			n += m.GetCounter().GetValue()
		}
	}
	return n
}
