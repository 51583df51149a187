package gitlabtest

import (
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// Helpers for tests that drive the adapter from outside forge/gitlab, such
// as the drift scan: seed notes at a chosen time, and read back the merge
// requests, commits and trees the adapter wrote.

// AddIssueNoteAt posts a note on an issue as a user, written at at (for
// tests whose clock is not the wall clock), and returns its ID.
func (s *Server) AddIssueNoteAt(full string, iid int64, username, body string, at time.Time) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.project(full).issues[iid]
	if !ok {
		s.t.Fatalf("gitlabtest: no issue %s#%d", full, iid)
	}
	n := s.noteLocked("Issue", iid, username, body, false)
	t := at.UTC().Truncate(time.Millisecond)
	n.CreatedAt, n.UpdatedAt = &t, &t
	it.notes = append(it.notes, n)
	return n.ID
}

// MergeRequests returns copies of a project's merge requests, in IID
// order, whatever their state.
func (s *Server) MergeRequests(full string) []gl.MergeRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(full)
	var out []gl.MergeRequest
	for _, iid := range sortedKeys(p.mrs) {
		out = append(out, *p.mrs[iid].mr)
	}
	return out
}

// GitCommit returns a copy of one commit of a project, and whether it
// exists.
func (s *Server) GitCommit(full, sha string) (gl.Commit, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.project(full).commits[sha]
	if !ok {
		return gl.Commit{}, false
	}
	out := *c
	out.ParentIDs = append([]string(nil), c.ParentIDs...)
	return out, true
}

// Files returns every file at a branch or commit SHA, path → content; nil
// when there is no such branch or commit.
func (s *Server) Files(full, ref string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(full)
	if sha, ok := p.branches[ref]; ok {
		ref = sha
	}
	tree, ok := p.trees[ref]
	if !ok {
		return nil
	}
	out := make(map[string]string, len(tree))
	for k, v := range tree {
		out[k] = string(v)
	}
	return out
}
