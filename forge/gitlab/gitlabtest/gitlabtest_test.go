package gitlabtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
	gl "gitlab.com/gitlab-org/api/client-go"
)

// recordingTB records Errorf instead of failing the real test.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestUnknownEndpointFailsTheTest(t *testing.T) {
	tb := &recordingTB{TB: t}
	srv := gitlabtest.New(tb)
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/api/v4/projects/a%2Fb/pipelines", nil)
	req.Header.Set("Private-Token", gitlabtest.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || len(tb.errors) != 1 {
		t.Fatalf("status %d, errors %q", resp.StatusCode, tb.errors)
	}
}

func TestWrongTokenIsUnauthorised(t *testing.T) {
	srv := gitlabtest.New(t)
	resp, err := http.Get(srv.URL() + "/api/v4/projects")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
}

func TestGitSmartHTTPUsesBasicAuthNotPrivateToken(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH")
	}
	srv := gitlabtest.New(t) // an unexpected request would fail this test
	srv.AddProject("group/sub/proj", gitlabtest.ProjectOptions{})
	get := func(user, pass string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/group/sub/proj.git/info/refs?service=git-receive-pack", nil)
		if pass != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, pass := range []string{"", "wrong"} {
		resp := get("oauth2", pass)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("password %q: status %d, want 401", pass, resp.StatusCode)
		}
	}
	resp := get("oauth2", gitlabtest.Token)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The default branch is advertised, through a placeholder standing for
	// the model's own commit.
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "refs/heads/main") {
		t.Fatalf("status %d, body %q", resp.StatusCode, body)
	}
}

