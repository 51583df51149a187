// Package forgetest is an in-memory forge for tests of code that calls
// forge.Forge: evaluations, checks and handlers, where what matters is what
// gets read and published when, not how GitHub or GitLab speak HTTP. The
// adapters are tested against the OpenAPI-validated GitHub double and the
// GitLab double; this fake keeps the rules they guarantee and no more.
//
// What it keeps: repositories of real commits (parents, files, identities,
// signature verdicts) whose SHAs are hashes of their content, branches
// that pull requests follow, changed files and commit lists derived from
// the commit graph, check runs created and then updated by ID, comments
// with increasing IDs and bodies made inert, one number sequence for issues
// and pull requests per repository (as on GitHub) but threads that must
// name the right kind (as on GitLab), forge.ErrNotFound and
// forge.ErrConflict where the adapters return them, and time stamps in
// whole seconds. Limits are GitHub's unless SetLimits says otherwise.
//
// What it leaves out: pagination and listing caps, API caches, rate limits,
// webhooks, line counts of changed files, user IDs, forks, and GitLab's
// statuses that update by name. Faults are injected per method with
// FailNext.
package forgetest

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/snapshot"
)

// AppID is the app that owns the check runs the fake publishes.
const AppID = 1

// Fake is an in-memory forge.Forge. It is safe for concurrent use.
type Fake struct {
	mu        sync.Mutex
	now       func() time.Time
	limits    forge.Limits
	bot       forge.User
	snapshots *snapshot.Cache

	repos   map[string]*repo // by "owner/name"
	emails  map[string]string
	gpgKeys map[string][]forge.GPGKey
	teams   map[string]map[string]bool // "org/slug" → login → active
	lastID  int64
	commits int
	faults  map[string][]error
	calls   []Call
}

var _ forge.Forge = (*Fake)(nil)

type repo struct {
	info     forge.Repo
	commits  map[string]*commit
	branches map[string]string
	moves    map[string][]move // by branch, oldest first
	last     int               // the last issue or pull request number
	pulls    map[int]*pull
	issues   map[int]*forge.Issue
	comments []*comment
	checks   []*forge.CheckRun
	perms    map[string]forge.Permission
}

type commit struct {
	forge.Commit
	files map[string]string // the whole tree; never changed once made
}

// move is a branch pointed at sha at a time.
type move struct {
	sha string
	at  time.Time
}

type pull struct {
	forge.PullRequest
	reviews []forge.Review
}

type comment struct {
	forge.Comment
	thread    forge.Thread
	reactions []string
}

// Call is one call of a forge method: its name and its arguments after the
// context.
type Call struct {
	Method string
	Args   []any
}

// New returns an empty fake whose snapshots are extracted under a folder of
// t's.
func New(t testing.TB) *Fake {
	t.Helper()
	cache, err := snapshot.NewCache(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return &Fake{
		now:       time.Now,
		limits:    forge.Limits{CommentChars: 65536, CheckText: true, PullRequestPrefix: "#"},
		bot:       forge.User{Login: "gitward[bot]", Bot: true},
		snapshots: cache,
		repos:     map[string]*repo{},
		emails:    map[string]string{},
		gpgKeys:   map[string][]forge.GPGKey{},
		teams:     map[string]map[string]bool{},
		faults:    map[string][]error{},
	}
}

// SetLimits changes what Limits answers (GitHub's by default).
func (f *Fake) SetLimits(l forge.Limits) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limits = l
}

// SetClock makes now the fake's clock (time.Now by default).
func (f *Fake) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// FailNext makes the next times calls of method (such as "Reviews") fail
// with err, as a forge outage does.
func (f *Fake) FailNext(method string, err error, times int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range times {
		f.faults[method] = append(f.faults[method], err)
	}
}

