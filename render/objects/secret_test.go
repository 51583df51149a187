package objects

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// secretYAML writes a core Secret with the given data (values base64-encoded
// here) and stringData.
func secretYAML(name string, data, stringData map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: shop\ntype: Opaque\n", name)
	for _, field := range []struct {
		name   string
		values map[string]string
		enc    bool
	}{{"data", data, true}, {"stringData", stringData, false}} {
		if field.values == nil {
			continue
		}
		fmt.Fprintf(&b, "%s:\n", field.name)
		for _, k := range sortedKeys(field.values) {
			v := field.values[k]
			if field.enc {
				v = base64.StdEncoding.EncodeToString([]byte(v))
			}
			q, _ := json.Marshal(v)
			fmt.Fprintf(&b, "  %s: %s\n", k, q)
		}
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

func TestSecretChangesAreListedByKey(t *testing.T) {
	kv := func(pairs ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(pairs); i += 2 {
			m[pairs[i]] = pairs[i+1]
		}
		return m
	}
	tests := []struct {
		name       string
		base, head string
		want       *SecretChange // nil: no change at all
	}{
		{"a key added is listed as added",
			secretYAML("s", kv("a", "alpha-value"), nil), secretYAML("s", kv("a", "alpha-value", "b", "bravo-value"), nil),
			&SecretChange{Added: []string{"b"}}},
		{"a key removed is listed as removed",
			secretYAML("s", kv("a", "alpha-value", "b", "bravo-value"), nil), secretYAML("s", kv("a", "alpha-value"), nil),
			&SecretChange{Removed: []string{"b"}}},
		{"a value changed is listed as changed",
			secretYAML("s", kv("a", "alpha-value", "b", "bravo-value"), nil), secretYAML("s", kv("a", "alpha-value", "b", "bravo-value-2"), nil),
			&SecretChange{Changed: []string{"b"}}},
		{"stringData and the same value in data are no change",
			secretYAML("s", kv("a", "alpha-value"), kv("b", "bravo-value")), secretYAML("s", kv("a", "alpha-value", "b", "bravo-value"), nil),
			nil},
		{"stringData wins over data for the same key, as in the API server",
			secretYAML("s", kv("a", "overridden"), kv("a", "alpha-value")), secretYAML("s", kv("a", "alpha-value"), nil),
			nil},
		{"a base64 value that reads as a number is the same string quoted or not",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  n: 1234\n", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  n: \"1234\"\n",
			nil},
		{"a metadata change shows in the diff with no key listed",
			secretYAML("s", kv("a", "alpha-value"), nil), strings.Replace(secretYAML("s", kv("a", "alpha-value"), nil), "type: Opaque", "type: kubernetes.io/tls", 1),
			&SecretChange{}},
		{"a Secret of another group is redacted but not folded",
			"apiVersion: example.com/v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  a: alpha-value\n",
			"apiVersion: example.com/v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  a: alpha-value-2\ndata:\n  b: YnJhdm8=\n",
			&SecretChange{Added: []string{"b"}, Changed: []string{"a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Diff([]byte(tt.base), []byte(tt.head), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if len(d.Objects) != 0 {
					t.Fatalf("want no change, got:\n%s", formatAppDiff(d))
				}
				return
			}
			if len(d.Objects) != 1 || d.Objects[0].Secret == nil {
				t.Fatalf("want one Secret change, got:\n%s", formatAppDiff(d))
			}
			if got := d.Objects[0].Secret; !sameKeys(got, tt.want) {
				t.Errorf("secret change = %+v, want %+v\n%s", got, tt.want, formatAppDiff(d))
			}
		})
	}
}

func sameKeys(a, b *SecretChange) bool {
	norm := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return s
	}
	return reflect.DeepEqual(norm(a.Added), norm(b.Added)) &&
		reflect.DeepEqual(norm(a.Removed), norm(b.Removed)) &&
		reflect.DeepEqual(norm(a.Changed), norm(b.Changed))
}