func postGraphQL(t *testing.T, srv *gitlabtest.Server, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/api/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Private-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestGraphQLNeedsTheToken(t *testing.T) {
	srv := gitlabtest.New(t)
	for _, token := range []string{"", "wrong"} {
		if status, _ := postGraphQL(t, srv, token, `{"query":"query { currentUser { username } }"}`); status != http.StatusUnauthorized {
			t.Fatalf("token %q: status %d, want 401", token, status)
		}
	}
}

func TestUnknownGraphQLQueryFailsTheTest(t *testing.T) {
	tb := &recordingTB{TB: t}
	srv := gitlabtest.New(tb)
	status, body := postGraphQL(t, srv, gitlabtest.Token, `{"query":"query { currentUser { username } }"}`)
	if status != http.StatusOK || !strings.Contains(body, `"errors"`) || len(tb.errors) != 1 {
		t.Fatalf("status %d, body %s, errors %q", status, body, tb.errors)
	}
}

func TestGraphQLNotesWantAStringIID(t *testing.T) {
	srv := gitlabtest.New(t) // an unexpected query would fail this test
	srv.AddProject("g/p", gitlabtest.ProjectOptions{})
	q := `query($path: ID!, $iid: String!, $after: String) { project(fullPath: $path) { issue(iid: $iid) { notes(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id lastEditedAt author { username bot } } } } } }`
	status, body := postGraphQL(t, srv, gitlabtest.Token, fmt.Sprintf(`{"query":%q,"variables":{"path":"g/p","iid":1}}`, q))
	if status != http.StatusOK || !strings.Contains(body, "$iid of type String!") {
		t.Fatalf("status %d, body %s", status, body)
	}
	iid := srv.AddIssue("g/p", "x")
	n := srv.AddIssueNote("g/p", iid, gitlabtest.DefaultSelf, "hi")
	status, body = postGraphQL(t, srv, gitlabtest.Token, fmt.Sprintf(`{"query":%q,"variables":{"path":"g/p","iid":"1"}}`, q))
	want := fmt.Sprintf(`"id":"gid://gitlab/DiscussionNote/%d"`, n)
	if status != http.StatusOK || !strings.Contains(body, want) || !strings.Contains(body, `"bot":true`) || !strings.Contains(body, `"lastEditedAt":null`) {
		t.Fatalf("status %d, body %s; want %s", status, body, want)
	}
}

// TestApprovalsAndVersionsAsGitLabAnswers: approved_by entries carry
// "user" and "approved_at", and the merge request's diff versions come
// newest first, one per head, including a commit made through the API.
func TestApprovalsAndVersionsAsGitLabAnswers(t *testing.T) {
	srv := gitlabtest.New(t)
	const proj = "group/proj"
	srv.AddProject(proj, gitlabtest.ProjectOptions{})
	srv.AddUser("alice")
	srv.AddUser("bob")
	first := srv.Commit(proj, "feature", "one", map[string]string{"a": "1"})
	iid := srv.AddMergeRequest(proj, gitlabtest.MergeRequestOptions{Source: "feature", Author: "alice"})
	srv.Approve(proj, iid, "bob")
	c := srv.Client()
	second, _, err := c.Commits.CreateCommit(proj, &gl.CreateCommitOptions{
		Branch: gl.Ptr("feature"), CommitMessage: gl.Ptr("two"),
		Actions: []*gl.CommitActionOptions{{Action: gl.Ptr(gl.FileCreate), FilePath: gl.Ptr("b"), Content: gl.Ptr("2")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	vs, _, err := c.MergeRequests.GetMergeRequestDiffVersions(proj, iid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].HeadCommitSHA != second.ID || vs[1].HeadCommitSHA != first ||
		vs[0].CreatedAt == nil || vs[1].CreatedAt == nil || !vs[0].CreatedAt.After(*vs[1].CreatedAt) || vs[0].ID <= vs[1].ID {
		t.Fatalf("versions = %+v", vs)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/api/v4/projects/group%2Fproj/merge_requests/1/approvals", nil)
	req.Header.Set("Private-Token", gitlabtest.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		ApprovedBy []map[string]json.RawMessage `json:"approved_by"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.ApprovedBy) != 1 || body.ApprovedBy[0]["user"] == nil || body.ApprovedBy[0]["approved_at"] == nil {
		t.Fatalf("approved_by = %v", body.ApprovedBy)
	}
	var at time.Time
	if err := json.Unmarshal(body.ApprovedBy[0]["approved_at"], &at); err != nil || at.Before(*vs[1].CreatedAt) || !at.Before(*vs[0].CreatedAt) {
		t.Fatalf("approved_at = %s (%v), versions at %v and %v", body.ApprovedBy[0]["approved_at"], err, vs[1].CreatedAt, vs[0].CreatedAt)
	}
}

// TestCommitStatusesAreSetAsGitLabSetsThem: as GitLab's commit status
// service does, a pending or running status of a name is moved in place,
// a finished one is never changed: setting it again creates a new status
// with a new ID and created_at, and the old one is listed only with
// all=true. A move GitLab's state machine refuses answers 400.
func TestCommitStatusesAreSetAsGitLabSetsThem(t *testing.T) {
	srv := gitlabtest.New(t)
	srv.AddProject("g/p", gitlabtest.ProjectOptions{})
	sha := srv.Commit("g/p", "main", "c", map[string]string{"a": "1"})
	c := srv.Client()
	set := func(state gl.BuildStateValue) (*gl.CommitStatus, error) {
		st, _, err := c.Commits.SetCommitStatus("g/p", sha, &gl.SetCommitStatusOptions{State: state, Name: gl.Ptr("gitward/diff")})
		return st, err
	}
	list := func(all bool) []*gl.CommitStatus {
		out, _, err := c.Commits.GetCommitStatuses("g/p", sha, &gl.GetCommitStatusesOptions{All: gl.Ptr(all)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	pending, err := set(gl.Pending)
	if err != nil {
		t.Fatal(err)
	}
	running, err := set(gl.Running)
	if err != nil || running.ID != pending.ID || !running.CreatedAt.Equal(*pending.CreatedAt) || running.StartedAt == nil {
		t.Fatalf("pending → running = %+v, %v; want the same status moved in place", running, err)
	}
	if _, err := set(gl.Running); err == nil || !strings.Contains(err.Error(), "Cannot transition status via :run from :running") {
		t.Fatalf("running → running: err = %v, want GitLab's 400", err)
	}
	done, err := set(gl.Success)
	if err != nil || done.ID != pending.ID || done.FinishedAt == nil {
		t.Fatalf("running → success = %+v, %v", done, err)
	}
	again, err := set(gl.Success)
	if err != nil || again.ID == done.ID || !again.CreatedAt.After(*done.CreatedAt) {
		t.Fatalf("success set again = %+v, %v; want a new status created later", again, err)
	}
	if got := list(false); len(got) != 1 || got[0].ID != again.ID {
		t.Errorf("default list = %+v, want only the latest", got)
	}
	if got := list(true); len(got) != 2 || got[0].ID != done.ID || got[1].ID != again.ID {
		t.Errorf("list with all=true = %+v, want both", got)
	}
	if got := srv.AllStatuses("g/p", sha); len(got) != 2 {
		t.Errorf("AllStatuses = %+v", got)
	}
	if got := srv.Statuses("g/p", sha); len(got) != 1 || got[0].ID != again.ID {
		t.Errorf("Statuses = %+v", got)
	}
}
