package evaluation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report"
	"github.com/gitward/gitward/report/markdown"
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
//
// On a forge whose checks show no text (GitLab), the comment also carries
// each check's report, so it is always published and the policy's switch
// turns off only the rendered diff.
func (e *Evaluator) publishComment(ctx context.Context, ev *Evaluation) error {
	reports := e.checkReports(ev)
	if len(ev.comment) == 0 && len(reports) == 0 {
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
	parts := ev.comment
	if ev.Config != nil && !ev.Config.Comments.RenderedDiff {
		// The policy turns the diff off: drop it, and so remove any
		// earlier comment unless check reports keep it.
		parts = nil
	}
	significant := len(reports) > 0
	for _, p := range parts {
		significant = significant || p.Significant
	}
	var bodies []string
	if significant || (len(existing) > 0 && len(parts) > 0) {
		header := reportsHeader
		var sections []report.Section
		if len(parts) > 0 {
			header = parts[0].Header
			sections = append(sections, parts[0].Sections...)
			for _, p := range parts[1:] {
				if p.Header != "" {
					sections = append(sections, report.Section{Text: p.Header})
				}
				sections = append(sections, p.Sections...)
			}
		}
		sections = append(sections, reports...)
		limit := e.CommentLimit
		if limit == 0 {
			limit = ev.Forge.Limits().CommentChars
		}
		bodies = report.Split(Sticky.Marker, header, sections, limit)
	}
	return Sticky.Publish(ctx, ev.Forge, ev.PR.Ref.Thread(), comments, bodies)
}

// reportsHeader opens a comment that holds only check reports.
const reportsHeader = "## gitward\n"

// checkReports are the sections reporting each completed check, in the
// evaluator's order, for a forge whose checks show no text.
func (e *Evaluator) checkReports(ev *Evaluation) []report.Section {
	var out []report.Section
	for _, name := range e.Checks() {
		run, ok := ev.reports[name]
		if !ok {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "### %s `%s`: %s\n\n", conclusionMark(run.Conclusion), name, run.Title)
		if run.Summary != "" {
			b.WriteString(strings.TrimSpace(run.Summary) + "\n\n")
		}
		if run.Text != "" {
			b.WriteString(strings.TrimSpace(run.Text) + "\n\n")
		}
		for _, a := range run.Annotations {
			fmt.Fprintf(&b, "- `%s:%d`: %s\n", a.Path, a.StartLine, markdown.Clip(markdown.OneLine(a.Message), 80))
		}
		out = append(out, report.Section{Text: b.String()})
	}
	return out
}

func conclusionMark(c forge.Conclusion) string {
	switch c {
	case forge.ConclusionSuccess:
		return "✅"
	case forge.ConclusionNeutral, forge.ConclusionSkipped:
		return "⚪"
	}
	return "❌"
}

// errStaleHead reports a result computed for a head that is no longer the
// pull request's; it is not a failure.
var errStaleHead = errors.New("the pull request's head moved during the evaluation")
