package gitlabtest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// Git smart HTTP.
//
// Each project is also served over Git smart HTTP at
// /{namespace}/{path}.git/..., by `git http-backend` run through
// net/http/cgi on a bare repository per project, with HTTP Basic
// authentication whose password must be Token (any user name, as GitLab's
// "oauth2"). It needs git on PATH; the API routes do not.
//
// The in-memory model stays the truth. Commits made through the commits
// API are real git objects in the bare repository, made as GitLab makes
// them (see apiCommitLocked), so a clone holds them as the API describes
// them. Commits a test seeds (Commit, Push, Merge) have made-up SHAs and
// exist only in memory. Before every Git request the bare repository's
// branches are set to the model's: a branch whose head is a real commit
// points at it; a branch whose head is a made-up commit points at a
// placeholder commit standing for it. So a client sees every branch
// and git refuses to push an unrelated commit onto an existing one. After a
// push, what it brought is imported into the model with its real SHAs,
// parents, trees and file contents, and the model's branches follow the
// bare repository's.

// isGitPath reports whether a request is for Git smart HTTP rather than
// the API.
func isGitPath(p string) bool {
	return !strings.HasPrefix(p, "/api/") && strings.Contains(p, ".git/")
}

// SetCloneURL overrides the HTTP clone URL (http_url_to_repo) the API
// reports for a project, such as to make it unreachable.
func (s *Server) SetCloneURL(full, url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.project(full).p.HTTPURLToRepo = url
}

