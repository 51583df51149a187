package githubtest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

type reports struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *reports) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *reports) Helper() {}

// TestResponsesAreValidated makes sure a response that breaks GitHub's
// schema is reported: the double checks itself, not only gitward.
func TestResponsesAreValidated(t *testing.T) {
	orig := handlers["rate-limit/get"]
	t.Cleanup(func() { handlers["rate-limit/get"] = orig })
	handlers["rate-limit/get"] = func(s *Server, c *call) reply {
		return ok(obj{"resources": obj{"core": "plenty"}})
	}
	rec := &reports{TB: t}
	srv := New(rec)
	srv.AddInstallation(1, "acme")
	req, _ := http.NewRequest("GET", srv.URL+"/rate_limit", nil)
	req.Header.Set("Authorization", "token "+srv.InstallationToken(1))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(rec.msgs) != 1 || !strings.Contains(rec.msgs[0], "response does not match") || !strings.Contains(rec.msgs[0], "core") {
		t.Errorf("reports = %q", rec.msgs)
	}
}

// TestEveryKeptOperationIsImplemented keeps the trimmer's table and the
// double's handlers in step.
func TestEveryKeptOperationIsImplemented(t *testing.T) {
	sp, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sp.routes {
		if handlers[r.Operation.OperationID] == nil {
			t.Errorf("%s %s (%s) has no handler", r.Method, r.Path, r.Operation.OperationID)
		}
	}
	if len(sp.routes) != len(handlers) {
		t.Errorf("%d operations in the description, %d handlers", len(sp.routes), len(handlers))
	}
}
