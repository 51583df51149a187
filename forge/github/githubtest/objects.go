package githubtest

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"
	"time"
)

// The builders below spell out the fields of GitHub's objects that carry
// meaning; the response filler adds every other field the description
// requires. They run with s.mu held.

type obj = map[string]any

// nodeID makes a GraphQL-style node ID, as GitHub's look ("MDQ6VXNlcjE=").
func nodeID(kind string, key any) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("0%d:%s%v", len(kind), kind, key)))
}

func timestamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) api(format string, args ...any) string {
	return s.URL + "/" + fmt.Sprintf(format, args...)
}

func (s *Server) web(format string, args ...any) string {
	return s.cfg.webURL + "/" + fmt.Sprintf(format, args...)
}

func (s *Server) botLogin() string { return s.cfg.appSlug + "[bot]" }

// userObj is a simple-user; nil for an empty login.
func (s *Server) userObj(login string) any {
	if login == "" {
		return nil
	}
	id := s.userID(login)
	kind := "User"
	if strings.HasSuffix(login, "[bot]") {
		kind = "Bot"
	}
	for _, in := range s.installations {
		if in.account == login {
			kind = "Organization"
		}
	}
	u := s.api("users/%s", login)
	return obj{
		"login":               login,
		"id":                  id,
		"node_id":             nodeID(kind, id),
		"avatar_url":          fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id),
		"gravatar_id":         "",
		"url":                 u,
		"html_url":            s.web("%s", login),
		"followers_url":       u + "/followers",
		"following_url":       u + "/following{/other_user}",
		"gists_url":           u + "/gists{/gist_id}",
		"starred_url":         u + "/starred{/owner}{/repo}",
		"subscriptions_url":   u + "/subscriptions",
		"organizations_url":   u + "/orgs",
		"repos_url":           u + "/repos",
		"events_url":          u + "/events{/privacy}",
		"received_events_url": u + "/received_events",
		"type":                kind,
		"site_admin":          false,
	}
}

func (s *Server) repoObj(r *repo) obj {
	u := s.api("repos/%s", r.fullName())
	pushed := r.created
	o := obj{
		"id":              r.id,
		"node_id":         nodeID("Repository", r.id),
		"name":            r.name,
		"full_name":       r.fullName(),
		"owner":           s.userObj(r.owner),
		"private":         r.private,
		"visibility":      map[bool]string{true: "private", false: "public"}[r.private],
		"html_url":        s.web("%s", r.fullName()),
		"description":     nil,
		"fork":            false,
		"url":             u,
		"default_branch":  r.defaultBranch,
		"archived":        r.archived,
		"disabled":        false,
		"clone_url":       s.web("%s.git", r.fullName()),
		"git_url":         "git://" + strings.TrimPrefix(strings.TrimPrefix(s.cfg.webURL, "https://"), "http://") + "/" + r.fullName() + ".git",
		"ssh_url":         "git@" + strings.TrimPrefix(strings.TrimPrefix(s.cfg.webURL, "https://"), "http://") + ":" + r.fullName() + ".git",
		"pulls_url":       u + "/pulls{/number}",
		"issues_url":      u + "/issues{/number}",
		"contents_url":    u + "/contents/{+path}",
		"created_at":      timestamp(r.created),
		"updated_at":      timestamp(r.created),
		"pushed_at":       timestamp(pushed),
		"has_issues":      true,
		"has_projects":    false,
		"has_wiki":        false,
		"has_pages":       false,
		"has_downloads":   true,
		"has_discussions": false,
		"permissions":     obj{"admin": false, "maintain": false, "push": true, "triage": true, "pull": true},
		"license":         nil,
		"homepage":        nil,
		"language":        nil,
		"mirror_url":      nil,
		"topics":          []any{},
	}
	addRepoURLs(o, u, s.web("%s", r.fullName()))
	return o
}

