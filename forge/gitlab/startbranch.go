package gitlab

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
	gl "gitlab.com/gitlab-org/api/client-go"
)

// gitTimeout bounds StartBranch's git work when the context has no
// deadline of its own.
const gitTimeout = 2 * time.Minute

// StartBranch creates branch bc.Branch whose only commit is a root commit
// holding exactly bc.Files, for the audit ledger.
//
// GitLab's commits API cannot write a commit without a parent, so the
// adapter builds the commit with the git binary in a temporary bare
// repository, without a work tree (hash-object, update-index on a private
// index, write-tree, commit-tree), authored and committed by "gitward
// <gitward@users.noreply.HOST>" at the current time, and pushes it over
// Git smart HTTP to the project's HTTP clone URL, which it reads from the
// API. So StartBranch needs git on PATH and Options.Token, which must be
// allowed to push (a project or group access token with the api scope
// is). The token is sent as an http.extraHeader through git's
// GIT_CONFIG_* environment variables: never in argv, in the URL, in errors
// or in logs.
//
// A push onto a branch that exists is refused by git: the new root commit
// is unrelated to the branch's history, so it is no fast-forward. That,
// like a branch created meanwhile, is forge.ErrConflict.
//
// bc.ExpectedHead and bc.Parent must be empty, bc.Branch a valid branch
// name, and bc.Files non-empty, without deletions (nil Content), with
// clean relative paths.
func (f *Forge) StartBranch(ctx context.Context, repo forge.Repo, bc forge.BranchCommit) (string, error) {
	if err := checkStart(bc); err != nil {
		return "", err
	}
	if len(f.token) == 0 {
		return "", fmt.Errorf("gitlab: start branch %s: no access token to push with (Options.Token)", bc.Branch)
	}
	gitBin, err := exec.LookPath("git")
	if err != nil {
		return "", fmt.Errorf("gitlab: start branch %s: needs git on PATH: %w", bc.Branch, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, gitTimeout)
		defer cancel()
	}
	dir, err := os.MkdirTemp("", "gitward-start-")
	if err != nil {
		return "", fmt.Errorf("gitlab: start branch %s: %w", bc.Branch, err)
	}
	defer os.RemoveAll(dir)
	g := &gitCmd{bin: gitBin, dir: dir, secrets: secrets(f.token)}

	if _, err := g.run(ctx, nil, nil, "init", "--bare", "--quiet", g.gitDir()); err != nil {
		return "", startErr(bc.Branch, err)
	}
	out, err := g.run(ctx, nil, nil, "check-ref-format", "--branch", bc.Branch)
	if err != nil || out != bc.Branch {
		return "", fmt.Errorf("gitlab: start branch: %q is not a valid branch name", bc.Branch)
	}
	sha, err := g.rootCommit(ctx, f.host, bc)
	if err != nil {
		return "", startErr(bc.Branch, err)
	}

	p, _, err := f.c.Projects.GetProject(pid(repo), nil, gl.WithContext(ctx))
	if err != nil {
		return "", wrap(err, "project %s", repo.FullName())
	}
	remote, err := url.Parse(p.HTTPURLToRepo)
	if err != nil || (remote.Scheme != "https" && remote.Scheme != "http") || remote.Host == "" {
		return "", fmt.Errorf("gitlab: start branch %s: project %s has no HTTP clone URL (%q)", bc.Branch, repo.FullName(), p.HTTPURLToRepo)
	}
	remote.User = nil
	ref := "refs/heads/" + bc.Branch
	auth := "Authorization: Basic " + base64.StdEncoding.EncodeToString(append([]byte("oauth2:"), f.token...))
	pushEnv := []string{
		"GIT_CONFIG_COUNT=3",
		"GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0=" + auth,
		// No credential helper may answer in the token's place, and the
		// header must not follow a redirect to another host.
		"GIT_CONFIG_KEY_1=credential.helper", "GIT_CONFIG_VALUE_1=",
		"GIT_CONFIG_KEY_2=http.followRedirects", "GIT_CONFIG_VALUE_2=false",
	}
	out, err = g.run(ctx, pushEnv, nil, "push", "--porcelain", "--no-progress", remote.String(), sha+":"+ref)
	return pushResult(bc.Branch, repo, sha, ref, out, err)
}

