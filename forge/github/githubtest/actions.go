package githubtest

import (
	"crypto/sha1"
	"fmt"
	"sort"
	"strings"
	"time"
)

// User actions: what people do on GitHub, with the state change GitHub makes
// and the webhooks it sends (see SendWebhooks). Commits, trees, a pull
// request's changed files, IDs and times all come from the double's state
// and clock, so a test never sets derived facts by hand.
//
// Not modelled: lags between an action and its visibility in the API,
// merge conflicts (a merge takes the pull request's side of every file it
// changed), fork pull requests, squash and rebase merges.

// Actor is a GitHub user acting through the web interface or git.
type Actor struct {
	s     *Server
	login string
}

// As returns the user login, who acts through the returned Actor.
func (s *Server) As(login string) *Actor {
	s.mu.Lock()
	s.userID(login)
	s.mu.Unlock()
	return &Actor{s: s, login: login}
}

// Login is the actor's login.
func (a *Actor) Login() string { return a.login }

// NewCommit is a commit a user writes and pushes.
type NewCommit struct {
	// Author and Committer name who wrote the commit; a zero Committer is
	// the Author. Login links an identity to a GitHub account, as a
	// verified e-mail address does on GitHub. Dates default to the
	// double's clock.
	Author    Identity
	Committer Identity
	Message   string
	// Files are the files the commit writes (path → content); Delete the
	// ones it removes.
	Files  map[string]string
	Delete []string
	// Sign, when set, signs the commit's payload as git does and returns
	// the armored signature (SSH or OpenPGP).
	Sign func(payload string) (string, error)
}

// Push writes commits onto branch (created from the default branch when it
// does not exist) and sends the push webhook; when an open pull request has
// branch as its head, it moves that pull request's head, recomputes its
// files and sends pull_request "synchronize". It returns the new head SHA.
func (a *Actor) Push(repoName, branch string, commits ...NewCommit) string {
	s := a.s
	s.mu.Lock()
	r := s.mustRepo("Push", repoName)
	ref := "heads/" + branch
	before, exists := r.refs[ref]
	parent := before
	if !exists {
		parent = r.refs["heads/"+r.defaultBranch]
	}
	var shas []string
	for _, nc := range commits {
		sha, err := s.writeCommit(r, parent, nc)
		if err != nil {
			s.mu.Unlock()
			s.t.Fatalf("githubtest: Push to %s %s: %v", repoName, branch, err)
			return ""
		}
		shas = append(shas, sha)
		parent = sha
	}
	r.refs[ref] = parent
	now := s.now()
	pusher := s.pushCommits(r, shas)
	events := []event{{name: "push", payload: s.envelope(r, a.login, "", obj{
		"ref":         "refs/" + ref,
		"before":      zeroIfEmpty(before),
		"after":       parent,
		"created":     !exists,
		"deleted":     false,
		"forced":      false,
		"base_ref":    nil,
		"compare":     s.web("%s/compare/%s...%s", r.fullName(), shortSHA(before), shortSHA(parent)),
		"commits":     pusher,
		"head_commit": lastOrNil(pusher),
		"pusher":      obj{"name": a.login, "email": fmt.Sprintf("%d+%s@users.noreply.github.com", s.userID(a.login), a.login)},
	})}}
	for _, n := range sortedInts(r.pulls) {
		p := r.pulls[n]
		if p.State != "open" || p.HeadRef != branch || p.HeadRepo != "" {
			continue
		}
		beforeHead := p.HeadSHA
		p.HeadSHA = parent
		p.commits = append(p.commits, shas...)
		p.UpdatedAt = now
		p.files = s.pullFiles(r, p)
		events = append(events, event{name: "pull_request", action: "synchronize", payload: s.envelope(r, a.login, "synchronize", obj{
			"number": p.Number, "before": beforeHead, "after": p.HeadSHA, "pull_request": s.pullObj(r, p, true),
		})})
	}
	s.mu.Unlock()
	s.deliver(events...)
	return parent
}

// NewPull is a pull request a user opens.
type NewPull struct {
	Title, Body string
	// Head is the branch with the changes; Base the branch to merge into,
	// "" for the default branch.
	Head, Base string
	Draft      bool
}

