// Package diff is gitward's rendered-diff capability: it renders the apps a
// pull request affects at its base and head commits and reports, per
// object, how the rendered manifests change — as one sticky comment and the
// gitward/diff check run. The Engine is shared with the CLI's preview.
package diff

import (
	"context"
	"fmt"
	"io/fs"
	"sync"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/render"
	"github.com/gitward/gitward/render/objects"
	"github.com/gitward/gitward/report"
	"github.com/gitward/gitward/report/markdown"
)

// Engine renders and diffs the apps one change affects.
type Engine struct {
	Renderer *render.Renderer
}

// Side is one commit's tree.
type Side struct {
	SHA string
	// FS is the repository tree at SHA, such as a snapshot's FS().
	FS fs.FS
}

// Inputs is one change as the engine reads it: the policy at the base
// commit (it decides app discovery on both sides), both trees and the
// changed files. The apps the change affects are found once per Inputs and
// shared by Run, Renders and PlaintextSecrets.
type Inputs struct {
	Config     *config.Repo
	Base, Head Side
	Changed    []forge.ChangedFile

	once    sync.Once
	plan    planned
	planErr error
}

// planned returns the apps the change affects, finding them the first time.
func (in *Inputs) planned() (planned, error) {
	in.once.Do(func() { in.plan, in.planErr = plan(in.Config, in.Base, in.Head, in.Changed) })
	return in.plan, in.planErr
}

// Run finds the apps the changed files affect, renders each at base and
// head, and diffs their objects. An error means the trees could not be read
// at all; a render that fails is reported in its app.
func (e *Engine) Run(ctx context.Context, in *Inputs) (report.RenderedDiff, error) {
	out := report.RenderedDiff{BaseSHA: in.Base.SHA, HeadSHA: in.Head.SHA}
	p, err := in.planned()
	if err != nil {
		return out, err
	}
	targets, baseGraph, headGraph := p.targets, p.base, p.head
	out.Apps = make([]report.AppDiff, len(targets))
	var wg sync.WaitGroup
	errs := make([]error, len(targets))
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out.Apps[i], errs[i] = e.app(ctx, t, baseGraph, headGraph)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// planned is the apps a change affects, with the graphs of both sides.
type planned struct {
	targets    []render.Target
	base, head *render.Graph
}

// plan discovers the apps on both sides (with the base's policy) and finds
// those the changed files affect.
func plan(cfg *config.Repo, base, head Side, changed []forge.ChangedFile) (planned, error) {
	baseApps, err := render.Discover(base.FS, cfg)
	if err != nil {
		return planned{}, fmt.Errorf("find apps at base %s: %w", markdown.Short(base.SHA), err)
	}
	headApps, err := render.Discover(head.FS, cfg)
	if err != nil {
		return planned{}, fmt.Errorf("find apps at head %s: %w", markdown.Short(head.SHA), err)
	}
	p := planned{
		base: render.BuildGraph(render.NewTree(base.FS), baseApps),
		head: render.BuildGraph(render.NewTree(head.FS), headApps),
	}
	p.targets = render.Plan(p.base, p.head, forge.Paths(changed))
	return p, nil
}

// AppRender is one affected app rendered on the sides it exists on.
type AppRender struct {
	App            render.App
	AtBase, AtHead bool
	// Base and Head are the renders; a side the app does not exist on is
	// the zero Result.
	Base, Head render.Result
}

// Renders renders every app the change affects, at base and head.
func (e *Engine) Renders(ctx context.Context, in *Inputs) ([]AppRender, error) {
	p, err := in.planned()
	if err != nil {
		return nil, err
	}
	out := make([]AppRender, len(p.targets))
	for i, t := range p.targets {
		out[i] = AppRender{App: t.App, AtBase: t.AtBase, AtHead: t.AtHead}
		if t.AtBase {
			if out[i].Base, err = e.Renderer.Render(ctx, p.base, t.App); err != nil {
				return nil, err
			}
		}
		if t.AtHead {
			if out[i].Head, err = e.Renderer.Render(ctx, p.head, t.App); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// app renders and diffs one target.
func (e *Engine) app(ctx context.Context, t render.Target, baseGraph, headGraph *render.Graph) (report.AppDiff, error) {
	a := report.AppDiff{Name: t.App.Name, Path: t.App.Path, New: !t.AtBase, Deleted: !t.AtHead}
	var baseYAML, headYAML []byte
	if t.AtHead {
		res, err := e.Renderer.Render(ctx, headGraph, t.App)
		if err != nil {
			return a, err
		}
		if res.Err != nil {
			failed(&a, "head", res.Err)
			return a, nil
		}
		headYAML = res.YAML
	}
	if t.AtBase {
		res, err := e.Renderer.Render(ctx, baseGraph, t.App)
		if err != nil {
			return a, err
		}
		if res.Err != nil {
			failed(&a, "base", res.Err)
			return a, nil
		}
		baseYAML = res.YAML
	}
	// Parse each side on its own first, so a malformed stream is blamed
	// on the side it comes from.
	if _, err := objects.Parse(headYAML); err != nil {
		a.Failure, a.FailedAt = "the rendered output cannot be read: "+err.Error(), "head"
		return a, nil
	}
	if _, err := objects.Parse(baseYAML); err != nil {
		a.Failure, a.FailedAt = "the rendered output cannot be read: "+err.Error(), "base"
		return a, nil
	}
	d, err := objects.Diff(baseYAML, headYAML, objects.Options{})
	if err != nil {
		a.Failure, a.FailedAt = err.Error(), "head"
		return a, nil
	}
	a.Diff = d
	return a, nil
}

// failed records a render failure and where it points in the repository.
func failed(a *report.AppDiff, side string, err error) {
	a.Failure, a.FailedAt = err.Error(), side
	for _, p := range render.Problems(err) {
		if p.File != "" {
			a.FailureFile, a.FailureLine = p.File, p.Line
			return
		}
	}
}
