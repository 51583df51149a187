package policy

import (
	"testing"

	"github.com/gitward/gitward/forge"
)

const prodNeedsSRE = `
approvals:
  required: 1
  rules:
    - name: prod-needs-sre
      paths: ["clusters/prod/**"]
      required: 2
      teams: [sre]
`

// prodChange is the standard pull request changing a production file,
// with bob and carol in team sre.
func prodChange(t *testing.T, config string) Facts {
	f := facts(t, config)
	f.ChangedFiles = []string{"apps/web/kustomization.yaml", "clusters/prod/web/patch.yaml"}
	f.Teams = map[string]map[string]bool{"sre": {"bob": true, "Carol": true}}
	return f
}

func TestPathRules(t *testing.T) {
	t.Run("a rule whose paths match no changed file does not apply", func(t *testing.T) {
		f := facts(t, prodNeedsSRE)
		f.Reviews = []forge.Review{approvedOn("dave", headSHA, 20)}
		assertHolds(t, f, "approvals: prod-needs-sre", "does not apply: no changed file matches clusters/prod/**")
		assertPasses(t, f)
	})
	t.Run("a matching rule counts only its team's members", func(t *testing.T) {
		f := prodChange(t, prodNeedsSRE)
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20), approvedOn("dave", headSHA, 21)}
		assertHolds(t, f, "approvals", "2 approvals (1 required)")
		v := assertFails(t, f, "approvals: prod-needs-sre", "1 of 2 approvals, waiting for 1 more from team sre; ignored @dave: the rule needs team sre")
		if v.Title != "2 approvals (1 required); prod-needs-sre: 1 of 2; commits signed; no plaintext secrets" {
			t.Errorf("title %q", v.Title)
		}
	})
	t.Run("two team members satisfy it", func(t *testing.T) {
		f := prodChange(t, prodNeedsSRE)
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20), approvedOn("carol", headSHA, 21)}
		assertHolds(t, f, "approvals: prod-needs-sre", "2 of 2 approvals")
		assertPasses(t, f)
	})
	t.Run("a renamed file matches by its old path too", func(t *testing.T) {
		f := prodChange(t, prodNeedsSRE)
		f.ChangedFiles = []string{"clusters/prod/web/old.yaml", "apps/web/new.yaml"}
		assertFails(t, f, "approvals: prod-needs-sre", "0 of 2 approvals, waiting for 2 from team sre")
	})
	t.Run("a team member who wrote the change still cannot approve", func(t *testing.T) {
		f := prodChange(t, prodNeedsSRE)
		coAuthor(&f, 1, forge.Identity{Name: "Carol", Email: "carol@users.noreply.github.com", Login: "carol"})
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20), approvedOn("carol", headSHA, 21)}
		assertFails(t, f, "approvals: prod-needs-sre", "1 of 2 approvals, waiting for 1 more from team sre; ignored @carol: is named as a co-author of commit 9be01d2")
	})
	t.Run("a team member without write permission cannot approve", func(t *testing.T) {
		f := prodChange(t, prodNeedsSRE)
		f.Teams["sre"]["erin"] = true
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20), approvedOn("erin", headSHA, 21)}
		assertFails(t, f, "approvals: prod-needs-sre", "1 of 2 approvals, waiting for 1 more from team sre; ignored @erin: has read permission on this repository; approving needs write permission")
	})
	t.Run("a team whose membership is unknown counts nobody, and says so", func(t *testing.T) {
		f := prodChange(t, prodNeedsSRE)
		f.Teams = nil
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20)}
		assertFails(t, f, "approvals: prod-needs-sre", "0 of 2 approvals, waiting for 2 from team sre; ignored @bob: the rule needs team sre (membership of team sre unknown)")
	})
	t.Run("a rule may name users", func(t *testing.T) {
		f := facts(t, `
approvals:
  rules:
    - name: policy-owners
      paths: [".gitward.yaml"]
      users: [Dave, frank]
`)
		f.ChangedFiles = []string{".gitward.yaml"}
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20)}
		assertFails(t, f, "approvals: policy-owners", "0 of 1 approval, waiting for 1 from @Dave or @frank; ignored @bob: the rule needs @Dave or @frank")
		f.Reviews = append(f.Reviews, approvedOn("dave", headSHA, 21))
		assertHolds(t, f, "approvals: policy-owners", "1 of 1 approval; ignored @bob: the rule needs @Dave or @frank")
	})
	t.Run("a rule may name users and teams", func(t *testing.T) {
		f := prodChange(t, `
approvals:
  rules:
    - name: prod
      paths: ["clusters/prod/**"]
      required: 2
      users: [frank]
      teams: [sre, platform]
`)
		f.Teams["platform"] = map[string]bool{"dave": true}
		f.Reviews = []forge.Review{approvedOn("frank", headSHA, 20), approvedOn("dave", headSHA, 21)}
		assertHolds(t, f, "approvals: prod", "2 of 2 approvals")
		f.Reviews = []forge.Review{approvedOn("frank", headSHA, 20)}
		assertFails(t, f, "approvals: prod", "1 of 2 approvals, waiting for 1 more from @frank or teams sre or platform")
	})
	t.Run("a rule with neither users nor teams accepts anyone eligible", func(t *testing.T) {
		f := prodChange(t, `
approvals:
  rules:
    - name: prod-two
      paths: ["clusters/prod/**"]
      required: 2
`)
		f.Reviews = []forge.Review{approvedOn("frank", headSHA, 20), approvedOn("dave", headSHA, 21)}
		assertHolds(t, f, "approvals: prod-two", "2 of 2 approvals")
	})
	t.Run("every matching rule must hold, and each is listed in order", func(t *testing.T) {
		f := prodChange(t, prodNeedsSRE+`    - name: web-owners
      paths: ["apps/web/**"]
      users: [frank]
`)
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20), approvedOn("carol", headSHA, 21)}
		v := assertFails(t, f, "approvals: web-owners", "0 of 1 approval, waiting for 1 from @frank; ignored @bob: the rule needs @frank; ignored @carol: the rule needs @frank")
		want := []string{"signed commits", "separation of duties", "approvals", "approvals: prod-needs-sre", "approvals: web-owners", "changes requested", "plaintext secrets"}
		for i, r := range v.Rules {
			if i >= len(want) || r.Name != want[i] {
				t.Fatalf("rules %s, want %q", ruleList(v), want)
			}
		}
	})
}
