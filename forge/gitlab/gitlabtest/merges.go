package gitlabtest

// SetBranch points branch at sha, as a push of an existing commit would
// (a force-push among them). Open merge requests from the branch follow
// it: a new head is a new diff version, as on GitLab.
func (s *Server) SetBranch(full, branch, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(full)
	if _, ok := p.commits[sha]; !ok {
		s.t.Fatalf("gitlabtest: SetBranch: no commit %s in %s", sha, full)
	}
	p.branches[branch] = sha
	for _, iid := range sortedKeys(p.mrs) {
		if m := p.mrs[iid]; m.mr.State == "opened" && m.mr.SourceBranch == branch {
			s.refreshLocked(p, m)
		}
	}
}

// MarkMerged marks a merge request merged without a merge commit, as
// GitLab does when its head is pushed straight to the target branch.
func (s *Server) MarkMerged(full string, iid int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.project(full).mrs[iid]
	m.mr.State, m.mr.MergeCommitSHA = "merged", ""
}

// DeleteUser removes a user, as an administrator deleting the account
// would: GraphQL then shows the user's notes without an author.
func (s *Server) DeleteUser(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, username)
}
