package audit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/audit"
)

func TestEncodeIsCanonical(t *testing.T) {
	rec := mergeRec(17, sha(10))
	rec.Seq, rec.Schema = 1, audit.Schema
	rec.PullRequest.Title = "Route <web> & api"
	rec.RecordedAt = time.Date(2025, 6, 2, 14, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	a, err := audit.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	b, err := audit.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) || audit.Hash(a) != audit.Hash(b) {
		t.Fatal("the same record encodes to different bytes")
	}
	s := string(a)
	for _, want := range []string{`{"approvals":[`, `"recorded_at":"2025-06-02T12:00:00Z"`, `"title":"Route <web> & api"`, `"break_glass":null`, `"commits":[]`} {
		if !strings.Contains(s, want) {
			t.Errorf("encoding lacks %s:\n%s", want, s)
		}
	}
	if strings.ContainsAny(s, "\n\t") || strings.Contains(s, `": `) || strings.Contains(s, `, "`) {
		t.Errorf("encoding has insignificant whitespace:\n%s", s)
	}
	if i, j := strings.Index(s, `"approvals"`), strings.Index(s, `"branch"`); i > j {
		t.Error("keys are not sorted")
	}
	// Decoding and encoding again gives the same bytes.
	back, err := audit.Decode(a)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := audit.Encode(back)
	if string(c) != s {
		t.Errorf("round trip changed the encoding:\n%s\n%s", s, c)
	}
	if !strings.HasPrefix(audit.Hash(a), "sha256:") || len(audit.Hash(a)) != 71 {
		t.Errorf("hash %q", audit.Hash(a))
	}
}

func TestDecodeIsStrict(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"another schema", `{"schema":"gitward.dev/audit/v9","seq":1}`, `schema is "gitward.dev/audit/v9"`},
		{"an unknown field", `{"schema":"gitward.dev/audit/v1","seq":1,"approved":true}`, `unknown field "approved"`},
		{"two documents", `{"schema":"gitward.dev/audit/v1"} {}`, "data after the record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := audit.Decode([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := mergeRec(17, sha(10))
	ok.Schema, ok.Seq = audit.Schema, 1
	if err := ok.Validate(); err != nil {
		t.Fatalf("a good merge record: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(r *audit.Record)
		want   string
	}{
		{"the first record links to nothing", func(r *audit.Record) { r.PrevHash = audit.Hash(nil) }, "prev_hash"},
		{"a later record must link", func(r *audit.Record) { r.Seq = 2 }, "prev_hash"},
		{"a merge covers its merge commit", func(r *audit.Record) { r.Covers = []string{sha(99)} }, "does not include the merge commit"},
		{"a merge needs change control", func(r *audit.Record) { r.ChangeControl = nil }, "needs change_control"},
		{"an unknown kind", func(r *audit.Record) { r.Kind = "rollback" }, `kind "rollback"`},
		{"an unreviewed record names commits", func(r *audit.Record) {
			*r = unreviewedRec(sha(5))
			r.Schema, r.Seq, r.Commits = audit.Schema, 1, nil
		}, "names no commit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mergeRec(17, sha(10))
			r.Schema, r.Seq = audit.Schema, 1
			tc.change(&r)
			if err := r.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestScrub(t *testing.T) {
	for _, tc := range []struct{ name, in, out string }{
		{"a GitHub token", "token ghs_" + strings.Repeat("A", 36) + " leaked", "token [redacted] leaked"},
		{"an AWS key ID", "key AKIAIOSFODNN7EXAMPLE here", "key [redacted] here"},
		{"a private key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\nafter", "[redacted]\nafter"},
		{"a password value", `db password: "s3cr3t!" set`, `db password: [redacted]" set`},
		{"a JWT", "Bearer eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4", "Bearer [redacted]"},
		{"a Secret's key names stay", "Secret default/db carries plaintext data (keys: password, username)", "Secret default/db carries plaintext data (keys: password, username)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := audit.Scrub(tc.in); got != tc.out {
				t.Errorf("Scrub(%q) = %q, want %q", tc.in, got, tc.out)
			}
		})
	}
	long := strings.Repeat("é", audit.MaxText)
	if got := audit.Scrub(long); len(got) > audit.MaxText+20 || !strings.HasSuffix(got, "(cut)") {
		t.Errorf("long text not cut: %d bytes", len(got))
	}
}