func TestChangedSecretKeysAreMarkedInTheDiff(t *testing.T) {
	base := secretYAML("s", map[string]string{"a": "alpha-value", "b": "bravo-value"}, nil)
	head := secretYAML("s", map[string]string{"a": "alpha-value", "b": "bravo-value-2"}, nil)
	d, err := Diff([]byte(base), []byte(head), Options{})
	if err != nil {
		t.Fatal(err)
	}
	u := d.Objects[0].Unified
	for _, want := range []string{"\n   a: <redacted>\n", "\n-  b: <redacted>\n", "\n+  b: <redacted, changed>\n"} {
		if !strings.Contains(u, want) {
			t.Errorf("diff lacks %q:\n%s", want, u)
		}
	}
}

// forms are the ways a secret value could be written down: as is, in
// base64, and as a SHA-256 digest of either.
func forms(v string) []string {
	b64 := base64.StdEncoding.EncodeToString([]byte(v))
	out := []string{v, b64, base64.RawStdEncoding.EncodeToString([]byte(v)), base64.URLEncoding.EncodeToString([]byte(v))}
	for _, s := range []string{v, b64} {
		sum := sha256.Sum256([]byte(s))
		out = append(out, hex.EncodeToString(sum[:]), strings.ToUpper(hex.EncodeToString(sum[:])),
			base64.StdEncoding.EncodeToString(sum[:]), hex.EncodeToString(sum[:4]))
	}
	return out
}

// everything is every field of an AppDiff, as text and as JSON.
func everything(d *AppDiff) string {
	j, _ := json.Marshal(d)
	return formatAppDiff(d) + string(j)
}

func assertNoSecret(t *testing.T, out string, values ...string) {
	t.Helper()
	for _, v := range values {
		for _, f := range forms(v) {
			if strings.Contains(out, f) {
				t.Errorf("output holds the secret value %q (as %q):\n%s", v, f, out)
			}
		}
	}
}

func TestSecretValuesNeverAppear(t *testing.T) {
	const (
		v1 = "hunter2-Zq8vN3xL"
		v2 = "s3cr3t-Pw!-K9mT7r"
		v3 = "multi\nline\nprivate-key-WqR5"
		v4 = "api-token-7Hc2Yp0s"
	)
	values := []string{v1, v2, v3, v4}
	s := func(name string, data, stringData map[string]string) string {
		return secretYAML(name, data, stringData)
	}
	m := func(kv ...string) map[string]string {
		out := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	lastApplied := func(y string) string {
		j, _ := json.Marshal(map[string]any{"stringData": map[string]string{"token": v4}})
		return strings.Replace(y, "  namespace: shop\n",
			"  namespace: shop\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '"+string(j)+"'\n", 1)
	}
	tests := []struct {
		name       string
		base, head string
	}{
		{"a Secret added", "", s("s", m("a", v1), m("b", v2, "c", v3))},
		{"a Secret removed", s("s", m("a", v1), m("b", v2, "c", v3)), ""},
		{"values changed", s("s", m("a", v1), m("c", v3)), s("s", m("a", v2), m("c", v4))},
		{"a Secret renamed", s("old", m("a", v1, "c", v3), nil), s("new", m("a", v1, "c", v3), nil)},
		{"keys added and removed", s("s", m("a", v1, "b", v2), nil), s("s", m("c", v3, "d", v4), nil)},
		{"data as a single scalar", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: " + v1 + "\n",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: " + v2 + "\n"},
		{"a value that is a structure", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  a: {nested: " + v1 + "}\n",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  a: [" + v2 + "]\n"},
		{"a key that is a structure", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  ? {k: " + v1 + "}\n  : x\n", ""},
		{"the last-applied annotation", lastApplied(s("s", m("a", v1), nil)), lastApplied(s("s", m("a", v2), nil)) + "  extra: eA==\n"},
		{"a Secret of another group", "", strings.Replace(s("s", m("a", v1), m("b", v2)), "apiVersion: v1", "apiVersion: example.com/v1", 1)},
		{"a SOPS Secret with a plaintext key", "", s("s", nil, m("a", v1, "b", "ENC[AES256_GCM,data:eA==,iv:eA==,tag:eA==,type:str]")) +
			"sops:\n  mac: ENC[AES256_GCM,data:eA==,iv:eA==,tag:eA==,type:str]\n  lastmodified: \"2024-01-01T00:00:00Z\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Diff([]byte(tt.base), []byte(tt.head), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Objects) == 0 {
				t.Fatal("no change reported")
			}
			assertNoSecret(t, everything(d), values...)
			for _, stream := range []string{tt.base, tt.head} {
				f, err := PlaintextSecrets([]byte(stream))
				if err != nil {
					t.Fatal(err)
				}
				j, _ := json.Marshal(f)
				assertNoSecret(t, fmt.Sprintf("%+v %s", f, j), values...)
			}
		})
	}
}

