package githubtest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Merges, the pull requests a commit came from, and issues by label: what
// gitward reads to record merges and find changes that reached a protected
// branch without review.

// listIssues serves issues/list-for-repo. As on GitHub, pull requests are
// issues too and are listed with a pull_request key; labels must all match,
// without case; state defaults to "open"; the newest come first.
func listIssues(s *Server, c *call) reply {
	r := c.repo
	state := c.query.Get("state")
	if state == "" {
		state = "open"
	}
	var want []string
	if l := c.query.Get("labels"); l != "" {
		want = strings.Split(l, ",")
	}
	type item struct {
		number  int
		state   string
		created time.Time
	}
	var list []item
	for n, p := range r.pulls {
		list = append(list, item{n, p.State, p.CreatedAt})
	}
	for n, is := range r.issues {
		list = append(list, item{n, is.State, is.CreatedAt})
	}
	direction := c.query.Get("direction")
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if !a.created.Equal(b.created) {
			if direction == "asc" {
				return a.created.Before(b.created)
			}
			return a.created.After(b.created)
		}
		if direction == "asc" {
			return a.number < b.number
		}
		return a.number > b.number
	})
	var items []any
	for _, it := range list {
		if state != "all" && it.state != state {
			continue
		}
		if !hasLabels(r.labels[it.number], want) {
			continue
		}
		items = append(items, s.issueObj(r, it.number))
	}
	page, header := s.paginate(c, items)
	return reply{status: http.StatusOK, body: page, header: header}
}

func hasLabels(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if strings.EqualFold(strings.TrimSpace(w), h) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// listPullsForCommit serves repos/list-pull-requests-associated-with-commit.
// GitHub lists the merged pull request that brought a commit onto the
// default branch (its merge commit, a commit of the pull request, or one
// it landed by squashing or rebasing: see LandCommits); for a commit not
// on the default branch, the open pull requests that contain it.
func listPullsForCommit(s *Server, c *call) reply {
	r := c.repo
	sha := c.params["commit_sha"]
	if r.commits[sha] == nil {
		return reply{status: http.StatusUnprocessableEntity, body: errorBody("No commit found for SHA: " + sha)}
	}
	onDefault := false
	if tip, ok := r.refs["heads/"+r.defaultBranch]; ok {
		onDefault = r.isAncestor(sha, tip)
	}
	var items []any
	for _, n := range sortedInts(r.pulls) {
		p := r.pulls[n]
		contains := p.HeadSHA == sha || p.MergeCommitSHA == sha
		for _, x := range append(append([]string(nil), p.commits...), p.landed...) {
			contains = contains || x == sha
		}
		if !contains {
			continue
		}
		if onDefault && (!p.Merged || p.unlinked) || !onDefault && p.State != "open" {
			continue
		}
		items = append(items, s.pullObj(r, p, false))
	}
	page, header := s.paginate(c, items)
	return reply{status: http.StatusOK, body: page, header: header}
}

// LandCommits records that a merged pull request put these commits on its
// base branch, as a squash or rebase merge writes new commits there; GitHub
// then lists the pull request for each of them.
func (s *Server) LandCommits(repoName string, pr int, shas ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo("LandCommits", repoName)
	p := s.mustPull("LandCommits", r, pr)
	for _, sha := range shas {
		if r.commits[sha] == nil {
			r.commits[sha] = &commit{Commit: Commit{SHA: sha, Reason: "unsigned"}, tree: emptyTreeSHA}
		}
		p.landed = append(p.landed, sha)
	}
}

// MergePullRequest merges an open pull request as GitHub's merge button
// does with a merge commit: it writes mergeSHA with the base branch's head
// and the pull request's head as parents (and the head's files), moves the
// base branch to it and marks the pull request closed and merged at at.
func (s *Server) MergePullRequest(repoName string, pr int, mergeSHA string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo("MergePullRequest", repoName)
	p := s.mustPull("MergePullRequest", r, pr)
	base := r.refs["heads/"+p.BaseRef]
	if base == "" {
		base = p.BaseSHA
	}
	tree := emptyTreeSHA
	if head := r.commits[p.HeadSHA]; head != nil {
		tree = head.tree
	}
	r.commits[mergeSHA] = &commit{Commit: Commit{
		SHA: mergeSHA, Parents: []string{base, p.HeadSHA}, Message: fmt.Sprintf("Merge pull request #%d from %s", pr, p.HeadRef),
		Author: Identity{Name: "GitHub", Email: "noreply@github.com", Date: at}, Committer: Identity{Name: "GitHub", Email: "noreply@github.com", Date: at},
		Verified: true, Reason: "valid", Signature: webFlowSignature,
	}, tree: tree}
	r.refs["heads/"+p.BaseRef] = mergeSHA
	p.State, p.Merged, p.MergeCommitSHA, p.ClosedAt, p.UpdatedAt = "closed", true, mergeSHA, at.UTC(), at.UTC()
	if n := s.cfg.linkLag; n > 0 {
		// GitHub links the merge commit to its pull request a moment after
		// the push (see WithCommitLinkLag).
		p.unlinked = true
		s.lagged = append(s.lagged, &lagged{after: n, apply: func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			p.unlinked = false
		}})
	}
}
