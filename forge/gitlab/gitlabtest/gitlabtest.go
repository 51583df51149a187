// Package gitlabtest is an in-memory GitLab API double for tests: an
// httptest server answering the REST endpoints gitward's GitLab adapter
// calls, with responses encoded from client-go's own types, and the
// GraphQL queries it sends (see graphql.go). Tests seed projects, users
// (bots among them), commits, merge requests, approvals and notes, then
// read back what the adapter wrote. A request to any other endpoint, or
// any other GraphQL query, fails the test. REST lists are answered in one
// page. As on GitLab, an award emoji moves a note's updated_at without
// making it edited, approvals list their approved_at (HideApprovedAt
// answers as older GitLab), and each new head of an open merge request
// (AddMergeRequest, Push, SetBranch, commits through the API or Git) is a
// new diff version, created at that moment. FailNext and AfterNext inject
// failures and races.
//
// Commit statuses are set as GitLab's commit status service sets them: a
// pending or running status of a name moves in place; setting a finished
// one again creates a new status (new ID and created_at) and marks the
// older ones of that name in the pipeline retried, which the list leaves
// out unless all=true; a move the status state machine refuses (running
// to running, pending to pending, skipping a running one) answers 400.
//
// Projects are also served over Git smart HTTP, through git http-backend
// (see git.go); commits made through the commits API are real git objects
// there, so a clone holds what the API wrote.
//
// What the double does not model:
//   - Commits a test seeds with Commit, Push, Merge and AddMergeRequest
//     have made-up SHAs; Git clients see a placeholder root commit with an
//     empty tree in their stead, so their history and files are not in a
//     clone (a commit made on top of one, through the API or a push, has
//     the placeholder as its parent in git).
//   - Lag: what an action changes (diff versions, approvals reset on
//     push, mergeability) shows in the API at once; GitLab computes some
//     of it in the background. Failures and rate limits happen only when
//     a test injects them (FailNext). The double sends no webhooks.
//   - Rights: every request acts as the token's user, who may do
//     everything; protected branches, push rules and merge checks are not
//     enforced.
//   - Commit statuses: no jobs limit per pipeline, no protected flag, and
//     one user sets them all. Pipelines never run: they keep the state a
//     test gives them.
package gitlabtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// Token is the access token the double accepts.
const Token = "glpat-gitlabtest"

// Server is the GitLab double.
type Server struct {
	t    testing.TB
	http *httptest.Server

	mu       sync.Mutex
	nextID   int64
	projects map[string]*project // by "namespace/path"
	users    map[string]*gl.User // by username
	gpgKeys  map[int64][]*gl.GPGKey
	groups   map[string]map[int64]gl.AccessLevelValue
	awards   map[int64][]string  // note ID → emoji names
	edited   map[int64]time.Time // note ID → lastEditedAt, once its body changed
	// discussion holds the notes that start a thread (GraphQL's
	// DiscussionNote).
	discussion      map[int64]bool
	graphQLPage     int                 // nodes per GraphQL page when under 100
	graphQLFailures []string            // errors to answer the next GraphQL queries with
	after           map[string][]func() // "METHOD escaped-path" → hooks to run after serving
	self            string              // the token's user, answered by GET /user
	failures        map[string][]int    // "METHOD escaped-path" → statuses to answer next
	gitRoot         string              // bare repositories, made on the first Git request
	requests        []string
	// hideApprovedAt answers approvals without approved_at, as older
	// GitLab does.
	hideApprovedAt bool
	// clock is the last time stamp handed out for an approval or a merge
	// request diff version; see stampLocked.
	clock time.Time
	hook  hook // where the actions of actions.go deliver their webhooks
}

type project struct {
	p          *gl.Project
	approvals  gl.ProjectApprovals
	members    map[int64]gl.AccessLevelValue
	branches   map[string]string             // name → SHA
	commits    map[string]*gl.Commit         // by SHA
	trees      map[string]map[string][]byte  // SHA → path → content
	signatures map[string]*gl.GPGSignature   // by SHA
	statuses   map[string][]*gl.CommitStatus // by SHA, oldest first
	retried    map[int64]bool                // status IDs a newer one of their name replaced
	pipelines  []*gl.Pipeline
	mrs        map[int64]*mergeRequest
	issues     map[int64]*issue
	nextIID    int64
	nextIssue  int64

	// Git smart HTTP; see git.go.
	bare         bool              // the bare repository exists
	real         map[string]bool   // commits imported from a push, by SHA
	placeholders map[string]string // model-made SHA → placeholder commit
	standsFor    map[string]string // placeholder commit → model-made SHA
}