// repoURLTemplates are the hypermedia URLs of a repository object, relative
// to its API URL.
var repoURLTemplates = map[string]string{
	"archive_url": "/{archive_format}{/ref}", "assignees_url": "/assignees{/user}",
	"blobs_url": "/git/blobs{/sha}", "branches_url": "/branches{/branch}",
	"collaborators_url": "/collaborators{/collaborator}", "comments_url": "/comments{/number}",
	"commits_url": "/commits{/sha}", "compare_url": "/compare/{base}...{head}",
	"contributors_url": "/contributors", "deployments_url": "/deployments",
	"downloads_url": "/downloads", "events_url": "/events", "forks_url": "/forks",
	"git_commits_url": "/git/commits{/sha}", "git_refs_url": "/git/refs{/sha}",
	"git_tags_url": "/git/tags{/sha}", "hooks_url": "/hooks",
	"issue_comment_url": "/issues/comments{/number}", "issue_events_url": "/issues/events{/number}",
	"keys_url": "/keys{/key_id}", "labels_url": "/labels{/name}", "languages_url": "/languages",
	"merges_url": "/merges", "milestones_url": "/milestones{/number}",
	"notifications_url": "/notifications{?since,all,participating}", "releases_url": "/releases{/id}",
	"stargazers_url": "/stargazers", "statuses_url": "/statuses/{sha}",
	"subscribers_url": "/subscribers", "subscription_url": "/subscription", "tags_url": "/tags",
	"teams_url": "/teams", "trees_url": "/git/trees{/sha}",
}

func addRepoURLs(o obj, apiURL, htmlURL string) {
	for k, suffix := range repoURLTemplates {
		o[k] = apiURL + suffix
	}
	o["svn_url"] = htmlURL
}

// forkObj describes a head repository the double does not hold.
func (s *Server) forkObj(fullName string) obj {
	owner, name, _ := strings.Cut(fullName, "/")
	h := fnv.New32a()
	h.Write([]byte(fullName))
	id := int64(h.Sum32())
	u := s.api("repos/%s", fullName)
	o := obj{
		"id":             id,
		"node_id":        nodeID("Repository", id),
		"name":           name,
		"full_name":      fullName,
		"owner":          s.userObj(owner),
		"private":        false,
		"html_url":       s.web("%s", fullName),
		"fork":           true,
		"url":            u,
		"default_branch": "main",
		"description":    nil,
		"license":        nil,
		"homepage":       nil,
		"language":       nil,
		"mirror_url":     nil,
		"created_at":     nil,
		"updated_at":     nil,
		"pushed_at":      nil,
	}
	addRepoURLs(o, u, s.web("%s", fullName))
	return o
}

func (s *Server) installationObj(in *installation) obj {
	var suspendedAt any
	if in.suspended {
		suspendedAt = timestamp(in.created)
	}
	return obj{
		"id":                   in.id,
		"account":              s.userObj(in.account),
		"app_id":               s.cfg.appID,
		"app_slug":             s.cfg.appSlug,
		"target_id":            s.userID(in.account),
		"target_type":          "Organization",
		"repository_selection": "selected",
		"access_tokens_url":    s.api("app/installations/%d/access_tokens", in.id),
		"repositories_url":     s.api("installation/repositories"),
		"html_url":             s.web("organizations/%s/settings/installations/%d", in.account, in.id),
		"events":               []any{"check_run", "check_suite", "issue_comment", "pull_request", "pull_request_review", "push"},
		"permissions":          appPermissions(),
		"created_at":           timestamp(in.created),
		"updated_at":           timestamp(in.created),
		"single_file_name":     nil,
		"suspended_at":         suspendedAt,
		"suspended_by":         nil,
	}
}

func appPermissions() obj {
	return obj{"checks": "write", "contents": "write", "issues": "write", "members": "read", "metadata": "read", "pull_requests": "write"}
}

// appObj is the integration that owns check runs: the app the double
// serves, or another app whose runs a test seeded.
func (s *Server) appObj(id int64) obj {
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	slug := s.cfg.appSlug
	if id != s.cfg.appID {
		slug = fmt.Sprintf("app-%d", id)
	}
	return obj{
		"id":           id,
		"slug":         slug,
		"node_id":      nodeID("App", id),
		"name":         slug,
		"description":  nil,
		"owner":        s.userObj(slug + "-owner"),
		"external_url": s.web("apps/%s", slug),
		"html_url":     s.web("apps/%s", slug),
		"created_at":   timestamp(created),
		"updated_at":   timestamp(created),
		"permissions":  appPermissions(),
		"events":       []any{},
	}
}

func (s *Server) labelObj(r *repo, name string) obj {
	id, ok := r.labelIDs[name]
	if !ok {
		id = s.newID()
		r.labelIDs[name] = id
	}
	return obj{
		"id":      id,
		"node_id": nodeID("Label", id),
		"url":     s.api("repos/%s/labels/%s", r.fullName(), url.PathEscape(name)),
		"name":    name,
		"color":   "ededed",
		"default": false,
		// GitHub sends null for a label without a description, but the
		// description of pull-request-simple does not allow it.
		"description": "",
	}
}

func (s *Server) labelList(r *repo, number int) []any {
	out := []any{}
	for _, l := range r.labels[number] {
		out = append(out, s.labelObj(r, l))
	}
	return out
}

