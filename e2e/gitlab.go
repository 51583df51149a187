package e2e

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
	gl "gitlab.com/gitlab-org/api/client-go"
)

// The GitLab world: project acme/platform on the GitLab double, users
// alice, bob and carol (Developers), dave (a Maintainer and break-glass
// responder), rita (a Reporter) and mallory (no member). GitLab
// verifies signatures itself and gives gitward its verdict only, so a
// scenario's signed commit is one GitLab calls "verified". Commits carry
// their author's GitLab private commit address
// (ID-username@users.noreply.host), the one address GitLab ties to an
// account, so separation of duties sees who wrote them.
const (
	glWebhookSecret = "e2e-gitlab-token-51d7"
	// glNoreplyHost is the host of the private commit addresses: GitLab's
	// host name, without the port.
	glNoreplyHost = "127.0.0.1"
)

// glPeople are the members of acme/platform and their access levels.
var glPeople = map[string]gl.AccessLevelValue{
	"alice": gl.DeveloperPermissions, "bob": gl.DeveloperPermissions, "carol": gl.DeveloperPermissions,
	"dave": gl.MaintainerPermissions, "rita": gl.ReporterPermissions, "mallory": gl.NoPermissions,
}

// GitLabWorld is acme/platform on the GitLab double with gitward serving
// it.
type GitLabWorld struct {
	T       testing.TB
	GL      *gitlabtest.Server
	Users   map[string]*User
	Gitward []*Gitward
	startOp StartOptions
}

var _ World = (*GitLabWorld)(nil)

// glServerConfig is the server config an operator writes for one GitLab
// instance, with the double's address; resync is off (the scenarios run
// resync passes themselves), and so is the drift scan unless asked for.
const glServerConfig = `server:
  address: 127.0.0.1:0
  shutdown_grace_period: 20s
gitlab:
  hosts:
    - base_url: %s/
      token_file: %s
  webhook_secret_file: %s
workers:
  count: %d
  queue_size: %d
resync:
  interval: "0"
snapshots:
  dir: %s
drift:
  scan_interval: "%s"
logging:
  level: debug
`

// NewGitLabWorld sets up acme/platform with the small kustomize app on main
// (a commit GitLab verified, by dave) and starts gitward against it.
func NewGitLabWorld(t testing.TB, wo WorldOptions) *GitLabWorld {
	t.Helper()
	srv := gitlabtest.New(t)
	srv.AddProject(RepoName, gitlabtest.ProjectOptions{})
	w := &GitLabWorld{T: t, GL: srv, Users: map[string]*User{}, startOp: wo.Start}
	for _, login := range sortedKeys(glPeople) {
		id := srv.AddUser(login)
		if glPeople[login] != gl.NoPermissions {
			srv.SetMember(RepoName, login, glPeople[login])
		}
		name := strings.ToUpper(login[:1]) + login[1:]
		w.Users[login] = &User{Login: login, Name: name, Email: fmt.Sprintf("%d-%s@users.noreply.%s", id, login, glNoreplyHost)}
	}
	policy := wo.Policy
	if policy == "" {
		policy = DefaultPolicy
	}
	files := map[string]string{".gitward.yaml": policy}
	for p, c := range PodinfoApp(2) {
		files[p] = c
	}
	for p, c := range wo.Files {
		files[p] = c
	}
	srv.As("dave").Push(RepoName, Main, gitlabtest.NewCommit{
		Author: w.identity("dave"), Message: "Initial platform", Files: files, Verification: "verified",
	})
	w.Start()
	return w
}

func (w *GitLabWorld) identity(login string) gitlabtest.Identity {
	u := w.Users[login]
	return gitlabtest.Identity{Name: u.Name, Email: u.Email}
}

// Start starts one more gitward server on the double, configured as an
// operator configures it for GitLab; the double delivers to the newest.
func (w *GitLabWorld) Start() *Gitward {
	t := w.T
	t.Helper()
	so := w.startOp
	if so.Workers == 0 {
		so.Workers = 2
	}
	if so.QueueSize == 0 {
		so.QueueSize = 100
	}
	if so.DriftScan == "" {
		so.DriftScan = "0"
	}
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "gitlab-token")
	secretFile := filepath.Join(dir, "webhook-secret")
	for file, content := range map[string]string{tokenFile: gitlabtest.Token, secretFile: glWebhookSecret} {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := fmt.Sprintf(glServerConfig, w.GL.URL(), tokenFile, secretFile, so.Workers, so.QueueSize, filepath.Join(dir, "snapshots"), so.DriftScan)
	g := serveConfig(t, dir, cfg+so.Clusters)
	w.Gitward = append(w.Gitward, g)
	w.Deliver(g)
	return g
}

// Deliver points the project hook at g.
func (w *GitLabWorld) Deliver(g *Gitward) {
	w.GL.SendWebhooks(g.URL+"/api/gitlab/hook", glWebhookSecret)
}

// Host is the double's host, as gitward names the forge.
func (w *GitLabWorld) Host() string {
	u, err := url.Parse(w.GL.URL())
	if err != nil {
		w.T.Fatal(err)
	}
	return u.Host
}

