package gitlabtest

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// User actions: what a person does in GitLab's web UI or with git, each
// changing the double as GitLab would and then sending the webhooks
// GitLab sends for it (see events.go). Every time an action stamps is
// strictly later than any stamp before it, at GitLab's millisecond
// precision, so an action is never simultaneous with the one before.
// A merge request's changed files (GET .../diffs) are derived from the
// trees of its merge base and head, never set by hand.
//
// Not modelled: "Prevent approval by author" and the other approval
// settings beyond reset on push; merge checks (GitLab's Merge action
// merges whatever it is asked to); squash and fast-forward merges.

// Actor is a user of the double acting through its UI or with git.
type Actor struct {
	s    *Server
	user string
}

// As returns the actor for username, who must have been added.
func (s *Server) As(username string) Actor {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user(username)
	return Actor{s: s, user: username}
}

// Identity is a commit author or committer.
type Identity struct{ Name, Email string }

// NewCommit is one commit an actor pushes.
type NewCommit struct {
	// Author defaults to the actor (their name, username@example.com);
	// Committer to the author.
	Author, Committer Identity
	Message           string
	Files             map[string]string
	Delete            []string
	// Verification is GitLab's signature verdict on the commit
	// ("verified", "unverified", "other_user", ...); "" is unsigned.
	Verification string
}

// noteTarget is what a note is on.
type noteTarget struct {
	mr    *mergeRequest
	issue *issue
}

// Push pushes one commit onto branch (created from the default branch
// when absent) and returns its SHA. GitLab sends the Push Hook, then a
// Merge Request Hook "update" with oldrev for each open merge request
// from the branch, which gets a new diff version.
func (a Actor) Push(full, branch string, c NewCommit) string {
	s := a.s
	s.mu.Lock()
	p := s.project(full)
	before, existed := p.branches[branch]
	parent := before
	if !existed {
		parent = p.branches[p.p.DefaultBranch]
		before = zeroSHA
	}
	files := map[string][]byte{}
	for k, v := range c.Files {
		files[k] = []byte(v)
	}
	for _, k := range c.Delete {
		files[k] = nil
	}
	sha := s.commitLocked(p, parent, c.Message, files)
	cm := p.commits[sha]
	author := c.Author
	if author.Name == "" {
		u := s.user(a.user)
		author = Identity{Name: u.Name, Email: a.user + "@example.com"}
	}
	committer := c.Committer
	if committer.Name == "" {
		committer = author
	}
	at := s.stampLocked()
	cm.AuthorName, cm.AuthorEmail, cm.AuthoredDate = author.Name, author.Email, &at
	cm.CommitterName, cm.CommitterEmail, cm.CommittedDate, cm.CreatedAt = committer.Name, committer.Email, &at, &at
	if c.Verification != "" {
		p.signatures[sha] = &gl.GPGSignature{KeyID: s.id(), KeyPrimaryKeyID: "ABCDEF0123456789", VerificationStatus: c.Verification}
	}
	p.branches[branch] = sha
	events := []func(){}
	push := s.pushEventLocked(p, a.user, "refs/heads/"+branch, before, sha, []string{sha})
	events = append(events, func() { s.deliver("Push Hook", "", push) })
	for _, iid := range sortedKeys(p.mrs) {
		m := p.mrs[iid]
		if m.mr.State != "opened" || m.mr.SourceBranch != branch {
			continue
		}
		oldrev := m.mr.SHA
		s.refreshLocked(p, m)
		m.diffs = mergeRequestDiffsLocked(p, m)
		m.mr.UpdatedAt = &at
		ev := s.mergeRequestEventLocked(p, m, a.user, "update", oldrev)
		events = append(events, func() { s.deliver("Merge Request Hook", "update", ev) })
	}
	s.mu.Unlock()
	for _, send := range events {
		send()
	}
	return sha
}

