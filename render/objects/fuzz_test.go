package objects

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzDiff feeds arbitrary streams to Diff and PlaintextSecrets: they may
// refuse them, but never panic, and what they return is consistent.
func FuzzDiff(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/diff/*")
	for _, dir := range dirs {
		b, _ := os.ReadFile(filepath.Join(dir, "base.yaml"))
		h, _ := os.ReadFile(filepath.Join(dir, "head.yaml"))
		f.Add(b, h)
	}
	f.Add([]byte(deployment), []byte("a: &x [*x]"))
	f.Add([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {? [a]: b}\n"), []byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, base, head []byte) {
		d, err := Diff(base, head, Options{})
		if err == nil {
			n := [3]int{}
			lines := [2]int{}
			for i, o := range d.Objects {
				switch o.Action {
				case Added:
					n[0]++
				case Changed:
					n[1]++
				case Removed:
					n[2]++
				default:
					t.Fatalf("action %q", o.Action)
				}
				lines[0] += o.LinesAdded
				lines[1] += o.LinesRemoved
				if i > 0 && !d.Objects[i-1].ID.key().less(o.ID.key()) {
					t.Fatalf("objects out of order: %v then %v", d.Objects[i-1].ID, o.ID)
				}
			}
			if n != [3]int{d.Added, d.Changed, d.Removed} || lines != [2]int{d.LinesAdded, d.LinesRemoved} {
				t.Fatalf("totals %+v do not match the objects", d)
			}
		}
		_, _ = PlaintextSecrets(head)
	})
}

// FuzzSecretValuesNeverAppear diffs Secrets holding arbitrary values and
// checks that the output is exactly what it is for stand-in values that are
// equal where the real ones are equal: nothing in it depends on a value.
func FuzzSecretValuesNeverAppear(f *testing.F) {
	f.Add("hunter2", "correct horse battery staple")
	f.Add("same", "same")
	f.Add("", "x")
	f.Add("line one\nline two\n", "  leading: spaces ")
	f.Add("\xff\xfe", "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]")
	f.Add("<redacted>", "1234")
	f.Fuzz(func(t *testing.T, v1, v2 string) {
		out := secretDiffText(t, v1, v2)
		if isEnc(v1) || isEnc(v2) {
			// Ciphertext makes the object SOPS-encrypted, which changes
			// the notes; values must still not appear.
			for _, v := range []string{v1, v2} {
				if len(v) >= 8 && strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(v))) {
					t.Fatal("output holds a value in base64")
				}
			}
			return
		}
		s1, s2 := "SENTINEL-ONE-value", "SENTINEL-TWO-value"
		if v1 == v2 {
			s2 = s1
		}
		stand := secretDiffText(t, s1, s2)
		if out != stand {
			a, b := strings.Split(out, "\n"), strings.Split(stand, "\n")
			for i := 0; i < len(a) && i < len(b); i++ {
				if a[i] != b[i] {
					t.Fatalf("output depends on the secret values: line %d is %q, with stand-ins %q", i+1, a[i], b[i])
				}
			}
			t.Fatalf("output depends on the secret values: %d lines, with stand-ins %d", len(a), len(b))
		}
		assertNoSecret(t, stand, s1, s2)
	})
}

// secretDiffText diffs a Secret whose values move between data and
// stringData and between keys, plus a Secret renamed and one removed.
func secretDiffText(t *testing.T, v1, v2 string) string {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	stream := func(objs ...map[string]any) []byte {
		var parts []string
		for _, o := range objs {
			b, err := yaml.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, string(b))
		}
		return []byte(strings.Join(parts, "---\n"))
	}
	secret := func(name string, data, stringData map[string]string) map[string]any {
		o := map[string]any{"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": name, "namespace": "ns"}}
		if data != nil {
			o["data"] = data
		}
		if stringData != nil {
			o["stringData"] = stringData
		}
		return o
	}
	base := stream(
		secret("moved", map[string]string{"a": b64(v1)}, map[string]string{"b": v2, "c": v1}),
		secret("old-name", nil, map[string]string{"k": v1 + v2}),
		secret("gone", map[string]string{"k": b64(v2)}, nil),
	)
	head := stream(
		secret("moved", map[string]string{"b": b64(v1)}, map[string]string{"a": v2, "d": v2}),
		secret("new-name", nil, map[string]string{"k": v1 + v2}),
	)
	d, err := Diff(base, head, Options{})
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	findings, err := PlaintextSecrets(head)
	if err != nil {
		t.Fatalf("PlaintextSecrets: %v", err)
	}
	// Which keys are reported depends on which values are empty, so the
	// findings are checked for values, not compared.
	j, _ := json.Marshal(findings)
	for _, v := range []string{v1, v2} {
		if len(v) >= 8 && strings.Contains(string(j), v) {
			t.Fatal("PlaintextSecrets output holds a value")
		}
	}
	return everything(d)
}
