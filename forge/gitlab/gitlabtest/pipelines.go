package gitlabtest

import gl "gitlab.com/gitlab-org/api/client-go"

// AddPipeline starts a pipeline for sha on ref, as CI or a merge request
// event would (source "push", "merge_request_event", ...), and returns its
// ID. It becomes the head pipeline of merge requests whose head is sha.
func (s *Server) AddPipeline(full, sha, ref, source string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(full)
	pl := &gl.Pipeline{ID: s.id(), ProjectID: p.p.ID, SHA: sha, Ref: ref, Source: gl.PipelineSource(source), Status: "pending", CreatedAt: now()}
	p.pipelines = append(p.pipelines, pl)
	return pl.ID
}

// Pipelines returns the pipelines of sha, oldest first.
func (s *Server) Pipelines(full, sha string) []gl.Pipeline {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []gl.Pipeline
	for _, pl := range s.project(full).pipelines {
		if pl.SHA == sha {
			out = append(out, *pl)
		}
	}
	return out
}

// PipelineStatuses returns the latest commit status of each name set in
// one pipeline.
func (s *Server) PipelineStatuses(full, sha string, pipeline int64) []gl.CommitStatus {
	return s.statusesWhere(full, sha, func(st *gl.CommitStatus, retried bool) bool { return !retried && st.PipelineID == pipeline })
}

// HoldHeadPipeline makes the merge request report pipeline id as its head
// pipeline whatever pipelines start later, as GitLab does for a moment
// after a pipeline starts; 0 lets it follow the pipelines again.
func (s *Server) HoldHeadPipeline(full string, iid, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.project(full).mrs[iid].headPipeline = id
}
