package githubtest

import (
	"crypto/sha1"
	"fmt"
	"sort"
	"strings"
	"time"
)

// emptyTreeSHA is git's hash of the empty tree.
const emptyTreeSHA = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

type installation struct {
	id        int64
	account   string
	suspended bool
	created   time.Time
}

type teamMember struct{ role, state string }

type repo struct {
	id             int64
	owner, name    string
	defaultBranch  string
	installationID int64
	private        bool
	archived       bool
	created        time.Time

	nextNumber  int
	pulls       map[int]*pull
	issues      map[int]*issue // issues that are not pull requests
	labels      map[int][]string
	labelIDs    map[string]int64
	comments    []*comment
	commits     map[string]*commit
	trees       map[string]*tree
	blobs       map[string][]byte
	refs        map[string]string // "heads/main" → commit SHA
	checkRuns   []*CheckRun
	permissions map[string]string
	tarballs    map[string][]byte
}

func (r *repo) fullName() string { return r.owner + "/" + r.name }

type pull struct {
	PullRequest
	id      int64
	commits []string
	reviews []Review
	files   []File
	// landed are commits the pull request's merge wrote on its base
	// branch (see LandCommits).
	landed []string
	// unlinked hides the merged pull request from commits/{sha}/pulls
	// until GitHub has linked it (see WithCommitLinkLag).
	unlinked bool
}

type issue struct {
	Issue
	id int64
}

type comment struct {
	Comment
	number    int
	reactions []reaction
}

type reaction struct {
	id      int64
	user    string
	content string
	created time.Time
}

type commit struct {
	Commit
	tree string
}

// tree is a flat map of file paths to entries, as a commit sees them.
type tree struct {
	sha     string
	entries map[string]treeEntry
}

type treeEntry struct {
	mode string // "100644", "100755", "120000" (symlink)
	blob string
}

// PullRequest seeds a pull request. Number 0 takes the repository's next
// issue number; State "" means "open".
type PullRequest struct {
	Number  int
	Title   string
	Body    string
	Author  string
	BaseRef string
	BaseSHA string
	HeadRef string
	HeadSHA string
	// HeadRepo is the "owner/name" of the head repository of a pull
	// request from a fork; empty means the same repository.
	HeadRepo       string
	State          string
	Draft          bool
	Merged         bool
	MergeCommitSHA string
	Labels         []string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ClosedAt       time.Time
}

// Identity is the author or committer of a commit. Login links it to a
// GitHub account; empty means no account matched the email.
type Identity struct {
	Name  string
	Email string
	Login string
	Date  time.Time
}

// Commit seeds a commit. With no Parents, a commit added to a pull request
// gets the previous commit of that pull request (or its base SHA) as its
// parent. Reason "" becomes "valid" when Verified and "unsigned" otherwise.
type Commit struct {
	SHA       string
	Parents   []string
	Author    Identity
	Committer Identity
	Message   string
	Verified  bool
	Reason    string
	Signature string
	Payload   string
}

// Review seeds a pull request review. ID 0 assigns one; State is GitHub's
// ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED").
type Review struct {
	ID          int64
	User        string
	State       string
	Body        string
	CommitID    string
	SubmittedAt time.Time
}