// checkStart validates a StartBranch request before any git runs.
func checkStart(bc forge.BranchCommit) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("gitlab: start branch %q: %s", bc.Branch, fmt.Sprintf(format, args...))
	}
	switch {
	case bc.ExpectedHead != "":
		return fail("a root commit has no expected head (ExpectedHead %s)", markdown.Short(bc.ExpectedHead))
	case bc.Parent != "":
		return fail("a root commit has no parent (Parent %s)", markdown.Short(bc.Parent))
	case bc.Branch == "":
		return fail("no branch name")
	case strings.HasPrefix(bc.Branch, "refs/"):
		return fail("give the branch name without refs/heads/")
	case strings.HasPrefix(bc.Branch, "-"):
		return fail("not a valid branch name")
	case len(bc.Files) == 0:
		return fail("no files")
	}
	seen := map[string]bool{}
	for _, fc := range bc.Files {
		if fc.Content == nil {
			return fail("file %q has no content: a root commit deletes nothing", fc.Path)
		}
		if err := checkPath(fc.Path); err != nil {
			return fail("%v", err)
		}
		if seen[fc.Path] {
			return fail("file %q given twice", fc.Path)
		}
		seen[fc.Path] = true
	}
	for p := range seen {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if seen[d] {
				return fail("%q is both a file and the folder of %q", d, p)
			}
		}
	}
	return nil
}

// checkPath accepts clean relative slash-separated paths that git can
// store: no empty, ".", ".." or ".git" component, no backslash, no NUL.
func checkPath(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || strings.ContainsAny(p, "\\\x00") {
		return fmt.Errorf("path %q is not a clean relative path", p)
	}
	for _, c := range strings.Split(p, "/") {
		if c == "." || c == ".." || strings.EqualFold(c, ".git") {
			return fmt.Errorf("path %q is not a clean relative path", p)
		}
	}
	return nil
}

// rootCommit writes bc.Files into the bare repository and commits them
// with no parent.
func (g *gitCmd) rootCommit(ctx context.Context, host string, bc forge.BranchCommit) (string, error) {
	var index bytes.Buffer
	for _, fc := range bc.Files {
		blob, err := g.run(ctx, nil, fc.Content, "hash-object", "-w", "--no-filters", "--stdin")
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&index, "100644 blob %s\t%s\x00", blob, fc.Path)
	}
	if _, err := g.run(ctx, nil, index.Bytes(), "update-index", "--add", "-z", "--index-info"); err != nil {
		return "", err
	}
	tree, err := g.run(ctx, nil, nil, "write-tree")
	if err != nil {
		return "", err
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" {
		host = "gitlab"
	}
	date := strconv.FormatInt(time.Now().Unix(), 10) + " +0000"
	email := "gitward@users.noreply." + host
	env := []string{
		"GIT_AUTHOR_NAME=gitward", "GIT_AUTHOR_EMAIL=" + email, "GIT_AUTHOR_DATE=" + date,
		"GIT_COMMITTER_NAME=gitward", "GIT_COMMITTER_EMAIL=" + email, "GIT_COMMITTER_DATE=" + date,
	}
	return g.run(ctx, env, []byte(bc.Message), "commit-tree", tree, "-F", "-")
}

// createdMeanwhile reports whether a remote's refusal of a branch
// creation says the ref was no longer absent when it came to write it:
// another writer created the branch after the ref advertisement. git
// receive-pack answers "(failed to update ref)" when its ref transaction
// finds the ref present (the reason, "reference already exists", goes to
// stderr only); some servers put the reason in the summary itself.
func createdMeanwhile(summary string) bool {
	for _, s := range []string{"already exists", "failed to update ref", "failed to lock", "cannot lock ref", "incorrect old value"} {
		if strings.Contains(summary, s) {
			return true
		}
	}
	return false
}

