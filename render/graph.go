package render

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/types"
)

// Graph is the kustomize dependency graph of one repository snapshot: for
// every app, every file its render reads, found by reading the
// kustomizations (not by rendering). It answers which apps a change
// affects, keys the render cache, and holds the problems that stop an app
// from rendering before kustomize runs: invalid kustomizations, remote
// bases, paths out of the repository, plugins and Helm.
type Graph struct {
	tree  *Tree
	apps  []App
	nodes map[string]*node // by link-free directory

	mu       sync.Mutex
	closures map[string]*closure // by app path
}

// node is one kustomization directory.
type node struct {
	dir       string          // link-free repository path
	file      string          // the kustomization file found, "" if none
	reads     map[string]bool // repository paths read or looked for → exists
	kids      []string        // link-free directories of the kustomizations it includes
	problems  []*Error        // reasons it cannot render, found before rendering
	remotes   []remoteRef
	openAPI   bool     // sets openapi, which kustomize keeps in process-wide state
	managedBy bool     // buildMetadata asks for the managed-by label
	warnings  []string // kustomize's deprecation warnings, with the file
}

// remoteRef is a remote base or file named by a kustomization.
type remoteRef struct {
	entry, file string
	line        int
}

// closure is what one app reads: its kustomization and everything below.
type closure struct {
	reads    map[string]bool
	files    []string // the paths in reads that exist and are files, sorted
	problems []*Error
	remotes  []remoteRef
	openAPI  bool
	warnings []string

	keyOnce sync.Once
	key     string
	keyErr  error
}

// BuildGraph reads the kustomization of every app, and of every base and
// component they use, transitively. A problem in one kustomization does not
// stop the others: it is kept for the apps that use it, and Render reports
// it. The graph reads through tree, whose caches renders then share.
func BuildGraph(tree *Tree, apps []App) *Graph {
	g := &Graph{tree: tree, apps: append([]App(nil), apps...), nodes: map[string]*node{}, closures: map[string]*closure{}}
	for _, a := range apps {
		g.visit(a.Path)
	}
	return g
}

// Tree returns the snapshot the graph was read from.
func (g *Graph) Tree() *Tree { return g.tree }

// Apps returns the graph's apps, in the order given to BuildGraph.
func (g *Graph) Apps() []App { return append([]App(nil), g.apps...) }

// App returns the app named name.
func (g *Graph) App(name string) (App, bool) {
	for _, a := range g.apps {
		if a.Name == name {
			return a, true
		}
	}
	return App{}, false
}

// Files returns the repository files the app's render reads, sorted. A
// change to any other file does not change the render.
func (g *Graph) Files(app App) []string {
	return append([]string(nil), g.closure(app.Path).files...)
}

// Affected returns the apps whose render reads one of the changed paths,
// in the graph's order. changed are repository paths as a pull request
// lists them; include the old path of a renamed file. A path the render
// looked for and did not find counts too, so adding a missing file affects
// the apps that need it.
func (g *Graph) Affected(changed []string) []App {
	set := changedSet(changed)
	var out []App
	for _, a := range g.apps {
		if g.reads(a, set) {
			out = append(out, a)
		}
	}
	return out
}

func (g *Graph) reads(a App, changed map[string]bool) bool {
	c := g.closure(a.Path)
	for p := range changed {
		if _, ok := c.reads[p]; ok {
			return true
		}
	}
	return false
}

func changedSet(changed []string) map[string]bool {
	set := make(map[string]bool, len(changed))
	for _, p := range changed {
		if c, err := cleanRel(strings.TrimPrefix(p, "/")); err == nil {
			set[c] = true
		}
	}
	return set
}

// Target is an app to render for a pull request, and on which sides.
type Target struct {
	App App
	// AtBase and AtHead say whether to render the app at the base and head
	// commits. A new app renders at head only (all its objects are added), a
	// deleted one at base only (all removed).
	AtBase, AtHead bool
}

