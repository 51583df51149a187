package gitlabtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// handler serves one endpoint with the server locked and the project, when
// the path names one, resolved.
type handler func(w http.ResponseWriter, r *http.Request, p *project)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	h := func(pattern string, fn handler) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			defer s.mu.Unlock()
			var p *project
			if id := r.PathValue("id"); id != "" {
				var ok bool
				if p, ok = s.projects[id]; !ok {
					message(w, http.StatusNotFound, "404 Project Not Found")
					return
				}
			}
			fn(w, r, p)
		})
	}
	const api = "/api/v4"
	h("GET "+api+"/projects", s.listProjects)
	h("GET "+api+"/projects/{id}", s.getProject)
	h("GET "+api+"/projects/{id}/approvals", s.projectApprovals)
	h("GET "+api+"/projects/{id}/merge_requests", s.listMRs)
	h("POST "+api+"/projects/{id}/merge_requests", s.createMR)
	h("GET "+api+"/projects/{id}/merge_requests/{iid}", s.withMR(s.getMR))
	h("PUT "+api+"/projects/{id}/merge_requests/{iid}", s.withMR(s.updateMR))
	h("GET "+api+"/projects/{id}/merge_requests/{iid}/commits", s.withMR(s.mrCommits))
	h("GET "+api+"/projects/{id}/merge_requests/{iid}/approvals", s.withMR(s.mrApprovals))
	h("GET "+api+"/projects/{id}/merge_requests/{iid}/diffs", s.withMR(s.mrDiffs))
	h("GET "+api+"/projects/{id}/merge_requests/{iid}/versions", s.withMR(s.mrVersions))
	for _, kind := range []string{"merge_requests", "issues"} {
		notes := api + "/projects/{id}/" + kind + "/{iid}/notes"
		issue := kind == "issues"
		h("GET "+notes, s.withThread(issue, s.listNotes))
		h("POST "+notes, s.withThread(issue, s.createNote))
		h("GET "+notes+"/{note}", s.withThread(issue, s.getNote))
		h("PUT "+notes+"/{note}", s.withThread(issue, s.updateNote))
		h("DELETE "+notes+"/{note}", s.withThread(issue, s.deleteNote))
		h("POST "+notes+"/{note}/award_emoji", s.withThread(issue, s.award))
	}
	h("GET "+api+"/projects/{id}/repository/commits/{sha}", s.getCommit)
	h("GET "+api+"/projects/{id}/repository/commits/{sha}/signature", s.signature)
	h("GET "+api+"/projects/{id}/repository/commits/{sha}/statuses", s.listStatuses)
	h("GET "+api+"/projects/{id}/repository/commits/{sha}/merge_requests", s.commitMRs)
	h("POST "+api+"/projects/{id}/repository/commits", s.createCommit)
	h("POST "+api+"/projects/{id}/statuses/{sha}", s.setStatus)
	h("GET "+api+"/projects/{id}/repository/branches/{branch}", s.getBranch)
	h("GET "+api+"/projects/{id}/repository/files/{path}/raw", s.rawFile)
	h("GET "+api+"/projects/{id}/repository/archive.tar.gz", s.archiveHandler)
	h("GET "+api+"/projects/{id}/members/all/{user}", s.projectMember)
	h("GET "+api+"/groups/{group}/members/all/{user}", s.groupMember)
	h("GET "+api+"/user", s.currentUser)
	h("GET "+api+"/users", s.listUsers)
	h("GET "+api+"/users/{user}", s.getUser)
	h("GET "+api+"/users/{user}/gpg_keys", s.gpgKeysHandler)
	h("GET "+api+"/projects/{id}/issues", s.listIssues)
	h("POST "+api+"/projects/{id}/issues", s.createIssue)
	h("PUT "+api+"/projects/{id}/issues/{iid}", s.updateIssue)
	// GraphQL is at the instance's root, beside the REST API.
	h("POST /api/graphql", s.graphQL)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.EscapedPath()
		s.mu.Lock()
		s.requests = append(s.requests, key)
		fail := 0
		if f := s.failures[key]; len(f) > 0 {
			fail, s.failures[key] = f[0], f[1:]
		}
		var hook func()
		if f := s.after[key]; len(f) > 0 && fail == 0 {
			hook, s.after[key] = f[0], f[1:]
		}
		s.mu.Unlock()
		if fail != 0 {
			message(w, fail, fmt.Sprintf("%d injected by gitlabtest", fail))
			return
		}
		if isGitPath(r.URL.Path) {
			s.serveGit(w, r) // authenticated with HTTP Basic, not Private-Token
			return
		}
		if r.Header.Get("Private-Token") != Token {
			message(w, http.StatusUnauthorized, "401 Unauthorized")
			return
		}
		if _, pattern := mux.Handler(r); pattern == "" {
			s.t.Errorf("gitlabtest: unexpected request %s %s", r.Method, r.URL.EscapedPath())
			message(w, http.StatusNotFound, "404 Not Found (not in the double)")
			return
		}
		if hook == nil {
			mux.ServeHTTP(w, r)
			return
		}
		// Hold the answer until the hook has run, so the client cannot
		// act on it first.
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		hook()
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func (s *Server) withMR(fn func(w http.ResponseWriter, r *http.Request, p *project, m *mergeRequest)) handler {
	return func(w http.ResponseWriter, r *http.Request, p *project) {
		m, ok := p.mrs[atoi(r.PathValue("iid"))]
		if !ok {
			message(w, http.StatusNotFound, "404 Not found")
			return
		}
		fn(w, r, p, m)
	}
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		message(w, http.StatusBadRequest, "malformed body: "+err.Error())
		return false
	}
	return true
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request, _ *project) {
	q := r.URL.Query()
	var out []*gl.Project
	for _, k := range sortedKeys(s.projects) {
		p := s.projects[k]
		if q.Get("archived") == "false" && p.p.Archived {
			continue
		}
		out = append(out, p.p)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getProject(w http.ResponseWriter, _ *http.Request, p *project) {
	writeJSON(w, http.StatusOK, p.p)
}

func (s *Server) projectApprovals(w http.ResponseWriter, _ *http.Request, p *project) {
	writeJSON(w, http.StatusOK, p.approvals)
}

func (s *Server) listMRs(w http.ResponseWriter, r *http.Request, p *project) {
	q := r.URL.Query()
	out := []*gl.BasicMergeRequest{}
	for _, k := range sortedKeys(p.mrs) {
		mr := p.mrs[k].mr
		if st := q.Get("state"); st != "" && st != "all" && mr.State != st {
			continue
		}
		if b := q.Get("source_branch"); b != "" && mr.SourceBranch != b {
			continue
		}
		if b := q.Get("target_branch"); b != "" && mr.TargetBranch != b {
			continue
		}
		if after, err := time.Parse(time.RFC3339, q.Get("updated_after")); err == nil && (mr.UpdatedAt == nil || mr.UpdatedAt.Before(after)) {
			continue
		}
		out = append(out, &mr.BasicMergeRequest)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createMR(w http.ResponseWriter, r *http.Request, p *project) {
	var opt gl.CreateMergeRequestOptions
	if !decode(w, r, &opt) {
		return
	}
	if opt.SourceBranch == nil || p.branches[*opt.SourceBranch] == "" {
		message(w, http.StatusBadRequest, "source_branch is invalid")
		return
	}
	p.nextIID++
	mr := &gl.MergeRequest{BasicMergeRequest: gl.BasicMergeRequest{
		ID: s.id(), IID: p.nextIID, ProjectID: p.p.ID, Title: deref(opt.Title), Description: deref(opt.Description),
		State: "opened", SourceBranch: *opt.SourceBranch, TargetBranch: deref(opt.TargetBranch),
		CreatedAt: now(), UpdatedAt: now(), Author: basicUser(s.users[s.self]),
	}}
	mr.Labels = gl.Labels(labels(opt.Labels))
	m := &mergeRequest{mr: mr}
	p.mrs[mr.IID] = m
	s.refreshLocked(p, m)
	writeJSON(w, http.StatusCreated, mr)
}

func (s *Server) getMR(w http.ResponseWriter, _ *http.Request, p *project, m *mergeRequest) {
	// head_pipeline is the newest pipeline of the head commit on the
	// source branch or the merge request's own ref.
	m.mr.HeadPipeline = nil
	own := func(ref string) bool {
		return ref == m.mr.SourceBranch || ref == fmt.Sprintf("refs/merge-requests/%d/head", m.mr.IID)
	}
	pl := latestPipeline(p, m.mr.SHA, own)
	if id := m.headPipeline; id != 0 {
		// A test holds GitLab's head_pipeline back, as GitLab does for a
		// moment after a pipeline starts.
		pl = nil
		for _, x := range p.pipelines {
			if x.ID == id {
				pl = x
			}
		}
	}
	if pl != nil {
		c := *pl
		m.mr.HeadPipeline = &c
	}
	writeJSON(w, http.StatusOK, m.mr)
}

// latestPipeline is the newest pipeline of sha whose ref passes refOK
// (any ref when nil), or nil.
func latestPipeline(p *project, sha string, refOK func(string) bool) *gl.Pipeline {
	var out *gl.Pipeline
	for _, pl := range p.pipelines {
		if pl.SHA == sha && (refOK == nil || refOK(pl.Ref)) && (out == nil || pl.ID > out.ID) {
			out = pl
		}
	}
	return out
}

func (s *Server) updateMR(w http.ResponseWriter, r *http.Request, _ *project, m *mergeRequest) {
	var opt gl.UpdateMergeRequestOptions
	if !decode(w, r, &opt) {
		return
	}
	if opt.Title != nil {
		m.mr.Title = *opt.Title
	}
	if opt.Description != nil {
		m.mr.Description = *opt.Description
	}
	m.mr.Labels = updateLabels(m.mr.Labels, opt.AddLabels, opt.RemoveLabels)
	m.mr.UpdatedAt = now()
	writeJSON(w, http.StatusOK, m.mr)
}

func (s *Server) mrCommits(w http.ResponseWriter, _ *http.Request, p *project, m *mergeRequest) {
	out := []*gl.Commit{}
	for i := len(m.commits) - 1; i >= 0; i-- { // newest first, as GitLab
		out = append(out, p.commits[m.commits[i]])
	}
	writeJSON(w, http.StatusOK, out)
}

// approverUser is one entry of approved_by as current GitLab answers it;
// client-go's MergeRequestApproverUser has no approved_at.
type approverUser struct {
	User       *gl.BasicUser `json:"user"`
	ApprovedAt *time.Time    `json:"approved_at,omitempty"`
}

func (s *Server) mrApprovals(w http.ResponseWriter, _ *http.Request, _ *project, m *mergeRequest) {
	out := struct {
		gl.MergeRequestApprovals
		ApprovedBy []approverUser `json:"approved_by"`
	}{
		MergeRequestApprovals: gl.MergeRequestApprovals{ID: m.mr.ID, IID: m.mr.IID, ProjectID: m.mr.ProjectID, Approved: len(m.approved) > 0},
		ApprovedBy:            []approverUser{},
	}
	for _, a := range m.approved {
		u := s.userByID(a.user)
		if u == nil {
			continue
		}
		e := approverUser{User: &gl.BasicUser{ID: u.ID, Username: u.Username, Name: u.Name, State: u.State}}
		if !s.hideApprovedAt {
			at := a.at
			e.ApprovedAt = &at
		}
		out.ApprovedBy = append(out.ApprovedBy, e)
	}
	writeJSON(w, http.StatusOK, out)
}

// mrVersions lists the merge request's diff versions newest first, as
// GitLab does.
func (s *Server) mrVersions(w http.ResponseWriter, _ *http.Request, _ *project, m *mergeRequest) {
	out := []*gl.MergeRequestDiffVersion{}
	for i := len(m.versions) - 1; i >= 0; i-- {
		out = append(out, m.versions[i])
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) mrDiffs(w http.ResponseWriter, _ *http.Request, _ *project, m *mergeRequest) {
	out := m.diffs
	if out == nil {
		out = []*gl.MergeRequestDiff{}
	}
	writeJSON(w, http.StatusOK, out)
}

// thread is the note list of one merge request or issue.
type thread struct {
	typ   string // "MergeRequest" or "Issue"
	iid   int64
	notes *[]*gl.Note
}

// withThread resolves the merge request, or with issue the issue, that the
// path names.
func (s *Server) withThread(issue bool, fn func(w http.ResponseWriter, r *http.Request, p *project, th thread)) handler {
	return func(w http.ResponseWriter, r *http.Request, p *project) {
		iid := atoi(r.PathValue("iid"))
		if issue {
			it, ok := p.issues[iid]
			if !ok {
				message(w, http.StatusNotFound, "404 Issue Not Found")
				return
			}
			fn(w, r, p, thread{typ: "Issue", iid: iid, notes: &it.notes})
			return
		}
		m, ok := p.mrs[iid]
		if !ok {
			message(w, http.StatusNotFound, "404 Not found")
			return
		}
		fn(w, r, p, thread{typ: "MergeRequest", iid: iid, notes: &m.notes})
	}
}

func (s *Server) listNotes(w http.ResponseWriter, r *http.Request, _ *project, th thread) {
	out := slices.Clone(*th.notes)
	if r.URL.Query().Get("sort") != "asc" {
		slices.Reverse(out) // GitLab's default is newest first
	}
	if out == nil {
		out = []*gl.Note{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createNote(w http.ResponseWriter, r *http.Request, _ *project, th thread) {
	// The merge request and issue options share the one field read here.
	var opt gl.CreateMergeRequestNoteOptions
	if !decode(w, r, &opt) {
		return
	}
	u := s.users[s.self]
	at := s.stampLocked()
	n := &gl.Note{
		ID: s.id(), Body: deref(opt.Body), NoteableType: th.typ, NoteableIID: th.iid,
		Author:    gl.NoteAuthor{ID: u.ID, Username: u.Username, Name: u.Name, State: u.State},
		CreatedAt: &at, UpdatedAt: &at,
	}
	*th.notes = append(*th.notes, n)
	writeJSON(w, http.StatusCreated, n)
}

// findNote returns the index of the note the path names, or -1 after
// answering 404.
func findNote(w http.ResponseWriter, r *http.Request, th thread) int {
	id := atoi(r.PathValue("note"))
	i := slices.IndexFunc(*th.notes, func(n *gl.Note) bool { return n.ID == id })
	if i < 0 {
		message(w, http.StatusNotFound, "404 Note Not Found")
	}
	return i
}

func (s *Server) getNote(w http.ResponseWriter, r *http.Request, _ *project, th thread) {
	if i := findNote(w, r, th); i >= 0 {
		writeJSON(w, http.StatusOK, (*th.notes)[i])
	}
}

func (s *Server) updateNote(w http.ResponseWriter, r *http.Request, _ *project, th thread) {
	i := findNote(w, r, th)
	if i < 0 {
		return
	}
	var opt gl.UpdateMergeRequestNoteOptions
	if !decode(w, r, &opt) {
		return
	}
	s.editLocked((*th.notes)[i], deref(opt.Body))
	writeJSON(w, http.StatusOK, (*th.notes)[i])
}

func (s *Server) deleteNote(w http.ResponseWriter, r *http.Request, _ *project, th thread) {
	i := findNote(w, r, th)
	if i < 0 {
		return
	}
	*th.notes = slices.Delete(*th.notes, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

// award follows GitLab, which answers a repeated award with 404 "Award
// Emoji Name has already been taken".
func (s *Server) award(w http.ResponseWriter, r *http.Request, _ *project, th thread) {
	i := findNote(w, r, th)
	if i < 0 {
		return
	}
	n := (*th.notes)[i]
	id := n.ID
	var opt gl.CreateAwardEmojiOptions
	if !decode(w, r, &opt) {
		return
	}
	if slices.Contains(s.awards[id], opt.Name) {
		message(w, http.StatusNotFound, "404 Award Emoji Name has already been taken")
		return
	}
	s.awards[id] = append(s.awards[id], opt.Name)
	// GitLab touches the note (AwardEmoji#expire_cache → bump_updated_at):
	// updated_at moves, lastEditedAt does not.
	n.UpdatedAt = now()
	writeJSON(w, http.StatusCreated, gl.AwardEmoji{ID: s.id(), Name: opt.Name, AwardableID: id, AwardableType: "Note"})
}

func (s *Server) getCommit(w http.ResponseWriter, r *http.Request, p *project) {
	c, ok := p.commits[r.PathValue("sha")]
	if !ok {
		message(w, http.StatusNotFound, "404 Commit Not Found")
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) signature(w http.ResponseWriter, r *http.Request, p *project) {
	sig, ok := p.signatures[r.PathValue("sha")]
	if !ok {
		message(w, http.StatusNotFound, "404 Signature Not Found")
		return
	}
	writeJSON(w, http.StatusOK, sig)
}

// listStatuses lists a commit's statuses as GitLab does: only the latest
// of each name in each pipeline unless all=true asks for the retried ones
// too, optionally of one name or pipeline.
func (s *Server) listStatuses(w http.ResponseWriter, r *http.Request, p *project) {
	q := r.URL.Query()
	out := []*gl.CommitStatus{}
	for _, st := range p.statuses[r.PathValue("sha")] {
		switch {
		case p.retried[st.ID] && q.Get("all") != "true":
		case q.Get("name") != "" && st.Name != q.Get("name"):
		case q.Get("pipeline_id") != "" && strconv.FormatInt(st.PipelineID, 10) != q.Get("pipeline_id"):
		case q.Get("ref") != "" && st.Ref != q.Get("ref"):
		default:
			out = append(out, st)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// setStatus sets a commit status as GitLab's CreateCommitStatusService
// does. A pending or running status of the same name in the pipeline is
// moved to the new state in place (same ID and created_at); otherwise a
// new status is created, with a new ID and created_at, and the older ones
// of that name in the pipeline become retried, hidden from the default
// list. A move the status's state machine does not allow, such as running
// to running, is refused with 400, as GitLab refuses it.
func (s *Server) setStatus(w http.ResponseWriter, r *http.Request, p *project) {
	sha := r.PathValue("sha")
	if _, ok := p.commits[sha]; !ok {
		message(w, http.StatusNotFound, "404 Commit Not Found")
		return
	}
	var opt gl.SetCommitStatusOptions
	if !decode(w, r, &opt) {
		return
	}
	switch opt.State {
	case gl.Pending, gl.Running, gl.Success, gl.Failed, gl.Canceled, gl.Skipped:
	default:
		message(w, http.StatusBadRequest, "state does not have a valid value")
		return
	}
	// A status is a job of a pipeline of the commit: the one named, else
	// the commit's newest, else a new external pipeline.
	var pl *gl.Pipeline
	if opt.PipelineID != nil {
		i := slices.IndexFunc(p.pipelines, func(x *gl.Pipeline) bool { return x.ID == *opt.PipelineID })
		if i < 0 || p.pipelines[i].SHA != sha {
			message(w, http.StatusNotFound, "404 Pipeline for pipeline_id, sha and ref Not Found")
			return
		}
		pl = p.pipelines[i]
	} else if pl = latestPipeline(p, sha, nil); pl == nil {
		ref := deref(opt.Ref)
		for _, b := range sortedKeys(p.branches) {
			if ref == "" && p.branches[b] == sha {
				ref = b // GitLab's default: a branch holding the commit
			}
		}
		pl = &gl.Pipeline{ID: s.id(), ProjectID: p.p.ID, SHA: sha, Ref: ref, Source: "external", Status: string(opt.State), CreatedAt: now()}
		p.pipelines = append(p.pipelines, pl)
	}
	name := deref(opt.Name)
	if name == "" {
		name = "default"
	}
	list := p.statuses[sha]
	i := slices.IndexFunc(list, func(x *gl.CommitStatus) bool {
		return x.Name == name && x.PipelineID == pl.ID && (x.Status == string(gl.Pending) || x.Status == string(gl.Running))
	})
	created := s.stampLocked()
	st := &gl.CommitStatus{ID: s.id(), SHA: sha, Status: "created", Name: name, Ref: pl.Ref, PipelineID: pl.ID, CreatedAt: &created}
	if i >= 0 {
		copied := *list[i]
		st = &copied
	}
	if err := transition(st, opt.State); err != nil {
		message(w, http.StatusBadRequest, err.Error())
		return
	}
	if opt.Description != nil {
		st.Description = *opt.Description
	}
	if opt.TargetURL != nil {
		st.TargetURL = *opt.TargetURL
	}
	if i >= 0 {
		list[i] = st
	} else {
		for _, old := range list {
			if old.Name == name && old.PipelineID == pl.ID {
				p.retried[old.ID] = true
			}
		}
		p.statuses[sha] = append(list, st)
	}
	writeJSON(w, http.StatusCreated, st)
}

// transition moves a commit status to state as GitLab's state machine
// does (enqueue, run, success, drop, cancel, skip), stamping started_at
// and finished_at, or says why it may not.
func transition(st *gl.CommitStatus, state gl.BuildStateValue) error {
	from := gl.BuildStateValue(st.Status)
	event, ok := "", false
	switch state {
	case gl.Pending:
		event, ok = "enqueue", from == "created"
	case gl.Running:
		event, ok = "run", from == "created" || from == gl.Pending
	case gl.Success, gl.Failed, gl.Canceled:
		event, ok = map[gl.BuildStateValue]string{gl.Success: "success", gl.Failed: "drop", gl.Canceled: "cancel"}[state], from == "created" || from == gl.Pending || from == gl.Running
	case gl.Skipped:
		event, ok = "skip", from == "created" || from == gl.Pending
	}
	if !ok {
		//lint:ignore ST1005 GitLab's own message, word for word
		return fmt.Errorf("Cannot transition status via :%s from :%s", event, from)
	}
	st.Status = string(state)
	if state == gl.Running {
		st.StartedAt = now()
	} else if state != gl.Pending {
		st.FinishedAt = now()
	}
	return nil
}

func (s *Server) commitMRs(w http.ResponseWriter, r *http.Request, p *project) {
	sha := r.PathValue("sha")
	out := []*gl.BasicMergeRequest{}
	for _, k := range sortedKeys(p.mrs) {
		m := p.mrs[k]
		if slices.Contains(m.commits, sha) || m.mr.MergeCommitSHA == sha {
			out = append(out, &m.mr.BasicMergeRequest)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// createCommit follows GitLab: start_sha only for a new branch; per action
// last_commit_id must still be the last commit to touch the file.
func (s *Server) createCommit(w http.ResponseWriter, r *http.Request, p *project) {
	var opt gl.CreateCommitOptions
	if !decode(w, r, &opt) {
		return
	}
	branch := deref(opt.Branch)
	parent, exists := p.branches[branch]
	if opt.StartSHA != nil {
		if exists {
			message(w, http.StatusBadRequest, "A branch called '"+branch+"' already exists. Switch to that branch in order to make changes")
			return
		}
		if _, ok := p.commits[*opt.StartSHA]; !ok {
			message(w, http.StatusBadRequest, "Invalid start_sha")
			return
		}
		parent = *opt.StartSHA
	} else if !exists {
		message(w, http.StatusBadRequest, "You can only create or edit files when you are on a branch")
		return
	}
	files := map[string][]byte{}
	for _, a := range opt.Actions {
		path := deref(a.FilePath)
		_, present := p.trees[parent][path]
		switch deref(a.Action) {
		case gl.FileCreate:
			if present {
				message(w, http.StatusBadRequest, "A file with this name already exists")
				return
			}
		case gl.FileUpdate, gl.FileDelete:
			if !present {
				message(w, http.StatusBadRequest, "A file with this name doesn't exist")
				return
			}
		default:
			message(w, http.StatusBadRequest, "actions[action] does not have a valid value")
			return
		}
		if a.LastCommitID != nil && s.lastTouch(p, parent, path) != *a.LastCommitID && !s.ancestorUntouched(p, parent, *a.LastCommitID, path) {
			message(w, http.StatusBadRequest, "The file has changed since you started editing it: "+path)
			return
		}
		if deref(a.Action) == gl.FileDelete {
			files[path] = nil
			continue
		}
		b, err := decodeContent(a)
		if err != nil {
			message(w, http.StatusBadRequest, "invalid base64")
			return
		}
		if b == nil {
			b = []byte{}
		}
		files[path] = b
	}
	tree := maps.Clone(p.trees[parent])
	if tree == nil {
		tree = map[string][]byte{}
	}
	for path, b := range files {
		if b == nil {
			delete(tree, path)
		} else {
			tree[path] = b
		}
	}
	sha, err := s.apiCommitLocked(p, parent, deref(opt.CommitMessage), tree, files, deref(opt.AuthorName), deref(opt.AuthorEmail))
	if err != nil {
		s.t.Errorf("gitlabtest: %s: commit: %v", p.p.PathWithNamespace, err)
		message(w, http.StatusInternalServerError, err.Error())
		return
	}
	p.branches[branch] = sha
	// Open merge requests from or into the branch follow it, as on GitLab.
	for _, m := range p.mrs {
		if m.mr.State == "opened" && (m.mr.SourceBranch == branch || m.mr.TargetBranch == branch) {
			s.refreshLocked(p, m)
		}
	}
	writeJSON(w, http.StatusCreated, p.commits[sha])
}

// lastTouch returns the newest commit from head back that changed path.
func (s *Server) lastTouch(p *project, head, path string) string {
	for c := head; c != ""; {
		ps := p.commits[c].ParentIDs
		parent := ""
		if len(ps) > 0 {
			parent = ps[0]
		}
		a, aok := p.trees[c][path]
		b, bok := p.trees[parent][path]
		if aok != bok || string(a) != string(b) {
			return c
		}
		c = parent
	}
	return ""
}

// ancestorUntouched reports whether since is an ancestor of head and path
// is unchanged between them.
func (s *Server) ancestorUntouched(p *project, head, since, path string) bool {
	for c := head; c != ""; {
		if c == since {
			return true
		}
		ps := p.commits[c].ParentIDs
		parent := ""
		if len(ps) > 0 {
			parent = ps[0]
		}
		a, aok := p.trees[c][path]
		b, bok := p.trees[parent][path]
		if aok != bok || string(a) != string(b) {
			return false
		}
		c = parent
	}
	return false
}

func (s *Server) getBranch(w http.ResponseWriter, r *http.Request, p *project) {
	name := r.PathValue("branch")
	sha, ok := p.branches[name]
	if !ok {
		message(w, http.StatusNotFound, "404 Branch Not Found")
		return
	}
	writeJSON(w, http.StatusOK, gl.Branch{Name: name, Commit: p.commits[sha], Default: name == p.p.DefaultBranch})
}

func (s *Server) rawFile(w http.ResponseWriter, r *http.Request, p *project) {
	ref := r.URL.Query().Get("ref")
	if sha, ok := p.branches[ref]; ok {
		ref = sha
	}
	b, ok := p.trees[ref][r.PathValue("path")]
	if !ok {
		message(w, http.StatusNotFound, "404 File Not Found")
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(b)
}

func (s *Server) archiveHandler(w http.ResponseWriter, r *http.Request, p *project) {
	sha := r.URL.Query().Get("sha")
	if b, ok := p.branches[sha]; ok {
		sha = b
	}
	if _, ok := p.commits[sha]; !ok {
		message(w, http.StatusNotFound, "404 Commit Not Found")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(s.archive(p, sha))
}

func (s *Server) userByID(id int64) *gl.User {
	for _, u := range s.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

func (s *Server) projectMember(w http.ResponseWriter, r *http.Request, p *project) {
	id := atoi(r.PathValue("user"))
	level, ok := p.members[id]
	if !ok {
		// Inherited from the project's groups.
		ns := p.p.Namespace.FullPath
		for g := ns; g != ""; g = parentGroup(g) {
			if l, gok := s.groups[g][id]; gok && l > level {
				level, ok = l, true
			}
		}
	}
	u := s.userByID(id)
	if !ok || u == nil {
		message(w, http.StatusNotFound, "404 Member Not Found")
		return
	}
	writeJSON(w, http.StatusOK, gl.ProjectMember{ID: id, Username: u.Username, Name: u.Name, State: "active", AccessLevel: level})
}

func parentGroup(g string) string {
	if i := strings.LastIndex(g, "/"); i >= 0 {
		return g[:i]
	}
	return ""
}

func (s *Server) groupMember(w http.ResponseWriter, r *http.Request, _ *project) {
	id := atoi(r.PathValue("user"))
	var level gl.AccessLevelValue
	ok := false
	for g := r.PathValue("group"); g != ""; g = parentGroup(g) {
		if l, gok := s.groups[g][id]; gok && l > level {
			level, ok = l, true
		}
	}
	u := s.userByID(id)
	if !ok || u == nil {
		message(w, http.StatusNotFound, "404 Member Not Found")
		return
	}
	writeJSON(w, http.StatusOK, gl.GroupMember{ID: id, Username: u.Username, Name: u.Name, State: "active", AccessLevel: level})
}

func (s *Server) currentUser(w http.ResponseWriter, _ *http.Request, _ *project) {
	writeJSON(w, http.StatusOK, s.users[s.self])
}

func basicUser(u *gl.User) *gl.BasicUser {
	return &gl.BasicUser{ID: u.ID, Username: u.Username, Name: u.Name, State: u.State}
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ *project) {
	out := []*gl.User{}
	if u, ok := s.users[r.URL.Query().Get("username")]; ok {
		out = append(out, u)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, _ *project) {
	u := s.userByID(atoi(r.PathValue("user")))
	if u == nil {
		message(w, http.StatusNotFound, "404 User Not Found")
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) gpgKeysHandler(w http.ResponseWriter, r *http.Request, _ *project) {
	out := s.gpgKeys[atoi(r.PathValue("user"))]
	if out == nil {
		out = []*gl.GPGKey{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listIssues(w http.ResponseWriter, r *http.Request, p *project) {
	q := r.URL.Query()
	out := []*gl.Issue{}
	for _, k := range sortedKeys(p.issues) {
		is := p.issues[k].is
		if l := q.Get("labels"); l != "" && !slices.Contains(is.Labels, l) {
			continue
		}
		if st := q.Get("state"); st != "" && st != "all" && is.State != st {
			continue
		}
		out = append(out, is)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createIssue(w http.ResponseWriter, r *http.Request, p *project) {
	var opt gl.CreateIssueOptions
	if !decode(w, r, &opt) {
		return
	}
	p.nextIssue++
	is := &gl.Issue{
		ID: s.id(), IID: p.nextIssue, ProjectID: p.p.ID, Title: deref(opt.Title), Description: deref(opt.Description),
		State: "opened", CreatedAt: now(), UpdatedAt: now(),
		WebURL: fmt.Sprintf("%s/%s/-/issues/%d", s.http.URL, p.p.PathWithNamespace, p.nextIssue),
	}
	is.Labels = gl.Labels(labels(opt.Labels))
	p.issues[is.IID] = &issue{is: is}
	writeJSON(w, http.StatusCreated, is)
}

func (s *Server) updateIssue(w http.ResponseWriter, r *http.Request, p *project) {
	it, ok := p.issues[atoi(r.PathValue("iid"))]
	if !ok {
		message(w, http.StatusNotFound, "404 Issue Not Found")
		return
	}
	is := it.is
	var opt gl.UpdateIssueOptions
	if !decode(w, r, &opt) {
		return
	}
	switch deref(opt.StateEvent) {
	case "close":
		is.State = "closed"
	case "reopen":
		is.State = "opened"
	}
	is.Labels = updateLabels(is.Labels, opt.AddLabels, opt.RemoveLabels)
	is.UpdatedAt = now()
	writeJSON(w, http.StatusOK, is)
}

// updateLabels applies add_labels and remove_labels.
func updateLabels(have gl.Labels, add, remove *gl.LabelOptions) gl.Labels {
	for _, l := range labels(add) {
		if !slices.Contains(have, l) {
			have = append(have, l)
		}
	}
	if remove != nil {
		rm := labels(remove)
		have = slices.DeleteFunc(have, func(l string) bool { return slices.Contains(rm, l) })
	}
	return have
}

// labels reads label options, which client-go sends comma-joined.
func labels(l *gl.LabelOptions) []string {
	if l == nil {
		return nil
	}
	var out []string
	for _, x := range *l {
		for _, y := range strings.Split(x, ",") {
			if y = strings.TrimSpace(y); y != "" {
				out = append(out, y)
			}
		}
	}
	return out
}
