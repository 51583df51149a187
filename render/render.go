package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/provenance"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/gitward/gitward/config"
)

// KustomizeCLIVersion is the kustomize release whose `kustomize build`
// output Render reproduces byte for byte: the CLI built on the
// sigs.k8s.io/kustomize/api module gitward links (v0.21.2).
const KustomizeCLIVersion = "v5.8.2"

// kustomizeVersion names the kustomize library in cache keys, so that an
// upgrade never serves renders of the old one.
var kustomizeVersion = func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "sigs.k8s.io/kustomize/api" {
				return d.Path + " " + d.Version
			}
		}
	}
	return "sigs.k8s.io/kustomize/api " + KustomizeCLIVersion
}()

// Options bound and tune a Renderer. The zero value renders with the
// defaults and no cache.
type Options struct {
	// TimeLimit bounds one app's render; default 60s.
	TimeLimit time.Duration
	// MaxOutputSize bounds one app's rendered YAML in bytes; default 64 MiB.
	MaxOutputSize int64
	// CacheSize bounds the renders kept by content hash, in bytes; 0 keeps none.
	CacheSize int64
	// AllowedRemoteBases are the server's globs of remote bases that may be
	// fetched. gitward does not fetch any yet; an allowlisted one gets an
	// error saying so instead of "not allowed".
	AllowedRemoteBases []config.Glob
	// Concurrency bounds the renders running at once; default GOMAXPROCS.
	Concurrency int
}

// OptionsFrom returns the options of the server configuration's render section.
func OptionsFrom(c config.Render) Options {
	return Options{
		TimeLimit:          time.Duration(c.TimeLimit),
		MaxOutputSize:      int64(c.MaxOutputSize),
		CacheSize:          int64(c.CacheSize),
		AllowedRemoteBases: c.AllowedRemoteBases,
	}
}

// Renderer runs kustomize builds of apps from repository snapshots: in
// process, with plugins, exec, KRM functions and Helm off, reading only the
// snapshot, within time and size limits, and caching renders by the content
// of what they read. It is safe for concurrent use.
type Renderer struct {
	opts   Options
	cache  *cache
	slots  chan struct{}
	builds atomic.Int64 // kustomize runs, for tests
}

// NewRenderer returns a Renderer with the given options.
func NewRenderer(o Options) *Renderer {
	if o.TimeLimit <= 0 {
		o.TimeLimit = 60 * time.Second
	}
	if o.MaxOutputSize <= 0 {
		o.MaxOutputSize = 64 << 20
	}
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.GOMAXPROCS(0)
	}
	return &Renderer{opts: o, cache: newCache(o.CacheSize), slots: make(chan struct{}, o.Concurrency)}
}

// Result is one app's render.
type Result struct {
	App App
	// YAML is the stream `kustomize build` prints for the app. It may be
	// shared with other results: do not modify it.
	YAML []byte
	// Files are the repository files the render read, sorted.
	Files []string
	// Err says why the app does not render; nil when it does. It holds one
	// or more *Error (see Problems), classed by ErrRemote, ErrOutside,
	// ErrPlugin, ErrInvalid, ErrTimeLimit, ErrOutputLimit or ErrPanic, or
	// kustomize's own message with paths from the repository root.
	Err error
	// Warnings are kustomize's deprecation warnings for the kustomizations
	// the app uses, each starting with the file, like
	// "apps/x/kustomization.yaml: 'commonLabels' is deprecated. ...".
	Warnings []string
	// Cached is true when the render was served from the cache.
	Cached bool
}