// Comment is an issue or pull request conversation comment.
type Comment struct {
	ID        int64
	User      string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// File is one changed file of a pull request. Status is GitHub's
// ("added", "removed", "modified", "renamed", ...).
type File struct {
	Filename         string
	Status           string
	Additions        int
	Deletions        int
	PreviousFilename string
	Patch            string
}

// Issue is an issue (not a pull request) of a repository.
type Issue struct {
	Number    int
	Title     string
	Body      string
	Author    string
	State     string
	Labels    []string
	Assignees []string
	CreatedAt time.Time
	UpdatedAt time.Time
	ClosedAt  time.Time
}

// TreeEntry is one file of a seeded tree. Mode is git's: "100644" (the
// default), "100755" for executables, "120000" for a symlink whose
// Content is the link target.
type TreeEntry struct {
	Path    string
	Content string
	Mode    string
}

// CheckRun is a check run as the double stores it.
type CheckRun struct {
	ID          int64
	AppID       int64
	Name        string
	HeadSHA     string
	Status      string
	Conclusion  string
	ExternalID  string
	DetailsURL  string
	StartedAt   time.Time
	CompletedAt time.Time
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
}

// Annotation is one check run annotation.
type Annotation struct {
	Path            string `json:"path"`
	StartLine       int    `json:"start_line"`
	EndLine         int    `json:"end_line"`
	AnnotationLevel string `json:"annotation_level"`
	Message         string `json:"message"`
	Title           string `json:"title,omitempty"`
	RawDetails      string `json:"raw_details,omitempty"`
}

// AddInstallation installs the app on an organization account.
func (s *Server) AddInstallation(id int64, account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.installations[id] = &installation{id: id, account: account, created: s.now()}
	s.userID(account)
}

// SuspendInstallation marks an installation suspended: it is still listed,
// with suspended_at set, but gets no tokens.
func (s *Server) SuspendInstallation(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustInstallation("SuspendInstallation", id).suspended = true
}

// AddRepo adds a repository to an installation. The default branch ref
// is created when a commit is known for it (see SetRef).
func (s *Server) AddRepo(installationID int64, owner, name, defaultBranch string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustInstallation("AddRepo", installationID)
	s.userID(owner)
	s.repos[owner+"/"+name] = &repo{
		id:             s.newID(),
		owner:          owner,
		name:           name,
		defaultBranch:  defaultBranch,
		installationID: installationID,
		private:        true,
		created:        s.now(),
		pulls:          map[int]*pull{},
		issues:         map[int]*issue{},
		labels:         map[int][]string{},
		labelIDs:       map[string]int64{},
		commits:        map[string]*commit{},
		trees:          map[string]*tree{emptyTreeSHA: {sha: emptyTreeSHA, entries: map[string]treeEntry{}}},
		blobs:          map[string][]byte{},
		refs:           map[string]string{},
		permissions:    map[string]string{},
		tarballs:       map[string][]byte{},
	}
}

// ArchiveRepo marks a repository archived: it is still listed, with
// archived set.
func (s *Server) ArchiveRepo(repoName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustRepo("ArchiveRepo", repoName).archived = true
}

// AddCheckRun seeds a check run, for example one of another app (AppID
// other than the double's), and returns its ID. AppID 0 means the double's
// app, Status "" means "completed" when Conclusion is set and "queued"
// otherwise; the commit is created when unknown.
func (s *Server) AddCheckRun(repoName string, cr CheckRun) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo("AddCheckRun", repoName)
	if cr.ID == 0 {
		cr.ID = s.newID()
	}
	if cr.AppID == 0 {
		cr.AppID = s.cfg.appID
	}
	if cr.Status == "" {
		cr.Status = "queued"
		if cr.Conclusion != "" {
			cr.Status = "completed"
		}
	}
	if cr.StartedAt.IsZero() {
		cr.StartedAt = s.now()
	}
	if cr.Status == "completed" && cr.CompletedAt.IsZero() {
		cr.CompletedAt = s.now()
	}
	if r.commits[cr.HeadSHA] == nil {
		r.commits[cr.HeadSHA] = &commit{Commit: Commit{SHA: cr.HeadSHA, Reason: "unsigned"}, tree: emptyTreeSHA}
	}
	cr.Annotations = append([]Annotation(nil), cr.Annotations...)
	r.checkRuns = append(r.checkRuns, &cr)
	return cr.ID
}

// AddUser fixes the numeric ID of a login; others get one on first use.
func (s *Server) AddUser(login string, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[login] = id
}

// UserID returns the numeric ID the double gives a login.
func (s *Server) UserID(login string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userID(login)
}

func (s *Server) userID(login string) int64 {
	if id, ok := s.users[login]; ok {
		return id
	}
	used := map[int64]bool{}
	for _, id := range s.users {
		used[id] = true
	}
	id := int64(100 + len(s.users))
	for used[id] {
		id++
	}
	s.users[login] = id
	return id
}

