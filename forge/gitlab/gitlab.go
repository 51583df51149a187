// Package gitlab is gitward's GitLab adapter: it implements forge.Forge for
// one GitLab instance (GitLab.com or self-managed) through a project or group
// access token, on top of gitlab.com/gitlab-org/api/client-go.
//
// A forge.Repo names a project: Owner is its namespace path (a user or a
// possibly nested group, "group/subgroup") and Name the project path; the
// project ID sent to the API is "owner/name", path-escaped by the client.
// Pull request numbers are merge request IIDs.
//
// What GitLab expresses differently:
//
//   - Check runs are commit statuses. A status has a name, a state, a short
//     description and a target URL, but no summary, text or annotations:
//     PublishCheck writes the title into the description, and the long
//     report belongs in the merge request's sticky note, which the core
//     already keeps. See PublishCheck.
//   - Approvals carry no commit SHA. Reviews stamps them with the head only
//     when the project resets approvals on push and the head read before
//     listing them is the head read after; on GitLab Free, which has no
//     project approval settings, approvals carry none. See Reviews.
//   - The REST notes API cannot tell an edit from an award emoji (both
//     move updated_at) and does not say whether an author is a bot, so
//     Comments asks GitLab's GraphQL API (/api/graphql, beside /api/v4)
//     for each note's lastEditedAt and author's bot flag, and fails when
//     it cannot. Notes and approvals of bot users (access tokens, service
//     accounts) are marked Bot, as GitHub marks apps. See Comments.
//   - Branch updates have no compare-and-swap on the branch itself. See
//     CommitToBranch.
//   - Issues and merge requests are numbered separately (!1 and #1 both
//     exist), so notes, awards and labels are addressed by forge.Thread,
//     which says which of the two a number names.
//   - The commits API always commits on top of an existing commit, so
//     StartBranch, which needs a root commit, builds it with the git
//     binary and pushes it over Git smart HTTP. It needs git on PATH and
//     Options.Token. See StartBranch.
//
// Making gitward's statuses required: commit statuses set through the API
// join the head commit's pipeline as external jobs, so a project that turns
// on "Pipelines must succeed" (Settings → Merge requests) cannot merge
// while gitward/diff, gitward/drift or gitward/change-control is failed or
// still running. Tiers with external status checks can require them by
// name instead.
package gitlab

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/snapshot"
	gl "gitlab.com/gitlab-org/api/client-go"
)

const perPage = 100

// Forge is the GitLab implementation of forge.Forge for one instance. It is
// safe for concurrent use.
type Forge struct {
	c         *gl.Client
	host      string
	snapshots *snapshot.Cache
	limits    snapshot.Limits

	token []byte

	selfMu sync.Mutex
	self   *forge.User // the token's user, once read

	botsMu sync.Mutex
	bots   map[int64]bool // user ID → bot user, once read

	pipelines headPipelines
}

// Options configure a Forge.
type Options struct {
	// Host names the instance in repository keys, such as "gitlab.com";
	// empty means the client's base URL host.
	Host string
	// Snapshots caches repository trees; required for Snapshot.
	Snapshots *snapshot.Cache
	// Limits bound each downloaded archive.
	Limits snapshot.Limits
	// Token is the access token the client authenticates with, needed by
	// StartBranch only, which pushes over Git HTTP: the token must be
	// allowed to push. A project or group access token with the api scope
	// (which the API calls need anyway) also grants Git over HTTP;
	// write_repository alone would not cover the API calls.
	Token []byte
}

// New returns a Forge acting through client.
func New(client *gl.Client, opts Options) *Forge {
	host := opts.Host
	if host == "" {
		if u := client.BaseURL(); u != nil {
			host = u.Host
		}
	}
	return &Forge{c: client, host: host, snapshots: opts.Snapshots, limits: opts.Limits, token: bytes.Clone(opts.Token)}
}

var (
	_ forge.Forge     = (*Forge)(nil)
	_ forge.HeadClock = (*Forge)(nil)
)