// Render builds app, which must be one of g's apps, from g's snapshot. The
// error is non-nil only when ctx ended first; a render that fails is a
// Result with Err.
func (r *Renderer) Render(ctx context.Context, g *Graph, app App) (Result, error) {
	res := Result{App: app}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if _, ok := g.nodes[g.rootDir(app.Path)]; !ok {
		res.Err = fmt.Errorf("app %s (%s) is not in the dependency graph", app.Name, app.Path)
		return res, nil
	}
	c := g.closure(app.Path)
	res.Files, res.Warnings = c.files, c.warnings
	if err := r.refusals(c); err != nil {
		res.Err = err
		return res, nil
	}
	key, err := g.key(app.Path)
	if err != nil {
		res.Err = pathProblem(err, "", 0)
		return res, nil
	}
	for {
		if v, ok := r.cache.get(key); ok {
			res.fill(v)
			res.Cached = true
			return res, nil
		}
		f, lead := r.cache.join(key)
		if !lead {
			select {
			case <-f.done:
				if f.ok {
					res.fill(f.val)
					return res, nil
				}
				continue // the leader gave up; try again
			case <-ctx.Done():
				return res, ctx.Err()
			}
		}
		v, err := r.run(ctx, g, app, c, key)
		r.cache.land(key, f, v, err == nil)
		if err != nil {
			return res, err
		}
		res.fill(v)
		return res, nil
	}
}

func (res *Result) fill(v *rendered) {
	res.YAML, res.Files, res.Err = v.yaml, v.files, v.err
}

