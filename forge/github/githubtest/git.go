package githubtest

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"time"
)

// The git database API: blobs, trees, commits and refs, with GitHub's
// compare-and-swap rule for ref updates.

func getRef(s *Server, c *call) reply {
	ref := strings.TrimPrefix(c.params["ref"], "refs/")
	sha, found := c.repo.refs[ref]
	if !found {
		return notFound()
	}
	return ok(s.refObj(c.repo, ref, sha))
}

func createRef(s *Server, c *call) reply {
	r := c.repo
	var in struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if err := c.decode(&in); err != nil {
		return unprocessable("Problems parsing JSON")
	}
	ref, full := strings.CutPrefix(in.Ref, "refs/")
	if !full || !strings.Contains(ref, "/") || strings.HasSuffix(ref, "/") {
		return unprocessable("Reference name is not valid")
	}
	if r.commits[in.SHA] == nil {
		return unprocessable("Object does not exist")
	}
	if _, exists := r.refs[ref]; exists {
		return unprocessable("Reference already exists")
	}
	r.refs[ref] = in.SHA
	return created(s.refObj(r, ref, in.SHA))
}

func updateRef(s *Server, c *call) reply {
	r := c.repo
	ref := strings.TrimPrefix(c.params["ref"], "refs/")
	var in struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if err := c.decode(&in); err != nil {
		return unprocessable("Problems parsing JSON")
	}
	old, exists := r.refs[ref]
	if !exists {
		return unprocessable("Reference does not exist")
	}
	if r.commits[in.SHA] == nil {
		return unprocessable("Object does not exist")
	}
	if !in.Force && !r.isAncestor(old, in.SHA) {
		return unprocessable("Update is not a fast forward")
	}
	r.refs[ref] = in.SHA
	return ok(s.refObj(r, ref, in.SHA))
}

func createBlob(s *Server, c *call) reply {
	var in struct {
		Content  string `json:"content"`
		Encoding string `json:"encoding"`
	}
	if err := c.decode(&in); err != nil {
		return unprocessable("Problems parsing JSON")
	}
	content := []byte(in.Content)
	if in.Encoding == "base64" {
		var err error
		if content, err = base64.StdEncoding.DecodeString(in.Content); err != nil {
			return unprocessable("Content is not valid Base64")
		}
	}
	sha := c.repo.putBlob(content)
	return created(obj{"sha": sha, "url": s.api("repos/%s/git/blobs/%s", c.repo.fullName(), sha)})
}

func createTree(s *Server, c *call) reply {
	r := c.repo
	var in struct {
		BaseTree string `json:"base_tree"`
		Tree     []struct {
			Path    string  `json:"path"`
			Mode    string  `json:"mode"`
			Type    string  `json:"type"`
			SHA     *string `json:"sha"`
			Content *string `json:"content"`
		} `json:"tree"`
	}
	if err := c.decode(&in); err != nil {
		return unprocessable("Problems parsing JSON")
	}
	t := &tree{entries: map[string]treeEntry{}}
	if in.BaseTree != "" {
		base := r.trees[in.BaseTree]
		if base == nil {
			return unprocessable("Invalid tree info", obj{"resource": "Tree", "field": "base_tree", "code": "invalid"})
		}
		for p, e := range base.entries {
			t.entries[p] = e
		}
	}
	for _, e := range in.Tree {
		p := strings.Trim(e.Path, "/")
		switch {
		case e.Content != nil:
			t.entries[p] = treeEntry{mode: e.Mode, blob: r.putBlob([]byte(*e.Content))}
		case e.SHA == nil:
			// sha: null deletes the path (a file, or a whole directory).
			delete(t.entries, p)
			for q := range t.entries {
				if strings.HasPrefix(q, p+"/") {
					delete(t.entries, q)
				}
			}
		default:
			if _, known := r.blobs[*e.SHA]; !known || e.Type != "blob" {
				return unprocessable("tree.sha "+*e.SHA+" is not a valid blob", obj{"resource": "Tree", "field": "sha", "code": "invalid"})
			}
			t.entries[p] = treeEntry{mode: e.Mode, blob: *e.SHA}
		}
	}
	r.putTree(t)
	var items []any
	for _, p := range sortedKeys(t.entries) {
		e := t.entries[p]
		kind := "blob"
		items = append(items, obj{
			"path": p, "mode": e.mode, "type": kind, "sha": e.blob, "size": len(r.blobs[e.blob]),
			"url": s.api("repos/%s/git/blobs/%s", r.fullName(), e.blob),
		})
	}
	if items == nil {
		items = []any{}
	}
	return created(obj{
		"sha":       t.sha,
		"url":       s.api("repos/%s/git/trees/%s", r.fullName(), t.sha),
		"truncated": false,
		"tree":      items,
	})
}

// webFlowSignature stands in for the signature GitHub adds to commits an
// app creates through the API without naming an author.
const webFlowSignature = "-----BEGIN PGP SIGNATURE-----\n\nwsBcBAABCAAQBQJgithubtestdoublewebflow\n-----END PGP SIGNATURE-----\n"

