package gitlab

import (
	"errors"
	"testing"

	"github.com/gitward/gitward/forge"
)

// TestStartBranchCreatedMeanwhileIsConflict: when another writer creates
// the branch between the ref advertisement and the update, git
// receive-pack refuses the creation with "(failed to update ref)". That is
// the branch existing already, a conflict the ledger retries on top of the
// other writer's commit, not a refusal that loses its record.
func TestStartBranchCreatedMeanwhileIsConflict(t *testing.T) {
	repo := forge.Repo{Host: "gitlab.example.com", Owner: "acme", Name: "platform"}
	const ref = "refs/heads/gitward/audit"
	for _, summary := range []string{
		"[remote rejected] (failed to update ref)",
		"[remote rejected] (cannot lock ref 'refs/heads/gitward/audit': reference already exists)",
	} {
		out := "To http://gitlab.example.com/acme/platform.git\n!\t3f2c:" + ref + "\t" + summary + "\nDone\n"
		_, err := pushResult("gitward/audit", repo, "3f2c", ref, out, errors.New("exit status 1"))
		if !errors.Is(err, forge.ErrConflict) {
			t.Errorf("push answered %q: %v, want forge.ErrConflict", summary, err)
		}
	}
	// A refusal for another reason stays a refusal.
	out := "!\t3f2c:" + ref + "\t[remote rejected] (pre-receive hook declined)\n"
	if _, err := pushResult("gitward/audit", repo, "3f2c", ref, out, errors.New("exit status 1")); err == nil || errors.Is(err, forge.ErrConflict) {
		t.Errorf("a declined push: %v, want a refusal that is no conflict", err)
	}
}