// OpenMergeRequest opens a merge request from source into the default
// branch and returns its IID; GitLab sends Merge Request Hook "open".
func (a Actor) OpenMergeRequest(full, source, title string) int64 {
	s := a.s
	iid := s.AddMergeRequest(full, MergeRequestOptions{Source: source, Title: title, Author: a.user})
	s.mu.Lock()
	p := s.project(full)
	m := p.mrs[iid]
	at := s.stampLocked()
	m.mr.CreatedAt, m.mr.UpdatedAt = &at, &at
	m.diffs = mergeRequestDiffsLocked(p, m)
	ev := s.mergeRequestEventLocked(p, m, a.user, "open", "")
	s.mu.Unlock()
	s.deliver("Merge Request Hook", "open", ev)
	return iid
}

// Approve approves a merge request with GitLab's Approve button; GitLab
// sends Merge Request Hook "approved".
func (a Actor) Approve(full string, iid int64) {
	s := a.s
	s.mu.Lock()
	p := s.project(full)
	m := a.mrLocked(p, full, iid)
	u := s.user(a.user)
	if slices.ContainsFunc(m.approved, func(ap approval) bool { return ap.user == u.ID }) {
		s.mu.Unlock()
		s.t.Fatalf("gitlabtest: %s already approved %s!%d", a.user, full, iid)
	}
	s.approveLocked(full, iid, a.user, s.stampLocked())
	ev := s.mergeRequestEventLocked(p, m, a.user, "approved", "")
	s.mu.Unlock()
	s.deliver("Merge Request Hook", "approved", ev)
}

// Unapprove revokes the actor's approval; GitLab sends Merge Request Hook
// "unapproved".
func (a Actor) Unapprove(full string, iid int64) {
	s := a.s
	s.mu.Lock()
	p := s.project(full)
	m := a.mrLocked(p, full, iid)
	u := s.user(a.user)
	m.approved = slices.DeleteFunc(m.approved, func(ap approval) bool { return ap.user == u.ID })
	ev := s.mergeRequestEventLocked(p, m, a.user, "unapproved", "")
	s.mu.Unlock()
	s.deliver("Merge Request Hook", "unapproved", ev)
}

// Note writes a note on a merge request and returns its ID; GitLab sends
// a Note Hook.
func (a Actor) Note(full string, iid int64, body string) int64 {
	s := a.s
	s.mu.Lock()
	p := s.project(full)
	m := a.mrLocked(p, full, iid)
	n := s.noteLocked("MergeRequest", iid, a.user, body, false)
	at := s.stampLocked()
	n.CreatedAt, n.UpdatedAt, n.NoteableID = &at, &at, m.mr.ID
	m.notes = append(m.notes, n)
	ev := s.noteEventLocked(p, noteTarget{mr: m}, s.noteHookLocked(p, n, "create"), a.user)
	s.mu.Unlock()
	s.deliver("Note Hook", "create", ev)
	return n.ID
}

// IssueNote writes a note on an issue and returns its ID; GitLab sends a
// Note Hook.
func (a Actor) IssueNote(full string, iid int64, body string) int64 {
	s := a.s
	s.mu.Lock()
	p := s.project(full)
	it, ok := p.issues[iid]
	if !ok {
		s.mu.Unlock()
		s.t.Fatalf("gitlabtest: no issue %s#%d", full, iid)
	}
	n := s.noteLocked("Issue", iid, a.user, body, false)
	at := s.stampLocked()
	n.CreatedAt, n.UpdatedAt, n.NoteableID = &at, &at, it.is.ID
	it.notes = append(it.notes, n)
	ev := s.noteEventLocked(p, noteTarget{issue: it}, s.noteHookLocked(p, n, "create"), a.user)
	s.mu.Unlock()
	s.deliver("Note Hook", "create", ev)
	return n.ID
}

// EditNote changes the body of the actor's note; GitLab sends a Note Hook
// with action "update" (and nothing of the earlier text).
func (a Actor) EditNote(full string, noteID int64, body string) {
	s := a.s
	s.mu.Lock()
	p := s.project(full)
	n := s.findNoteLocked(p, noteID)
	if n == nil {
		s.mu.Unlock()
		s.t.Fatalf("gitlabtest: no note %d in %s", noteID, full)
	}
	if n.Author.Username != a.user {
		s.mu.Unlock()
		s.t.Fatalf("gitlabtest: %s cannot edit %s's note", a.user, n.Author.Username)
	}
	if n.Body == body {
		s.mu.Unlock()
		return
	}
	at := s.stampLocked()
	n.Body, n.UpdatedAt = body, &at
	s.edited[n.ID] = at
	var target noteTarget
	if n.NoteableType == "Issue" {
		target.issue = p.issues[n.NoteableIID]
	} else {
		target.mr = p.mrs[n.NoteableIID]
	}
	ev := s.noteEventLocked(p, target, s.noteHookLocked(p, n, "update"), a.user)
	s.mu.Unlock()
	s.deliver("Note Hook", "update", ev)
}