type issue struct {
	is    *gl.Issue
	notes []*gl.Note
}

type mergeRequest struct {
	headPipeline int64 // head_pipeline held back by a test, 0 when computed
	mr           *gl.MergeRequest
	commits      []string // SHAs, oldest first
	diffs        []*gl.MergeRequestDiff
	approved     []approval
	notes        []*gl.Note
	// versions are the merge request's diff versions, oldest first: one
	// more each time its head changes, as GitLab makes one when it takes
	// in a push.
	versions []*gl.MergeRequestDiffVersion
}

// approval is one user's approval of a merge request and when it was
// given (GitLab's approved_at).
type approval struct {
	user int64
	at   time.Time
}

// New starts a double that stops when the test ends.
func New(t testing.TB) *Server {
	s := &Server{
		t: t, nextID: 1000,
		projects: map[string]*project{},
		users:    map[string]*gl.User{},
		gpgKeys:  map[int64][]*gl.GPGKey{},
		groups:   map[string]map[int64]gl.AccessLevelValue{},
		awards:   map[int64][]string{},
		failures: map[string][]int{},
		edited:   map[int64]time.Time{},
		after:    map[string][]func(){},

		discussion: map[int64]bool{},
	}
	s.http = httptest.NewServer(s.routes())
	t.Cleanup(s.http.Close)
	s.AddUser(DefaultSelf)
	s.mu.Lock()
	s.users[DefaultSelf].Bot = true
	s.self = DefaultSelf
	s.mu.Unlock()
	return s
}

// DefaultSelf is the username of the token's own user, a bot user New
// creates.
const DefaultSelf = "gitward-bot"

