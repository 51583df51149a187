package gitlabtest_test

import (
	"fmt"
	"net/http"
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
