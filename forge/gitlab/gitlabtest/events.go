package gitlabtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Webhooks: the user actions of actions.go send the events GitLab sends
// for them to one project hook, with the hook's secret token in
// X-Gitlab-Token, shaped like GitLab's own examples (see
// testdata/gitlab/webhooks): Merge Request Hook (open, update with oldrev,
// approved, unapproved, merge), Note Hook, Push Hook.
//
// Not modelled: Pipeline Hook (tests send their own), Job, Tag Push,
// Emoji and Issue Hooks; GitLab's retries and its disabling of a hook
// that keeps failing; the order in which GitLab's background workers send
// a merge's Push Hook and Merge Request Hook (here: merge, then push).

// hook is the project hook the double delivers to.
type hook struct {
	mu     sync.Mutex // serialises deliveries, as one hook's queue does
	url    string
	token  string
	client *http.Client
	sent   []Delivery
}

// Delivery is one webhook the double sent, and how the receiver answered.
type Delivery struct {
	UUID    string
	Event   string // X-Gitlab-Event
	Action  string // object_attributes.action, when the event has one
	Payload []byte
	Status  int
	Err     error
}

// SendWebhooks makes the actions of actions.go deliver their events to url
// with token as the hook's secret token; "" stops delivering.
func (s *Server) SendWebhooks(url, token string) {
	s.hook.mu.Lock()
	defer s.hook.mu.Unlock()
	s.hook.url, s.hook.token = url, token
	if s.hook.client == nil {
		s.hook.client = &http.Client{Timeout: time.Minute}
	}
}

// Deliveries returns the webhooks sent so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.hook.mu.Lock()
	defer s.hook.mu.Unlock()
	return append([]Delivery(nil), s.hook.sent...)
}

