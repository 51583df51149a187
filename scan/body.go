package scan

import (
	"fmt"
	"strings"

	"github.com/gitward/gitward/capture"
	"github.com/gitward/gitward/render"
	"github.com/gitward/gitward/report/markdown"
)

// maxDiffChars bounds the diff in a body, so the body stays under GitHub's
// limit and is sent as built (a body cut by the forge would differ from
// the next scan's and be edited again).
const maxDiffChars = 50000

// Title is a capture pull request's title.
func Title(app render.App) string {
	return "Capture live drift of " + app.Name
}

// CommitMessage is the message of a capture commit.
func CommitMessage(ch *capture.Change) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Capture live drift of %s from cluster %s\n\n", ch.App.Name, ch.App.Cluster)
	for _, c := range ch.Captured {
		fmt.Fprintf(&b, "- %s\n", c)
	}
	return b.String()
}

// Body is a capture pull request's body: the drifted fields with who
// changed them and when, what could not be captured, what ignore rules
// hid, the incident link and the diff. It depends only on the change, so
// unchanged drift gives the same body.
func Body(ch *capture.Change, incident string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Drift capture: %s\n\n", ch.App.Name)
	fmt.Fprintf(&b, "What cluster `%s` runs for app `%s` (`%s`) differs from the default branch. "+
		"This pull request writes the live values back into git; it goes through review like any change. "+
		"gitward updates it in place while the drift lasts, and leaves it open when the drift goes away.\n\n",
		ch.App.Cluster, ch.App.Name, ch.App.Path)
	if incident == "" {
		incident = "none linked"
	}
	fmt.Fprintf(&b, "**Incident:** %s\n\n", incident)

	fmt.Fprintf(&b, "### Drifted fields (%d)\n\n", len(ch.Captured))
	b.WriteString("| Object | Field: cluster vs git, changed by (manager, time) | Written to |\n|---|---|---|\n")
	for _, c := range ch.Captured {
		fmt.Fprintf(&b, "| %s | %s | %s (%s) |\n", markdown.Cell(c.Object.Describe()), markdown.Cell(c.Field.String()), markdown.Code(c.File), c.Route)
	}
	if len(ch.Refusals) > 0 {
		fmt.Fprintf(&b, "\n### Not captured (%d)\n\n", len(ch.Refusals))
		for _, r := range ch.Refusals {
			fmt.Fprintf(&b, "- %s\n", r)
		}
	}
	if len(ch.Hidden) > 0 {
		b.WriteString("\n### Hidden by ignore rules, never captured\n\n")
		for _, h := range ch.Hidden {
			fmt.Fprintf(&b, "- %s\n", h)
		}
	}
	diff := ch.Diff
	if len(diff) > maxDiffChars {
		cut := strings.LastIndexByte(diff[:maxDiffChars], '\n') + 1
		diff = diff[:cut] + "... (diff cut; see the files of this pull request)\n"
	}
	diff = strings.ReplaceAll(diff, "```", "` ` `")
	b.WriteString("\n### Diff\n\n```diff\n")
	b.WriteString(diff)
	if !strings.HasSuffix(diff, "\n") {
		b.WriteString("\n")
	}
	b.WriteString("```\n")
	return b.String()
}
