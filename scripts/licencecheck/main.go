// Command licencecheck fails when a Go module that gitward builds with,
// tests included, has no licence it can recognise or one that is not
// compatible with the Apache License 2.0, naming the module and why.
//
// The modules are those of every package `go list -deps -test ./...`
// names (the build graph of this platform), plus gitward itself. Each
// module's licence files (LICENSE, LICENCE, COPYING and their variants at
// the module's root) are classified by the rules in rules.go. Run it from
// the repository root: go run ./scripts/licencecheck
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// module is what `go list -json` and `go mod download -json` say of one.
type module struct {
	Path    string
	Version string
	Dir     string
	Main    bool
	Replace *module
}

func (m module) String() string {
	if m.Version == "" {
		return m.Path
	}
	return m.Path + "@" + m.Version
}

func main() {
	mods, err := buildModules()
	if err != nil {
		fmt.Fprintln(os.Stderr, "licencecheck:", err)
		os.Exit(2)
	}
	if failed := check(mods, os.Stdout, os.Stderr, os.Getenv("LICENCECHECK_VERBOSE") != ""); failed > 0 {
		fmt.Fprintf(os.Stderr, "licencecheck: %d of %d modules fail\n", failed, len(mods))
		os.Exit(1)
	}
	fmt.Printf("licencecheck: %d modules, each with a licence compatible with Apache-2.0\n", len(mods))
}

// check judges each module, writes one line naming each that fails (and,
// verbose, each licence found) and returns how many failed.
func check(mods []module, out, errs io.Writer, verbose bool) (failed int) {
	for _, m := range mods {
		names, err := verdict(m)
		if err != nil {
			fmt.Fprintf(errs, "licencecheck: %s: %v\n", m, err)
			failed++
			continue
		}
		if verbose {
			fmt.Fprintf(out, "%-70s %s\n", m, strings.Join(names, ", "))
		}
	}
	return failed
}

// buildModules lists the modules of every package built for ./... and its
// tests, the main module included, with the folder each is in.
func buildModules() ([]module, error) {
	out, err := goCmd("list", "-deps", "-test", "-json=Module", "./...")
	if err != nil {
		return nil, err
	}
	seen := map[string]module{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct{ Module *module }
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading go list: %v", err)
		}
		if p.Module == nil {
			continue // the standard library
		}
		m := *p.Module
		if m.Replace != nil {
			m = *m.Replace
		}
		seen[m.String()] = m
	}
	mods := make([]module, 0, len(seen))
	for _, m := range seen {
		if m.Dir == "" {
			// Not in the module cache yet: download it.
			out, err := goCmd("mod", "download", "-json", m.String())
			if err != nil {
				return nil, err
			}
			var d module
			if err := json.Unmarshal(out, &d); err != nil || d.Dir == "" {
				return nil, fmt.Errorf("go mod download %s: no folder (%v)", m, err)
			}
			m.Dir = d.Dir
		}
		mods = append(mods, m)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].String() < mods[j].String() })
	return mods, nil
}

func goCmd(args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// licenceFile matches the names licence files go by at a module's root.
var licenceFile = regexp.MustCompile(`(?i)^(licen[cs]e|copying|unlicense)([-._].*)?$`)

// verdict classifies the licence files at the root of the module's folder
// and returns the licences found, or an error saying why the module fails:
// no licence file, a file no rule recognises, or a licence not allowed.
func verdict(m module) ([]string, error) {
	entries, err := os.ReadDir(m.Dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() || !licenceFile.MatchString(e.Name()) || strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(m.Dir, e.Name()))
		if err != nil {
			return nil, err
		}
		found := classify(string(data))
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no rule in scripts/licencecheck/rules.go recognises this licence", e.Name())
		}
		for _, l := range found {
			if !l.allowed {
				return nil, fmt.Errorf("%s: %s is not compatible with Apache-2.0 (%s)", e.Name(), l.name, l.why)
			}
			names = append(names, l.name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no licence file (LICENSE, LICENCE, COPYING) at the module's root in %s", m.Dir)
	}
	return names, nil
}