func createGitCommit(s *Server, c *call) reply {
	r := c.repo
	type person struct {
		Name  string `json:"name"`
		Email string `json:"email"`
		Date  string `json:"date"`
	}
	var in struct {
		Message   string   `json:"message"`
		Tree      string   `json:"tree"`
		Parents   []string `json:"parents"`
		Author    *person  `json:"author"`
		Committer *person  `json:"committer"`
		Signature string   `json:"signature"`
	}
	if err := c.decode(&in); err != nil {
		return unprocessable("Problems parsing JSON")
	}
	if r.trees[in.Tree] == nil {
		return unprocessable("Tree SHA does not exist", obj{"resource": "Commit", "field": "tree", "code": "invalid"})
	}
	for _, p := range in.Parents {
		if r.commits[p] == nil {
			return unprocessable("Parent SHA does not exist or is not a commit object", obj{"resource": "Commit", "field": "parents", "code": "invalid"})
		}
	}
	now := s.now()
	bot := Identity{
		Name:  s.botLogin(),
		Email: fmt.Sprintf("%d+%s@users.noreply.github.com", s.userID(s.botLogin()), s.botLogin()),
		Login: s.botLogin(),
		Date:  now,
	}
	toIdentity := func(p *person, fallback Identity) (Identity, bool) {
		if p == nil {
			return fallback, true
		}
		id := Identity{Name: p.Name, Email: p.Email, Date: now}
		if p.Date != "" {
			t, err := time.Parse(time.RFC3339, p.Date)
			if err != nil {
				return id, false
			}
			id.Date = t.UTC()
		}
		return id, true
	}
	author, okA := toIdentity(in.Author, bot)
	committer, okC := toIdentity(in.Committer, author)
	if !okA || !okC {
		return unprocessable("Invalid request.\n\nThe date is not a valid ISO 8601 timestamp.")
	}
	cm := &commit{Commit: Commit{
		Parents: append([]string{}, in.Parents...), Author: author, Committer: committer, Message: in.Message,
		Signature: in.Signature, Reason: "unsigned",
	}, tree: in.Tree}
	switch {
	case in.Signature != "":
		// The double cannot check signatures; GitHub would verify this one
		// against the committer's keys.
		cm.Reason = "unknown_key"
	case in.Author == nil && in.Committer == nil:
		cm.Verified, cm.Reason, cm.Signature = true, "valid", webFlowSignature
	}
	h := sha1.New()
	fmt.Fprintf(h, "tree %s\n", in.Tree)
	for _, p := range in.Parents {
		fmt.Fprintf(h, "parent %s\n", p)
	}
	fmt.Fprintf(h, "author %s <%s> %d\ncommitter %s <%s> %d\n%s\n\n%s",
		author.Name, author.Email, author.Date.Unix(), committer.Name, committer.Email, committer.Date.Unix(), in.Signature, in.Message)
	cm.SHA = fmt.Sprintf("%x", h.Sum(nil))
	if cm.Verified {
		cm.Payload = fmt.Sprintf("tree %s\n%sauthor %s <%s> %d +0000\ncommitter %s <%s> %d +0000\n\n%s",
			in.Tree, parentLines(in.Parents), author.Name, author.Email, author.Date.Unix(),
			committer.Name, committer.Email, committer.Date.Unix(), in.Message)
	}
	r.commits[cm.SHA] = cm
	return created(s.gitCommitObj(r, cm))
}

func parentLines(parents []string) string {
	var b strings.Builder
	for _, p := range parents {
		b.WriteString("parent " + p + "\n")
	}
	return b.String()
}

func getGitCommit(s *Server, c *call) reply {
	cm := c.repo.commits[c.params["commit_sha"]]
	if cm == nil {
		return notFound()
	}
	return ok(s.gitCommitObj(c.repo, cm))
}

func getCommit(s *Server, c *call) reply {
	sha, found := c.repo.resolve(c.params["ref"])
	if !found {
		return reply{status: 422, body: obj{"message": "No commit found for SHA: " + c.params["ref"], "documentation_url": docsURL}}
	}
	cm := c.repo.commits[sha]
	o := s.commitObj(c.repo, cm)
	// The files a commit changes, relative to its first parent's tree.
	var files []any
	if len(cm.Parents) > 0 {
		if parent := c.repo.commits[cm.Parents[0]]; parent != nil {
			files = treeDiff(c.repo, c.repo.trees[parent.tree], c.repo.trees[cm.tree])
		}
	}
	if files != nil {
		o["files"] = files
	}
	return ok(o)
}

func treeDiff(r *repo, before, after *tree) []any {
	if before == nil || after == nil {
		return nil
	}
	paths := map[string]bool{}
	for p := range before.entries {
		paths[p] = true
	}
	for p := range after.entries {
		paths[p] = true
	}
	list := make([]string, 0, len(paths))
	for p := range paths {
		list = append(list, p)
	}
	sort.Strings(list)
	out := []any{}
	for _, p := range list {
		b, inBefore := before.entries[p]
		a, inAfter := after.entries[p]
		status := ""
		switch {
		case !inBefore:
			status = "added"
		case !inAfter:
			status = "removed"
		case a.blob != b.blob || a.mode != b.mode:
			status = "modified"
		default:
			continue
		}
		blob := a.blob
		if !inAfter {
			blob = b.blob
		}
		out = append(out, obj{"sha": blob, "filename": p, "status": status, "additions": 0, "deletions": 0, "changes": 0})
	}
	return out
}
