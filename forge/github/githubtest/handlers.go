package githubtest

import (
	"encoding/base64"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// handler serves one operation. It runs with s.mu held, after the request
// was validated and authenticated; c.repo is set for /repos/{owner}/{repo}
// operations.
type handler func(s *Server, c *call) reply

// handlers maps GitHub's operationId to the double's implementation.
var handlers = map[string]handler{
	"apps/list-installations":                    listInstallations,
	"apps/get-installation":                      getInstallation,
	"apps/create-installation-access-token":      createAccessToken,
	"apps/list-repos-accessible-to-installation": listInstallationRepos,
	"repos/get":      getRepo,
	"rate-limit/get": getRateLimit,

	"pulls/list":         listPulls,
	"pulls/create":       createPull,
	"pulls/get":          getPull,
	"pulls/update":       updatePull,
	"pulls/list-commits": listPullCommits,
	"pulls/list-files":   listPullFiles,
	"pulls/list-reviews": listPullReviews,

	"issues/list-comments":               listComments,
	"issues/create-comment":              createComment,
	"issues/update-comment":              updateComment,
	"issues/delete-comment":              deleteComment,
	"reactions/create-for-issue-comment": createReaction,
	"issues/list-for-repo":               listIssues,
	"issues/create":                      createIssue,
	"issues/get":                         getIssue,
	"issues/update":                      updateIssue,
	"issues/add-labels":                  addLabels,
	"issues/remove-label":                removeLabel,

	"repos/get-collaborator-permission-level": getPermission,
	"teams/get-membership-for-user-in-org":    getTeamMembership,
	"users/list-gpg-keys-for-user":            listUserGPGKeys,

	"repos/download-tarball-archive": downloadTarball,
	"repos/get-content":              getContent,
	"checks/list-for-ref":            listCheckRuns,
	"checks/create":                  createCheckRun,
	"checks/update":                  updateCheckRun,

	"git/get-ref":       getRef,
	"git/create-ref":    createRef,
	"git/update-ref":    updateRef,
	"git/create-blob":   createBlob,
	"git/create-tree":   createTree,
	"git/create-commit": createGitCommit,
	"git/get-commit":    getGitCommit,
	"repos/get-commit":  getCommit,

	"repos/list-pull-requests-associated-with-commit": listPullsForCommit,
}

func ok(body any) reply { return reply{status: http.StatusOK, body: body} }

func created(body any) reply { return reply{status: http.StatusCreated, body: body} }

func (c *call) intParam(name string) int {
	n, _ := strconv.Atoi(c.params[name])
	return n
}

func (c *call) int64Param(name string) int64 {
	n, _ := strconv.ParseInt(c.params[name], 10, 64)
	return n
}

// Apps and installations.

func listInstallations(s *Server, c *call) reply {
	ids := make([]int64, 0, len(s.installations))
	for id := range s.installations {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var items []any
	for _, id := range ids {
		items = append(items, s.installationObj(s.installations[id]))
	}
	page, header := s.paginate(c, items)
	return reply{status: http.StatusOK, body: page, header: header}
}

func getInstallation(s *Server, c *call) reply {
	in := s.installations[c.int64Param("installation_id")]
	if in == nil {
		return notFound()
	}
	return ok(s.installationObj(in))
}

func createAccessToken(s *Server, c *call) reply {
	in := s.installations[c.int64Param("installation_id")]
	if in == nil {
		return notFound()
	}
	if in.suspended {
		return reply{status: http.StatusForbidden, body: errorBody("This installation has been suspended")}
	}
	return created(obj{
		"token":                s.issueToken(in.id),
		"expires_at":           timestamp(s.now().Add(time.Hour)),
		"permissions":          appPermissions(),
		"repository_selection": "selected",
	})
}

func listInstallationRepos(s *Server, c *call) reply {
	var items []any
	for _, name := range sortedKeys(s.repos) {
		if r := s.repos[name]; r.installationID == c.installation.id {
			items = append(items, s.repoObj(r))
		}
	}
	page, header := s.paginate(c, items)
	return reply{status: http.StatusOK, header: header, body: obj{
		"total_count":          len(items),
		"repository_selection": "selected",
		"repositories":         page,
	}}
}

func getRepo(s *Server, c *call) reply {
	o := s.repoObj(c.repo)
	o["network_count"] = 0
	o["subscribers_count"] = 0
	return ok(o)
}

func getRateLimit(s *Server, c *call) reply {
	reset := s.now().Add(time.Hour).Unix()
	core := obj{"limit": s.rateLimit, "remaining": max(s.rateRemaining, 0), "used": s.rateLimit - max(s.rateRemaining, 0), "reset": reset}
	search := obj{"limit": 30, "remaining": 30, "used": 0, "reset": reset}
	return ok(obj{"resources": obj{"core": core, "search": search}, "rate": core})
}

// Pull requests.

func listPulls(s *Server, c *call) reply {
	r := c.repo
	state := c.query.Get("state")
	if state == "" {
		state = "open"
	}
	var list []*pull
	for _, n := range sortedInts(r.pulls) {
		p := r.pulls[n]
		if state != "all" && p.State != state {
			continue
		}
		if base := c.query.Get("base"); base != "" && p.BaseRef != base {
			continue
		}
		if head := c.query.Get("head"); head != "" {
			owner, ref, found := strings.Cut(head, ":")
			if !found {
				owner, ref = r.owner, head
			}
			headOwner := r.owner
			if p.HeadRepo != "" {
				headOwner, _, _ = strings.Cut(p.HeadRepo, "/")
			}
			if owner != headOwner || ref != p.HeadRef {
				continue
			}
		}
		list = append(list, p)
	}
	sortBy := c.query.Get("sort")
	direction := c.query.Get("direction")
	if direction == "" {
		direction = "asc"
		if sortBy == "" || sortBy == "created" {
			direction = "desc"
		}
	}
	key := func(p *pull) time.Time {
		if sortBy == "updated" {
			return p.UpdatedAt
		}
		return p.CreatedAt
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := key(list[i]), key(list[j])
		if a.Equal(b) {
			a, b = time.Unix(int64(list[i].Number), 0), time.Unix(int64(list[j].Number), 0)
		}
		if direction == "desc" {
			return a.After(b)
		}
		return a.Before(b)
	})
	var items []any
	for _, p := range list {
		items = append(items, s.pullObj(r, p, false))
	}
	page, header := s.paginate(c, items)
	return reply{status: http.StatusOK, body: page, header: header}
}

func createPull(s *Server, c *call) reply {
	r := c.repo
	var in struct {
		Title string `json:"title"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Body  string `json:"body"`
		Draft bool   `json:"draft"`
	}
	if err := c.decode(&in); err != nil {
		return unprocessable("Problems parsing JSON")
	}
	headRef := in.Head
	if owner, ref, found := strings.Cut(in.Head, ":"); found {
		if owner != r.owner {
			return unprocessable("Validation Failed", obj{"resource": "PullRequest", "field": "head", "code": "invalid"})
		}
		headRef = ref
	}
	headSHA, okHead := r.refs["heads/"+headRef]
	baseSHA, okBase := r.refs["heads/"+in.Base]
	if !okHead {
		return unprocessable("Validation Failed", obj{"resource": "PullRequest", "field": "head", "code": "invalid"})
	}
	if !okBase {
		return unprocessable("Validation Failed", obj{"resource": "PullRequest", "field": "base", "code": "invalid"})
	}
	for _, p := range r.pulls {
		if p.State == "open" && p.HeadRepo == "" && p.HeadRef == headRef && p.BaseRef == in.Base {
			return unprocessable("Validation Failed", obj{"resource": "PullRequest", "code": "custom",
				"message": "A pull request already exists for " + r.owner + ":" + headRef + "."})
		}
	}
	now := s.now()
	p := &pull{PullRequest: PullRequest{
		Number: r.takeNumber(), Title: in.Title, Body: in.Body, Author: s.botLogin(),
		BaseRef: in.Base, BaseSHA: baseSHA, HeadRef: headRef, HeadSHA: headSHA,
		State: "open", Draft: in.Draft, CreatedAt: now, UpdatedAt: now,
	}, id: s.newID()}
	// The pull request's commits are those reachable from head but not
	// from base, oldest first.
	for sha := headSHA; sha != "" && sha != baseSHA && !r.isAncestor(sha, baseSHA); {
		p.commits = append([]string{sha}, p.commits...)
		cm := r.commits[sha]
		if cm == nil || len(cm.Parents) == 0 {
			break
		}
		sha = cm.Parents[0]
	}
	r.pulls[p.Number] = p
	return created(s.pullObj(r, p, true))
}

func (s *Server) pullFor(c *call) *pull {
	return c.repo.pulls[c.intParam("pull_number")]
}

func getPull(s *Server, c *call) reply {
	p := s.pullFor(c)
	if p == nil {
		return notFound()
	}
	return ok(s.pullObj(c.repo, p, true))
}

func updatePull(s *Server, c *call) reply {
	p := s.pullFor(c)
	if p == nil {
		return notFound()
	}
	var in struct {
		Title *string `json:"title"`
		Body  *string `json:"body"`
		State *string `json:"state"`
		Base  *string `json:"base"`
	}
	if err := c.decode(&in); err != nil {
		return unprocessable("Problems parsing JSON")
	}
	if in.Title != nil {
		p.Title = *in.Title
	}
	if in.Body != nil {
		p.Body = *in.Body
	}
	if in.Base != nil {
		sha, found := c.repo.refs["heads/"+*in.Base]
		if !found {
			return unprocessable("Validation Failed", obj{"resource": "PullRequest", "field": "base", "code": "invalid"})
		}
		p.BaseRef, p.BaseSHA = *in.Base, sha
	}
	if in.State != nil && *in.State != p.State {
		p.State = *in.State
		p.ClosedAt = time.Time{}
		if p.State == "closed" {
			p.ClosedAt = s.now()
		}
	}
	p.UpdatedAt = s.now()
	return ok(s.pullObj(c.repo, p, true))
}

// GitHub's caps on listing a pull request: "Lists a maximum of 250 commits
// for a pull request" and "Responses include a maximum of 3000 files";
// pagination ends there, while the pull request's commits and
// changed_files still count them all.
const (
	MaxListedCommits = 250
	MaxListedFiles   = 3000
)

func listPullCommits(s *Server, c *call) reply {
	p := s.pullFor(c)
	if p == nil {
		return notFound()
	}
	var items []any
	for _, sha := range p.commits[:min(len(p.commits), MaxListedCommits)] {
		items = append(items, s.commitObj(c.repo, c.repo.commits[sha]))
	}
	page, header := s.paginate(c, items)
	return reply{status: http.StatusOK, body: page, header: header}
}

func listPullFiles(s *Server, c *call) reply {
	p := s.pullFor(c)
	if p == nil {
		return notFound()
	}
	r := c.repo
	var items []any
	for _, f := range p.files[:min(len(p.files), MaxListedFiles)] {
		o := obj{
			"sha":          nil,
			"filename":     f.Filename,
			"status":       f.Status,
			"additions":    f.Additions,
			"deletions":    f.Deletions,
			"changes":      f.Additions + f.Deletions,
			"blob_url":     s.web("%s/blob/%s/%s", r.fullName(), p.HeadSHA, f.Filename),
			"raw_url":      s.web("%s/raw/%s/%s", r.fullName(), p.HeadSHA, f.Filename),
			"contents_url": s.api("repos/%s/contents/%s?ref=%s", r.fullName(), f.Filename, p.HeadSHA),
		}
		if f.Patch != "" {
			o["patch"] = f.Patch
		}
		if f.PreviousFilename != "" {
			o["previous_filename"] = f.PreviousFilename
		}
		items = append(items, o)
	}
	page, header := s.paginate(c, items)
	return reply{status: http.StatusOK, body: page, header: header}
}

func listPullReviews(s *Server, c *call) reply {
	p := s.pullFor(c)
	if p == nil {
		return notFound()
	}
	var items []any
	for _, rv := range p.reviews {
		items = append(items, s.reviewObj(c.repo, p, rv))
	}
	page, header := s.paginate(c, items)
	return reply{status: http.StatusOK, body: page, header: header}
}

// Issues, comments and labels.

// maxCommentRunes is GitHub's limit on a comment body.
const maxCommentRunes = 65536

func (r *repo) hasIssue(number int) bool {
	return r.pulls[number] != nil || r.issues[number] != nil
}

func (r *repo) comment(id int64) *comment {
	for _, c := range r.comments {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func listComments(s *Server, c *call) reply {
	number := c.intParam("issue_number")
	if !c.repo.hasIssue(number) {
		return notFound()
	}
	var items []any
	for _, cm := range c.repo.comments {
		if cm.number == number {
			items = append(items, s.commentObj(c.repo, cm))
		}
	}
	page, header := s.paginate(c, items)
	return reply{status: http.StatusOK, body: page, header: header}
}

func bodyTooLong(body string) (reply, bool) {
	if utf8.RuneCountInString(body) > maxCommentRunes {
		return unprocessable("Validation Failed", obj{"resource": "IssueComment", "field": "data", "code": "unprocessable",
			"message": "Body is too long (maximum is 65536 characters)"}), true
	}
	return reply{}, false
}

func createComment(s *Server, c *call) reply {
	number := c.intParam("issue_number")
	if !c.repo.hasIssue(number) {
		return notFound()
	}
	var in struct {
		Body string `json:"body"`
	}
	if err := c.decode(&in); err != nil {
		return unprocessable("Problems parsing JSON")
	}
	if rep, bad := bodyTooLong(in.Body); bad {
		return rep
	}
	now := s.now()
	cm := &comment{Comment: Comment{ID: s.newID(), User: s.botLogin(), Body: in.Body, CreatedAt: now, UpdatedAt: now}, number: number}
	c.repo.comments = append(c.repo.comments, cm)
	return created(s.commentObj(c.repo, cm))
}

func updateComment(s *Server, c *call) reply {
	cm := c.repo.comment(c.int64Param("comment_id"))
	if cm == nil {
		return notFound()
	}
	var in struct {
		Body string `json:"body"`
	}
	if err := c.decode(&in); err != nil {
		return unprocessable("Problems parsing JSON")
	}
	if rep, bad := bodyTooLong(in.Body); bad {
		return rep
	}
	cm.Body = in.Body
	cm.UpdatedAt = s.now()
	return ok(s.commentObj(c.repo, cm))
}

func deleteComment(s *Server, c *call) reply {
	id := c.int64Param("comment_id")
	for i, cm := range c.repo.comments {
		if cm.ID == id {
			c.repo.comments = append(c.repo.comments[:i], c.repo.comments[i+1:]...)
			return reply{status: http.StatusNoContent}
		}
	}
	return notFound()
}

func createReaction(s *Server, c *call) reply {
	cm := c.repo.comment(c.int64Param("comment_id"))
	if cm == nil {
		return notFound()
	}
	var in struct {
		Content string `json:"content"`
	}
	if err := c.decode(&in); err != nil {
		return unprocessable("Problems parsing JSON")
	}
	user := s.botLogin()
	reactionObj := func(rc reaction) obj {
		return obj{"id": rc.id, "node_id": nodeID("Reaction", rc.id), "user": s.userObj(rc.user), "content": rc.content, "created_at": timestamp(rc.created)}
	}
	for _, rc := range cm.reactions {
		if rc.user == user && rc.content == in.Content {
			return ok(reactionObj(rc))
		}
	}
	rc := reaction{id: s.newID(), user: user, content: in.Content, created: s.now()}
	cm.reactions = append(cm.reactions, rc)
	return created(reactionObj(rc))
}

// labelNames reads labels given as strings or as {"name": ...} objects.
func labelNames(raw []any) []string {
	var out []string
	for _, l := range raw {
		switch v := l.(type) {
		case string:
			out = append(out, v)
		case map[string]any:
			if name, ok := v["name"].(string); ok {
				out = append(out, name)
			}
		}
	}
	return out
}

func createIssue(s *Server, c *call) reply {
	r := c.repo
	var in struct {
		Title     any      `json:"title"`
		Body      string   `json:"body"`
		Labels    []any    `json:"labels"`
		Assignees []string `json:"assignees"`
	}
	if err := c.decode(&in); err != nil {
		return unprocessable("Problems parsing JSON")
	}
	if rep, bad := bodyTooLong(in.Body); bad {
		return rep
	}
	title, _ := in.Title.(string)
	if f, isNum := in.Title.(float64); isNum {
		title = strconv.FormatFloat(f, 'f', -1, 64)
	}
	now := s.now()
	is := &issue{Issue: Issue{
		Number: r.takeNumber(), Title: title, Body: in.Body, Author: s.botLogin(),
		State: "open", Assignees: in.Assignees, CreatedAt: now, UpdatedAt: now,
	}, id: s.newID()}
	r.issues[is.Number] = is
	r.labels[is.Number] = uniqueAppend(nil, labelNames(in.Labels)...)
	return created(s.issueObj(r, is.Number))
}

func getIssue(s *Server, c *call) reply {
	number := c.intParam("issue_number")
	if !c.repo.hasIssue(number) {
		return notFound()
	}
	return ok(s.issueObj(c.repo, number))
}

func updateIssue(s *Server, c *call) reply {
	r := c.repo
	number := c.intParam("issue_number")
	if !r.hasIssue(number) {
		return notFound()
	}
	var in struct {
		Title  *string `json:"title"`
		Body   *string `json:"body"`
		State  *string `json:"state"`
		Labels *[]any  `json:"labels"`
	}
	if err := c.decode(&in); err != nil {
		return unprocessable("Problems parsing JSON")
	}
	now := s.now()
	setState := func(state *string, closedAt *time.Time) {
		if in.State != nil && *in.State != *state {
			*state = *in.State
			*closedAt = time.Time{}
			if *state == "closed" {
				*closedAt = now
			}
		}
	}
	if p := r.pulls[number]; p != nil {
		if in.Title != nil {
			p.Title = *in.Title
		}
		if in.Body != nil {
			p.Body = *in.Body
		}
		setState(&p.State, &p.ClosedAt)
		p.UpdatedAt = now
	} else {
		is := r.issues[number]
		if in.Title != nil {
			is.Title = *in.Title
		}
		if in.Body != nil {
			is.Body = *in.Body
		}
		setState(&is.State, &is.ClosedAt)
		is.UpdatedAt = now
	}
	if in.Labels != nil {
		r.labels[number] = uniqueAppend(nil, labelNames(*in.Labels)...)
	}
	return ok(s.issueObj(r, number))
}

func addLabels(s *Server, c *call) reply {
	number := c.intParam("issue_number")
	if !c.repo.hasIssue(number) {
		return notFound()
	}
	var in struct {
		Labels []any `json:"labels"`
	}
	if err := c.decode(&in); err != nil {
		return unprocessable("Problems parsing JSON")
	}
	c.repo.labels[number] = uniqueAppend(c.repo.labels[number], labelNames(in.Labels)...)
	return ok(s.labelList(c.repo, number))
}

func removeLabel(s *Server, c *call) reply {
	number := c.intParam("issue_number")
	if !c.repo.hasIssue(number) {
		return notFound()
	}
	labels := c.repo.labels[number]
	for i, l := range labels {
		if strings.EqualFold(l, c.params["name"]) {
			c.repo.labels[number] = append(labels[:i:i], labels[i+1:]...)
			return ok(s.labelList(c.repo, number))
		}
	}
	return reply{status: http.StatusNotFound, body: errorBody("Label does not exist")}
}

func uniqueAppend(list []string, add ...string) []string {
	out := append([]string(nil), list...)
	for _, a := range add {
		found := false
		for _, l := range out {
			if strings.EqualFold(l, a) {
				found = true
			}
		}
		if !found {
			out = append(out, a)
		}
	}
	return out
}

// Permissions and teams.

// permissionOf folds a repository role into the classic permission.
var permissionOf = map[string]string{
	"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read", "none": "none",
}

func getPermission(s *Server, c *call) reply {
	user := c.params["username"]
	role := c.repo.permissions[user]
	if role == "" {
		role = "none"
	}
	perm, known := permissionOf[role]
	if !known {
		perm = role
	}
	u, _ := s.userObj(user).(obj)
	u["role_name"] = role
	u["permissions"] = obj{
		"admin":    perm == "admin",
		"maintain": role == "maintain" || perm == "admin",
		"push":     perm == "admin" || perm == "write",
		"triage":   role != "read" && perm != "none",
		"pull":     perm != "none",
	}
	return ok(obj{"permission": perm, "role_name": role, "user": u})
}

func getTeamMembership(s *Server, c *call) reply {
	org, team, user := c.params["org"], c.params["team_slug"], c.params["username"]
	m, found := s.teams[org+"/"+team][user]
	if !found {
		return reply{status: http.StatusNotFound, body: errorBody("Not Found")}
	}
	return ok(obj{
		"url":   s.api("organizations/%d/team/%s/memberships/%s", s.userID(org), team, user),
		"role":  m.role,
		"state": m.state,
	})
}

// Contents and archives.

func downloadTarball(s *Server, c *call) reply {
	sha, found := c.repo.resolve(c.params["ref"])
	if !found {
		return notFound()
	}
	h := http.Header{}
	h.Set("Location", s.codeloadURL(c.repo, sha))
	return reply{status: http.StatusFound, header: h}
}

func getContent(s *Server, c *call) reply {
	r := c.repo
	sha, found := r.resolve(c.query.Get("ref"))
	if !found {
		return reply{status: http.StatusNotFound, body: errorBody("No commit found for the ref " + c.query.Get("ref"))}
	}
	t := r.trees[r.commits[sha].tree]
	p := strings.Trim(c.params["path"], "/")
	entryObj := func(p, kind string, size int, blob string) obj {
		self := s.api("repos/%s/contents/%s?ref=%s", r.fullName(), p, sha)
		html := s.web("%s/blob/%s/%s", r.fullName(), sha, p)
		git := s.api("repos/%s/git/blobs/%s", r.fullName(), blob)
		var download any = s.web("%s/raw/%s/%s", r.fullName(), sha, p)
		if kind == "dir" {
			html = s.web("%s/tree/%s/%s", r.fullName(), sha, p)
			git = s.api("repos/%s/git/trees/%s", r.fullName(), blob)
			download = nil
		}
		return obj{
			"type": kind, "name": path.Base(p), "path": p, "sha": blob, "size": size,
			"url": self, "html_url": html, "git_url": git, "download_url": download,
			"_links": obj{"self": self, "git": git, "html": html},
		}
	}
	if e, isFile := t.entries[p]; isFile {
		content := r.blobs[e.blob]
		if e.mode == "120000" {
			o := entryObj(p, "symlink", len(content), e.blob)
			o["target"] = string(content)
			return ok(o)
		}
		o := entryObj(p, "file", len(content), e.blob)
		o["encoding"] = "base64"
		o["content"] = wrap60(base64.StdEncoding.EncodeToString(content))
		return ok(o)
	}
	// A directory: list its direct children.
	prefix := p + "/"
	if p == "" {
		prefix = ""
	}
	children := map[string]obj{}
	for _, full := range sortedKeys(t.entries) {
		rest, under := strings.CutPrefix(full, prefix)
		if !under {
			continue
		}
		if name, _, isDir := strings.Cut(rest, "/"); isDir {
			if _, seen := children[name]; !seen {
				children[name] = entryObj(prefix+name, "dir", 0, t.sha)
			}
			continue
		}
		e := t.entries[full]
		kind := "file"
		if e.mode == "120000" {
			kind = "symlink"
		}
		children[rest] = entryObj(full, kind, len(r.blobs[e.blob]), e.blob)
	}
	if len(children) == 0 {
		return notFound()
	}
	var items []any
	for _, name := range sortedKeys(children) {
		items = append(items, children[name])
	}
	return ok(items)
}

// wrap60 breaks base64 text into lines of 60 characters, as GitHub does.
func wrap60(s string) string {
	var b strings.Builder
	for len(s) > 60 {
		b.WriteString(s[:60])
		b.WriteByte('\n')
		s = s[60:]
	}
	b.WriteString(s)
	b.WriteByte('\n')
	return b.String()
}

// Check runs.

func listCheckRuns(s *Server, c *call) reply {
	r := c.repo
	sha, found := r.resolve(c.params["ref"])
	if !found {
		return reply{status: http.StatusOK, body: obj{"total_count": 0, "check_runs": []any{}}}
	}
	var runs []*CheckRun
	for i := len(r.checkRuns) - 1; i >= 0; i-- { // newest first
		cr := r.checkRuns[i]
		if cr.HeadSHA != sha {
			continue
		}
		if name := c.query.Get("check_name"); name != "" && cr.Name != name {
			continue
		}
		if st := c.query.Get("status"); st != "" && cr.Status != st {
			continue
		}
		if app := c.query.Get("app_id"); app != "" && strconv.FormatInt(cr.AppID, 10) != app {
			continue
		}
		runs = append(runs, cr)
	}
	if c.query.Get("filter") != "all" {
		seen := map[string]bool{}
		latest := runs[:0:0]
		for _, cr := range runs {
			if !seen[cr.Name] {
				seen[cr.Name] = true
				latest = append(latest, cr)
			}
		}
		runs = latest
	}
	var items []any
	for _, cr := range runs {
		items = append(items, s.checkRunObj(r, cr))
	}
	page, header := s.paginate(c, items)
	return reply{status: http.StatusOK, header: header, body: obj{"total_count": len(items), "check_runs": page}}
}

// checkRunInput is the body of checks/create and checks/update.
type checkRunInput struct {
	Name        *string `json:"name"`
	HeadSHA     string  `json:"head_sha"`
	DetailsURL  *string `json:"details_url"`
	ExternalID  *string `json:"external_id"`
	Status      *string `json:"status"`
	Conclusion  *string `json:"conclusion"`
	StartedAt   *string `json:"started_at"`
	CompletedAt *string `json:"completed_at"`
	Output      *struct {
		Title       *string      `json:"title"`
		Summary     *string      `json:"summary"`
		Text        *string      `json:"text"`
		Annotations []Annotation `json:"annotations"`
	} `json:"output"`
}

// apply updates cr as GitHub does: a conclusion completes the run, and
// annotations accumulate across updates.
func (in *checkRunInput) apply(s *Server, cr *CheckRun) reply {
	parseTime := func(v *string, dst *time.Time) bool {
		if v == nil {
			return true
		}
		t, err := time.Parse(time.RFC3339, *v)
		if err != nil {
			return false
		}
		*dst = t.UTC()
		return true
	}
	if in.Name != nil {
		cr.Name = *in.Name
	}
	if in.DetailsURL != nil {
		cr.DetailsURL = *in.DetailsURL
	}
	if in.ExternalID != nil {
		cr.ExternalID = *in.ExternalID
	}
	if in.Status != nil {
		cr.Status = *in.Status
	}
	if in.Conclusion != nil {
		cr.Conclusion = *in.Conclusion
		cr.Status = "completed"
	}
	if !parseTime(in.StartedAt, &cr.StartedAt) || !parseTime(in.CompletedAt, &cr.CompletedAt) {
		return unprocessable("Invalid request.", obj{"resource": "CheckRun", "field": "started_at", "code": "invalid"})
	}
	if in.CompletedAt != nil && cr.Conclusion == "" {
		return unprocessable("Invalid request.\n\nNo conclusion was provided; a conclusion is required when completed_at is set.")
	}
	if cr.Status == "completed" {
		if cr.Conclusion == "" {
			return unprocessable("Invalid request.\n\nNo conclusion was provided; a conclusion is required when status is completed.")
		}
		if cr.CompletedAt.IsZero() {
			cr.CompletedAt = s.now()
		}
	}
	if o := in.Output; o != nil {
		if o.Title != nil {
			cr.Title = *o.Title
		}
		if o.Summary != nil {
			cr.Summary = *o.Summary
		}
		if o.Text != nil {
			cr.Text = *o.Text
		}
		cr.Annotations = append(cr.Annotations, o.Annotations...)
	}
	return reply{}
}

func createCheckRun(s *Server, c *call) reply {
	r := c.repo
	var in checkRunInput
	if err := c.decode(&in); err != nil {
		return unprocessable("Problems parsing JSON")
	}
	if r.commits[in.HeadSHA] == nil {
		return unprocessable("No commit found for SHA: " + in.HeadSHA)
	}
	cr := &CheckRun{ID: s.newID(), AppID: s.cfg.appID, HeadSHA: in.HeadSHA, Status: "queued", StartedAt: s.now()}
	if rep := in.apply(s, cr); rep.status != 0 {
		return rep
	}
	r.checkRuns = append(r.checkRuns, cr)
	return created(s.checkRunObj(r, cr))
}

func updateCheckRun(s *Server, c *call) reply {
	id := c.int64Param("check_run_id")
	for _, cr := range c.repo.checkRuns {
		if cr.ID != id {
			continue
		}
		var in checkRunInput
		if err := c.decode(&in); err != nil {
			return unprocessable("Problems parsing JSON")
		}
		updated := *cr
		updated.Annotations = append([]Annotation(nil), cr.Annotations...)
		if rep := in.apply(s, &updated); rep.status != 0 {
			return rep
		}
		*cr = updated
		return ok(s.checkRunObj(c.repo, cr))
	}
	return notFound()
}