// AddPullRequest seeds a pull request and returns its number. Commits for
// the base and head SHAs are created when unknown, and the base and head
// branches point at them unless they already exist.
func (s *Server) AddPullRequest(repoName string, pr PullRequest) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo("AddPullRequest", repoName)
	if pr.Number == 0 {
		pr.Number = r.takeNumber()
	} else if pr.Number > r.nextNumber {
		r.nextNumber = pr.Number
	}
	if pr.State == "" {
		pr.State = "open"
	}
	if pr.BaseRef == "" {
		pr.BaseRef = r.defaultBranch
	}
	if pr.CreatedAt.IsZero() {
		pr.CreatedAt = s.now()
	}
	if pr.UpdatedAt.IsZero() {
		pr.UpdatedAt = pr.CreatedAt
	}
	for _, sha := range []string{pr.BaseSHA, pr.HeadSHA} {
		if sha != "" && r.commits[sha] == nil {
			r.commits[sha] = &commit{Commit: Commit{SHA: sha, Reason: "unsigned"}, tree: emptyTreeSHA}
		}
	}
	if pr.BaseSHA != "" {
		r.setRefIfAbsent("heads/"+pr.BaseRef, pr.BaseSHA)
	}
	if pr.HeadSHA != "" && pr.HeadRef != "" && pr.HeadRepo == "" {
		r.setRefIfAbsent("heads/"+pr.HeadRef, pr.HeadSHA)
	}
	s.userID(pr.Author)
	r.pulls[pr.Number] = &pull{PullRequest: pr, id: s.newID()}
	r.labels[pr.Number] = append([]string(nil), pr.Labels...)
	return pr.Number
}

// AddCommit stores a commit and, when pr is not 0, appends it to that pull
// request's commits.
func (s *Server) AddCommit(repoName string, pr int, c Commit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo("AddCommit", repoName)
	var p *pull
	if pr != 0 {
		p = s.mustPull("AddCommit", r, pr)
		if c.Parents == nil {
			if n := len(p.commits); n > 0 {
				c.Parents = []string{p.commits[n-1]}
			} else if p.BaseSHA != "" {
				c.Parents = []string{p.BaseSHA}
			}
		}
		p.commits = append(p.commits, c.SHA)
	}
	if c.Reason == "" {
		c.Reason = "unsigned"
		if c.Verified {
			c.Reason = "valid"
		}
	}
	for _, id := range []Identity{c.Author, c.Committer} {
		if id.Login != "" {
			s.userID(id.Login)
		}
	}
	treeSHA := emptyTreeSHA
	if old := r.commits[c.SHA]; old != nil {
		treeSHA = old.tree
	}
	r.commits[c.SHA] = &commit{Commit: c, tree: treeSHA}
}

// AddReview adds a review to a pull request and returns its ID.
func (s *Server) AddReview(repoName string, pr int, rv Review) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPull("AddReview", s.mustRepo("AddReview", repoName), pr)
	if rv.ID == 0 {
		rv.ID = s.newID()
	}
	if rv.SubmittedAt.IsZero() {
		rv.SubmittedAt = s.now()
	}
	s.userID(rv.User)
	p.reviews = append(p.reviews, rv)
	return rv.ID
}

// DismissReview marks a review DISMISSED, as a maintainer dismissing it in
// the web interface does; GitHub keeps its commit and submission time.
func (s *Server) DismissReview(repoName string, pr int, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPull("DismissReview", s.mustRepo("DismissReview", repoName), pr)
	for i := range p.reviews {
		if p.reviews[i].ID == id {
			p.reviews[i].State = "DISMISSED"
			return
		}
	}
	s.t.Fatalf("githubtest: DismissReview: no review %d on %s#%d", id, repoName, pr)
}

// AddComment adds a conversation comment to an issue or pull request and
// returns its ID.
func (s *Server) AddComment(repoName string, number int, c Comment) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo("AddComment", repoName)
	if c.ID == 0 {
		c.ID = s.newID()
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	s.userID(c.User)
	r.comments = append(r.comments, &comment{Comment: c, number: number})
	return c.ID
}

// EditComment changes a comment's body as its author would in the web
// interface, moving its updated_at.
func (s *Server) EditComment(repoName string, id int64, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo("EditComment", repoName)
	for _, c := range r.comments {
		if c.ID == id {
			c.Body = body
			c.UpdatedAt = s.now()
			if !c.UpdatedAt.After(c.CreatedAt) {
				c.UpdatedAt = c.CreatedAt.Add(time.Second)
			}
			return
		}
	}
	s.t.Fatalf("githubtest: EditComment: no comment %d in %s", id, repoName)
}

// SetFiles sets the changed files of a pull request.
func (s *Server) SetFiles(repoName string, pr int, files []File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPull("SetFiles", s.mustRepo("SetFiles", repoName), pr)
	p.files = append([]File(nil), files...)
}

