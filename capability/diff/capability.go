package diff

import (
	"context"
	"fmt"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/handlers"
	"github.com/gitward/gitward/report"
	"github.com/rs/zerolog"
)

// Sticky is the rendered-diff comment.
var Sticky = report.Sticky{Kind: "rendered-diff"}

// Capability publishes the rendered diff of a pull request: the sticky
// comment and the gitward/diff check run on its head commit.
type Capability struct {
	Engine *Engine
	// CommentLimit is the forge's largest comment, in characters; zero
	// means GitHub's 65,536.
	CommentLimit int
}

// New returns the capability with its engine.
func New(e *Engine) *Capability { return &Capability{Engine: e} }

// Name implements handlers.Capability.
func (c *Capability) Name() string { return "rendered diff" }

// Checks implements handlers.Capability.
func (c *Capability) Checks() []string { return []string{report.DiffCheckName} }

// Evaluate renders the affected apps at base and head and publishes the
// comment and the check. A result computed for a head that is no longer the
// pull request's head is dropped: the evaluation of the newer head
// publishes instead.
func (c *Capability) Evaluate(ctx context.Context, ev *handlers.Evaluation) error {
	log := zerolog.Ctx(ctx)
	pr := ev.PR
	repo := pr.Ref.Repo
	run := ev.CheckRun(report.DiffCheckName)
	run.Status = forge.CheckInProgress
	run.Title = "Rendering the apps this change affects"
	run.Summary = fmt.Sprintf("Rendering base `%s` and head `%s`.", short(pr.BaseSHA), short(pr.HeadSHA))
	if err := ev.Publish(ctx, run); err != nil {
		return err
	}

	changed, err := ev.Forge.ChangedFiles(ctx, pr.Ref)
	if err != nil {
		return err
	}
	baseSnap, err := ev.Forge.Snapshot(ctx, repo, pr.BaseSHA)
	if err != nil {
		return fmt.Errorf("download the base commit: %w", err)
	}
	defer baseSnap.Release()
	headSnap, err := ev.Forge.Snapshot(ctx, repo, pr.HeadSHA)
	if err != nil {
		return fmt.Errorf("download the head commit: %w", err)
	}
	defer headSnap.Release()

	result, err := c.Engine.Run(ctx, ev.Config, Side{SHA: pr.BaseSHA, FS: baseSnap.FS()}, Side{SHA: pr.HeadSHA, FS: headSnap.FS()}, changed)
	if err != nil {
		return err
	}

	// Publish only for the current head: a push during the render makes
	// this result stale, and the newer evaluation will publish its own.
	current, err := ev.Forge.PullRequest(ctx, pr.Ref)
	if err != nil {
		return err
	}
	if current.HeadSHA != pr.HeadSHA {
		log.Info().Str("rendered_head", pr.HeadSHA).Str("current_head", current.HeadSHA).Msg("Head moved during the render; not publishing the stale diff")
		return nil
	}

	comments, err := ev.Forge.Comments(ctx, pr.Ref)
	if err != nil {
		return err
	}
	limit := c.CommentLimit
	if limit == 0 {
		limit = 65536
	}
	var bodies []string
	parts, _ := Sticky.Parts(comments)
	switch {
	case ev.Config != nil && !ev.Config.Comments.RenderedDiff:
		// The policy turns the comment off: remove any earlier one so no
		// stale diff stays on the pull request.
	case len(result.Apps) > 0 || len(parts) > 0:
		// With no affected app and no earlier comment, stay quiet; with an
		// earlier comment, say that nothing renders differently any more.
		header, sections := report.RenderedDiffComment(result)
		bodies = report.Split(Sticky.Marker, header, sections, limit)
	}
	if err := Sticky.Publish(ctx, ev.Forge, repo, pr.Ref.Number, comments, bodies); err != nil {
		return err
	}
	return ev.Publish(ctx, report.DiffCheck(ev.CheckRun(report.DiffCheckName), result))
}
