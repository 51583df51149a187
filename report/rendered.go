package report

import (
	"fmt"
	"strings"

	"github.com/gitward/gitward/render/objects"
	"github.com/gitward/gitward/report/markdown"
)

// RenderedDiff is what the rendered-diff comment and the gitward/diff check
// report: how each affected app's rendered manifests change.
type RenderedDiff struct {
	BaseSHA string
	HeadSHA string
	Apps    []AppDiff
}

// AppDiff is one affected app.
type AppDiff struct {
	// Name and Path identify the app (its kustomization directory).
	Name string
	Path string
	// New and Deleted mark an app that exists at only one side.
	New     bool
	Deleted bool
	// Diff is the object-level change; nil when a render failed.
	Diff *objects.AppDiff
	// Failure explains a render or diff that failed; it is shown as is, so
	// it must hold no secret values (render errors name files, not data).
	Failure string
	// FailedAt is "base" or "head" for a failed render.
	FailedAt string
	// FailureFile and FailureLine locate the failure in the repository when
	// it is known (a YAML error, a missing file); the app's kustomization
	// otherwise.
	FailureFile string
	FailureLine int
}

// Failed reports whether the app could not be rendered or diffed.
func (a AppDiff) Failed() bool { return a.Failure != "" }

// RenderedDiffHeading starts the rendered-diff comment.
const RenderedDiffHeading = "## gitward · rendered diff\n\n"

// RenderedDiffComment lays out the comment: a summary table, then one
// collapsible section per app holding its object diffs. Pass the result to
// Split.
func RenderedDiffComment(d RenderedDiff) (header string, sections []Section) {
	var h strings.Builder
	h.WriteString(RenderedDiffHeading)
	fmt.Fprintf(&h, "Base `%s` → head `%s`", markdown.Short(d.BaseSHA), markdown.Short(d.HeadSHA))
	if len(d.Apps) == 0 {
		h.WriteString(": no app renders differently.\n")
		return h.String(), nil
	}
	changed, failed, same := 0, 0, 0
	for _, a := range d.Apps {
		switch {
		case a.Failed():
			failed++
		case a.Diff != nil && len(a.Diff.Objects) > 0:
			changed++
		default:
			same++
		}
	}
	var what []string
	if changed > 0 {
		what = append(what, fmt.Sprintf("%d changed", changed))
	}
	if failed > 0 {
		what = append(what, fmt.Sprintf("%d failed to render", failed))
	}
	if same > 0 {
		what = append(what, fmt.Sprintf("%d unchanged", same))
	}
	fmt.Fprintf(&h, " · %s affected: %s.\n\n", markdown.Count(len(d.Apps), "app", "apps"), strings.Join(what, ", "))
	h.WriteString("| App | Added | Changed | Removed | Lines |\n|---|---:|---:|---:|---|\n")
	for _, a := range d.Apps {
		name := markdown.Code(a.Name)
		switch {
		case a.New:
			name += " (new)"
		case a.Deleted:
			name += " (deleted)"
		}
		switch {
		case a.Failed():
			fmt.Fprintf(&h, "| %s | ❌ render failed at %s | | | |\n", name, a.FailedAt)
		case a.Diff == nil || len(a.Diff.Objects) == 0:
			fmt.Fprintf(&h, "| %s | 0 | 0 | 0 | no change |\n", name)
		default:
			fmt.Fprintf(&h, "| %s | %d | %d | %d | +%d −%d |\n", name, a.Diff.Added, a.Diff.Changed, a.Diff.Removed, a.Diff.LinesAdded, a.Diff.LinesRemoved)
		}
	}
	h.WriteString("\n")

	for _, a := range d.Apps {
		group := a.Path
		if group == "" {
			group = a.Name
		}
		open := func(summary string) string {
			return fmt.Sprintf("<details><summary><b>%s</b> — %s</summary>\n\n", htmlEscape(a.Name), summary)
		}
		const closeTag = "</details>\n\n"
		switch {
		case a.Failed():
			sections = append(sections, Section{
				Group: group, GroupHeader: open("render failed at " + a.FailedAt), GroupFooter: closeTag,
				Text: fence("text", a.Failure),
			})
		case a.Diff == nil || len(a.Diff.Objects) == 0:
			sections = append(sections, Section{
				Group: group, GroupHeader: open("no change"), GroupFooter: closeTag,
				Text: "The change touches files this app reads, but its rendered manifests are identical.\n\n",
			})
		default:
			summary := counts(a.Diff)
			for _, o := range a.Diff.Objects {
				sections = append(sections, Section{
					Group: group, GroupHeader: open(summary), GroupFooter: closeTag,
					Text: objectText(o),
				})
			}
		}
	}
	return h.String(), sections
}

// objectText renders one object's change: a heading, notes about what the
// diff does not show, and the diff itself.
func objectText(o objects.ObjectChange) string {
	var b strings.Builder
	icon := map[objects.Action]string{objects.Added: "➕", objects.Removed: "➖", objects.Changed: "✏️"}[o.Action]
	ns := ""
	if o.ID.Namespace != "" {
		ns = o.ID.Namespace + "/"
	}
	fmt.Fprintf(&b, "%s **%s** %s %s (+%d −%d)\n\n", icon, markdown.Cell(o.ID.Kind), markdown.Code(ns+o.ID.Name), o.Action, o.LinesAdded, o.LinesRemoved)
	if s := o.Secret; s != nil {
		var parts []string
		if len(s.Added) > 0 {
			parts = append(parts, "added "+codeList(s.Added))
		}
		if len(s.Changed) > 0 {
			parts = append(parts, "changed "+codeList(s.Changed))
		}
		if len(s.Removed) > 0 {
			parts = append(parts, "removed "+codeList(s.Removed))
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "🔒 Hidden values: %s.\n\n", strings.Join(parts, "; "))
		}
	}
	for _, n := range o.Notes {
		fmt.Fprintf(&b, "> %s\n", n)
	}
	if len(o.Notes) > 0 {
		b.WriteString("\n")
	}
	if o.Unified != "" {
		b.WriteString(fence("diff", o.Unified))
	}
	return b.String()
}

// fence wraps text in a code block whose fence is longer than any run of
// backticks that starts a line of text, so no line of it (a diff context
// line holding a Markdown fence, say) can close the block early.
func fence(lang, text string) string {
	longest := 0
	for _, line := range strings.Split(text, "\n") {
		// Diff lines start with a marker character, then the content.
		for _, l := range []string{line, strings.TrimLeft(line, " +-")} {
			if n, _ := fenceRun(l); n > longest {
				longest = n
			}
		}
	}
	marks := strings.Repeat("`", max(3, longest+1))
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return marks + lang + "\n" + text + marks + "\n\n"
}

func counts(d *objects.AppDiff) string {
	var parts []string
	if d.Added > 0 {
		parts = append(parts, fmt.Sprintf("%d added", d.Added))
	}
	if d.Changed > 0 {
		parts = append(parts, fmt.Sprintf("%d changed", d.Changed))
	}
	if d.Removed > 0 {
		parts = append(parts, fmt.Sprintf("%d removed", d.Removed))
	}
	return strings.Join(parts, ", ")
}

func codeList(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = markdown.Code(k)
	}
	return strings.Join(q, ", ")
}

// verb picks the singular or plural form for a count.
func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// htmlEscape keeps names from breaking the <summary> element.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
