// Package layout holds the test that keeps gitward's imports running one
// way, as docs/DESIGN.md draws them: each package imports only packages
// of a lower layer, so the core never reaches up into the adapters that
// call it.
package layout

import (
	"os/exec"
	"path"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/gitward/gitward/"

// layers lists gitward's packages from the bottom up. A package may import
// packages of lower layers only; test doubles (…test packages), benchmark
// drivers, tools and scripts are outside the layering. Subpackages not listed take their
// parent's layer.
var layers = [][]string{
	{"report/markdown", "forge/snapshot", "render/textdiff"},
	{"config"},
	{"forge", "commands", "render/objects", "render"},
	{"forge/github", "forge/gitlab", "forge/localgit", "signatures", "live", "checks/changecontrol/policy"},
	{"checks/drift/verdict", "capture"},
	{"report", "breakglass"},
	{"evaluation"},
	{"checks/diff"},
	{"checks/changecontrol", "checks/drift"},
	{"audit", "scan"},
	{"handlers"},
	{"app"},
	{"cmd/gitward", "e2e"},
}

// pure packages decide and do no I/O: they may not import these.
var pure = map[string][]string{
	"checks/changecontrol/policy": {"os", "os/exec", "net", "net/http", "io/fs"},
	"checks/drift/verdict":        {"os", "os/exec", "net", "net/http", "io/fs"},
}

func TestImportsRunOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	rank := map[string]int{}
	for i, layer := range layers {
		for _, p := range layer {
			rank[p] = i
		}
	}
	rankOf := func(p string) (int, bool) {
		for q := p; q != "." && q != ""; q = path.Dir(q) {
			if r, ok := rank[q]; ok {
				return r, true
			}
		}
		return 0, false
	}
	outside := func(p string) bool {
		return strings.HasSuffix(p, "test") || strings.HasSuffix(p, "bench") || strings.HasPrefix(p, "scripts/") ||
			strings.HasPrefix(p, "internal/") || strings.Contains(p, "/internal/")
	}
	var unplaced []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, ok := strings.CutPrefix(fields[0], module)
		if !ok || outside(pkg) {
			continue
		}
		r, ok := rankOf(pkg)
		if !ok {
			unplaced = append(unplaced, pkg)
			continue
		}
		for _, imp := range fields[1:] {
			for _, banned := range pure[pkg] {
				if imp == banned {
					t.Errorf("%s decides and does no I/O, but imports %s", pkg, imp)
				}
			}
			dep, ours := strings.CutPrefix(imp, module)
			if !ours || outside(dep) {
				continue
			}
			if d, ok := rankOf(dep); ok && d >= r && !strings.HasPrefix(dep, pkg+"/") {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must run down the layers", pkg, r, dep, d)
			}
		}
	}
	sort.Strings(unplaced)
	if len(unplaced) > 0 {
		t.Errorf("packages with no layer; add them to layers and to docs/DESIGN.md: %v", unplaced)
	}
}