// SetSelf makes username, created as a plain user when absent, the user
// the token belongs to: GET /user answers it, and notes and merge requests
// created through the API are authored by it.
func (s *Server) SetSelf(username string) {
	s.mu.Lock()
	_, ok := s.users[username]
	s.mu.Unlock()
	if !ok {
		s.AddUser(username)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.self = username
}

// URL is the instance's base URL.
func (s *Server) URL() string { return s.http.URL }

// Client returns a client-go client for the double.
func (s *Server) Client() *gl.Client {
	c, err := gl.NewClient(Token, gl.WithBaseURL(s.http.URL+"/api/v4"), gl.WithHTTPClient(s.http.Client()))
	if err != nil {
		s.t.Fatalf("gitlabtest: client: %v", err)
	}
	return c
}

// Requests lists "METHOD path" of every request served, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// FailNext makes the next request "METHOD path" (path as sent, escaped,
// without the query) answer status instead of being served; called again,
// it queues further failures.
func (s *Server) FailNext(method, path string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := method + " " + path
	s.failures[k] = append(s.failures[k], status)
}

// AfterNext runs fn once, after the next request "METHOD path" (path as
// sent, escaped, without the query) has been served and before its answer
// reaches the client, with the server unlocked: fn may change the double,
// such as push to a merge request between two reads of the adapter.
// Called again, it queues further hooks.
func (s *Server) AfterNext(method, path string, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := method + " " + path
	s.after[k] = append(s.after[k], fn)
}

func (s *Server) id() int64 { s.nextID++; return s.nextID }

// now is the current time at the millisecond precision GitLab keeps.
func now() *time.Time { t := time.Now().UTC().Truncate(time.Millisecond); return &t }

// stampLocked is the time of an approval, a note, a commit status or a
// merge request diff version: the current time at millisecond precision,
// but always after the last stamp, so that of two events made one after
// the other in a test the later one is later on the clock too, as it
// would be on GitLab.
func (s *Server) stampLocked() time.Time {
	t := *now()
	if !t.After(s.clock) {
		t = s.clock.Add(time.Millisecond)
	}
	s.clock = t
	return t
}

// ProjectOptions seed a project.
type ProjectOptions struct {
	DefaultBranch        string
	Archived             bool
	ResetApprovalsOnPush bool
}

// AddProject creates project "namespace/path" with an empty root commit on
// its default branch ("main" unless set).
func (s *Server) AddProject(full string, o ProjectOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.DefaultBranch == "" {
		o.DefaultBranch = "main"
	}
	i := strings.LastIndex(full, "/")
	ns, path := full[:i], full[i+1:]
	p := &project{
		p: &gl.Project{
			ID: s.id(), Path: path, Name: path, PathWithNamespace: full, DefaultBranch: o.DefaultBranch,
			Archived: o.Archived, WebURL: s.http.URL + "/" + full, HTTPURLToRepo: s.http.URL + "/" + full + ".git",
			Namespace: &gl.ProjectNamespace{Path: ns[strings.LastIndex(ns, "/")+1:], FullPath: ns, Kind: "group"},
		},
		approvals:  gl.ProjectApprovals{ResetApprovalsOnPush: o.ResetApprovalsOnPush},
		members:    map[int64]gl.AccessLevelValue{},
		branches:   map[string]string{},
		commits:    map[string]*gl.Commit{},
		trees:      map[string]map[string][]byte{},
		signatures: map[string]*gl.GPGSignature{},
		statuses:   map[string][]*gl.CommitStatus{},
		retried:    map[int64]bool{},
		mrs:        map[int64]*mergeRequest{},
		issues:     map[int64]*issue{},

		real:         map[string]bool{},
		placeholders: map[string]string{},
		standsFor:    map[string]string{},
	}
	s.projects[full] = p
	root := s.commitLocked(p, "", "initial commit", nil)
	p.branches[o.DefaultBranch] = root
}

func (s *Server) project(full string) *project {
	p, ok := s.projects[full]
	if !ok {
		s.t.Fatalf("gitlabtest: no project %s", full)
	}
	return p
}

// commitLocked records a commit on top of parent with files changed (nil
// content deletes) and returns its SHA.
func (s *Server) commitLocked(p *project, parent, message string, files map[string][]byte) string {
	tree := map[string][]byte{}
	for k, v := range p.trees[parent] {
		tree[k] = v
	}
	for k, v := range files {
		if v == nil {
			delete(tree, k)
		} else {
			tree[k] = v
		}
	}
	h := sha1.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d", parent, message, s.id())
	sha := hex.EncodeToString(h.Sum(nil))
	c := &gl.Commit{
		ID: sha, ShortID: sha[:8], Title: strings.SplitN(message, "\n", 2)[0], Message: message,
		AuthorName: "Dev", AuthorEmail: "dev@example.com", AuthoredDate: now(),
		CommitterName: "Dev", CommitterEmail: "dev@example.com", CommittedDate: now(), CreatedAt: now(),
	}
	if parent != "" {
		c.ParentIDs = []string{parent}
	}
	p.commits[sha] = c
	p.trees[sha] = tree
	return sha
}

// Commit adds a commit to branch (created from the default branch when
// absent) and returns its SHA. A nil content deletes the file.
func (s *Server) Commit(full, branch, message string, files map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(full)
	parent, ok := p.branches[branch]
	if !ok {
		parent = p.branches[p.p.DefaultBranch]
	}
	fs := map[string][]byte{}
	for k, v := range files {
		fs[k] = []byte(v)
	}
	sha := s.commitLocked(p, parent, message, fs)
	p.branches[branch] = sha
	return sha
}

// SetCommitAuthor sets a commit's author.
func (s *Server) SetCommitAuthor(full, sha, name, email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.project(full).commits[sha]
	c.AuthorName, c.AuthorEmail = name, email
}

// Sign records GitLab's signature verdict for a commit, such as
// "verified" or "unverified"; unsigned commits have none.
func (s *Server) Sign(full, sha, verificationStatus string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.project(full).signatures[sha] = &gl.GPGSignature{KeyID: s.id(), KeyPrimaryKeyID: "ABCDEF0123456789", VerificationStatus: verificationStatus}
}

// BranchHead returns the SHA branch points at, or "".
func (s *Server) BranchHead(full, branch string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.project(full).branches[branch]
}

// FileAt returns a file's content at a commit and whether it exists.
func (s *Server) FileAt(full, sha, path string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.project(full).trees[sha][path]
	return string(b), ok
}

// AddUser creates a user and returns its ID.
func (s *Server) AddUser(username string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &gl.User{ID: s.id(), Username: username, Name: username, State: "active"}
	s.users[username] = u
	return u.ID
}

// AddBot creates a bot user, such as a project access token's or another
// tool's (Renovate), and returns its ID: GET /users/:id and GraphQL say
// "bot": true.
func (s *Server) AddBot(username string) int64 {
	id := s.AddUser(username)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[username].Bot = true
	return id
}

func (s *Server) user(username string) *gl.User {
	u, ok := s.users[username]
	if !ok {
		s.t.Fatalf("gitlabtest: no user %s", username)
	}
	return u
}

// AddGPGKey registers an armored public key for a user.
func (s *Server) AddGPGKey(username, armored string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.user(username)
	s.gpgKeys[u.ID] = append(s.gpgKeys[u.ID], &gl.GPGKey{ID: s.id(), Key: armored, CreatedAt: now()})
}

// SetMember gives a user an access level on a project.
func (s *Server) SetMember(full, username string, level gl.AccessLevelValue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.project(full).members[s.user(username).ID] = level
}

// SetGroupMember makes a user a member of a group.
func (s *Server) SetGroupMember(group, username string, level gl.AccessLevelValue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[group] == nil {
		s.groups[group] = map[int64]gl.AccessLevelValue{}
	}
	s.groups[group][s.user(username).ID] = level
}

// MergeRequestOptions seed a merge request.
type MergeRequestOptions struct {
	Source, Target, Title, Description, Author string
	Labels                                     []string
	Draft                                      bool
	Diffs                                      []*gl.MergeRequestDiff
}

// AddMergeRequest opens a merge request from Source into Target (the
// default branch unless set); its commits are those of Source not on
// Target. It returns the IID.
func (s *Server) AddMergeRequest(full string, o MergeRequestOptions) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(full)
	if o.Target == "" {
		o.Target = p.p.DefaultBranch
	}
	p.nextIID++
	u := s.user(o.Author)
	mr := &gl.MergeRequest{BasicMergeRequest: gl.BasicMergeRequest{
		ID: s.id(), IID: p.nextIID, ProjectID: p.p.ID, Title: o.Title, Description: o.Description,
		State: "opened", SourceBranch: o.Source, TargetBranch: o.Target, Draft: o.Draft,
		Labels: gl.Labels(slices.Clone(o.Labels)), CreatedAt: now(), UpdatedAt: now(),
		Author:          &gl.BasicUser{ID: u.ID, Username: u.Username, Name: u.Name, State: "active"},
		WebURL:          fmt.Sprintf("%s/%s/-/merge_requests/%d", s.http.URL, full, p.nextIID),
		SourceProjectID: p.p.ID, TargetProjectID: p.p.ID,
	}}
	m := &mergeRequest{mr: mr, diffs: o.Diffs}
	p.mrs[mr.IID] = m
	s.refreshLocked(p, m)
	return mr.IID
}