// Calls returns the calls made of method, oldest first.
func (f *Fake) Calls(method string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// stamp is the time now as the forge records it: UTC, in whole seconds.
func (f *Fake) stamp() time.Time { return f.now().UTC().Truncate(time.Second) }

func (f *Fake) newID() int64 {
	f.lastID++
	return f.lastID
}

// AddRepo adds an empty repository, "owner/name", and returns it.
func (f *Fake) AddRepo(fullName, defaultBranch string) forge.Repo {
	owner, name, ok := strings.Cut(fullName, "/")
	if !ok {
		panic(fmt.Sprintf("forgetest: AddRepo: %q is not owner/name", fullName))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	info := forge.Repo{Host: "forge.test", Owner: owner, Name: name, DefaultBranch: defaultBranch}
	f.repos[fullName] = &repo{
		info: info, commits: map[string]*commit{}, branches: map[string]string{}, moves: map[string][]move{},
		pulls: map[int]*pull{}, issues: map[int]*forge.Issue{}, perms: map[string]forge.Permission{},
	}
	return info
}

// repo returns the repository, or an error wrapping forge.ErrNotFound. It
// runs with f.mu held.
func (f *Fake) repo(r forge.Repo) (*repo, error) {
	if rp := f.repos[r.FullName()]; rp != nil {
		return rp, nil
	}
	return nil, fmt.Errorf("forgetest: repository %s: %w", r.FullName(), forge.ErrNotFound)
}

// mustRepo is repo for the seeding methods, which panic on a test's
// mistake.
func (f *Fake) mustRepo(r forge.Repo) *repo {
	rp, err := f.repo(r)
	if err != nil {
		panic(err)
	}
	return rp
}

// Commit is a commit to push: the files it writes on its parent's tree and
// the facts the forge reports about it.
type Commit struct {
	// Parent is the commit a new branch starts from; "" makes a root
	// commit. A push to an existing branch builds on its head.
	Parent string
	// Files are written; Remove lists the paths deleted.
	Files  map[string]string
	Remove []string
	// Author and Committer default to no one, at the push's time. An
	// identity without a Login gets the one LinkEmail gave its e-mail.
	Author, Committer forge.Identity
	Message           string
	// Signature is the forge's verdict; unsigned when zero.
	Signature forge.Signature
}

// Push makes a commit on branch, moves the branch to it and returns its
// SHA. Open pull requests from the branch follow it.
func (f *Fake) Push(r forge.Repo, branch string, c Commit) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.mustRepo(r)
	parent := c.Parent
	if head, ok := rp.branches[branch]; ok {
		parent = head
	}
	sha, err := f.write(rp, parent, c)
	if err != nil {
		panic(err)
	}
	f.moveBranch(rp, branch, sha)
	return sha
}

// ForcePush points branch at a commit the repository has, as a force push
// does.
func (f *Fake) ForcePush(r forge.Repo, branch, sha string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.mustRepo(r)
	if rp.commits[sha] == nil {
		panic(fmt.Sprintf("forgetest: ForcePush: no commit %s in %s", sha, r.FullName()))
	}
	f.moveBranch(rp, branch, sha)
}

// moveBranch points branch at sha; pull requests from it are updated. It
// runs with f.mu held.
func (f *Fake) moveBranch(rp *repo, branch, sha string) {
	now := f.stamp()
	rp.branches[branch] = sha
	rp.moves[branch] = append(rp.moves[branch], move{sha: sha, at: now})
	for _, p := range rp.pulls {
		if p.State == forge.PROpen && p.HeadRef == branch {
			p.UpdatedAt = now
		}
	}
}

// LinkEmail links a commit e-mail address to a forge account, as a
// verified address on GitHub does.
func (f *Fake) LinkEmail(email, login string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.emails[strings.ToLower(email)] = login
}

// PullRequest is a pull request to open.
type PullRequest struct {
	Title, Body string
	Author      forge.User
	// Head is the branch to merge; Base the branch it merges into, the
	// default branch when "".
	Head, Base string
	Draft      bool
	Labels     []string
}

// OpenPullRequest opens a pull request between two existing branches.
func (f *Fake) OpenPullRequest(r forge.Repo, pr PullRequest) forge.PRRef {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.open(f.mustRepo(r), pr)
	if err != nil {
		panic(err)
	}
	return p.Ref
}

func (f *Fake) open(rp *repo, pr PullRequest) (*pull, error) {
	if pr.Base == "" {
		pr.Base = rp.info.DefaultBranch
	}
	for _, b := range []string{pr.Head, pr.Base} {
		if _, ok := rp.branches[b]; !ok {
			return nil, fmt.Errorf("forgetest: open a pull request in %s: no branch %q", rp.info.FullName(), b)
		}
	}
	rp.last++
	now := f.stamp()
	p := &pull{PullRequest: forge.PullRequest{
		Ref: forge.PRRef{Repo: rp.info, Number: rp.last}, Title: pr.Title, Body: pr.Body,
		URL:    fmt.Sprintf("https://%s/%s/pull/%d", rp.info.Host, rp.info.FullName(), rp.last),
		Author: pr.Author, State: forge.PROpen, Draft: pr.Draft, BaseRef: pr.Base, HeadRef: pr.Head,
		HeadRepo: rp.info.FullName(), Labels: unique(nil, pr.Labels...), CreatedAt: now, UpdatedAt: now,
	}}
	rp.pulls[p.Ref.Number] = p
	rp.follow(p)
	return p, nil
}

// follow updates an open pull request's base and head to its branches.
func (rp *repo) follow(p *pull) {
	if p.State != forge.PROpen {
		return
	}
	if sha, ok := rp.branches[p.BaseRef]; ok {
		p.BaseSHA = sha
	}
	if sha, ok := rp.branches[p.HeadRef]; ok {
		p.HeadSHA = sha
	}
}

// ClosePullRequest closes a pull request without merging it.
func (f *Fake) ClosePullRequest(ref forge.PRRef) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.mustPull(ref)
	p.State, p.UpdatedAt = forge.PRClosed, f.stamp()
}

