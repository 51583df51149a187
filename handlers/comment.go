package handlers

import (
	"context"
	"errors"

	"github.com/gitward/gitward/report"
	"github.com/rs/zerolog"
)

// Sticky is the one comment gitward keeps on a pull request. Capabilities
// add their parts to it (the rendered diff, the live changes); the
// Evaluator publishes it once, after all of them ran.
var Sticky = report.Sticky{Kind: "rendered-diff"}

// CommentPart is what one capability shows in the sticky comment.
type CommentPart struct {
	// Header opens the part; the first part's header opens the comment.
	Header string
	// Sections are kept whole when the comment is split into parts.
	Sections []report.Section
	// Significant parts make gitward post the comment. A comment with only
	// insignificant parts ("no app renders differently") is published only
	// to bring an earlier comment up to date.
	Significant bool
}

// AddComment adds a part to the pull request's sticky comment.
func (ev *Evaluation) AddComment(p CommentPart) { ev.comment = append(ev.comment, p) }

// publishComment publishes the sticky comment from the parts capabilities
// added: only for the current head (a push during the evaluation makes the
// result stale, and the newer evaluation publishes), not at all when no
// capability added a part, and removed when the policy turns it off.
func (e *Evaluator) publishComment(ctx context.Context, ev *Evaluation) error {
	if len(ev.comment) == 0 {
		return nil
	}
	log := zerolog.Ctx(ctx)
	current, err := ev.Forge.PullRequest(ctx, ev.PR.Ref)
	if err != nil {
		return err
	}
	if current.HeadSHA != ev.PR.HeadSHA {
		log.Info().Str("evaluated_head", ev.PR.HeadSHA).Str("current_head", current.HeadSHA).Msg("Head moved during the evaluation; not publishing the stale comment")
		return errStaleHead
	}
	comments, err := ev.Forge.Comments(ctx, ev.PR.Ref.Thread())
	if err != nil {
		return err
	}
	existing, _ := Sticky.Parts(comments)
	significant := false
	for _, p := range ev.comment {
		significant = significant || p.Significant
	}
	var bodies []string
	switch {
	case ev.Config != nil && !ev.Config.Comments.RenderedDiff:
		// The policy turns the comment off: remove any earlier one so no
		// stale diff stays on the pull request.
	case significant || len(existing) > 0:
		header := ev.comment[0].Header
		sections := append([]report.Section(nil), ev.comment[0].Sections...)
		for _, p := range ev.comment[1:] {
			if p.Header != "" {
				sections = append(sections, report.Section{Text: p.Header})
			}
			sections = append(sections, p.Sections...)
		}
		limit := e.CommentLimit
		if limit == 0 {
			limit = 65536
		}
		bodies = report.Split(Sticky.Marker, header, sections, limit)
	}
	return Sticky.Publish(ctx, ev.Forge, ev.PR.Ref.Thread(), comments, bodies)
}

// errStaleHead reports a result computed for a head that is no longer the
// pull request's; it is not a failure.
var errStaleHead = errors.New("the pull request's head moved during the evaluation")
