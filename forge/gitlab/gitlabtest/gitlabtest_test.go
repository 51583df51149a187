package gitlabtest_test

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
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