// Self returns the user the access token acts as (GET /user): for a
// project or group access token, the bot user GitLab made for it. It is
// read once and cached; a failed read is not cached.
func (f *Forge) Self(ctx context.Context) (forge.User, error) {
	f.selfMu.Lock()
	if f.self != nil {
		u := *f.self
		f.selfMu.Unlock()
		return u, nil
	}
	f.selfMu.Unlock()
	// Not under the lock, so a slow read does not hold back callers whose
	// contexts end sooner; concurrent first reads are harmless.
	u, _, err := f.c.Users.CurrentUser(gl.WithContext(ctx))
	if err != nil {
		return forge.User{}, wrap(err, "current user")
	}
	self := forge.User{Login: u.Username, ID: u.ID, Bot: u.Bot}
	f.selfMu.Lock()
	defer f.selfMu.Unlock()
	if f.self == nil {
		f.self = &self
	}
	return *f.self, nil
}

// pid is the project ID the API accepts: "namespace/project".
func pid(repo forge.Repo) string { return repo.Owner + "/" + repo.Name }

// wrap adds context to an API error and maps 404 onto forge.ErrNotFound and
// 409 onto forge.ErrConflict.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf(format, args...)
	if errors.Is(err, gl.ErrNotFound) {
		return fmt.Errorf("gitlab: %s: %w (%v)", msg, forge.ErrNotFound, err)
	}
	var rerr *gl.ErrorResponse
	if errors.As(err, &rerr) && rerr.Response != nil {
		switch rerr.Response.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("gitlab: %s: %w (%v)", msg, forge.ErrNotFound, err)
		case http.StatusConflict:
			return fmt.Errorf("gitlab: %s: %w (%v)", msg, forge.ErrConflict, err)
		}
	}
	return fmt.Errorf("gitlab: %s: %w", msg, err)
}

// Repositories lists the projects the token is a member of, leaving
// archived ones out.
func (f *Forge) Repositories(ctx context.Context) ([]forge.Repo, error) {
	opt := &gl.ListProjectsOptions{
		ListOptions: gl.ListOptions{PerPage: perPage},
		Membership:  gl.Ptr(true),
		Archived:    gl.Ptr(false),
	}
	var repos []forge.Repo
	for {
		page, resp, err := f.c.Projects.ListProjects(opt, gl.WithContext(ctx))
		if err != nil {
			return nil, wrap(err, "list projects")
		}
		for _, p := range page {
			if p.Archived {
				continue
			}
			repos = append(repos, f.RepoFromProject(p))
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return repos, nil
}

// RepoFromProject converts a project into a forge.Repo.
func (f *Forge) RepoFromProject(p *gl.Project) forge.Repo {
	owner, name := splitPath(p.PathWithNamespace)
	if p.Namespace != nil && p.Namespace.FullPath != "" {
		owner = p.Namespace.FullPath
	}
	if p.Path != "" {
		name = p.Path
	}
	return forge.Repo{Host: f.host, Owner: owner, Name: name, DefaultBranch: p.DefaultBranch}
}

// splitPath splits "group/sub/project" at its last slash.
func splitPath(full string) (owner, name string) {
	i := strings.LastIndex(full, "/")
	if i < 0 {
		return "", full
	}
	return full[:i], full[i+1:]
}

// userID resolves a username to its numeric ID; ErrNotFound when none.
func (f *Forge) userID(ctx context.Context, login string) (int64, error) {
	users, _, err := f.c.Users.ListUsers(&gl.ListUsersOptions{Username: gl.Ptr(login)}, gl.WithContext(ctx))
	if err != nil {
		return 0, wrap(err, "look up user %q", login)
	}
	for _, u := range users {
		if strings.EqualFold(u.Username, login) {
			return u.ID, nil
		}
	}
	return 0, fmt.Errorf("gitlab: user %q: %w", login, forge.ErrNotFound)
}

// download streams a response body produced by fn through a pipe.
func download(fn func(w io.Writer) error) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(fn(pw)) }()
	return pr
}

func base64Encode(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