// Merge merges a pull request with a merge commit on its base branch made
// by login, and returns the commit's SHA.
func (f *Fake) Merge(ref forge.PRRef, login string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, p := f.mustRepo(ref.Repo), f.mustPull(ref)
	rp.follow(p)
	if p.State != forge.PROpen {
		panic(fmt.Sprintf("forgetest: Merge: %s is not open", ref))
	}
	// The base's tree with the changes the head made since they parted.
	files := rp.files(p.BaseSHA)
	for _, cf := range rp.changes(p.BaseSHA, p.HeadSHA) {
		files[cf.Path] = rp.commits[p.HeadSHA].files[cf.Path]
		if cf.Status == forge.FileRemoved {
			delete(files, cf.Path)
		}
	}
	now := f.stamp()
	id := forge.Identity{Login: login, Date: now}
	sha := f.store(rp, forge.Commit{Message: fmt.Sprintf("Merge pull request #%d", ref.Number),
		Author: id, Committer: id, Parents: []string{p.BaseSHA, p.HeadSHA}}, files)
	f.moveBranch(rp, p.BaseRef, sha)
	p.State, p.Merged, p.MergeSHA, p.MergedAt, p.UpdatedAt = forge.PRClosed, true, sha, now, now
	p.MergedBy = forge.User{Login: login}
	return sha
}

func (f *Fake) mustPull(ref forge.PRRef) *pull {
	p := f.mustRepo(ref.Repo).pulls[ref.Number]
	if p == nil {
		panic(fmt.Sprintf("forgetest: no pull request %s", ref))
	}
	return p
}