// RenderAll renders apps concurrently, within the renderer's concurrency,
// and returns their results in the same order.
func (r *Renderer) RenderAll(ctx context.Context, g *Graph, apps []App) ([]Result, error) {
	out := make([]Result, len(apps))
	errs := make([]error, len(apps))
	var wg sync.WaitGroup
	for i, a := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = r.Render(ctx, g, a)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// CacheUsage returns how many renders the cache keeps, and their bytes.
func (r *Renderer) CacheUsage() (renders int, bytes int64) { return r.cache.usage() }

// refusals returns what stops an app from rendering before kustomize runs.
func (r *Renderer) refusals(c *closure) error {
	var errs []error
	seen := map[string]bool{}
	add := func(e *Error) {
		if s := e.Error(); !seen[s] {
			seen[s] = true
			errs = append(errs, e)
		}
	}
	for _, rm := range c.remotes {
		add(remoteError(rm.entry, rm.file, rm.line, r.opts.AllowedRemoteBases))
	}
	for _, p := range c.problems {
		add(p)
	}
	return errors.Join(errs...)
}

// run renders app in a goroutine and waits for it until the time limit or
// ctx ends. A render given up on keeps its concurrency slot until kustomize
// returns, which cannot be interrupted, so abandoned renders still bound
// the CPU they use. The error is ctx's, when it ended first.
func (r *Renderer) run(ctx context.Context, g *Graph, app App, c *closure, key string) (*rendered, error) {
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	limit := r.opts.TimeLimit
	start := time.Now()
	done := make(chan *rendered, 1)
	go func() {
		defer func() { <-r.slots }()
		v, cacheable := r.build(g, app, c)
		if cacheable && time.Since(start) <= limit {
			r.cache.put(key, v)
		}
		done <- v
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case v := <-done:
		if time.Since(start) <= limit {
			return v, nil
		}
	case <-timer.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &rendered{files: c.files, err: errorf(ErrTimeLimit, g.nodes[g.rootDir(app.Path)].file, 0,
		"rendering %s took longer than the limit of %s (render.time_limit in the server configuration); gave up", app.Path, limit)}, nil
}

// schemaMu guards kustomize's process-wide OpenAPI schema: renders that set
// openapi in a kustomization change it, so they run alone and reset it
// after; all others share it.
var schemaMu sync.RWMutex

// schemaReady says kustomize's default schema has been parsed. kyaml parses
// it lazily on first use and, while doing so, writes maps that other
// lookups read without a lock: two renders starting at once race (the race
// detector shows it). Parsing it up front, alone, makes later use read-only.
var schemaReady atomic.Bool

// ensureSchema parses kustomize's default schema once, with no render
// running.
func ensureSchema() {
	if schemaReady.Load() {
		return
	}
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if !schemaReady.Load() {
		openapi.Schema()
		schemaReady.Store(true)
	}
}

// options are the krusty options `kustomize build DIR` uses with no flags,
// so that the output is the CLI's: legacy resource order, files loaded only
// from under each kustomization's root, only built-in plugins, no Helm, no
// managed-by label unless the kustomization asks.
func options() *krusty.Options {
	o := krusty.MakeDefaultOptions()
	o.Reorder = krusty.ReorderOptionUnspecified
	o.LoadRestrictions = types.LoadRestrictionsRootOnly
	o.PluginConfig = types.DisabledPluginConfig()
	o.PluginConfig.HelmConfig.Enabled = false
	o.AddManagedbyLabel = false
	return o
}

// build runs kustomize. cacheable is false when kustomize read a file the
// graph did not predict, so that its key does not cover the render.
func (r *Renderer) build(g *Graph, app App, c *closure) (v *rendered, cacheable bool) {
	r.builds.Add(1)
	root := g.nodes[g.rootDir(app.Path)]
	fsys := newSnapshotFS(g.tree)
	defer func() {
		if p := recover(); p != nil {
			v = &rendered{files: c.files, err: errorf(ErrPanic, root.file, 0,
				"kustomize crashed rendering %s: %v", app.Path, p)}
			cacheable = false
		}
	}()
	if c.openAPI {
		schemaMu.Lock()
		openapi.ResetOpenAPI()
		defer func() {
			openapi.ResetOpenAPI()
			openapi.Schema() // parse the default again before others share it
			schemaMu.Unlock()
		}()
	} else {
		ensureSchema()
		schemaMu.RLock()
		defer schemaMu.RUnlock()
	}
	m, err := krusty.MakeKustomizer(options()).Run(fsys, virt(root.dir))
	var out []byte
	if err == nil && root.managedBy {
		err = fixManagedBy(m)
	}
	if err == nil {
		out, err = m.AsYaml()
	}
	files, predicted := mergeReads(c, fsys.Reads())
	v = &rendered{files: files}
	switch {
	case err != nil:
		v.err = explain(g, root, c, err)
	case int64(len(out)) > r.opts.MaxOutputSize:
		v.err = errorf(ErrOutputLimit, root.file, 0,
			"rendered output of %s is %d bytes, over the limit of %d (render.max_output_size in the server configuration)",
			app.Path, len(out), r.opts.MaxOutputSize)
	default:
		v.yaml = out
	}
	return v, predicted
}

// managedByKey is the label kustomize adds when a kustomization's
// buildMetadata asks for managedByLabel.
const managedByKey = "app.kubernetes.io/managed-by"

// fixManagedBy gives the managed-by label the CLI's value. kustomize takes
// it from the version of the program it is linked into, which for gitward
// is gitward's ("kustomize-(devel)"), not kustomize's.
func fixManagedBy(m resmap.ResMap) error {
	got := "kustomize-" + provenance.GetProvenance().Semver()
	want := "kustomize-" + KustomizeCLIVersion
	if got == want {
		return nil
	}
	for _, res := range m.Resources() {
		if res.GetLabels()[managedByKey] == got {
			if err := res.PipeE(kyaml.SetLabel(managedByKey, want)); err != nil {
				return err
			}
		}
	}
	return nil
}

// mergeReads returns the files of the closure with those kustomize read,
// and whether the graph predicted all of them.
func mergeReads(c *closure, reads []string) ([]string, bool) {
	predicted := true
	var extra []string
	for _, p := range reads {
		if _, ok := c.reads[p]; !ok {
			predicted = false
			extra = append(extra, p)
		}
	}
	if predicted {
		return c.files, true
	}
	files := append(append([]string(nil), c.files...), extra...)
	sort.Strings(files)
	return files, false
}

// explain turns kustomize's error into an *Error located where possible:
// the missing file, the YAML file with a syntax error, else the app's
// kustomization.
func explain(g *Graph, root *node, c *closure, err error) *Error {
	msg := repoPaths(err.Error())
	e := &Error{File: root.file, Msg: msg, Err: err}
	var pe *fs.PathError
	if errors.As(err, &pe) && errors.Is(pe.Err, fs.ErrNotExist) && !path.IsAbs(pe.Path) {
		e.File = pe.Path
		return e
	}
	if strings.Contains(strings.ToLower(msg), "yaml") {
		for _, f := range c.files {
			ext := path.Ext(f)
			if ext != ".yaml" && ext != ".yml" && path.Base(f) != "Kustomization" {
				continue
			}
			data, err := g.tree.ReadFile(f)
			if err != nil {
				continue
			}
			if _, err := yamlDocs(data); err != nil {
				e.File, e.Line = f, yamlLine(err.Error())
				return e
			}
		}
	}
	return e
}
