package policy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gitward/gitward/forge"
)

func TestPlaintextSecrets(t *testing.T) {
	dbSecret := SecretFinding{File: "clusters/prod/db/secret.yaml", Line: 12, Object: "Secret prod/db", Keys: []string{"user", "password"}}
	devSecret := SecretFinding{File: "clusters/dev/db/secret.yaml", Line: 3, Object: "Secret dev/db", Keys: []string{"password"}}

	t.Run("no findings holds", func(t *testing.T) {
		f := facts(t, "")
		assertHolds(t, f, "plaintext secrets", "no plaintext secrets")
	})
	t.Run("a plaintext Secret fails at its file and line", func(t *testing.T) {
		f := facts(t, "")
		f.PlaintextSecrets = []SecretFinding{dbSecret}
		v := assertFails(t, f, "plaintext secrets", "1 plaintext Secret: Secret prod/db at clusters/prod/db/secret.yaml:12")
		want := []forge.Annotation{{
			Path: "clusters/prod/db/secret.yaml", StartLine: 12, EndLine: 12, Level: forge.AnnotationFailure,
			Title:   "Plaintext Secret prod/db",
			Message: "Secret prod/db carries plaintext data (keys password, user). Encrypt it with SOPS or a SealedSecret, or fetch it with an ExternalSecret; secrets.allowed_paths in .gitward.yaml can exempt this file.",
		}}
		if !reflect.DeepEqual(v.Annotations, want) {
			t.Errorf("annotations\n got %+v\nwant %+v", v.Annotations, want)
		}
	})
	t.Run("an app that does not render fails the rule but is not counted as a Secret", func(t *testing.T) {
		broken := SecretFinding{File: "apps/web/kustomization.yaml", Object: "the rendered manifests of web (they do not render at head, so they cannot be checked for plaintext Secrets)", Unchecked: true}
		f := facts(t, "")
		f.PlaintextSecrets = []SecretFinding{broken}
		v := assertFails(t, f, "plaintext secrets", "1 app not checked for plaintext Secrets: the rendered manifests of web (they do not render at head, so they cannot be checked for plaintext Secrets) at apps/web/kustomization.yaml")
		if len(v.Annotations) != 1 || v.Annotations[0].Title != "Not checked for plaintext Secrets" || strings.Contains(v.Annotations[0].Message, "Encrypt it") {
			t.Errorf("annotations %+v, want one saying the app was not checked", v.Annotations)
		}
		f.PlaintextSecrets = []SecretFinding{broken, dbSecret}
		assertFails(t, f, "plaintext secrets", "1 plaintext Secret: Secret prod/db at clusters/prod/db/secret.yaml:12; 1 app not checked for plaintext Secrets: the rendered manifests of web (they do not render at head, so they cannot be checked for plaintext Secrets) at apps/web/kustomization.yaml")
	})
	t.Run("an exempt path passes and is counted", func(t *testing.T) {
		f := facts(t, `secrets: {allowed_paths: ["clusters/dev/**"]}`)
		f.PlaintextSecrets = []SecretFinding{devSecret}
		v := assertHolds(t, f, "plaintext secrets", "no plaintext secrets; 1 Secret exempt by secrets.allowed_paths")
		if len(v.Annotations) != 0 {
			t.Errorf("annotations for an exempt Secret: %+v", v.Annotations)
		}
	})
	t.Run("exemptions cover only their paths", func(t *testing.T) {
		f := facts(t, `secrets: {allowed_paths: ["clusters/dev/**"]}`)
		f.PlaintextSecrets = []SecretFinding{dbSecret, devSecret}
		assertFails(t, f, "plaintext secrets", "1 plaintext Secret: Secret prod/db at clusters/prod/db/secret.yaml:12; 1 Secret exempt by secrets.allowed_paths")
	})
	t.Run("findings are listed by file and line, whatever their order", func(t *testing.T) {
		f := facts(t, "")
		f.PlaintextSecrets = []SecretFinding{
			{File: "b.yaml", Line: 9, Object: "Secret a/z"},
			{File: "a.yaml", Object: "Secret a/y"},
			{File: "b.yaml", Line: 2, Object: "Secret a/x"},
		}
		v := assertFails(t, f, "plaintext secrets", "3 plaintext Secrets: Secret a/y at a.yaml; Secret a/x at b.yaml:2; Secret a/z at b.yaml:9")
		if v.Annotations[0].StartLine != 1 {
			t.Errorf("a finding without a line is annotated at line %d, want 1", v.Annotations[0].StartLine)
		}
	})
	t.Run("with forbid_plaintext off the rule is not enforced", func(t *testing.T) {
		f := facts(t, "secrets: {forbid_plaintext: false}")
		f.PlaintextSecrets = []SecretFinding{dbSecret}
		v := assertHolds(t, f, "plaintext secrets", "not enforced (secrets.forbid_plaintext is off)")
		if len(v.Annotations) != 0 {
			t.Errorf("annotations with the rule off: %+v", v.Annotations)
		}
	})
	t.Run("keys are named and no value can appear", func(t *testing.T) {
		f := facts(t, "")
		f.PlaintextSecrets = []SecretFinding{dbSecret}
		v := Evaluate(f)
		if !strings.Contains(v.Summary, "| ❌ | Secret prod/db | `clusters/prod/db/secret.yaml:12` | password, user |") {
			t.Errorf("summary does not list the Secret by its keys:\n%s", v.Summary)
		}
	})
}