// Push implements World. A commit is signed, unless SignedBy is "-", and
// GitLab's verdict on it is "verified" when the committer signed it (the
// key is theirs, the address theirs) and "other_user" when someone else
// did.
func (w *GitLabWorld) Push(user, branch string, c Change) string {
	w.T.Helper()
	nc := gitlabtest.NewCommit{Author: w.identity(user), Message: c.Message, Files: c.Files, Delete: c.Delete}
	if nc.Message == "" {
		nc.Message = "Change " + strings.Join(sortedKeys(c.Files), ", ")
	}
	if len(c.Trailers) > 0 {
		nc.Message += "\n\n" + strings.Join(c.Trailers, "\n")
	}
	committer := user
	if c.Committer != "" {
		nc.Committer = w.identity(c.Committer)
		committer = c.Committer
	}
	switch c.SignedBy {
	case "-":
	case "", committer:
		nc.Verification = "verified"
	default:
		nc.Verification = "other_user"
	}
	return w.GL.As(user).Push(RepoName, branch, nc)
}

// Open implements World.
func (w *GitLabWorld) Open(user, branch, title string) int {
	return int(w.GL.As(user).OpenMergeRequest(RepoName, branch, title))
}

// Propose pushes a change on a new branch and opens a merge request for it.
func (w *GitLabWorld) Propose(user, branch string, c Change) int {
	w.Push(user, branch, c)
	return w.Open(user, branch, c.Message)
}

// Approve implements World with GitLab's Approve button.
func (w *GitLabWorld) Approve(user string, pr int) { w.GL.As(user).Approve(RepoName, int64(pr)) }

// Unapprove revokes user's approval with GitLab's Revoke approval button.
func (w *GitLabWorld) Unapprove(user string, pr int) { w.GL.As(user).Unapprove(RepoName, int64(pr)) }

// Comment implements World with a note on the merge request.
func (w *GitLabWorld) Comment(user string, pr int, body string) int64 {
	return w.GL.As(user).Note(RepoName, int64(pr), body)
}

// IssueComment writes a note on an issue.
func (w *GitLabWorld) IssueComment(user string, issue int, body string) int64 {
	return w.GL.As(user).IssueNote(RepoName, int64(issue), body)
}

// EditComment edits a note as its author.
func (w *GitLabWorld) EditComment(user string, id int64, body string) {
	w.GL.As(user).EditNote(RepoName, id, body)
}

// Merge implements World.
func (w *GitLabWorld) Merge(user string, pr int) string {
	return w.GL.As(user).Merge(RepoName, int64(pr))
}

// Head returns the merge request's head SHA.
func (w *GitLabWorld) Head(pr int) string { return w.GL.MergeRequest(RepoName, int64(pr)).SHA }

// Check implements World from gitward's commit statuses on the head: the
// latest status of that name gives the state (as Conclusion: "success",
// "failed", "pending", "running") and its description (as Title). Count
// is how many statuses of that name the commit has.
func (w *GitLabWorld) Check(pr int, name string) Check {
	return w.CheckOn(w.Head(pr), name)
}

// CheckOn returns gitward's status name on a commit as a Check.
func (w *GitLabWorld) CheckOn(sha, name string) Check {
	var c Check
	for _, st := range w.GL.Statuses(RepoName, sha) {
		if st.Name != name {
			continue
		}
		c = Check{Name: st.Name, Status: st.Status, Conclusion: st.Status, Title: st.Description, HeadSHA: st.SHA, Count: c.Count + 1}
	}
	return c
}

// Sticky implements World: gitward's notes carrying a sticky marker.
func (w *GitLabWorld) Sticky(pr int) []string {
	var out []string
	for _, n := range w.GL.Notes(RepoName, int64(pr)) {
		if n.Author.Username == gitlabtest.DefaultSelf && strings.HasPrefix(n.Body, "<!-- gitward:") && strings.Contains(strings.SplitN(n.Body, "\n", 2)[0], " part ") {
			out = append(out, n.Body)
		}
	}
	return out
}

// BotNotes returns gitward's notes on a merge request.
func (w *GitLabWorld) BotNotes(pr int) []string {
	var out []string
	for _, n := range w.GL.Notes(RepoName, int64(pr)) {
		if n.Author.Username == gitlabtest.DefaultSelf {
			out = append(out, n.Body)
		}
	}
	return out
}

// Ledger implements World: the ledger branch's records, oldest first,
// failing the test when the chain does not verify.
func (w *GitLabWorld) Ledger() []audit.Stored {
	w.T.Helper()
	v := verifyLedger(w.GL.BranchHead(RepoName, ledgerBranch), func(sha string) ([]string, string, bool) {
		c, ok := w.GL.GitCommit(RepoName, sha)
		return c.ParentIDs, c.Message, ok
	}, func(sha string) map[string]string { return w.GL.Files(RepoName, sha) })
	if len(v.Findings) > 0 {
		w.T.Fatalf("the audit ledger does not verify: %v", v.Findings)
	}
	return v.Records
}

// Idle implements World: it waits until no gitward server has work.
func (w *GitLabWorld) Idle() { w.T.Helper(); idle(w.T, w.Gitward) }

// Resync runs one resync pass on the newest server and waits until idle.
func (w *GitLabWorld) Resync() { w.T.Helper(); resync(w.T, w.Gitward) }

// Issues returns the project's issues with a label, by IID.
func (w *GitLabWorld) Issues(label string) []gl.Issue {
	var out []gl.Issue
	for _, is := range w.GL.Issues(RepoName) {
		if slices.Contains(is.Labels, label) {
			out = append(out, is)
		}
	}
	return out
}