func TestErrorsAboutSecretsHoldNoValues(t *testing.T) {
	const v = "hunter2-Zq8vN3xL"
	streams := []string{
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  a: " + v + "\n  a: " + v + "\n",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  a: \"" + v + "\n",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  a: " + v + "\n  b: [" + v + "\n",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  a: *" + v + "\n",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  a: " + v + "\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  a: " + v + "\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: [" + v + "]}\n",
	}
	for i, s := range streams {
		_, err1 := Diff(nil, []byte(s), Options{})
		_, err2 := PlaintextSecrets([]byte(s))
		if err1 == nil || err2 == nil {
			t.Errorf("stream %d: errors %v, %v; want both", i, err1, err2)
			continue
		}
		assertNoSecret(t, err1.Error()+"\n"+err2.Error(), v)
	}
}

func TestSopsIsShownAsEncrypted(t *testing.T) {
	const enc1 = "ENC[AES256_GCM,data:b25l,iv:aXYx,tag:dGFnMQ==,type:str]"
	const enc2 = "ENC[AES256_GCM,data:dHdv,iv:aXYy,tag:dGFnMg==,type:str]"
	cm := func(v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  plain: visible\n  token: " + v + "\n"
	}
	tests := []struct {
		name       string
		base, head string
		sops       bool
		keys       *SecretChange
		shows      []string
	}{
		{"ENC values anywhere make an object SOPS-encrypted",
			cm(enc1), cm(enc2), true, &SecretChange{Changed: []string{"data.token"}},
			[]string{"-  token: <encrypted with SOPS>", "+  token: <encrypted with SOPS, changed>"}},
		{"a sops block with lastmodified makes a Secret SOPS-encrypted",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nsops:\n  lastmodified: \"2024-01-01T00:00:00Z\"\n  age:\n    - recipient: age1x\n      enc: AGE-CIPHERTEXT-1\n",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nsops:\n  lastmodified: \"2024-02-01T00:00:00Z\"\n  age:\n    - recipient: age1x\n      enc: AGE-CIPHERTEXT-2\n",
			true, &SecretChange{},
			[]string{"-    - enc: <ciphertext>", "+    - enc: <ciphertext, changed>", "+  lastmodified: \"2024-02-01T00:00:00Z\""}},
		{"a key called sops without SOPS metadata is plain data",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nsops:\n  enc: a\n",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nsops:\n  enc: b\n",
			false, nil, []string{"-  enc: a", "+  enc: b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Diff([]byte(tt.base), []byte(tt.head), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Objects) != 1 {
				t.Fatalf("want one change:\n%s", formatAppDiff(d))
			}
			o := d.Objects[0]
			if o.Sops != tt.sops {
				t.Errorf("Sops = %v, want %v", o.Sops, tt.sops)
			}
			if (o.Secret == nil) != (tt.keys == nil) || (o.Secret != nil && !sameKeys(o.Secret, tt.keys)) {
				t.Errorf("Secret = %+v, want %+v", o.Secret, tt.keys)
			}
			for _, s := range tt.shows {
				if !strings.Contains(o.Unified, s) {
					t.Errorf("diff lacks %q:\n%s", s, o.Unified)
				}
			}
			for _, s := range []string{"b25l", "dHdv", "AGE-CIPHERTEXT"} {
				if strings.Contains(everything(d), s) {
					t.Errorf("output holds ciphertext %q:\n%s", s, o.Unified)
				}
			}
		})
	}
}