func (s *Server) branchObj(r *repo, p *pull, ref, sha string, head bool) obj {
	owner, repoObj := r.owner, any(s.repoObj(r))
	if head && p.HeadRepo != "" {
		owner, _, _ = strings.Cut(p.HeadRepo, "/")
		repoObj = s.forkObj(p.HeadRepo)
	}
	return obj{
		"label": owner + ":" + ref,
		"ref":   ref,
		"sha":   sha,
		"user":  s.userObj(owner),
		"repo":  repoObj,
	}
}

// pullObj is a pull-request (full) or pull-request-simple (list) object.
func (s *Server) pullObj(r *repo, p *pull, full bool) obj {
	u := s.api("repos/%s/pulls/%d", r.fullName(), p.Number)
	html := s.web("%s/pull/%d", r.fullName(), p.Number)
	issue := s.api("repos/%s/issues/%d", r.fullName(), p.Number)
	o := obj{
		"id":                  p.id,
		"node_id":             nodeID("PullRequest", p.id),
		"number":              p.Number,
		"url":                 u,
		"html_url":            html,
		"diff_url":            html + ".diff",
		"patch_url":           html + ".patch",
		"issue_url":           issue,
		"commits_url":         u + "/commits",
		"review_comments_url": u + "/comments",
		"review_comment_url":  s.api("repos/%s/pulls/comments{/number}", r.fullName()),
		"comments_url":        issue + "/comments",
		"statuses_url":        s.api("repos/%s/statuses/%s", r.fullName(), p.HeadSHA),
		"state":               p.State,
		"locked":              false,
		"title":               p.Title,
		"user":                s.userObj(p.Author),
		"body":                nilIfEmpty(p.Body),
		"labels":              s.labelList(r, p.Number),
		"milestone":           nil,
		"draft":               p.Draft,
		"created_at":          timestamp(p.CreatedAt),
		"updated_at":          timestamp(p.UpdatedAt),
		"closed_at":           timestamp(p.ClosedAt),
		"merged_at":           nil,
		"merge_commit_sha":    nilIfEmpty(p.MergeCommitSHA),
		"assignee":            nil,
		"assignees":           []any{},
		"requested_reviewers": []any{},
		"requested_teams":     []any{},
		"head":                s.branchObj(r, p, p.HeadRef, p.HeadSHA, true),
		"base":                s.branchObj(r, p, p.BaseRef, p.BaseSHA, false),
		"_links": obj{
			"self":            obj{"href": u},
			"html":            obj{"href": html},
			"issue":           obj{"href": issue},
			"comments":        obj{"href": issue + "/comments"},
			"review_comments": obj{"href": u + "/comments"},
			"review_comment":  obj{"href": s.api("repos/%s/pulls/comments{/number}", r.fullName())},
			"commits":         obj{"href": u + "/commits"},
			"statuses":        obj{"href": s.api("repos/%s/statuses/%s", r.fullName(), p.HeadSHA)},
		},
		"author_association": s.association(r, p.Author),
		"auto_merge":         nil,
		"active_lock_reason": nil,
	}
	if p.Merged {
		o["merged_at"] = timestamp(p.ClosedAt)
	}
	if !full {
		return o
	}
	additions, deletions := 0, 0
	for _, f := range p.files {
		additions += f.Additions
		deletions += f.Deletions
	}
	comments := 0
	for _, c := range r.comments {
		if c.number == p.Number {
			comments++
		}
	}
	o["merged"] = p.Merged
	o["mergeable"] = nil
	o["rebaseable"] = nil
	o["mergeable_state"] = "unknown"
	o["merged_by"] = nil
	o["comments"] = comments
	o["review_comments"] = 0
	o["maintainer_can_modify"] = false
	o["commits"] = len(p.commits)
	o["additions"] = additions
	o["deletions"] = deletions
	o["changed_files"] = len(p.files)
	return o
}

// association is the author_association GitHub computes for a login.
func (s *Server) association(r *repo, login string) string {
	switch {
	case login == r.owner:
		return "OWNER"
	case r.permissions[login] != "" && r.permissions[login] != "none":
		return "COLLABORATOR"
	case login == "":
		return "NONE"
	}
	return "CONTRIBUTOR"
}