// AddReview submits a review; CommitSHA defaults to the head, SubmittedAt
// to now. It returns the review's ID.
func (f *Fake) AddReview(ref forge.PRRef, rv forge.Review) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.mustPull(ref)
	f.mustRepo(ref.Repo).follow(p)
	rv.ID = f.newID()
	if rv.CommitSHA == "" {
		rv.CommitSHA = p.HeadSHA
	}
	if rv.SubmittedAt.IsZero() {
		rv.SubmittedAt = f.stamp()
	}
	rv.SubmittedAt = rv.SubmittedAt.UTC().Truncate(time.Second)
	p.reviews = append(p.reviews, rv)
	p.UpdatedAt = later(p.UpdatedAt, rv.SubmittedAt)
	return rv.ID
}

// AddComment adds a person's comment to a thread; CreatedAt defaults to
// now, UpdatedAt to CreatedAt. It returns the comment's ID.
func (f *Fake) AddComment(t forge.Thread, c forge.Comment) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.mustRepo(t.Repo)
	if err := rp.hasThread(t); err != nil {
		panic(err)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = f.stamp()
	}
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Second)
	c.UpdatedAt = later(c.CreatedAt, c.UpdatedAt.UTC().Truncate(time.Second))
	c.ID, c.Edited = f.newID(), c.UpdatedAt.After(c.CreatedAt)
	rp.comments = append(rp.comments, &comment{Comment: c, thread: forge.Thread{Number: t.Number, Issue: t.Issue}})
	if p := rp.pulls[t.Number]; p != nil && !t.Issue {
		p.UpdatedAt = later(p.UpdatedAt, c.UpdatedAt)
	}
	return c.ID
}

// Reactions returns the reactions on comment id.
func (f *Fake) Reactions(t forge.Thread, id int64) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.mustRepo(t.Repo).comment(t, id); c != nil {
		return append([]string(nil), c.reactions...)
	}
	return nil
}

// AddIssue opens an issue (State "open" unless set) and returns its number.
func (f *Fake) AddIssue(r forge.Repo, is forge.Issue) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addIssue(f.mustRepo(r), is).Number
}

func (f *Fake) addIssue(rp *repo, is forge.Issue) *forge.Issue {
	rp.last++
	is.Number, is.Labels = rp.last, unique(nil, is.Labels...)
	is.URL = fmt.Sprintf("https://%s/%s/issues/%d", rp.info.Host, rp.info.FullName(), is.Number)
	if is.State == "" {
		is.State = "open"
	}
	rp.issues[is.Number] = &is
	return &is
}

// SetPermission gives login a permission on the repository; others have
// none.
func (f *Fake) SetPermission(r forge.Repo, login string, p forge.Permission) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustRepo(r).perms[strings.ToLower(login)] = p
}

// SetTeamMember makes login an active (or pending) member of team,
// "org/slug".
func (f *Fake) SetTeamMember(team, login string, active bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.teams[team] == nil {
		f.teams[team] = map[string]bool{}
	}
	f.teams[team][strings.ToLower(login)] = active
}

// AddGPGKey registers an OpenPGP public key under login.
func (f *Fake) AddGPGKey(login string, k forge.GPGKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gpgKeys[login] = append(f.gpgKeys[login], k)
}

// hasThread returns an error wrapping forge.ErrNotFound unless t names a
// pull request (or, with t.Issue, an issue) of the repository.
func (rp *repo) hasThread(t forge.Thread) error {
	if t.Issue && rp.issues[t.Number] != nil || !t.Issue && rp.pulls[t.Number] != nil {
		return nil
	}
	return fmt.Errorf("forgetest: thread %s (issue %t): %w", t, t.Issue, forge.ErrNotFound)
}

func (rp *repo) comment(t forge.Thread, id int64) *comment {
	for _, c := range rp.comments {
		if c.ID == id && c.thread.Number == t.Number && c.thread.Issue == t.Issue {
			return c
		}
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// unique appends the names not in list yet.
func unique(list []string, add ...string) []string {
	for _, a := range add {
		if !contains(list, a) {
			list = append(list, a)
		}
	}
	return list
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