// OpenPullRequest opens a pull request from an existing branch, as the
// "Create pull request" button does, sends pull_request "opened" and
// returns its number.
func (a *Actor) OpenPullRequest(repoName string, np NewPull) int {
	s := a.s
	s.mu.Lock()
	r := s.mustRepo("OpenPullRequest", repoName)
	if np.Base == "" {
		np.Base = r.defaultBranch
	}
	head, ok := r.refs["heads/"+np.Head]
	base := r.refs["heads/"+np.Base]
	if !ok || base == "" {
		s.mu.Unlock()
		s.t.Fatalf("githubtest: OpenPullRequest: %s has no branch %q or %q (Push first)", repoName, np.Head, np.Base)
		return 0
	}
	now := s.now()
	p := &pull{PullRequest: PullRequest{
		Number: r.takeNumber(), Title: np.Title, Body: np.Body, Author: a.login,
		BaseRef: np.Base, BaseSHA: base, HeadRef: np.Head, HeadSHA: head,
		State: "open", Draft: np.Draft, CreatedAt: now, UpdatedAt: now,
	}, id: s.newID()}
	p.commits = r.commitsSince(head, base)
	p.files = s.pullFiles(r, p)
	r.pulls[p.Number] = p
	r.labels[p.Number] = nil
	ev := event{name: "pull_request", action: "opened", payload: s.envelope(r, a.login, "opened", obj{
		"number": p.Number, "pull_request": s.pullObj(r, p, true),
	})}
	s.mu.Unlock()
	s.deliver(ev)
	return p.Number
}

// Review states a reviewer submits.
const (
	Approve        = "APPROVED"
	RequestChanges = "CHANGES_REQUESTED"
	CommentOnly    = "COMMENTED"
)

// Review submits a review on the pull request's current head and sends
// pull_request_review "submitted". It returns the review's ID.
func (a *Actor) Review(repoName string, number int, state, body string) int64 {
	s := a.s
	s.mu.Lock()
	r := s.mustRepo("Review", repoName)
	p := s.mustPull("Review", r, number)
	rv := Review{ID: s.newID(), User: a.login, State: state, Body: body, CommitID: p.HeadSHA, SubmittedAt: s.now()}
	p.reviews = append(p.reviews, rv)
	p.UpdatedAt = rv.SubmittedAt
	ev := event{name: "pull_request_review", action: "submitted", payload: s.envelope(r, a.login, "submitted", obj{
		"review": s.reviewObj(r, p, rv), "pull_request": s.pullObj(r, p, false),
	})}
	s.mu.Unlock()
	s.deliver(ev)
	return rv.ID
}

// Dismiss dismisses a review, as a maintainer does, and sends
// pull_request_review "dismissed".
func (a *Actor) Dismiss(repoName string, number int, reviewID int64, message string) {
	s := a.s
	s.mu.Lock()
	r := s.mustRepo("Dismiss", repoName)
	p := s.mustPull("Dismiss", r, number)
	var ev event
	for i := range p.reviews {
		if p.reviews[i].ID == reviewID {
			p.reviews[i].State = "DISMISSED"
			p.UpdatedAt = s.now()
			ev = event{name: "pull_request_review", action: "dismissed", payload: s.envelope(r, a.login, "dismissed", obj{
				"review": s.reviewObj(r, p, p.reviews[i]), "pull_request": s.pullObj(r, p, false),
			})}
		}
	}
	s.mu.Unlock()
	if ev.name == "" {
		s.t.Fatalf("githubtest: Dismiss: no review %d on %s#%d", reviewID, repoName, number)
	}
	s.deliver(ev)
}

// Comment writes a conversation comment on an issue or pull request and
// sends issue_comment "created". It returns the comment's ID.
func (a *Actor) Comment(repoName string, number int, body string) int64 {
	s := a.s
	s.mu.Lock()
	r := s.mustRepo("Comment", repoName)
	if !r.hasIssue(number) {
		s.mu.Unlock()
		s.t.Fatalf("githubtest: Comment: no issue or pull request %s#%d", repoName, number)
	}
	now := s.now()
	c := &comment{Comment: Comment{ID: s.newID(), User: a.login, Body: body, CreatedAt: now, UpdatedAt: now}, number: number}
	r.comments = append(r.comments, c)
	r.touch(number, now)
	ev := s.commentEvent(r, a.login, "created", c, nil)
	s.mu.Unlock()
	s.deliver(ev)
	return c.ID
}