func (s *Server) issueObj(r *repo, number int) obj {
	u := s.api("repos/%s/issues/%d", r.fullName(), number)
	o := obj{
		"number":         number,
		"url":            u,
		"repository_url": s.api("repos/%s", r.fullName()),
		"labels_url":     u + "/labels{/name}",
		"comments_url":   u + "/comments",
		"events_url":     u + "/events",
		"labels":         s.labelList(r, number),
		"assignee":       nil,
		"milestone":      nil,
		"locked":         false,
	}
	comments := 0
	for _, c := range r.comments {
		if c.number == number {
			comments++
		}
	}
	o["comments"] = comments
	if p := r.pulls[number]; p != nil {
		html := s.web("%s/pull/%d", r.fullName(), number)
		o["id"] = p.id
		o["node_id"] = nodeID("PullRequest", p.id)
		o["html_url"] = html
		o["title"] = p.Title
		o["body"] = nilIfEmpty(p.Body)
		o["user"] = s.userObj(p.Author)
		o["state"] = p.State
		o["created_at"] = timestamp(p.CreatedAt)
		o["updated_at"] = timestamp(p.UpdatedAt)
		o["closed_at"] = timestamp(p.ClosedAt)
		o["author_association"] = s.association(r, p.Author)
		o["pull_request"] = obj{
			"url":       s.api("repos/%s/pulls/%d", r.fullName(), number),
			"html_url":  html,
			"diff_url":  html + ".diff",
			"patch_url": html + ".patch",
			"merged_at": nil,
		}
		return o
	}
	is := r.issues[number]
	assignees := []any{}
	for _, a := range is.Assignees {
		assignees = append(assignees, s.userObj(a))
	}
	o["id"] = is.id
	o["node_id"] = nodeID("Issue", is.id)
	o["html_url"] = s.web("%s/issues/%d", r.fullName(), number)
	o["title"] = is.Title
	o["body"] = nilIfEmpty(is.Body)
	o["user"] = s.userObj(is.Author)
	o["state"] = is.State
	o["assignees"] = assignees
	if len(is.Assignees) > 0 {
		o["assignee"] = s.userObj(is.Assignees[0])
	}
	o["created_at"] = timestamp(is.CreatedAt)
	o["updated_at"] = timestamp(is.UpdatedAt)
	o["closed_at"] = timestamp(is.ClosedAt)
	o["author_association"] = s.association(r, is.Author)
	return o
}

func (s *Server) commentObj(r *repo, c *comment) obj {
	kind := "issues"
	if r.pulls[c.number] != nil {
		kind = "pull"
	}
	return obj{
		"id":                 c.ID,
		"node_id":            nodeID("IssueComment", c.ID),
		"url":                s.api("repos/%s/issues/comments/%d", r.fullName(), c.ID),
		"html_url":           s.web("%s/%s/%d#issuecomment-%d", r.fullName(), kind, c.number, c.ID),
		"issue_url":          s.api("repos/%s/issues/%d", r.fullName(), c.number),
		"body":               c.Body,
		"user":               s.userObj(c.User),
		"created_at":         timestamp(c.CreatedAt),
		"updated_at":         timestamp(c.UpdatedAt),
		"author_association": s.association(r, c.User),
	}
}

func (s *Server) reviewObj(r *repo, p *pull, rv Review) obj {
	html := s.web("%s/pull/%d#pullrequestreview-%d", r.fullName(), p.Number, rv.ID)
	pr := s.api("repos/%s/pulls/%d", r.fullName(), p.Number)
	return obj{
		"id":                 rv.ID,
		"node_id":            nodeID("PullRequestReview", rv.ID),
		"user":               s.userObj(rv.User),
		"body":               rv.Body,
		"state":              rv.State,
		"html_url":           html,
		"pull_request_url":   pr,
		"_links":             obj{"html": obj{"href": html}, "pull_request": obj{"href": pr}},
		"submitted_at":       timestamp(rv.SubmittedAt),
		"commit_id":          nilIfEmpty(rv.CommitID),
		"author_association": s.association(r, rv.User),
	}
}

func (s *Server) gitUser(id Identity) any {
	if id.Name == "" && id.Email == "" && id.Date.IsZero() {
		return nil
	}
	date := id.Date
	if date.IsZero() {
		date = s.now()
	}
	return obj{"name": id.Name, "email": id.Email, "date": timestamp(date)}
}

func verification(c *commit) obj {
	return obj{
		"verified":    c.Verified,
		"reason":      c.Reason,
		"signature":   nilIfEmpty(c.Signature),
		"payload":     nilIfEmpty(c.Payload),
		"verified_at": nil,
	}
}

func (s *Server) parentsObj(r *repo, c *commit) []any {
	out := []any{}
	for _, p := range c.Parents {
		out = append(out, obj{
			"sha":      p,
			"url":      s.api("repos/%s/commits/%s", r.fullName(), p),
			"html_url": s.web("%s/commit/%s", r.fullName(), p),
		})
	}
	return out
}