// refreshLocked recomputes a merge request's commits and refs from its
// branches.
func (s *Server) refreshLocked(p *project, m *mergeRequest) {
	mr := m.mr
	base := p.branches[mr.TargetBranch]
	onTarget := map[string]bool{}
	for c := base; c != ""; {
		onTarget[c] = true
		if ps := p.commits[c].ParentIDs; len(ps) > 0 {
			c = ps[0]
		} else {
			c = ""
		}
	}
	var commits []string
	head := p.branches[mr.SourceBranch]
	mergeBase := ""
	for c := head; c != ""; {
		if onTarget[c] {
			mergeBase = c
			break
		}
		commits = append([]string{c}, commits...)
		if ps := p.commits[c].ParentIDs; len(ps) > 0 {
			c = ps[0]
		} else {
			c = ""
		}
	}
	m.commits = commits
	mr.SHA = head
	// GitLab's base_sha is the merge base (where the source branch left
	// the target), start_sha the target's head.
	mr.DiffRefs.HeadSha = head
	mr.DiffRefs.BaseSha = mergeBase
	mr.DiffRefs.StartSha = base
	// A new head of an open merge request is a push GitLab takes in: a
	// new diff version, created now, and with "Reset approvals when
	// commits are added" the approvals are gone (GitLab resets them in a
	// background job; see ApproveAt for one that has not run yet).
	if mr.State != "opened" || head == "" {
		return
	}
	if n := len(m.versions); n > 0 && m.versions[n-1].HeadCommitSHA == head {
		return
	}
	at := s.stampLocked()
	m.versions = append(m.versions, &gl.MergeRequestDiffVersion{
		ID: s.id(), HeadCommitSHA: head, BaseCommitSHA: mergeBase, StartCommitSHA: base,
		CreatedAt: &at, MergeRequestID: mr.ID, State: "collected",
	})
	if len(m.versions) > 1 && p.approvals.ResetApprovalsOnPush {
		m.approved = nil
	}
}

