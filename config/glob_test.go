package config

import "testing"

func mustGlob(t *testing.T, p string) Glob {
	t.Helper()
	g, err := ParseGlob(p)
	if err != nil {
		t.Fatalf("ParseGlob(%q): %v", p, err)
	}
	return g
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"clusters/prod/**", "clusters/prod/app/deploy.yaml", true},
		{"clusters/prod/**", "clusters/prod", true},
		{"clusters/prod/**", "clusters/production/x.yaml", false},
		{"clusters/*/kustomization.yaml", "clusters/prod/kustomization.yaml", true},
		{"clusters/*/kustomization.yaml", "clusters/prod/eu/kustomization.yaml", false},
		{"**/kustomization.yaml", "kustomization.yaml", true},
		{"**/kustomization.yaml", "a/b/c/kustomization.yaml", true},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"a/**/b", "a/x/y/c", false},
		{"a/**/b/**/c", "a/1/b/2/b/3/c", true},
		{"**", "anything/at/all", true},
		{"*.yaml", "deploy.yaml", true},
		{"*.yaml", "dir/deploy.yaml", false},
		{"*", ".hidden", true},
		{"release/*", "release/1.2", true},
		{"release/*", "release", false},
		{"v?.yaml", "v1.yaml", true},
		{"v?.yaml", "v10.yaml", false},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[!a-c]x", "dx", true},
		{"[^a-c]x", "ax", false},
		{`\*.yaml`, "*.yaml", true},
		{`\*.yaml`, "a.yaml", false},
		{"{infra,clusters}/**", "infra/x", true},
		{"{infra,clusters}/**", "apps/x", false},
		{"infrastructure/{crds,controllers}/**", "infrastructure/controllers/x.yaml", true},
		{"{a/b,c}/d", "a/b/d", true},
		{"{a,b{c,d}}", "bd", true},
		{"a,b", "a,b", true},
		{"*a*b*c", "xaybzc", true},
		{"*a*b*c", "xaybz", false},
		{"ünï/*", "ünï/ç", true},
		// Where doublestar alone would answer otherwise (see glob.go).
		{"x[!a]y", "x/y", false},
		{"x[.-0]y", "x/y", false},
		{"x[.-0]y", "x.y", true},
		{"x[.-0]y", "x0y", true},
		{`a\/b`, "a/b", false},
		{"a*/**", "a", true},
		{"a/**/**", "a", true},
		{"{a,b}/**", "b", true},
	} {
		g := mustGlob(t, tc.pattern)
		if got := g.Match(tc.name); got != tc.want {
			t.Errorf("%q matching %q = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestGlobErrors(t *testing.T) {
	for _, tc := range []struct{ pattern, want string }{
		{"clusters/[prod", `invalid glob "clusters/[prod": missing closing ]`},
		{"clusters/{prod", `invalid glob "clusters/{prod": missing closing }`},
		{"prod}", `invalid glob "prod}": unmatched }: write \} for a literal }`},
		{"prod]", `invalid glob "prod]": unmatched ]: write \] for a literal ]`},
		{"[]", `invalid glob "[]": empty character class []`},
		{"[z-a]", `invalid glob "[z-a]": bad range z-a in character class`},
		{"[a/b]", `invalid glob "[a/b]": a character class cannot match /`},
		{`a\`, `invalid glob "a\\": ends with an unfinished escape \`},
		{"", `invalid glob "": empty pattern`},
		{"/clusters/**", `invalid glob "/clusters/**": must be relative to the repository root: remove the leading /`},
		{"clusters//prod", `invalid glob "clusters//prod": empty path segment //`},
		{"clusters/", `invalid glob "clusters/": ends with /: add ** to match everything below, like "dir/**"`},
		{"../x", `invalid glob "../x": "." and ".." segments are not allowed`},
		{"clusters/prod**", `invalid glob "clusters/prod**": ** must be a whole path segment, like "a/**/b"; use * within a name`},
		{"{,}", `invalid glob "{,}": can match an empty path`},
		{"{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}", `invalid glob "{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}": more than 256 { } alternatives`},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			_, err := ParseGlob(tc.pattern)
			if err == nil || err.Error() != tc.want {
				t.Errorf("ParseGlob(%q) = %v, want %s", tc.pattern, err, tc.want)
			}
		})
	}
}

func TestZeroGlobMatchesNothing(t *testing.T) {
	if (Glob{}).Match("") || (Glob{}).Match("a") {
		t.Error("the zero Glob matched")
	}
}

func BenchmarkGlobMatch(b *testing.B) {
	g, _ := ParseGlob("clusters/**/apps/*/{deploy,service}.yaml")
	for b.Loop() {
		g.Match("clusters/prod/eu/west/apps/podinfo/deploy.yaml")
	}
}