// commitObj is a "commit" as pulls/list-commits and repos/get-commit
// return it: the git commit plus the GitHub accounts matched to it.
func (s *Server) commitObj(r *repo, c *commit) obj {
	u := s.api("repos/%s/commits/%s", r.fullName(), c.SHA)
	return obj{
		"sha":          c.SHA,
		"node_id":      nodeID("Commit", c.SHA),
		"url":          u,
		"html_url":     s.web("%s/commit/%s", r.fullName(), c.SHA),
		"comments_url": u + "/comments",
		"commit": obj{
			"url":           s.api("repos/%s/git/commits/%s", r.fullName(), c.SHA),
			"author":        s.gitUser(c.Author),
			"committer":     s.gitUser(c.Committer),
			"message":       c.Message,
			"comment_count": 0,
			"tree":          obj{"sha": c.tree, "url": s.api("repos/%s/git/trees/%s", r.fullName(), c.tree)},
			"verification":  verification(c),
		},
		"author":    s.userObj(c.Author.Login),
		"committer": s.userObj(c.Committer.Login),
		"parents":   s.parentsObj(r, c),
	}
}

// gitCommitObj is a "git-commit" of the git database API.
func (s *Server) gitCommitObj(r *repo, c *commit) obj {
	author, committer := s.gitUser(c.Author), s.gitUser(c.Committer)
	if author == nil {
		author = obj{"name": "", "email": "", "date": timestamp(s.now())}
	}
	if committer == nil {
		committer = author
	}
	return obj{
		"sha":          c.SHA,
		"node_id":      nodeID("Commit", c.SHA),
		"url":          s.api("repos/%s/git/commits/%s", r.fullName(), c.SHA),
		"html_url":     s.web("%s/commit/%s", r.fullName(), c.SHA),
		"author":       author,
		"committer":    committer,
		"message":      c.Message,
		"tree":         obj{"sha": c.tree, "url": s.api("repos/%s/git/trees/%s", r.fullName(), c.tree)},
		"parents":      s.parentsObj(r, c),
		"verification": verification(c),
	}
}

func (s *Server) refObj(r *repo, ref, sha string) obj {
	return obj{
		"ref":     "refs/" + ref,
		"node_id": nodeID("Ref", r.fullName()+":"+ref),
		"url":     s.api("repos/%s/git/refs/%s", r.fullName(), ref),
		"object": obj{
			"type": "commit",
			"sha":  sha,
			"url":  s.api("repos/%s/git/commits/%s", r.fullName(), sha),
		},
	}
}

func (s *Server) checkRunObj(r *repo, cr *CheckRun) obj {
	annotationsURL := s.api("repos/%s/check-runs/%d/annotations", r.fullName(), cr.ID)
	prs := []any{}
	for _, n := range sortedInts(r.pulls) {
		p := r.pulls[n]
		if p.State != "open" || p.HeadSHA != cr.HeadSHA || p.HeadRepo != "" {
			continue
		}
		mini := obj{"id": r.id, "url": s.api("repos/%s", r.fullName()), "name": r.name}
		prs = append(prs, obj{
			"id":     p.id,
			"number": p.Number,
			"url":    s.api("repos/%s/pulls/%d", r.fullName(), p.Number),
			"head":   obj{"ref": p.HeadRef, "sha": p.HeadSHA, "repo": mini},
			"base":   obj{"ref": p.BaseRef, "sha": p.BaseSHA, "repo": mini},
		})
	}
	return obj{
		"id":           cr.ID,
		"node_id":      nodeID("CheckRun", cr.ID),
		"head_sha":     cr.HeadSHA,
		"external_id":  cr.ExternalID,
		"url":          s.api("repos/%s/check-runs/%d", r.fullName(), cr.ID),
		"html_url":     s.web("%s/runs/%d", r.fullName(), cr.ID),
		"details_url":  cr.DetailsURL,
		"status":       cr.Status,
		"conclusion":   nilIfEmpty(cr.Conclusion),
		"started_at":   timestamp(cr.StartedAt),
		"completed_at": timestamp(cr.CompletedAt),
		"name":         cr.Name,
		"output": obj{
			"title":             nilIfEmpty(cr.Title),
			"summary":           nilIfEmpty(cr.Summary),
			"text":              nilIfEmpty(cr.Text),
			"annotations_count": len(cr.Annotations),
			"annotations_url":   annotationsURL,
		},
		"check_suite":   obj{"id": r.id*1000 + int64(len(cr.HeadSHA))},
		"app":           s.appObj(cr.AppID),
		"pull_requests": prs,
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