// Push adds a commit to a merge request's source branch, as a push would:
// the merge request gets a new diff version, and loses its approvals when
// the project resets them on push.
func (s *Server) Push(full string, iid int64, message string, files map[string]string) string {
	s.mu.Lock()
	p := s.project(full)
	branch := p.mrs[iid].mr.SourceBranch
	s.mu.Unlock()
	sha := s.Commit(full, branch, message, files)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshLocked(p, p.mrs[iid])
	return sha
}

// Merge merges a merge request: the target branch moves to a merge commit.
func (s *Server) Merge(full string, iid int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(full)
	m := p.mrs[iid]
	files := map[string][]byte{}
	for k, v := range p.trees[p.branches[m.mr.SourceBranch]] {
		files[k] = v
	}
	sha := s.commitLocked(p, p.branches[m.mr.TargetBranch], "Merge branch '"+m.mr.SourceBranch+"'", files)
	p.commits[sha].ParentIDs = append(p.commits[sha].ParentIDs, p.branches[m.mr.SourceBranch])
	p.branches[m.mr.TargetBranch] = sha
	at := s.stampLocked()
	m.mr.State, m.mr.MergeCommitSHA, m.mr.MergedAt, m.mr.UpdatedAt = "merged", sha, &at, &at
	return sha
}

// Approve records a user's approval of a merge request, given now: GET
// .../approvals answers this moment as its approved_at.
func (s *Server) Approve(full string, iid int64, username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.approveLocked(full, iid, username, s.stampLocked())
}

// ApproveAt records a user's approval of a merge request given at at,
// whatever happened since: an approval given before a push that is still
// listed because GitLab's background reset has not run yet, or one given
// before a project stopped resetting approvals.
func (s *Server) ApproveAt(full string, iid int64, username string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.approveLocked(full, iid, username, at.UTC().Truncate(time.Millisecond))
}

func (s *Server) approveLocked(full string, iid int64, username string, at time.Time) {
	m, ok := s.project(full).mrs[iid]
	if !ok {
		s.t.Fatalf("gitlabtest: no merge request %s!%d", full, iid)
	}
	m.approved = append(m.approved, approval{user: s.user(username).ID, at: at})
}

// HideApprovedAt makes GET .../approvals answer without approved_at, as
// GitLab versions from before the field do.
func (s *Server) HideApprovedAt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hideApprovedAt = true
}

// Versions returns copies of a merge request's diff versions, newest
// first, as GET .../versions answers them.
func (s *Server) Versions(full string, iid int64) []gl.MergeRequestDiffVersion {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.project(full).mrs[iid]
	if !ok {
		s.t.Fatalf("gitlabtest: no merge request %s!%d", full, iid)
	}
	var out []gl.MergeRequestDiffVersion
	for i := len(m.versions) - 1; i >= 0; i-- {
		out = append(out, *m.versions[i])
	}
	return out
}

// AddNote posts a note on a merge request as a user and returns its ID.
func (s *Server) AddNote(full string, iid int64, username, body string, system bool) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.project(full).mrs[iid]
	n := s.noteLocked("MergeRequest", iid, username, body, system)
	m.notes = append(m.notes, n)
	return n.ID
}

// AddIssue opens an issue and returns its IID.
func (s *Server) AddIssue(full, title string, labels ...string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(full)
	p.nextIssue++
	is := &gl.Issue{
		ID: s.id(), IID: p.nextIssue, ProjectID: p.p.ID, Title: title, State: "opened",
		Labels: gl.Labels(slices.Clone(labels)), CreatedAt: now(), UpdatedAt: now(),
		WebURL: fmt.Sprintf("%s/%s/-/issues/%d", s.http.URL, full, p.nextIssue),
	}
	p.issues[is.IID] = &issue{is: is}
	return is.IID
}

// AddIssueNote posts a note on an issue as a user and returns its ID.
func (s *Server) AddIssueNote(full string, iid int64, username, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.project(full).issues[iid]
	if !ok {
		s.t.Fatalf("gitlabtest: no issue %s#%d", full, iid)
	}
	n := s.noteLocked("Issue", iid, username, body, false)
	it.notes = append(it.notes, n)
	return n.ID
}

