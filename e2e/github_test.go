package e2e

import (
	"strings"
	"testing"

	"github.com/gitward/gitward/forge/github/githubtest"
)

const changeControl = "gitward/change-control"

// scale is a change of podinfo's replicas.
func scale(n int) Change {
	return Change{Message: "Scale podinfo", Files: map[string]string{"apps/podinfo/deployment.yaml": Deployment(n)}}
}

func wantCheck(t *testing.T, w *GitHubWorld, pr int, name, conclusion string, titleHas ...string) Check {
	t.Helper()
	c := w.Check(pr, name)
	if c.Status != "completed" || c.Conclusion != conclusion {
		t.Fatalf("%s on #%d head %.7s: %s/%s %q, want completed/%s\n%s", name, pr, w.Head(pr), c.Status, c.Conclusion, c.Title, conclusion, c.Summary)
	}
	for _, s := range titleHas {
		if !strings.Contains(c.Title+"\n"+c.Summary, s) {
			t.Errorf("%s on #%d: title %q and summary do not say %q\n%s", name, pr, c.Title, s, c.Summary)
		}
	}
	if c.Count != 1 {
		t.Errorf("%s on #%d: %d runs on the head, want one updated in place", name, pr, c.Count)
	}
	return c
}

func TestAliceOpensBobApprovesTheCheckTurnsGreen(t *testing.T) {
	w := NewGitHubWorld(t, WorldOptions{})
	pr := w.Propose("alice", "scale", scale(3))
	w.Idle()
	wantCheck(t, w, pr, changeControl, "failure")
	w.Approve("bob", pr)
	w.Idle()
	wantCheck(t, w, pr, changeControl, "success")
	_ = githubtest.Approve
}