// Merge merges a merge request with a merge commit and returns its SHA;
// GitLab sends Merge Request Hook "merge" and the target branch's Push
// Hook.
func (a Actor) Merge(full string, iid int64) string {
	s := a.s
	s.mu.Lock()
	p := s.project(full)
	m := a.mrLocked(p, full, iid)
	if m.mr.State != "opened" {
		s.mu.Unlock()
		s.t.Fatalf("gitlabtest: %s!%d is %s, not open", full, iid, m.mr.State)
	}
	before := p.branches[m.mr.TargetBranch]
	s.mu.Unlock()
	sha := s.Merge(full, iid)
	s.mu.Lock()
	at := s.stampLocked()
	u := s.user(a.user)
	c := p.commits[sha]
	c.AuthorName, c.AuthorEmail, c.CommitterName, c.CommitterEmail = u.Name, a.user+"@example.com", u.Name, a.user+"@example.com"
	c.AuthoredDate, c.CommittedDate, c.CreatedAt = &at, &at, &at
	c.Message = fmt.Sprintf("Merge branch '%s' into '%s'\n\n%s\n\nSee merge request %s!%d", m.mr.SourceBranch, m.mr.TargetBranch, m.mr.Title, full, iid)
	c.Title = strings.SplitN(c.Message, "\n", 2)[0]
	m.mr.UpdatedAt, m.mr.MergedAt = &at, &at
	merger := &gl.BasicUser{ID: u.ID, Username: u.Username, Name: u.Name, State: "active"}
	//lint:ignore SA1019 GitLab still sends merged_by beside merge_user, and gitward reads it
	m.mr.MergedBy, m.mr.MergeUser = merger, merger
	mergeEv := s.mergeRequestEventLocked(p, m, a.user, "merge", "")
	pushEv := s.pushEventLocked(p, a.user, "refs/heads/"+m.mr.TargetBranch, before, sha, append(slices.Clone(m.commits), sha))
	s.mu.Unlock()
	s.deliver("Merge Request Hook", "merge", mergeEv)
	s.deliver("Push Hook", "", pushEv)
	return sha
}

func (a Actor) mrLocked(p *project, full string, iid int64) *mergeRequest {
	m, ok := p.mrs[iid]
	if !ok {
		a.s.mu.Unlock()
		a.s.t.Fatalf("gitlabtest: no merge request %s!%d", full, iid)
	}
	return m
}

// noteHookLocked is a note as a Note Hook's object_attributes.
func (s *Server) noteHookLocked(p *project, n *gl.Note, action string) map[string]any {
	return map[string]any{
		"id": n.ID, "note": n.Body, "noteable_type": n.NoteableType, "author_id": n.Author.ID,
		"created_at": hookTime(n.CreatedAt), "updated_at": hookTime(n.UpdatedAt), "project_id": p.p.ID,
		"attachment": nil, "line_code": nil, "commit_id": "", "noteable_id": n.NoteableID, "system": n.System,
		"st_diff": nil, "action": action, "url": fmt.Sprintf("%s#note_%d", p.p.WebURL, n.ID),
	}
}

// zeroSHA is the "before" of a push that creates a branch.
const zeroSHA = "0000000000000000000000000000000000000000"

// mergeRequestDiffsLocked derives a merge request's changed files from the
// trees of its merge base and head.
func mergeRequestDiffsLocked(p *project, m *mergeRequest) []*gl.MergeRequestDiff {
	return treeChanges(p.trees[m.mr.DiffRefs.BaseSha], p.trees[m.mr.SHA])
}

