// Package drift is gitward's live-cluster capability: for each app a pull
// request affects that is mapped to a cluster, it dry-run applies the head
// render (what merging will change) and the base render (how the cluster
// already differs from git, attributed to the field managers that changed
// it), and publishes the gitward/drift check and a "Live changes" part of
// the sticky comment.
package drift

import (
	"context"
	"fmt"
	"github.com/gitward/gitward/breakglass"
	"sync"
	"time"

	"github.com/gitward/gitward/checks/diff"
	"github.com/gitward/gitward/checks/drift/verdict"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/report"
	"github.com/gitward/gitward/report/markdown"
	"github.com/rs/zerolog"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Clusters connects to the clusters the server configuration names.
type Clusters interface {
	// Cluster returns a connection to the named cluster, or an error that
	// says why there is none (not configured here, bad kubeconfig).
	Cluster(name string) (*live.Cluster, error)
}

// Connector connects to the server's configured clusters on first use and
// keeps the connections.
type Connector struct {
	Config []config.Cluster

	mu    sync.Mutex
	conns map[string]*live.Cluster
}

// Cluster implements Clusters.
func (c *Connector) Cluster(name string) (*live.Cluster, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.conns[name]; ok {
		return cl, nil
	}
	for _, cc := range c.Config {
		if cc.Name != name {
			continue
		}
		cl, err := live.Connect(cc)
		if err != nil {
			return nil, err
		}
		if c.conns == nil {
			c.conns = map[string]*live.Cluster{}
		}
		c.conns[name] = cl
		return cl, nil
	}
	return nil, fmt.Errorf("cluster %q is not configured on this gitward server (server config: clusters)", name)
}

// Capability compares pull requests with the live clusters.
type Capability struct {
	Engine   *diff.Engine
	Clusters Clusters
	// Default is the cluster for apps the policy maps to none; "" leaves
	// them uncompared. The CLI sets it to the cluster its flags name.
	Default string
}

// New returns the capability.
func New(e *diff.Engine, clusters Clusters) *Capability {
	return &Capability{Engine: e, Clusters: clusters}
}

// Name implements evaluation.Capability.
func (c *Capability) Name() string { return "live drift" }

// Checks implements evaluation.Capability.
func (c *Capability) Checks() []string { return []string{verdict.CheckName} }

// Evaluate implements evaluation.Capability.
func (c *Capability) Evaluate(ctx context.Context, ev *evaluation.Evaluation) error {
	pr := ev.PR
	run := ev.CheckRun(verdict.CheckName)
	run.Status = forge.CheckInProgress
	run.Title = "Comparing with the live clusters"
	run.Summary = fmt.Sprintf("Dry-run applying base `%s` and head `%s`.", markdown.Short(pr.BaseSHA), markdown.Short(pr.HeadSHA))
	if err := ev.Publish(ctx, run); err != nil {
		return err
	}
	in, err := diff.InputsFor(ctx, ev)
	if err != nil {
		return err
	}
	apps, err := c.Compare(ctx, in)
	if err != nil {
		return err
	}
	// Drift in the scope of an open break-glass window is expected. If the
	// windows cannot be read, drift is judged as usual.
	now := time.Now()
	if windows, err := breakglass.Read(ctx, ev.Forge, pr.Ref.Repo, ev.Config, now); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not read the break-glass windows; drift is judged as usual")
	} else {
		MarkExpected(apps, windows, now)
	}
	mode := config.DriftNotify
	if ev.Config != nil {
		mode = ev.Config.Drift.Mode
	}
	if len(apps) > 0 {
		header, sections := report.LiveChanges(apps, mode)
		significant := false
		for _, a := range apps {
			significant = significant || a.Cluster != "" || a.Err != nil
		}
		ev.AddComment(evaluation.CommentPart{Header: header, Sections: sections, Significant: significant})
	}
	return ev.Publish(ctx, report.DriftCheck(ev.CheckRun(verdict.CheckName), apps, mode))
}

// Compare renders the apps the change affects and compares each with its
// cluster. It is shared with the CLI. Cluster failures are recorded in the
// app, not returned: the verdict decides what they mean under the drift
// mode.
func (c *Capability) Compare(ctx context.Context, in *diff.Inputs) ([]verdict.App, error) {
	cfg := in.Config
	renders, err := c.Engine.Renders(ctx, in)
	if err != nil {
		return nil, err
	}
	var rules []config.IgnoreRule
	if cfg != nil {
		rules = cfg.Drift.Ignore
	}
	out := make([]verdict.App, 0, len(renders))
	for _, r := range renders {
		a := verdict.App{Name: r.App.Name, Path: r.App.Path, Cluster: r.App.Cluster}
		if a.Cluster == "" {
			a.Cluster = c.Default
			r.App.Cluster = c.Default
		}
		if a.Cluster == "" {
			out = append(out, a)
			continue
		}
		a.Plan, a.Drift, a.Err = c.compareApp(ctx, r, rules)
		out = append(out, a)
	}
	return out, nil
}

// compareApp dry-runs one app's renders against its cluster.
func (c *Capability) compareApp(ctx context.Context, r diff.AppRender, rules []config.IgnoreRule) (plan, drifted *live.Result, err error) {
	switch {
	case r.AtHead && r.Head.Err != nil:
		return nil, nil, fmt.Errorf("the app does not render at head, so it cannot be compared: %w", r.Head.Err)
	case r.AtBase && r.Base.Err != nil:
		return nil, nil, fmt.Errorf("the app does not render at base, so it cannot be compared: %w", r.Base.Err)
	}
	cluster, err := c.Clusters.Cluster(r.App.Cluster)
	if err != nil {
		return nil, nil, err
	}
	base, err := decode(r.Base.YAML, r.AtBase)
	if err != nil {
		return nil, nil, fmt.Errorf("read the base render: %w", err)
	}
	head, err := decode(r.Head.YAML, r.AtHead)
	if err != nil {
		return nil, nil, fmt.Errorf("read the head render: %w", err)
	}
	if r.AtHead {
		plan, err = live.Plan(ctx, cluster, head, live.Dropped(base, head), r.App.Namespace, rules...)
		if err != nil {
			return nil, nil, err
		}
	} else {
		// A deleted app: merging prunes everything it had.
		plan, err = live.Plan(ctx, cluster, nil, base, r.App.Namespace, rules...)
		if err != nil {
			return nil, nil, err
		}
	}
	if r.AtBase {
		drifted, err = live.Drift(ctx, cluster, base, r.App.Namespace, rules...)
		if err != nil {
			return plan, nil, err
		}
	}
	return plan, drifted, nil
}

// decode reads a render into objects; a side the app does not exist on has
// none.
func decode(stream []byte, present bool) ([]*unstructured.Unstructured, error) {
	if !present || len(stream) == 0 {
		return nil, nil
	}
	return live.Decode(stream)
}