// Plan returns the apps a pull request affects, given the graphs of its
// base and head commits and the paths it changes (with renamed files' old
// paths), sorted by app name. Apps are matched between the two sides by
// name. An app is affected when its render on either side reads a changed
// path. A nil graph has no apps.
func Plan(base, head *Graph, changed []string) []Target {
	set := changedSet(changed)
	byName := map[string]*Target{}
	var names []string
	add := func(g *Graph, atBase bool) {
		if g == nil {
			return
		}
		for _, a := range g.apps {
			t, ok := byName[a.Name]
			if !ok {
				t = &Target{App: a}
				byName[a.Name] = t
				names = append(names, a.Name)
			}
			if atBase {
				t.AtBase = true
			} else {
				t.AtHead = true
				t.App = a // head's view of the app wins, as it is what merges
			}
		}
	}
	add(base, true)
	add(head, false)
	sort.Strings(names)
	var out []Target
	for _, n := range names {
		t := byName[n]
		hit := false
		if t.AtBase && base.reads(mustApp(base, n), set) {
			hit = true
		}
		if !hit && t.AtHead && head.reads(mustApp(head, n), set) {
			hit = true
		}
		if hit {
			out = append(out, *t)
		}
	}
	return out
}

func mustApp(g *Graph, name string) App {
	a, _ := g.App(name)
	return a
}

// closure gathers what the app at path reads, once.
func (g *Graph) closure(appPath string) *closure {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.closures[appPath]; ok {
		return c
	}
	c := &closure{reads: map[string]bool{}}
	seen := map[string]bool{}
	var walk func(dir string)
	walk = func(dir string) {
		if seen[dir] {
			return
		}
		seen[dir] = true
		n := g.nodes[dir]
		if n == nil {
			return
		}
		for p, ok := range n.reads {
			c.reads[p] = c.reads[p] || ok
		}
		c.problems = append(c.problems, n.problems...)
		c.remotes = append(c.remotes, n.remotes...)
		c.openAPI = c.openAPI || n.openAPI
		c.warnings = append(c.warnings, n.warnings...)
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(g.rootDir(appPath))
	for p, ok := range c.reads {
		if ok {
			if _, isDir, err := g.tree.Resolve(p); err == nil && !isDir {
				c.files = append(c.files, p)
			}
		}
	}
	sort.Strings(c.files)
	g.closures[appPath] = c
	return c
}

// rootDir is the node key of an app's directory.
func (g *Graph) rootDir(appPath string) string {
	if real, isDir, err := g.tree.Resolve(appPath); err == nil && isDir {
		return real
	}
	c, err := cleanRel(appPath)
	if err != nil {
		return appPath
	}
	return c
}

// key returns the render cache key of an app: a hash of its directory and of
// the path, link target and contents of everything it reads, so that an app
// whose inputs did not change between two commits renders once.
func (g *Graph) key(appPath string) (string, error) {
	c := g.closure(appPath)
	c.keyOnce.Do(func() {
		paths := make([]string, 0, len(c.reads))
		for p := range c.reads {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		h := sha256.New()
		fmt.Fprintf(h, "gitward render v1\x00%s\x00%s\x00", kustomizeVersion, g.rootDir(appPath))
		for _, p := range paths {
			real, isDir, err := g.tree.Resolve(p)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				fmt.Fprintf(h, "%s\x00missing\x00", p)
			case err != nil:
				fmt.Fprintf(h, "%s\x00error %s\x00", p, err)
			case isDir:
				fmt.Fprintf(h, "%s\x00dir %s\x00", p, real)
			default:
				sum, err := g.tree.sum(p)
				if err != nil {
					c.keyErr = err
					return
				}
				fmt.Fprintf(h, "%s\x00file %s %x\x00", p, real, sum)
			}
		}
		c.key = fmt.Sprintf("%x", h.Sum(nil))
	})
	return c.key, c.keyErr
}

// visit reads the kustomization in the repository directory dir, and what it
// includes, unless already read. It returns the node's key.
func (g *Graph) visit(dir string) string {
	real, isDir, err := g.tree.Resolve(dir)
	key := real
	if err != nil || !isDir {
		key, _ = cleanRel(dir)
	}
	if _, ok := g.nodes[key]; ok {
		return key
	}
	n := &node{dir: key, reads: map[string]bool{}}
	g.nodes[key] = n
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		n.problems = append(n.problems, pathProblem(err, "", 0))
		return key
	}
	var found []string
	for _, name := range KustomizationFileNames {
		p := path.Join(key, name)
		if g.read(n, p) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return key // kustomize says that there is no kustomization
	case 1:
	default:
		n.problems = append(n.problems, errorf(ErrInvalid, found[1], 0,
			"%s has more than one kustomization file (%s); keep one", key, strings.Join(found, ", ")))
		return key
	}
	n.file = found[0]
	data, err := g.tree.ReadFile(n.file)
	if err != nil {
		n.problems = append(n.problems, pathProblem(err, n.file, 0))
		return key
	}
	g.parse(n, data)
	return key
}