// deliver posts one event to the hook, if any. A receiver that does not
// accept it (GitLab counts any 2xx as accepted) fails the test: the
// scenarios send only what gitward must take in.
func (s *Server) deliver(event, action string, payload map[string]any) {
	body, err := json.Marshal(payload)
	if err != nil {
		s.t.Errorf("gitlabtest: %s: %v", event, err)
		return
	}
	h := &s.hook
	h.mu.Lock()
	defer h.mu.Unlock()
	d := Delivery{UUID: newUUID(), Event: event, Action: action, Payload: body}
	if h.url == "" {
		h.sent = append(h.sent, d)
		return
	}
	req, err := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		s.t.Errorf("gitlabtest: %s: %v", event, err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitLab/18.6.0")
	req.Header.Set("X-Gitlab-Event", event)
	req.Header.Set("X-Gitlab-Event-UUID", d.UUID)
	req.Header.Set("X-Gitlab-Webhook-UUID", "5a5e3d5b-8a1f-4c2e-9b0e-6f7c3b1e2d4a")
	req.Header.Set("X-Gitlab-Instance", s.http.URL)
	req.Header.Set("X-Gitlab-Token", h.token)
	res, err := h.client.Do(req)
	if err != nil {
		d.Err = err
	} else {
		d.Status = res.StatusCode
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		res.Body.Close()
		if res.StatusCode/100 != 2 {
			d.Err = fmt.Errorf("status %d: %s", res.StatusCode, bytes.TrimSpace(msg))
		}
	}
	h.sent = append(h.sent, d)
	if d.Err != nil {
		s.t.Errorf("gitlabtest: delivering %s (%s): %v", event, action, d.Err)
	}
}

// newUUID returns a random version 4 UUID, as X-Gitlab-Event-UUID carries.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// hookTime is GitLab's time format in webhook payloads.
func hookTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// projectHookLocked is a payload's "project" object.
func (s *Server) projectHookLocked(p *project) map[string]any {
	return map[string]any{
		"id": p.p.ID, "name": p.p.Name, "description": "", "web_url": p.p.WebURL, "avatar_url": nil,
		"git_ssh_url": "git@example.com:" + p.p.PathWithNamespace + ".git", "git_http_url": p.p.HTTPURLToRepo,
		"namespace": p.p.Namespace.Path, "visibility_level": 0, "path_with_namespace": p.p.PathWithNamespace,
		"default_branch": p.p.DefaultBranch, "homepage": p.p.WebURL, "url": p.p.HTTPURLToRepo,
		"ssh_url": "git@example.com:" + p.p.PathWithNamespace + ".git", "http_url": p.p.HTTPURLToRepo,
	}
}

// userHookLocked is a payload's "user" object.
func (s *Server) userHookLocked(username string) map[string]any {
	u := s.user(username)
	return map[string]any{"id": u.ID, "name": u.Name, "username": u.Username, "avatar_url": "", "email": "[REDACTED]"}
}

// lastCommitHookLocked is a merge request's "last_commit" object.
func (s *Server) lastCommitHookLocked(p *project, sha string) map[string]any {
	c := p.commits[sha]
	if c == nil {
		return nil
	}
	return map[string]any{
		"id": sha, "message": c.Message, "title": c.Title, "timestamp": c.CommittedDate.UTC().Format(time.RFC3339),
		"url":    p.p.WebURL + "/-/commit/" + sha,
		"author": map[string]any{"name": c.AuthorName, "email": c.AuthorEmail},
	}
}

// mergeRequestHookLocked is a merge request's attributes as a Merge
// Request Hook's object_attributes (and a Note Hook's merge_request).
func (s *Server) mergeRequestHookLocked(p *project, m *mergeRequest) map[string]any {
	mr := m.mr
	return map[string]any{
		"id": mr.ID, "iid": mr.IID, "target_branch": mr.TargetBranch, "source_branch": mr.SourceBranch,
		"source_project_id": mr.SourceProjectID, "target_project_id": mr.TargetProjectID,
		"author_id": mr.Author.ID, "assignee_ids": []int64{}, "reviewer_ids": []int64{},
		"title": mr.Title, "description": mr.Description,
		"created_at": hookTime(mr.CreatedAt), "updated_at": hookTime(mr.UpdatedAt),
		"state": mr.State, "merge_status": "can_be_merged", "detailed_merge_status": "mergeable",
		"work_in_progress": mr.Draft, "draft": mr.Draft, "url": mr.WebURL,
		"last_commit": s.lastCommitHookLocked(p, mr.SHA), "labels": []any{},
		"merge_commit_sha": nilIfEmpty(mr.MergeCommitSHA),
		"source":           s.projectHookLocked(p), "target": s.projectHookLocked(p),
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// mergeRequestEventLocked is a Merge Request Hook for an action by user;
// oldrev is set on an update that brought commits.
func (s *Server) mergeRequestEventLocked(p *project, m *mergeRequest, user, action, oldrev string) map[string]any {
	oa := s.mergeRequestHookLocked(p, m)
	oa["action"] = action
	changes := map[string]any{}
	if oldrev != "" {
		oa["oldrev"] = oldrev
	}
	if action == "update" || action == "merge" {
		changes["updated_at"] = map[string]any{"previous": hookTime(m.mr.CreatedAt), "current": hookTime(m.mr.UpdatedAt)}
	}
	if action == "merge" {
		changes["state_id"] = map[string]any{"previous": 1, "current": 3}
	}
	return map[string]any{
		"object_kind": "merge_request", "event_type": "merge_request",
		"user": s.userHookLocked(user), "project": s.projectHookLocked(p),
		"repository":        map[string]any{"name": p.p.Name, "url": p.p.HTTPURLToRepo, "homepage": p.p.WebURL},
		"object_attributes": oa, "labels": []any{}, "changes": changes, "assignees": []any{}, "reviewers": []any{},
	}
}

// noteEventLocked is a Note Hook for a note on a merge request or issue.
func (s *Server) noteEventLocked(p *project, n noteTarget, note map[string]any, user string) map[string]any {
	ev := map[string]any{
		"object_kind": "note", "event_type": "note",
		"user": s.userHookLocked(user), "project_id": p.p.ID, "project": s.projectHookLocked(p),
		"repository":        map[string]any{"name": p.p.Name, "url": p.p.HTTPURLToRepo, "homepage": p.p.WebURL},
		"object_attributes": note,
	}
	switch {
	case n.mr != nil:
		ev["merge_request"] = s.mergeRequestHookLocked(p, n.mr)
	case n.issue != nil:
		is := n.issue.is
		ev["issue"] = map[string]any{
			"id": is.ID, "iid": is.IID, "title": is.Title, "description": is.Description, "state": is.State,
			"project_id": p.p.ID, "created_at": hookTime(is.CreatedAt), "updated_at": hookTime(is.UpdatedAt),
			"url": is.WebURL, "labels": []any{},
		}
	}
	return ev
}

// pushEventLocked is a Push Hook for ref moving from before to after, by
// user, listing the commits new on ref (newest first, at most 20, as
// GitLab does).
func (s *Server) pushEventLocked(p *project, user, ref, before, after string, commits []string) map[string]any {
	u := s.user(user)
	var list []map[string]any
	for i := len(commits) - 1; i >= 0 && len(list) < 20; i-- {
		sha := commits[i]
		c := p.commits[sha]
		added, modified, removed := []string{}, []string{}, []string{}
		parent := ""
		if len(c.ParentIDs) > 0 {
			parent = c.ParentIDs[0]
		}
		for _, ch := range treeChanges(p.trees[parent], p.trees[sha]) {
			switch {
			case ch.NewFile:
				added = append(added, ch.NewPath)
			case ch.DeletedFile:
				removed = append(removed, ch.OldPath)
			default:
				modified = append(modified, ch.NewPath)
			}
		}
		list = append(list, map[string]any{
			"id": sha, "message": c.Message, "title": c.Title, "timestamp": c.CommittedDate.UTC().Format(time.RFC3339),
			"url": p.p.WebURL + "/-/commit/" + sha, "author": map[string]any{"name": c.AuthorName, "email": c.AuthorEmail},
			"added": added, "modified": modified, "removed": removed,
		})
	}
	return map[string]any{
		"object_kind": "push", "event_name": "push", "before": before, "after": after, "ref": ref,
		"ref_protected": ref == "refs/heads/"+p.p.DefaultBranch, "checkout_sha": after,
		"user_id": u.ID, "user_name": u.Name, "user_username": u.Username, "user_email": "", "user_avatar": "",
		"project_id": p.p.ID, "project": s.projectHookLocked(p),
		"repository": map[string]any{"name": p.p.Name, "url": p.p.HTTPURLToRepo, "homepage": p.p.WebURL},
		"commits":    list, "total_commits_count": len(commits),
	}
}
