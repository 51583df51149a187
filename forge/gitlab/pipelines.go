package gitlab

import (
	"sync"

	"github.com/gitward/gitward/forge"
)

// maxHeadPipelines bounds the remembered head pipelines; past it the memory
// starts afresh (a pipeline not remembered only means a status lands in the
// commit's newest pipeline, as without one).
const maxHeadPipelines = 4096

// headPipelines remembers the head pipeline of each merge request head
// commit PullRequest has read, so PublishCheck can put gitward's statuses
// into the pipeline GitLab's "Pipelines must succeed" looks at. Without a
// pipeline ID, GitLab adds a status to the commit's newest pipeline, which
// for a project that runs merge request pipelines, or when gitward is
// faster than CI, is not the merge request's head pipeline.
type headPipelines struct {
	mu  sync.Mutex
	ids map[string]int64 // "project\x00sha" → pipeline ID
}

// remember records id as the head pipeline of sha unless a newer one
// (pipeline IDs only grow) is known: GitLab updates a merge request's
// head_pipeline a moment after a pipeline starts, so a read can still
// name the previous one.
func (h *headPipelines) remember(project, sha string, id int64) {
	if sha == "" || id == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ids == nil || len(h.ids) >= maxHeadPipelines {
		h.ids = map[string]int64{}
	}
	if k := project + "\x00" + sha; id > h.ids[k] {
		h.ids[k] = id
	}
}

func (h *headPipelines) lookup(project, sha string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ids[project+"\x00"+sha]
}

// KnownHeadPipeline returns the head pipeline this adapter last read for
// sha in repo, or 0: the pipeline gitward's statuses already went to.
func (f *Forge) KnownHeadPipeline(repo forge.Repo, sha string) int64 {
	return f.pipelines.lookup(pid(repo), sha)
}

// UseHeadPipeline makes pipeline id, which a pipeline event says started
// on the head sha of a merge request, the one statuses for sha go into,
// before the merge request's head_pipeline names it.
func (f *Forge) UseHeadPipeline(repo forge.Repo, sha string, id int64) {
	f.pipelines.remember(pid(repo), sha, id)
}

// forget drops what is remembered for sha in project.
func (h *headPipelines) forget(project, sha string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.ids, project+"\x00"+sha)
}
