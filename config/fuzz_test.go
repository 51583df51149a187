package config

import (
	"errors"
	"os"
	"testing"
)

func FuzzParseRepo(f *testing.F) {
	if example, err := os.ReadFile("testdata/example.gitward.yaml"); err == nil {
		f.Add(example)
	}
	for _, tc := range badRepos {
		f.Add([]byte(tc.yaml))
	}
	for _, tc := range goodRepos {
		f.Add([]byte(tc.yaml))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRepo(RepoFile, data)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T is not a non-empty Errors: %v", err, err)
			}
			for _, e := range es {
				if e.File != RepoFile || e.Msg == "" {
					t.Fatalf("error without file or message: %+v", e)
				}
			}
			return
		}
		if r == nil || r.Version != RepoVersion {
			t.Fatalf("accepted without version 1: %+v", r)
		}
		for _, rule := range r.Approvals.Rules {
			if rule.Required < 1 || len(rule.Paths) == 0 || rule.Name == "" {
				t.Fatalf("accepted an unusable rule: %+v", rule)
			}
			rule.Matches("clusters/prod/x.yaml")
		}
	})
}

func FuzzGlob(f *testing.F) {
	for _, s := range []string{"clusters/**/x.yaml", "{a,b/{c,d}}/*", "[!a-z]?", `\*`, "a/**"} {
		f.Add(s, "clusters/prod/x.yaml")
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		g, err := ParseGlob(pattern)
		if err != nil {
			return
		}
		g.Match(name)
		if g.String() != pattern {
			t.Fatalf("String() = %q, want %q", g.String(), pattern)
		}
	})
}