// noteLocked makes a note as a user writes it in the web UI: one that
// is not a system note starts a thread.
func (s *Server) noteLocked(typ string, iid int64, username, body string, system bool) *gl.Note {
	u := s.user(username)
	n := &gl.Note{
		ID: s.id(), Body: body, System: system, NoteableType: typ, NoteableIID: iid,
		Author: gl.NoteAuthor{ID: u.ID, Username: u.Username, Name: u.Name, State: "active"},
	}
	at := s.stampLocked()
	n.CreatedAt, n.UpdatedAt = &at, &at
	s.discussion[n.ID] = !system
	return n
}

// Notes returns a merge request's notes.
func (s *Server) Notes(full string, iid int64) []gl.Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyNotes(s.project(full).mrs[iid].notes)
}

// IssueNotes returns an issue's notes.
func (s *Server) IssueNotes(full string, iid int64) []gl.Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.project(full).issues[iid]
	if !ok {
		s.t.Fatalf("gitlabtest: no issue %s#%d", full, iid)
	}
	return copyNotes(it.notes)
}

func copyNotes(ns []*gl.Note) []gl.Note {
	var out []gl.Note
	for _, n := range ns {
		out = append(out, *n)
	}
	return out
}

// Awards returns the emoji awarded to a note.
func (s *Server) Awards(noteID int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.awards[noteID])
}

// Statuses returns the latest commit status of each name in each
// pipeline of sha, oldest first, as GitLab lists them by default.
func (s *Server) Statuses(full, sha string) []gl.CommitStatus {
	return s.statusesWhere(full, sha, func(st *gl.CommitStatus, retried bool) bool { return !retried })
}

// AllStatuses returns every commit status set on sha, retried ones too,
// oldest first, as GitLab lists them with all=true.
func (s *Server) AllStatuses(full, sha string) []gl.CommitStatus {
	return s.statusesWhere(full, sha, func(*gl.CommitStatus, bool) bool { return true })
}

// statusesWhere returns copies of the statuses on sha that keep accepts.
func (s *Server) statusesWhere(full, sha string, keep func(st *gl.CommitStatus, retried bool) bool) []gl.CommitStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(full)
	var out []gl.CommitStatus
	for _, st := range p.statuses[sha] {
		if keep(st, p.retried[st.ID]) {
			out = append(out, *st)
		}
	}
	return out
}

// MergeRequest returns a copy of a merge request.
func (s *Server) MergeRequest(full string, iid int64) gl.MergeRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.project(full).mrs[iid].mr
}

// Issue returns a copy of an issue.
func (s *Server) Issue(full string, iid int64) gl.Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.project(full).issues[iid].is
}

// Archive builds the tar.gz GitLab serves for a commit: every file under
// one top folder "<project>-<sha>-<sha>/".
func (s *Server) archive(p *project, sha string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	top := fmt.Sprintf("%s-%s-%s/", p.p.Path, sha, sha)
	_ = tw.WriteHeader(&tar.Header{Name: top, Typeflag: tar.TypeDir, Mode: 0o755})
	paths := make([]string, 0, len(p.trees[sha]))
	for k := range p.trees[sha] {
		paths = append(paths, k)
	}
	sort.Strings(paths)
	dirs := map[string]bool{}
	for _, k := range paths {
		parts := strings.Split(k, "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/") + "/"
			if !dirs[d] {
				dirs[d] = true
				_ = tw.WriteHeader(&tar.Header{Name: top + d, Typeflag: tar.TypeDir, Mode: 0o755})
			}
		}
		b := p.trees[sha][k]
		_ = tw.WriteHeader(&tar.Header{Name: top + k, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))})
		_, _ = tw.Write(b)
	}
	_ = tw.Close()
	_ = zw.Close()
	return buf.Bytes()
}

// decodeContent reads a commit action's content.
func decodeContent(a *gl.CommitActionOptions) ([]byte, error) {
	if a.Content == nil {
		return nil, nil
	}
	if a.Encoding != nil && *a.Encoding == "base64" {
		return base64.StdEncoding.DecodeString(*a.Content)
	}
	return []byte(*a.Content), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func message(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

func atoi(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func sortedKeys[K int64 | string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
