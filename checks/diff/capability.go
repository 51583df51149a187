package diff

import (
	"context"
	"fmt"
	"github.com/gitward/gitward/report/markdown"

	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report"
)

// Sticky is the pull request's sticky comment, which the rendered diff
// opens.
var Sticky = evaluation.Sticky

// Capability publishes the rendered diff of a pull request: the sticky
// comment and the gitward/diff check run on its head commit.
type Capability struct {
	Engine *Engine
}

// New returns the capability with its engine.
func New(e *Engine) *Capability { return &Capability{Engine: e} }

// Name implements evaluation.Capability.
func (c *Capability) Name() string { return "rendered diff" }

// Checks implements evaluation.Capability.
func (c *Capability) Checks() []string { return []string{report.DiffCheckName} }

// Evaluate renders the affected apps at base and head, publishes the check
// and adds the rendered diff to the sticky comment, which the evaluator
// publishes for the current head only.
func (c *Capability) Evaluate(ctx context.Context, ev *evaluation.Evaluation) error {
	pr := ev.PR
	run := ev.CheckRun(report.DiffCheckName)
	run.Status = forge.CheckInProgress
	run.Title = "Rendering the apps this change affects"
	run.Summary = fmt.Sprintf("Rendering base `%s` and head `%s`.", markdown.Short(pr.BaseSHA), markdown.Short(pr.HeadSHA))
	if err := ev.Publish(ctx, run); err != nil {
		return err
	}

	in, err := InputsFor(ctx, ev)
	if err != nil {
		return err
	}
	result, err := c.Engine.Run(ctx, in)
	if err != nil {
		return err
	}

	header, sections := report.RenderedDiffComment(result)
	ev.AddComment(evaluation.CommentPart{Header: header, Sections: sections, Significant: len(result.Apps) > 0})
	return ev.Publish(ctx, report.DiffCheck(ev.CheckRun(report.DiffCheckName), result))
}