// treeChanges lists the files that differ between two trees, by path,
// with a unified diff of each as GitLab answers it.
func treeChanges(from, to map[string][]byte) []*gl.MergeRequestDiff {
	paths := map[string]bool{}
	for k := range from {
		paths[k] = true
	}
	for k := range to {
		paths[k] = true
	}
	sorted := make([]string, 0, len(paths))
	for k := range paths {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var out []*gl.MergeRequestDiff
	for _, path := range sorted {
		old, hadOld := from[path]
		cur, hasNew := to[path]
		if hadOld && hasNew && string(old) == string(cur) {
			continue
		}
		out = append(out, &gl.MergeRequestDiff{
			OldPath: path, NewPath: path, AMode: mode(hadOld), BMode: mode(hasNew),
			NewFile: !hadOld, DeletedFile: !hasNew, Diff: unifiedDiff(string(old), string(cur)),
		})
	}
	return out
}

func mode(exists bool) string {
	if exists {
		return "100644"
	}
	return "0"
}

// unifiedDiff is a whole-file hunk: every old line removed, every new one
// added. GitLab's hunks are minimal; gitward reads paths, not hunks.
func unifiedDiff(old, cur string) string {
	lines := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	}
	o, n := lines(old), lines(cur)
	var b strings.Builder
	fmt.Fprintf(&b, "@@ -%s +%s @@\n", hunkRange(len(o)), hunkRange(len(n)))
	for _, l := range o {
		b.WriteString("-" + l + "\n")
	}
	for _, l := range n {
		b.WriteString("+" + l + "\n")
	}
	return b.String()
}

func hunkRange(n int) string {
	if n == 0 {
		return "0,0"
	}
	return fmt.Sprintf("1,%d", n)
}

// Issues returns copies of a project's issues, by IID.
func (s *Server) Issues(full string) []gl.Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(full)
	var out []gl.Issue
	for _, iid := range sortedKeys(p.issues) {
		out = append(out, *p.issues[iid].is)
	}
	return out
}

// StartPipeline starts a pending pipeline of CI for the head of an open
// merge request and returns its ID; GitLab sends a Pipeline Hook. A
// merge request pipeline (mrPipeline) runs on refs/merge-requests/IID/head
// with source "merge_request_event" and names the merge request in the
// hook; a branch pipeline runs on the source branch with source "push".
func (a Actor) StartPipeline(full string, iid int64, mrPipeline bool) int64 {
	s := a.s
	s.mu.Lock()
	p := s.project(full)
	m := a.mrLocked(p, full, iid)
	sha, ref, source := m.mr.SHA, m.mr.SourceBranch, "push"
	if mrPipeline {
		ref, source = fmt.Sprintf("refs/merge-requests/%d/head", iid), "merge_request_event"
	}
	s.mu.Unlock()
	id := s.AddPipeline(full, sha, ref, source)
	s.mu.Lock()
	var pl *gl.Pipeline
	for _, x := range p.pipelines {
		if x.ID == id {
			pl = x
		}
	}
	oa := map[string]any{
		"id": id, "iid": len(p.pipelines), "ref": ref, "tag": false, "sha": sha, "before_sha": zeroSHA,
		"source": source, "status": "pending", "detailed_status": "pending", "stages": []string{"test"},
		"created_at": hookTime(pl.CreatedAt), "finished_at": nil, "duration": nil, "queued_duration": nil, "variables": []any{},
	}
	var mrHook any
	if mrPipeline {
		mr := m.mr
		mrHook = map[string]any{
			"id": mr.ID, "iid": mr.IID, "title": mr.Title, "source_branch": mr.SourceBranch, "source_project_id": mr.SourceProjectID,
			"target_branch": mr.TargetBranch, "target_project_id": mr.TargetProjectID, "state": mr.State,
			"merge_status": "can_be_merged", "detailed_merge_status": "mergeable", "url": mr.WebURL,
		}
	}
	ev := map[string]any{
		"object_kind": "pipeline", "object_attributes": oa, "merge_request": mrHook,
		"user": s.userHookLocked(a.user), "project": s.projectHookLocked(p),
		"commit": s.lastCommitHookLocked(p, sha), "source_pipeline": nil, "builds": []any{},
	}
	s.mu.Unlock()
	s.deliver("Pipeline Hook", "pending", ev)
	return id
}
