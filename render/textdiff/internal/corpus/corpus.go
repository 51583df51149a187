// Package corpus gathers pairs of real Kubernetes manifests from the
// repository's fixtures, for measuring the diff engine against git.
//
// The GitOps fixtures are snapshots without history, so the pairs are of
// three kinds: the base and head files of the bundled demo change
// (examples/demo), the base and head objects of render/objects' diff
// fixtures, and, in each GitOps fixture, every two files of the same name
// that follow each other in path order (one app's helmrelease.yaml beside
// the next app's): manifests of one shape with different content, the hard
// case for a line diff.
package corpus

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Pair is two versions of a manifest and where they come from.
type Pair struct {
	Name string // "old path -> new path", relative to the repository root
	A, B string
}

// Manifests returns the pairs under the repository root, in a fixed order.
func Manifests(root string) ([]Pair, error) {
	var pairs []Pair
	add := func(a, b string) error {
		da, err := os.ReadFile(filepath.Join(root, a))
		if err != nil {
			return err
		}
		db, err := os.ReadFile(filepath.Join(root, b))
		if err != nil {
			return err
		}
		if string(da) != string(db) {
			pairs = append(pairs, Pair{Name: a + " -> " + b, A: string(da), B: string(db)})
		}
		return nil
	}

	// The demo change: each head file beside its base.
	head := filepath.Join("examples", "demo", "head")
	files, err := yamlFiles(root, head)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		rel, _ := filepath.Rel(head, f)
		base := filepath.Join("examples", "demo", "base", rel)
		if _, err := os.Stat(filepath.Join(root, base)); err == nil {
			if err := add(base, f); err != nil {
				return nil, err
			}
		}
	}

	// render/objects' diff fixtures.
	dirs, _ := filepath.Glob(filepath.Join(root, "render", "objects", "testdata", "diff", "*"))
	sort.Strings(dirs)
	for _, d := range dirs {
		rel, _ := filepath.Rel(root, d)
		if err := add(filepath.Join(rel, "base.yaml"), filepath.Join(rel, "head.yaml")); err != nil {
			return nil, err
		}
	}

	// Same-named files of the GitOps fixtures, each beside the next.
	repos, _ := filepath.Glob(filepath.Join(root, "testdata", "gitops-repos", "*"))
	sort.Strings(repos)
	for _, r := range repos {
		rel, _ := filepath.Rel(root, r)
		files, err := yamlFiles(root, rel)
		if err != nil {
			return nil, err
		}
		byName := map[string][]string{}
		var names []string
		for _, f := range files {
			n := filepath.Base(f)
			if byName[n] == nil {
				names = append(names, n)
			}
			byName[n] = append(byName[n], f)
		}
		sort.Strings(names)
		for _, n := range names {
			fs := byName[n]
			for i := 1; i < len(fs); i++ {
				if err := add(fs[i-1], fs[i]); err != nil {
					return nil, err
				}
			}
		}
	}
	return pairs, nil
}

// yamlFiles lists the YAML and JSON files under dir (relative to root),
// relative to root and in path order.
func yamlFiles(root, dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				rel, _ := filepath.Rel(root, p)
				out = append(out, rel)
			}
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}