// EditComment changes a comment's body and sends issue_comment "edited"
// with the old body under changes.
func (a *Actor) EditComment(repoName string, id int64, body string) {
	s := a.s
	s.mu.Lock()
	r := s.mustRepo("EditComment", repoName)
	c := r.comment(id)
	if c == nil {
		s.mu.Unlock()
		s.t.Fatalf("githubtest: EditComment: no comment %d in %s", id, repoName)
	}
	old := c.Body
	c.Body, c.UpdatedAt = body, s.now()
	r.touch(c.number, c.UpdatedAt)
	ev := s.commentEvent(r, a.login, "edited", c, obj{"body": obj{"from": old}})
	s.mu.Unlock()
	s.deliver(ev)
}

// DeleteComment deletes a comment and sends issue_comment "deleted".
func (a *Actor) DeleteComment(repoName string, id int64) {
	s := a.s
	s.mu.Lock()
	r := s.mustRepo("DeleteComment", repoName)
	var ev event
	for i, c := range r.comments {
		if c.ID == id {
			ev = s.commentEvent(r, a.login, "deleted", c, nil)
			r.touch(c.number, s.now())
			r.comments = append(r.comments[:i], r.comments[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	if ev.name == "" {
		s.t.Fatalf("githubtest: DeleteComment: no comment %d in %s", id, repoName)
	}
	s.deliver(ev)
}

// Merge merges an open pull request with a merge commit, as the merge
// button does: the merge commit takes the base branch's files plus every
// file the pull request changed, GitHub signs it with its web-flow key, the
// base branch moves to it, and the double sends pull_request "closed"
// (merged) and the push to the base branch. It returns the merge commit.
func (a *Actor) Merge(repoName string, number int) string {
	s := a.s
	s.mu.Lock()
	r := s.mustRepo("Merge", repoName)
	p := s.mustPull("Merge", r, number)
	if p.State != "open" {
		s.mu.Unlock()
		s.t.Fatalf("githubtest: Merge: %s#%d is %s", repoName, number, p.State)
	}
	now := s.now()
	ref := "heads/" + p.BaseRef
	before := r.refs[ref]
	t := &tree{entries: map[string]treeEntry{}}
	for path, e := range r.trees[r.commits[before].tree].entries {
		t.entries[path] = e
	}
	headTree := r.trees[r.commits[p.HeadSHA].tree]
	for _, f := range p.files {
		if e, ok := headTree.entries[f.Filename]; ok {
			t.entries[f.Filename] = e
		} else {
			delete(t.entries, f.Filename)
		}
	}
	r.putTree(t)
	msg := fmt.Sprintf("Merge pull request #%d from %s/%s\n\n%s", number, r.owner, p.HeadRef, p.Title)
	web := Identity{Name: "GitHub", Email: "noreply@github.com", Date: now}
	author := Identity{Name: a.login, Email: fmt.Sprintf("%d+%s@users.noreply.github.com", s.userID(a.login), a.login), Login: a.login, Date: now}
	payload := commitPayload(t.sha, []string{before, p.HeadSHA}, author, web, msg)
	sha := objectSHA(payload, webFlowSignature)
	r.commits[sha] = &commit{Commit: Commit{
		SHA: sha, Parents: []string{before, p.HeadSHA}, Author: author, Committer: web, Message: msg,
		Verified: true, Reason: "valid", Signature: webFlowSignature, Payload: payload,
	}, tree: t.sha}
	r.refs[ref] = sha
	p.State, p.Merged, p.MergeCommitSHA, p.ClosedAt, p.UpdatedAt = "closed", true, sha, now, now
	closed := s.envelope(r, a.login, "closed", obj{"number": p.Number, "pull_request": s.pullObj(r, p, true)})
	closed["pull_request"].(obj)["merged_by"] = s.userObj(a.login)
	pushed := s.pushCommits(r, append(append([]string(nil), p.commits...), sha))
	push := s.envelope(r, a.login, "", obj{
		"ref": "refs/" + ref, "before": before, "after": sha, "created": false, "deleted": false, "forced": false,
		"base_ref": nil, "compare": s.web("%s/compare/%s...%s", r.fullName(), shortSHA(before), shortSHA(sha)),
		"commits": pushed, "head_commit": lastOrNil(pushed),
		"pusher": obj{"name": a.login, "email": author.Email},
	})
	s.mu.Unlock()
	s.deliver(event{name: "pull_request", action: "closed", payload: closed}, event{name: "push", payload: push})
	return sha
}

// touch moves an issue's or pull request's updated_at, as any activity on
// its conversation does on GitHub.
func (r *repo) touch(number int, at time.Time) {
	if p := r.pulls[number]; p != nil {
		p.UpdatedAt = at
	} else if is := r.issues[number]; is != nil {
		is.UpdatedAt = at
	}
}

// writeCommit stores a new commit on parent and returns its SHA. It runs
// with s.mu held.
func (s *Server) writeCommit(r *repo, parent string, nc NewCommit) (string, error) {
	t := &tree{entries: map[string]treeEntry{}}
	if pc := r.commits[parent]; pc != nil {
		for path, e := range r.trees[pc.tree].entries {
			t.entries[path] = e
		}
	}
	for path, content := range nc.Files {
		t.entries[strings.TrimPrefix(path, "/")] = treeEntry{mode: "100644", blob: r.putBlob([]byte(content))}
	}
	for _, path := range nc.Delete {
		delete(t.entries, strings.TrimPrefix(path, "/"))
	}
	r.putTree(t)
	now := s.now()
	if nc.Author.Date.IsZero() {
		nc.Author.Date = now
	}
	if nc.Committer == (Identity{}) {
		nc.Committer = nc.Author
	}
	if nc.Committer.Date.IsZero() {
		nc.Committer.Date = now
	}
	var parents []string
	if parent != "" {
		parents = []string{parent}
	}
	payload := commitPayload(t.sha, parents, nc.Author, nc.Committer, nc.Message)
	c := Commit{Parents: parents, Author: nc.Author, Committer: nc.Committer, Message: nc.Message, Reason: "unsigned", Payload: payload}
	if nc.Sign != nil {
		sig, err := nc.Sign(payload)
		if err != nil {
			return "", fmt.Errorf("sign commit %q: %w", nc.Message, err)
		}
		c.Signature = sig
		c.Verified, c.Reason = s.verifySignature(nc.Committer.Login, payload, sig)
	}
	c.SHA = objectSHA(payload, c.Signature)
	for _, id := range []Identity{c.Author, c.Committer} {
		if id.Login != "" {
			s.userID(id.Login)
		}
	}
	r.commits[c.SHA] = &commit{Commit: c, tree: t.sha}
	return c.SHA, nil
}

// commitPayload is the text of a git commit object without its signature:
// what a signature signs, and what GitHub returns as verification.payload.
func commitPayload(treeSHA string, parents []string, author, committer Identity, message string) string {
	return fmt.Sprintf("tree %s\n%sauthor %s <%s> %d +0000\ncommitter %s <%s> %d +0000\n\n%s\n",
		treeSHA, parentLines(parents), author.Name, author.Email, author.Date.Unix(),
		committer.Name, committer.Email, committer.Date.Unix(), strings.TrimRight(message, "\n"))
}

// objectSHA is the git hash of the commit object payload with signature
// in its gpgsig header.
func objectSHA(payload, signature string) string {
	obj := payload
	if signature != "" {
		header, body, _ := strings.Cut(payload, "\n\n")
		sig := strings.ReplaceAll(strings.TrimRight(signature, "\n"), "\n", "\n ")
		obj = header + "\ngpgsig " + sig + "\n\n" + body
	}
	h := sha1.New()
	fmt.Fprintf(h, "commit %d\x00%s", len(obj), obj)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// commitsSince lists the commits reachable from head by first parents that
// are not on base, oldest first, as a pull request's commits.
func (r *repo) commitsSince(head, base string) []string {
	var out []string
	for sha := head; sha != "" && !r.isAncestor(sha, base); {
		out = append(out, sha)
		c := r.commits[sha]
		if c == nil || len(c.Parents) == 0 {
			break
		}
		sha = c.Parents[0]
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// pullFiles derives a pull request's changed files from the trees of its
// merge base and head, with line counts, as pulls/list-files reports them.
func (s *Server) pullFiles(r *repo, p *pull) []File {
	base := p.BaseSHA
	for _, sha := range p.commits {
		if c := r.commits[sha]; c != nil && len(c.Parents) > 0 && !containsString(p.commits, c.Parents[0]) {
			base = c.Parents[0]
			break
		}
	}
	before, after := r.trees[r.commits[base].tree], r.trees[r.commits[p.HeadSHA].tree]
	paths := map[string]bool{}
	for path := range before.entries {
		paths[path] = true
	}
	for path := range after.entries {
		paths[path] = true
	}
	var out []File
	for _, path := range sortedKeys(paths) {
		b, inBefore := before.entries[path]
		a, inAfter := after.entries[path]
		f := File{Filename: path}
		switch {
		case !inBefore:
			f.Status, f.Additions = "added", lineCount(r.blobs[a.blob])
		case !inAfter:
			f.Status, f.Deletions = "removed", lineCount(r.blobs[b.blob])
		case a != b:
			f.Status = "modified"
			f.Additions, f.Deletions = lineDelta(r.blobs[b.blob], r.blobs[a.blob])
		default:
			continue
		}
		out = append(out, f)
	}
	return out
}

// pushCommits are the commits of a push payload.
func (s *Server) pushCommits(r *repo, shas []string) []any {
	out := []any{}
	for _, sha := range shas {
		c := r.commits[sha]
		var added, removed, modified []string
		if len(c.Parents) > 0 {
			for _, f := range treeDiff(r, r.trees[r.commits[c.Parents[0]].tree], r.trees[c.tree]) {
				fo := f.(obj)
				name := fo["filename"].(string)
				switch fo["status"] {
				case "added":
					added = append(added, name)
				case "removed":
					removed = append(removed, name)
				default:
					modified = append(modified, name)
				}
			}
		}
		person := func(id Identity) obj {
			o := obj{"name": id.Name, "email": id.Email, "date": timestamp(id.Date)}
			if id.Login != "" {
				o["username"] = id.Login
			}
			return o
		}
		out = append(out, obj{
			"id": sha, "tree_id": c.tree, "distinct": true, "message": c.Message,
			"timestamp": timestamp(c.Committer.Date), "url": s.web("%s/commit/%s", r.fullName(), sha),
			"author": person(c.Author), "committer": person(c.Committer),
			"added": nonNil(added), "removed": nonNil(removed), "modified": nonNil(modified),
		})
	}
	return out
}

// commentEvent is an issue_comment webhook.
func (s *Server) commentEvent(r *repo, sender, action string, c *comment, changes obj) event {
	fields := obj{"issue": s.issueObj(r, c.number), "comment": s.commentObj(r, c)}
	if changes != nil {
		fields["changes"] = changes
	}
	return event{name: "issue_comment", action: action, payload: s.envelope(r, sender, action, fields)}
}

func lineCount(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	n := strings.Count(string(b), "\n")
	if b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// lineDelta counts lines only in a (deletions) and only in b (additions),
// as multisets: enough for GitHub's additions/deletions figures.
func lineDelta(a, b []byte) (additions, deletions int) {
	count := map[string]int{}
	for _, l := range strings.SplitAfter(string(a), "\n") {
		if l != "" {
			count[l]++
		}
	}
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l == "" {
			continue
		}
		if count[l] > 0 {
			count[l]--
		} else {
			additions++
		}
	}
	for _, n := range count {
		deletions += n
	}
	return additions, deletions
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func zeroIfEmpty(sha string) string {
	if sha == "" {
		return strings.Repeat("0", 40)
	}
	return sha
}

func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return zeroIfEmpty(sha)[:12]
}

func lastOrNil(list []any) any {
	if len(list) == 0 {
		return nil
	}
	return list[len(list)-1]
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	sort.Strings(list)
	return list
}