// read records that n reads the repository path p, with any symlinks on
// the way, and reports whether p exists. A path out of the repository
// becomes a problem.
func (g *Graph) read(n *node, p string) bool {
	real, _, err := g.tree.Resolve(p)
	if err != nil {
		n.reads[p] = false
		if !errors.Is(err, fs.ErrNotExist) {
			n.problems = append(n.problems, pathProblem(err, n.file, 0))
		}
		g.readLinks(n, p)
		return false
	}
	n.reads[p] = true
	if real != p {
		n.reads[real] = true
		g.readLinks(n, p)
	}
	return true
}

// readLinks records the symlinks along p, so that retargeting one counts
// as a change to what n reads.
func (g *Graph) readLinks(n *node, p string) {
	for q := p; q != "." && q != "/"; q = path.Dir(q) {
		if info, err := g.tree.lstat(q); err == nil && info.Mode()&fs.ModeSymlink != 0 {
			n.reads[q] = true
		}
	}
}

func pathProblem(err error, file string, line int) *Error {
	class := err
	if errors.Is(err, ErrOutside) {
		class = ErrOutside
	}
	return &Error{File: file, Line: line, Msg: err.Error(), Err: class}
}

// entryKind says how kustomize reads an entry of a kustomization.
type entryKind int

const (
	entryFile     entryKind = iota // a file (patch, generator source, crd, ...)
	entryResource                  // a file, else a kustomization directory
	entryDir                       // a kustomization directory (component)
	entryPlugin                    // inline plugin config, a file of them, or a kustomization directory
)