// pushResult reads git push --porcelain's verdict on ref.
func pushResult(branch string, repo forge.Repo, sha, ref, out string, runErr error) (string, error) {
	for line := range strings.SplitSeq(out, "\n") {
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 || !strings.HasSuffix(parts[1], ":"+ref) {
			continue
		}
		flag, summary := parts[0], parts[2]
		switch {
		case flag == "*" && runErr == nil:
			return sha, nil
		case flag == "=":
			return "", fmt.Errorf("gitlab: start branch %s of %s: the branch exists already: %w", branch, repo.FullName(), forge.ErrConflict)
		case flag == "!" && (strings.HasPrefix(summary, "[rejected]") || createdMeanwhile(summary)):
			// Rejected by git itself: the branch exists, and the root
			// commit is no fast-forward from it; or it was created
			// between the ref advertisement and the update.
			return "", fmt.Errorf("gitlab: start branch %s of %s: the branch exists already (%s): %w", branch, repo.FullName(), summary, forge.ErrConflict)
		case flag == "!":
			return "", fmt.Errorf("gitlab: start branch %s of %s: push refused: %s", branch, repo.FullName(), summary)
		}
	}
	if runErr != nil {
		var gerr *gitError
		if errors.As(runErr, &gerr) && (strings.Contains(gerr.stderr, "could not read Username") ||
			strings.Contains(gerr.stderr, "Authentication failed") || strings.Contains(gerr.stderr, "error: 403")) {
			return "", fmt.Errorf("gitlab: start branch %s of %s: the access token was refused for Git over HTTP (it needs the api scope and push access): %w", branch, repo.FullName(), runErr)
		}
		return "", startErr(branch, runErr)
	}
	return "", fmt.Errorf("gitlab: start branch %s of %s: git push reported nothing for %s", branch, repo.FullName(), ref)
}

func startErr(branch string, err error) error {
	return fmt.Errorf("gitlab: start branch %s: %w", branch, err)
}

// gitCmd runs git on one temporary bare repository with a scrubbed
// environment: no system, global or user configuration, no prompts, and
// none of the caller's GIT_* variables.
type gitCmd struct {
	bin, dir string
	// secrets are scrubbed from everything git prints before it goes
	// into an error.
	secrets []string
}

func (g *gitCmd) gitDir() string { return filepath.Join(g.dir, "repo.git") }

// secrets lists the forms in which the token could show in git's output.
func secrets(token []byte) []string {
	t := string(token)
	return []string{
		base64.StdEncoding.EncodeToString([]byte("oauth2:" + t)),
		base64.RawStdEncoding.EncodeToString([]byte("oauth2:" + t)),
		url.QueryEscape(t),
		t,
	}
}

// scrub replaces every secret in s.
func (g *gitCmd) scrub(s string) string {
	for _, sec := range g.secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[token]")
		}
	}
	return s
}

// gitError is a failed git command: its arguments and its scrubbed
// output.
type gitError struct {
	args   []string
	err    error
	stderr string
}

func (e *gitError) Error() string {
	msg := fmt.Sprintf("git %s: %v", strings.Join(e.args, " "), e.err)
	if e.stderr != "" {
		msg += ": " + e.stderr
	}
	return msg
}

// run runs git with args and stdin, and returns its trimmed standard
// output.
func (g *gitCmd) run(ctx context.Context, extraEnv []string, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, g.bin, args...)
	cmd.Dir = g.dir
	cmd.Env = append(g.env(), extraEnv...)
	cmd.WaitDelay = 5 * time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := strings.TrimSpace(g.scrub(stdout.String()))
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		shown := make([]string, len(args))
		for i, a := range args {
			shown[i] = g.scrub(a)
		}
		return out, &gitError{args: shown, err: errors.New(g.scrub(err.Error())), stderr: strings.TrimSpace(g.scrub(stderr.String()))}
	}
	return out, nil
}

// env is the caller's environment without git's own variables, HOME or
// askpass helpers, plus a private repository, index and home.
func (g *gitCmd) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "GIT_"), k == "HOME", k == "XDG_CONFIG_HOME", k == "SSH_ASKPASS":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"GIT_DIR="+g.gitDir(),
		"GIT_INDEX_FILE="+filepath.Join(g.dir, "index"),
		"HOME="+g.dir,
		"XDG_CONFIG_HOME="+g.dir,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=",
	)
}
