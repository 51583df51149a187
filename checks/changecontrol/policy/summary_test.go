package policy

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitward/gitward/forge"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestSummaryGolden renders the summary of a pull request that fails for
// several reasons at once: a production change short of SRE approvals, an
// author's and a stale approval ignored, an unsigned commit and a plaintext
// Secret beside an exempt one.
func TestSummaryGolden(t *testing.T) {
	f := prodChange(t, prodNeedsSRE+`secrets: {allowed_paths: ["clusters/dev/**"]}
`)
	f.Commits[0].Signature = SignatureVerdict{Reason: "unsigned"}
	f.Commits[1].Committer = person("frank")
	coAuthor(&f, 1, forge.Identity{Name: "Carol", Email: "carol@users.noreply.github.com", Login: "carol"})
	f.Reviews = []forge.Review{
		approvedOn("bob", headSHA, 20),
		approvedOn("carol", headSHA, 21),
		approvedOn("dave", firstSHA, 5),
		changesOn("erin", headSHA, 22),
	}
	edited := command("grace", "", 23)
	edited.Edited = true
	f.Approvals = []CommandApproval{command("dave", "9be01d2", 24), edited}
	f.PlaintextSecrets = []SecretFinding{
		{File: "clusters/prod/db/secret.yaml", Line: 12, Object: "Secret prod/db", Keys: []string{"user", "password"}},
		{File: "clusters/dev/db/secret.yaml", Line: 3, Object: "Secret dev/db", Keys: []string{"password"}},
	}

	v := Evaluate(f)
	got := "<!-- title: " + v.Title + " -->\n<!-- conclusion: " + string(v.Conclusion) + " -->\n\n" + v.Summary
	golden(t, "summary.golden.md", got)
}

// TestSummaryGoldenBreakGlass renders a break-glass pass.
func TestSummaryGoldenBreakGlass(t *testing.T) {
	f := facts(t, "")
	f.BreakGlass = &BreakGlassUse{User: "carol", Reason: "checkout | down <now>", At: at(30)}
	v := Evaluate(f)
	got := "<!-- title: " + v.Title + " -->\n<!-- conclusion: " + string(v.Conclusion) + " -->\n\n" + v.Summary
	golden(t, "summary-breakglass.golden.md", got)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run go test -update to accept):\n%s", path, got)
	}
}