// AddIssue seeds an issue and returns its number.
func (s *Server) AddIssue(repoName string, is Issue) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo("AddIssue", repoName)
	if is.Number == 0 {
		is.Number = r.takeNumber()
	} else if is.Number > r.nextNumber {
		r.nextNumber = is.Number
	}
	if is.State == "" {
		is.State = "open"
	}
	if is.CreatedAt.IsZero() {
		is.CreatedAt = s.now()
	}
	if is.UpdatedAt.IsZero() {
		is.UpdatedAt = is.CreatedAt
	}
	s.userID(is.Author)
	r.issues[is.Number] = &issue{Issue: is, id: s.newID()}
	r.labels[is.Number] = append([]string(nil), is.Labels...)
	return is.Number
}

// SetPermission sets a user's role on a repository: "admin", "maintain",
// "write", "triage", "read" or "none". Users without one have "none".
func (s *Server) SetPermission(repoName, user, role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userID(user)
	s.mustRepo("SetPermission", repoName).permissions[user] = role
}

// SetTeamMember makes user a member of org/team with role "member" or
// "maintainer" and state "active" or "pending".
func (s *Server) SetTeamMember(org, team, user, role, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userID(user)
	key := org + "/" + team
	if s.teams[key] == nil {
		s.teams[key] = map[string]teamMember{}
	}
	s.teams[key][user] = teamMember{role: role, state: state}
}

// SetRef points a ref ("heads/main", "tags/v1") at a commit, creating the
// commit when unknown.
func (s *Server) SetRef(repoName, ref, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo("SetRef", repoName)
	if r.commits[sha] == nil {
		r.commits[sha] = &commit{Commit: Commit{SHA: sha, Reason: "unsigned"}, tree: emptyTreeSHA}
	}
	r.refs[strings.TrimPrefix(ref, "refs/")] = sha
}

// SetTree sets the files of the commit sha (regular files, mode 100644);
// the commit is created when unknown. The contents and tarball endpoints
// serve this tree for the commit and for refs pointing at it.
func (s *Server) SetTree(repoName, sha string, files map[string]string) {
	entries := make([]TreeEntry, 0, len(files))
	for p, content := range files {
		entries = append(entries, TreeEntry{Path: p, Content: content})
	}
	s.SetTreeEntries(repoName, sha, entries)
}

// SetTreeEntries is SetTree with file modes and symlinks.
func (s *Server) SetTreeEntries(repoName, sha string, entries []TreeEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo("SetTreeEntries", repoName)
	t := &tree{entries: map[string]treeEntry{}}
	for _, e := range entries {
		mode := e.Mode
		if mode == "" {
			mode = "100644"
		}
		t.entries[strings.TrimPrefix(e.Path, "/")] = treeEntry{mode: mode, blob: r.putBlob([]byte(e.Content))}
	}
	r.putTree(t)
	c := r.commits[sha]
	if c == nil {
		c = &commit{Commit: Commit{SHA: sha, Reason: "unsigned"}}
		r.commits[sha] = c
	}
	c.tree = t.sha
}

// SetTarball makes the archive of commit sha exactly raw, for tests of
// broken or hostile archives.
func (s *Server) SetTarball(repoName, sha string, raw []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo("SetTarball", repoName)
	if r.commits[sha] == nil {
		r.commits[sha] = &commit{Commit: Commit{SHA: sha, Reason: "unsigned"}, tree: emptyTreeSHA}
	}
	r.tarballs[sha] = raw
}

// CheckRuns returns the check runs on a commit, oldest first.
func (s *Server) CheckRuns(repoName, sha string) []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckRun
	for _, cr := range s.mustRepo("CheckRuns", repoName).checkRuns {
		if cr.HeadSHA == sha {
			c := *cr
			c.Annotations = append([]Annotation(nil), cr.Annotations...)
			out = append(out, c)
		}
	}
	return out
}

// Comments returns the conversation comments of an issue or pull request,
// oldest first.
func (s *Server) Comments(repoName string, number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.mustRepo("Comments", repoName).comments {
		if c.number == number {
			out = append(out, c.Comment)
		}
	}
	return out
}

// Reactions returns the reactions ("+1", "eyes", ...) on a comment.
func (s *Server) Reactions(repoName string, commentID int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.mustRepo("Reactions", repoName).comments {
		if c.ID == commentID {
			for _, rc := range c.reactions {
				out = append(out, rc.content)
			}
		}
	}
	return out
}

// Labels returns the labels of an issue or pull request, sorted.
func (s *Server) Labels(repoName string, number int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.mustRepo("Labels", repoName).labels[number]...)
	sort.Strings(out)
	return out
}