// parse reads one kustomization file, as kustomize does, and records what
// it reads.
func (g *Graph) parse(n *node, data []byte) {
	pos := newPositions(data)
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		n.problems = append(n.problems, invalidKustomization(n.file, pos, err))
		return
	}
	at := func(kind entryKind, entry string, line int) {
		g.entry(n, kind, entry, line)
	}
	for i, r := range k.Resources {
		at(entryResource, r, pos.line("resources", i))
	}
	// bases, patchesJson6902 and patchesStrategicMerge are deprecated, but
	// kustomize still reads them, moving them into resources and patches as
	// it loads the file; they are read here, where their lines are known.
	//lint:ignore SA1019 kustomize still reads bases
	for i, r := range k.Bases {
		at(entryResource, r, pos.line("bases", i))
	}
	for i, c := range k.Components {
		at(entryDir, c, pos.line("components", i))
	}
	for i, c := range k.Crds {
		at(entryFile, c, pos.line("crds", i))
	}
	for i, c := range k.Configurations {
		at(entryFile, c, pos.line("configurations", i))
	}
	for i, p := range k.Patches {
		if p.Path != "" {
			at(entryFile, p.Path, pos.line("patches", i, "path"))
		}
	}
	//lint:ignore SA1019 kustomize still reads patchesJson6902
	for i, p := range k.PatchesJson6902 {
		if p.Path != "" {
			at(entryFile, p.Path, pos.line("patchesJson6902", i, "path"))
		}
	}
	//lint:ignore SA1019 kustomize still reads patchesStrategicMerge
	for i, p := range k.PatchesStrategicMerge {
		if !looksInline(string(p)) {
			at(entryFile, string(p), pos.line("patchesStrategicMerge", i))
		}
	}
	for i, r := range k.Replacements {
		if r.Path != "" {
			at(entryFile, r.Path, pos.line("replacements", i, "path"))
		}
	}
	for i, c := range k.ConfigMapGenerator {
		g.generatorSources(n, "configMapGenerator", i, c.KvPairSources, pos)
	}
	for i, s := range k.SecretGenerator {
		g.generatorSources(n, "secretGenerator", i, s.KvPairSources, pos)
	}
	if p := k.OpenAPI["path"]; p != "" {
		at(entryFile, p, pos.line("openapi", "path"))
	}
	if len(k.OpenAPI) > 0 {
		n.openAPI = true
	}
	for _, m := range k.BuildMetadata {
		n.managedBy = n.managedBy || m == types.ManagedByLabelOption
	}
	if w := k.CheckDeprecatedFields(); w != nil {
		for _, msg := range *w {
			n.warnings = append(n.warnings, n.file+": "+strings.TrimPrefix(msg, "# Warning: "))
		}
	}
	for _, f := range []struct {
		key     string
		entries []string
	}{{"generators", k.Generators}, {"transformers", k.Transformers}, {"validators", k.Validators}} {
		for i, e := range f.entries {
			line := pos.line(f.key, i)
			if looksInline(e) {
				g.pluginConfigs(n, []byte(e), n.file, line)
				continue
			}
			at(entryPlugin, e, line)
		}
	}
	if len(k.HelmCharts) > 0 || len(k.HelmChartInflationGenerator) > 0 || k.HelmGlobals != nil {
		line := pos.keyLine("helmCharts")
		if line == 0 {
			line = pos.keyLine("helmChartInflationGenerator")
		}
		if line == 0 {
			line = pos.keyLine("helmGlobals")
		}
		n.problems = append(n.problems, errorf(ErrPlugin, n.file, line,
			"Helm charts are not rendered: gitward runs no helm binary; commit the chart's rendered manifests, or use a Flux HelmRelease"))
	}
	k.FixKustomization()
	if err := k.CheckEmpty(); err != nil {
		n.problems = append(n.problems, errorf(ErrInvalid, n.file, 0, "%v", err))
	}
	for _, msg := range k.EnforceFields() {
		n.problems = append(n.problems, errorf(ErrInvalid, n.file, pos.keyLine("kind"), "%s", msg))
	}
}

// invalidKustomization explains why kustomize cannot read a kustomization,
// with the line of the YAML error or of the unknown field.
func invalidKustomization(file string, pos positions, err error) *Error {
	msg := err.Error()
	line := yamlLine(msg)
	if i := strings.Index(msg, `unknown field "`); i >= 0 {
		field, _, _ := strings.Cut(msg[i+len(`unknown field "`):], `"`)
		if l := pos.keyLine(field); l > 0 {
			line = l
		}
		if pos.root != nil && line == 0 {
			line = pos.root.Line
		}
	}
	return errorf(ErrInvalid, file, line, "%s", msg)
}

// looksInline reports whether a patch or plugin entry is YAML content
// rather than a path, as kustomize tries it as content first.
func looksInline(s string) bool {
	return strings.ContainsAny(s, "\n{") || strings.Contains(s, ": ")
}

func (g *Graph) generatorSources(n *node, key string, i int, src types.KvPairSources, pos positions) {
	for j, f := range src.FileSources {
		p := f
		if _, after, ok := strings.Cut(f, "="); ok {
			p = after
		}
		g.entry(n, entryFile, p, pos.line(key, i, "files", j))
	}
	for j, e := range src.EnvSources {
		g.entry(n, entryFile, e, pos.line(key, i, "envs", j))
	}
	if src.EnvSource != "" {
		g.entry(n, entryFile, src.EnvSource, pos.line(key, i, "env"))
	}
}