func TestSealedSecretCiphertextIsNotDiffedLineByLine(t *testing.T) {
	ss := func(a, b string) string {
		return "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: r}\nspec:\n  encryptedData:\n" +
			"    a: " + a + "\n    b: " + b + "\n  template:\n    type: Opaque\n"
	}
	d, err := Diff([]byte(ss("AgAAAA1111", "AgBBBB2222")), []byte(ss("AgAAAA1111", "AgCCCC3333")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := d.Objects[0]
	if o.Sops || o.Secret == nil || !sameKeys(o.Secret, &SecretChange{Changed: []string{"b"}}) {
		t.Errorf("change = %+v", o)
	}
	if !reflect.DeepEqual(o.Notes, []string{"encryptedData.b: encrypted value changed"}) {
		t.Errorf("notes = %q", o.Notes)
	}
	if !strings.Contains(o.Unified, "+    b: <ciphertext, changed>") || strings.Contains(everything(d), "AgCCCC3333") {
		t.Errorf("diff:\n%s", o.Unified)
	}
}

func TestExternalSecretsAreShownAsTheyAre(t *testing.T) {
	es := func(key string) string {
		return "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: e}\nspec:\n  dataFrom:\n    - extract: {key: " + key + "}\n"
	}
	d, err := Diff([]byte(es("one")), []byte(es("two")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := d.Objects[0]
	if o.Secret != nil || o.Sops || len(o.Notes) != 0 || !strings.Contains(o.Unified, "+        key: two") {
		t.Errorf("change = %+v", o)
	}
}

func TestPlaintextSecrets(t *testing.T) {
	enc := "ENC[AES256_GCM,data:eA==,iv:eA==,tag:eA==,type:str]"
	sopsBlock := "sops:\n  mac: " + enc + "\n  lastmodified: \"2024-01-01T00:00:00Z\"\n"
	tests := []struct {
		name   string
		stream string
		want   []SecretFinding
	}{
		{"a Secret with data is plaintext",
			secretYAML("s", map[string]string{"b": "x", "a": "y"}, nil),
			[]SecretFinding{{ID: ID{Kind: "Secret", Namespace: "shop", Name: "s", APIVersion: "v1"}, Doc: 1, Line: 1, Keys: []string{"a", "b"}}}},
		{"a Secret with stringData is plaintext",
			"---\n" + secretYAML("s", nil, map[string]string{"a": "y"}),
			[]SecretFinding{{ID: ID{Kind: "Secret", Namespace: "shop", Name: "s", APIVersion: "v1"}, Doc: 1, Line: 2, Keys: []string{"a"}}}},
		{"a Secret with no data passes",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/service-account-token\n", nil},
		{"empty values hold no secret",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: \"\", b: null}\nstringData: {}\n", nil},
		{"a SOPS-encrypted Secret passes",
			secretYAML("s", nil, map[string]string{"a": enc}) + sopsBlock, nil},
		{"a SOPS file that leaves a key in plaintext does not",
			secretYAML("s", nil, map[string]string{"a": enc, "b": "plain"}) + sopsBlock,
			[]SecretFinding{{ID: ID{Kind: "Secret", Namespace: "shop", Name: "s", APIVersion: "v1"}, Doc: 1, Line: 1, Keys: []string{"b"}}}},
		{"SealedSecrets and ExternalSecrets pass",
			"apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: s}\nspec:\n  encryptedData: {a: AgB}\n---\n" +
				"apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: e}\nspec:\n  data: [{secretKey: a}]\n", nil},
		{"a ConfigMap is not a Secret",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n", nil},
		{"data that is not a mapping is reported as data",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: oops\n",
			[]SecretFinding{{ID: ID{Kind: "Secret", Name: "s", APIVersion: "v1"}, Doc: 1, Line: 1, Keys: []string{"data"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlaintextSecrets([]byte(tt.stream))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("findings = %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := PlaintextSecrets([]byte("a: [")); err == nil {
		t.Error("a stream that does not parse gave no error; the rule must fail closed")
	}
}