// Issues returns the repository's issues (not pull requests) by number.
func (s *Server) Issues(repoName string) []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo("Issues", repoName)
	var out []Issue
	for _, n := range sortedInts(r.issues) {
		is := r.issues[n].Issue
		is.Labels = append([]string(nil), r.labels[n]...)
		out = append(out, is)
	}
	return out
}

// PullRequests returns the repository's pull requests by number.
func (s *Server) PullRequests(repoName string) []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo("PullRequests", repoName)
	var out []PullRequest
	for _, n := range sortedInts(r.pulls) {
		p := r.pulls[n].PullRequest
		p.Labels = append([]string(nil), r.labels[n]...)
		out = append(out, p)
	}
	return out
}

// Ref returns the commit a ref ("heads/main") points at, or "".
func (s *Server) Ref(repoName, ref string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mustRepo("Ref", repoName).refs[strings.TrimPrefix(ref, "refs/")]
}

// GitCommit returns a stored commit (seeded or created through the API)
// and its parents.
func (s *Server) GitCommit(repoName, sha string) (Commit, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustRepo("GitCommit", repoName).commits[sha]
	if c == nil {
		return Commit{}, false
	}
	return c.Commit, true
}

// Files returns the files of the tree at ref (a SHA or branch), with their
// contents, or nil when the ref is unknown.
func (s *Server) Files(repoName, ref string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo("Files", repoName)
	sha, ok := r.resolve(ref)
	if !ok {
		return nil
	}
	out := map[string]string{}
	for p, e := range r.trees[r.commits[sha].tree].entries {
		out[p] = string(r.blobs[e.blob])
	}
	return out
}

func (s *Server) mustInstallation(fn string, id int64) *installation {
	in := s.installations[id]
	if in == nil {
		s.t.Fatalf("githubtest: %s: no installation %d (AddInstallation first)", fn, id)
	}
	return in
}

func (s *Server) mustRepo(fn, name string) *repo {
	r := s.repos[name]
	if r == nil {
		s.t.Fatalf("githubtest: %s: no repository %q (AddRepo first; names are \"owner/name\")", fn, name)
	}
	return r
}

func (s *Server) mustPull(fn string, r *repo, number int) *pull {
	p := r.pulls[number]
	if p == nil {
		s.t.Fatalf("githubtest: %s: no pull request %s#%d (AddPullRequest first)", fn, r.fullName(), number)
	}
	return p
}

func (r *repo) takeNumber() int {
	r.nextNumber++
	return r.nextNumber
}

func (r *repo) setRefIfAbsent(ref, sha string) {
	if _, ok := r.refs[ref]; !ok {
		r.refs[ref] = sha
	}
}

// putBlob stores content under its git blob hash.
func (r *repo) putBlob(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	sha := fmt.Sprintf("%x", h.Sum(nil))
	r.blobs[sha] = content
	return sha
}

// putTree stores t under a hash of its entries. It is not git's tree hash
// (the double keeps trees flat) but it is stable and content-addressed.
func (r *repo) putTree(t *tree) {
	h := sha1.New()
	for _, p := range sortedKeys(t.entries) {
		fmt.Fprintf(h, "%s %s %s\n", t.entries[p].mode, p, t.entries[p].blob)
	}
	t.sha = fmt.Sprintf("%x", h.Sum(nil))
	if len(t.entries) == 0 {
		t.sha = emptyTreeSHA
	}
	r.trees[t.sha] = t
}

// resolve turns a commit SHA, branch, tag or full ref into a commit SHA.
// An empty ref means the default branch.
func (r *repo) resolve(ref string) (string, bool) {
	if ref == "" {
		ref = r.defaultBranch
	}
	if r.commits[ref] != nil {
		return ref, true
	}
	ref = strings.TrimPrefix(ref, "refs/")
	for _, candidate := range []string{ref, "heads/" + ref, "tags/" + ref} {
		if sha, ok := r.refs[candidate]; ok {
			return sha, true
		}
	}
	return "", false
}

// isAncestor reports whether ancestor is reachable from sha by parents.
func (r *repo) isAncestor(ancestor, sha string) bool {
	seen := map[string]bool{}
	queue := []string{sha}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == ancestor {
			return true
		}
		if seen[cur] {
			continue
		}
		seen[cur] = true
		if c := r.commits[cur]; c != nil {
			queue = append(queue, c.Parents...)
		}
	}
	return false
}

func sortedInts[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}