// serveGit serves one Git smart HTTP request.
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request) {
	full := strings.TrimPrefix(r.URL.Path[:strings.Index(r.URL.Path, ".git/")], "/")
	if _, pass, ok := r.BasicAuth(); !ok || pass != Token {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitLab"`)
		http.Error(w, "HTTP Basic: Access denied", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.projects[full]
	if !ok {
		http.Error(w, "The project you were looking for could not be found.", http.StatusNotFound)
		return
	}
	bin, err := exec.LookPath("git")
	if err != nil {
		http.Error(w, "gitlabtest: git is not on PATH", http.StatusInternalServerError)
		return
	}
	g, err := s.bareLocked(p, bin)
	if err == nil {
		err = s.syncRefsLocked(p, g)
	}
	if err != nil {
		s.t.Errorf("gitlabtest: %s: %v", full, err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var stderr bytes.Buffer
	h := &cgi.Handler{
		Path:   bin,
		Args:   []string{"http-backend"},
		Dir:    s.gitRoot,
		Env:    append(gitEnv(s.gitRoot), "GIT_PROJECT_ROOT="+s.gitRoot, "GIT_HTTP_EXPORT_ALL=1"),
		Stderr: &stderr,
	}
	h.ServeHTTP(w, r)
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
		if err := s.importLocked(p, g); err != nil {
			s.t.Errorf("gitlabtest: %s: import push: %v (http-backend: %s)", full, err, stderr.String())
		}
	}
}

// bare is one project's bare repository.
type bare struct {
	bin, dir string
}

// bareLocked returns the project's bare repository, creating it (and the
// server's root of them) on first use.
func (s *Server) bareLocked(p *project, bin string) (*bare, error) {
	if s.gitRoot == "" {
		s.gitRoot = s.t.TempDir()
	}
	g := &bare{bin: bin, dir: filepath.Join(s.gitRoot, filepath.FromSlash(p.p.PathWithNamespace)+".git")}
	if p.bare {
		return g, nil
	}
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := g.git(nil, nil, "init", "--bare", "--quiet", g.dir); err != nil {
		return nil, err
	}
	if _, err := g.git(nil, nil, "config", "http.receivepack", "true"); err != nil {
		return nil, err
	}
	// As on GitLab, HEAD names the default branch, which a clone checks out.
	if _, err := g.git(nil, nil, "symbolic-ref", "HEAD", "refs/heads/"+p.p.DefaultBranch); err != nil {
		return nil, err
	}
	p.bare = true
	return g, nil
}

// gitEnv is a clean environment for git: no caller GIT_* variables, no
// system or global configuration.
func gitEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "GIT_") && k != "HOME" && k != "XDG_CONFIG_HOME" {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)
}

// git runs git on the bare repository and returns its standard output.
func (g *bare) git(env []string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command(g.bin, args...)
	cmd.Dir = filepath.Dir(g.dir)
	cmd.Env = append(append(gitEnv(filepath.Dir(g.dir)), "GIT_DIR="+g.dir), env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// refs returns the bare repository's branches: name → SHA.
func (g *bare) refs() (map[string]string, error) {
	out, err := g.git(nil, nil, "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/")
	if err != nil {
		return nil, err
	}
	refs := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if sha, ref, ok := strings.Cut(line, " "); ok {
			refs[strings.TrimPrefix(ref, "refs/heads/")] = sha
		}
	}
	return refs, nil
}

// syncRefsLocked points the bare repository's branches at the model's.
func (s *Server) syncRefsLocked(p *project, g *bare) error {
	want := map[string]string{}
	for name, sha := range p.branches {
		if p.real[sha] {
			want[name] = sha
			continue
		}
		ph, err := placeholderLocked(p, g, sha)
		if err != nil {
			return err
		}
		want[name] = ph
	}
	have, err := g.refs()
	if err != nil {
		return err
	}
	var cmds strings.Builder
	for name := range have {
		if _, ok := want[name]; !ok {
			fmt.Fprintf(&cmds, "delete refs/heads/%s\n", name)
		}
	}
	for name, sha := range want {
		if have[name] != sha {
			fmt.Fprintf(&cmds, "update refs/heads/%s %s\n", name, sha)
		}
	}
	if cmds.Len() == 0 {
		return nil
	}
	_, err = g.git(nil, []byte(cmds.String()), "update-ref", "--stdin")
	return err
}

// placeholderLocked returns the real commit standing for a commit the
// model made up: an empty root commit whose message names it.
func placeholderLocked(p *project, g *bare, sha string) (string, error) {
	if ph, ok := p.placeholders[sha]; ok {
		return ph, nil
	}
	tree, err := g.git(nil, []byte{}, "mktree")
	if err != nil {
		return "", err
	}
	env := []string{
		"GIT_AUTHOR_NAME=gitlabtest", "GIT_AUTHOR_EMAIL=gitlabtest@example.com", "GIT_AUTHOR_DATE=1000000000 +0000",
		"GIT_COMMITTER_NAME=gitlabtest", "GIT_COMMITTER_EMAIL=gitlabtest@example.com", "GIT_COMMITTER_DATE=1000000000 +0000",
	}
	out, err := g.git(env, []byte("gitlabtest: stands for "+sha+"\n"), "commit-tree", strings.TrimSpace(string(tree)))
	if err != nil {
		return "", err
	}
	ph := strings.TrimSpace(string(out))
	p.placeholders[sha] = ph
	p.standsFor[ph] = sha
	return ph, nil
}

// importLocked brings what a push left in the bare repository into the
// model: unknown commits with their trees, and the branches.
func (s *Server) importLocked(p *project, g *bare) error {
	refs, err := g.refs()
	if err != nil {
		return err
	}
	for name := range p.branches {
		if _, ok := refs[name]; !ok {
			delete(p.branches, name) // the push deleted it
		}
	}
	for name, sha := range refs {
		if _, ok := p.standsFor[sha]; ok {
			continue // the model's own head, untouched
		}
		if _, known := p.commits[sha]; !known {
			if err := s.importCommitsLocked(p, g, sha); err != nil {
				return err
			}
		}
		p.branches[name] = sha
	}
	for _, m := range p.mrs {
		s.refreshLocked(p, m)
	}
	return nil
}

// importCommitsLocked imports head and its ancestors the model lacks,
// oldest first.
func (s *Server) importCommitsLocked(p *project, g *bare, head string) error {
	out, err := g.git(nil, nil, "rev-list", "--topo-order", "--reverse", head)
	if err != nil {
		return err
	}
	for _, sha := range strings.Fields(string(out)) {
		if _, ok := p.standsFor[sha]; ok {
			continue
		}
		if _, ok := p.commits[sha]; ok {
			continue
		}
		c, err := g.readCommit(sha)
		if err != nil {
			return err
		}
		for i, parent := range c.ParentIDs {
			if fake, ok := p.standsFor[parent]; ok {
				c.ParentIDs[i] = fake
			}
		}
		tree, err := g.readTree(sha)
		if err != nil {
			return err
		}
		p.commits[sha], p.trees[sha], p.real[sha] = c, tree, true
	}
	return nil
}

// readCommit parses `git cat-file commit`.
func (g *bare) readCommit(sha string) (*gl.Commit, error) {
	out, err := g.git(nil, nil, "cat-file", "commit", sha)
	if err != nil {
		return nil, err
	}
	header, msg, _ := strings.Cut(string(out), "\n\n")
	c := &gl.Commit{ID: sha, ShortID: sha[:8], Message: msg, Title: strings.SplitN(msg, "\n", 2)[0]}
	for line := range strings.SplitSeq(header, "\n") {
		key, val, _ := strings.Cut(line, " ")
		switch key {
		case "parent":
			c.ParentIDs = append(c.ParentIDs, val)
		case "author":
			c.AuthorName, c.AuthorEmail, c.AuthoredDate = parseIdent(val)
		case "committer":
			c.CommitterName, c.CommitterEmail, c.CommittedDate = parseIdent(val)
			c.CreatedAt = c.CommittedDate
		}
	}
	return c, nil
}

// parseIdent reads "Name <email> unix-time zone".
func parseIdent(s string) (name, email string, date *time.Time) {
	lt, gt := strings.Index(s, "<"), strings.LastIndex(s, ">")
	if lt < 0 || gt < lt {
		return s, "", nil
	}
	name, email = strings.TrimSpace(s[:lt]), s[lt+1:gt]
	if f := strings.Fields(s[gt+1:]); len(f) > 0 {
		if sec, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			t := time.Unix(sec, 0).UTC()
			date = &t
		}
	}
	return name, email, date
}

// readTree returns every file of a commit with its content.
func (g *bare) readTree(sha string) (map[string][]byte, error) {
	out, err := g.git(nil, nil, "ls-tree", "-r", "-z", "--full-tree", sha)
	if err != nil {
		return nil, err
	}
	tree := map[string][]byte{}
	for entry := range strings.SplitSeq(string(out), "\x00") {
		meta, path, ok := strings.Cut(entry, "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta) // mode type sha
		if len(f) != 3 || f[1] != "blob" {
			continue
		}
		b, err := g.git(nil, nil, "cat-file", "blob", f[2])
		if err != nil {
			return nil, err
		}
		tree[path] = b
	}
	return tree, nil
}

// apiCommitLocked makes a commit through the API (POST
// /projects/:id/repository/commits) a real git object in the project's
// bare repository, as on GitLab: tree is the commit's whole tree, changes
// what it changes from parent (nil content deletes). Author and committer
// are the token's user, unless the request names an author. A parent the
// model made up is stood for by its placeholder in git, and named by its
// made-up SHA in the model. It returns the new commit's SHA.
func (s *Server) apiCommitLocked(p *project, parent, message string, tree, changes map[string][]byte, authorName, authorEmail string) (string, error) {
	bin, err := exec.LookPath("git")
	if err != nil {
		return "", fmt.Errorf("commits through the API are real git objects and need git on PATH: %w", err)
	}
	g, err := s.bareLocked(p, bin)
	if err != nil {
		return "", err
	}
	gitParent := parent
	if parent != "" && !p.real[parent] {
		if gitParent, err = placeholderLocked(p, g, parent); err != nil {
			return "", err
		}
		changes = tree // the placeholder's tree is empty
	}
	index := filepath.Join(s.gitRoot, fmt.Sprintf("index-%d", s.id()))
	defer os.Remove(index)
	env := []string{"GIT_INDEX_FILE=" + index}
	if gitParent != "" {
		if _, err := g.git(env, nil, "read-tree", gitParent); err != nil {
			return "", err
		}
	}
	var info strings.Builder
	for _, path := range sortedKeys(changes) {
		content := changes[path]
		if content == nil {
			fmt.Fprintf(&info, "0 %s\t%s\n", strings.Repeat("0", 40), path)
			continue
		}
		blob, err := g.git(nil, content, "hash-object", "-w", "--stdin")
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&info, "100644 %s\t%s\n", strings.TrimSpace(string(blob)), path)
	}
	if _, err := g.git(env, []byte(info.String()), "update-index", "--index-info"); err != nil {
		return "", err
	}
	treeSHA, err := g.git(env, nil, "write-tree")
	if err != nil {
		return "", err
	}
	u := s.users[s.self]
	committer, committerEmail := u.Name, u.Email
	if committerEmail == "" {
		committerEmail = u.Username + "@users.noreply.gitlab.example"
	}
	if authorName == "" {
		authorName = committer
	}
	if authorEmail == "" {
		authorEmail = committerEmail
	}
	date := fmt.Sprintf("%d +0000", now().Unix())
	args := []string{"commit-tree", strings.TrimSpace(string(treeSHA))}
	if gitParent != "" {
		args = append(args, "-p", gitParent)
	}
	out, err := g.git([]string{
		"GIT_AUTHOR_NAME=" + authorName, "GIT_AUTHOR_EMAIL=" + authorEmail, "GIT_AUTHOR_DATE=" + date,
		"GIT_COMMITTER_NAME=" + committer, "GIT_COMMITTER_EMAIL=" + committerEmail, "GIT_COMMITTER_DATE=" + date,
	}, []byte(message), args...)
	if err != nil {
		return "", err
	}
	sha := strings.TrimSpace(string(out))
	c, err := g.readCommit(sha)
	if err != nil {
		return "", err
	}
	for i, gp := range c.ParentIDs {
		if fake, ok := p.standsFor[gp]; ok {
			c.ParentIDs[i] = fake
		}
	}
	p.commits[sha], p.trees[sha], p.real[sha] = c, tree, true
	return sha, nil
}