// entry records what one entry of n's kustomization makes kustomize read.
func (g *Graph) entry(n *node, kind entryKind, e string, line int) {
	if e == "" {
		return
	}
	if isRemote(e) {
		n.remotes = append(n.remotes, remoteRef{entry: e, file: n.file, line: line})
		return
	}
	if path.IsAbs(e) {
		n.problems = append(n.problems, errorf(ErrOutside, n.file, line,
			"absolute path %s: paths in a kustomization must be relative to it and stay in the repository", e))
		return
	}
	p := path.Join(n.dir, e)
	if p == ".." || strings.HasPrefix(p, "../") {
		n.problems = append(n.problems, errorf(ErrOutside, n.file, line,
			"path %s leads outside the repository", e))
		return
	}
	real, isDir, err := g.tree.Resolve(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		n.problems = append(n.problems, pathProblem(err, n.file, line))
		n.reads[p] = false
		g.readLinks(n, p)
		return
	}
	missing := err != nil
	switch {
	case missing:
		// kustomize reports the missing file; record it so adding it counts
		// as a change, and look for a kustomization there too, as kustomize
		// does for resources.
		n.reads[p] = false
		g.readLinks(n, p)
		if kind != entryFile {
			for _, name := range KustomizationFileNames {
				n.reads[path.Join(p, name)] = false
			}
		}
	case isDir:
		g.readLinks(n, p)
		if kind == entryFile {
			n.reads[p] = true // kustomize will say it is not a file
			return
		}
		n.kids = append(n.kids, g.visit(real))
	default:
		g.read(n, p)
		if kind == entryDir {
			return // kustomize will say it is not a directory
		}
		if kind == entryPlugin {
			if data, err := g.tree.ReadFile(p); err == nil {
				g.pluginConfigs(n, data, p, 0)
			}
		}
	}
}

// pluginConfigs checks generator, transformer or validator configurations
// (a file of them, or one inline in n's kustomization at line) and records
// the files the built-in ones read. Only kustomize's built-in plugins run;
// any other plugin, and Helm, is refused.
func (g *Graph) pluginConfigs(n *node, data []byte, file string, line int) {
	docs, err := yamlDocs(data)
	if err != nil {
		if file != n.file {
			return // kustomize reports the file's YAML error
		}
		n.problems = append(n.problems, errorf(ErrInvalid, file, line+yamlLine(err.Error()), "%v", err))
		return
	}
	for _, d := range docs {
		at := d.line
		if line > 0 {
			at = line + d.line - 1
		}
		apiVersion, kind := scalar(d.node, "apiVersion"), scalar(d.node, "kind")
		if apiVersion == "" && kind == "" {
			continue // not a plugin configuration; kustomize explains
		}
		if apiVersion != "builtin" {
			n.problems = append(n.problems, errorf(ErrPlugin, file, at,
				"%s %s is not one of kustomize's built-in plugins: gitward runs no exec, Go or KRM-function plugins", apiVersion, kind))
			continue
		}
		switch kind {
		case "HelmChartInflationGenerator":
			n.problems = append(n.problems, errorf(ErrPlugin, file, at,
				"Helm charts are not rendered: gitward runs no helm binary; commit the chart's rendered manifests, or use a Flux HelmRelease"))
		case "PatchTransformer", "PatchJson6902Transformer":
			g.entry(n, entryFile, scalar(d.node, "path"), at)
		case "PatchStrategicMergeTransformer":
			for _, p := range strings_(d.node, "paths") {
				if !looksInline(p) {
					g.entry(n, entryFile, p, at)
				}
			}
		case "ConfigMapGenerator", "SecretGenerator":
			for _, f := range strings_(d.node, "files") {
				if _, after, ok := strings.Cut(f, "="); ok {
					f = after
				}
				g.entry(n, entryFile, f, at)
			}
			for _, e := range strings_(d.node, "envs") {
				g.entry(n, entryFile, e, at)
			}
			g.entry(n, entryFile, scalar(d.node, "env"), at)
		case "ReplacementTransformer":
			for _, r := range items(d.node, "replacements") {
				g.entry(n, entryFile, scalar(r, "path"), at)
			}
		}
	}
}

// strings_ returns the scalar items of the sequence at key in mapping n.
func strings_(n *yaml.Node, key string) []string {
	var out []string
	for _, it := range items(n, key) {
		if it.Kind == yaml.ScalarNode {
			out = append(out, it.Value)
		}
	}
	return out
}

// items returns the items of the sequence at key in mapping n.
func items(n *yaml.Node, key string) []*yaml.Node {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := deref(n.Content[i+1])
			if v.Kind != yaml.SequenceNode {
				return nil
			}
			out := make([]*yaml.Node, len(v.Content))
			for j, it := range v.Content {
				out[j] = deref(it)
			}
			return out
		}
	}
	return nil
}
