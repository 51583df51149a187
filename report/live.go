package report

import (
	"fmt"
	"strings"

	"github.com/gitward/gitward/checks/drift/verdict"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/report/markdown"
)

// LiveChangesHeading opens the live-changes part of the sticky comment.
const LiveChangesHeading = "## gitward · live changes\n\n"

// LiveChanges lays out what the clusters said about the affected apps: a
// table, then per app what merging will change and how the cluster already
// differs from git, with who changed it.
func LiveChanges(apps []verdict.App, mode string) (header string, sections []Section) {
	var h strings.Builder
	h.WriteString(LiveChangesHeading)
	fmt.Fprintf(&h, "Server-side dry-run of the base and head renders against the live clusters; drift mode `%s`.\n\n", mode)
	h.WriteString("| App | Cluster | Merging will | Drift |\n|---|---|---|---|\n")
	for _, a := range apps {
		cluster := a.Cluster
		if cluster == "" {
			cluster = "—"
		}
		switch {
		case a.Cluster == "" && a.Err == nil:
			fmt.Fprintf(&h, "| %s | — | not compared: no cluster mapped | |\n", markdown.Code(a.Name))
		case a.Err != nil:
			fmt.Fprintf(&h, "| %s | %s | ❌ could not compare | |\n", markdown.Code(a.Name), markdown.Cell(cluster))
		default:
			driftText := "none"
			switch {
			case a.Drifted() && a.Expected != "":
				driftText = "🔓 " + countActions(a.Drift, live.Changed, live.Missing, live.Failed) + ", " + markdown.Cell(a.Expected)
			case a.Drifted():
				driftText = "⚠️ " + countActions(a.Drift, live.Changed, live.Missing, live.Failed)
			}
			fmt.Fprintf(&h, "| %s | %s | %s | %s |\n", markdown.Code(a.Name), markdown.Cell(cluster), planText(a.Plan), driftText)
		}
	}
	h.WriteString("\n")
	for _, a := range apps {
		group := "live:" + a.Name
		open := func(summary string) string {
			return fmt.Sprintf("<details><summary><b>%s</b> on %s — %s</summary>\n\n", htmlEscape(a.Name), htmlEscape(a.Cluster), summary)
		}
		const closeTag = "</details>\n\n"
		switch {
		case a.Cluster == "" && a.Err == nil:
			continue
		case a.Err != nil:
			sections = append(sections, Section{Group: group, GroupHeader: open("could not compare"), GroupFooter: closeTag, Text: fence("text", a.Err.Error())})
			continue
		}
		if a.Plan != nil && len(changedObjects(a.Plan)) > 0 {
			var b strings.Builder
			refused, changes := splitFailed(changedObjects(a.Plan))
			if len(refused) > 0 {
				b.WriteString("**What merging would fail to apply**: the cluster refuses these objects\n\n")
				writeObjects(&b, refused, false)
			}
			if len(changes) > 0 {
				b.WriteString("**What merging changes**\n\n")
				writeObjects(&b, changes, false)
			}
			writeHidden(&b, a.Plan.Hidden)
			sections = append(sections, Section{Group: group, GroupHeader: open(planText(a.Plan)), GroupFooter: closeTag, Text: b.String()})
		}
		if a.Drifted() {
			var b strings.Builder
			b.WriteString("**Drift: the cluster already differs from git**\n\n")
			summary := "drift"
			if a.Expected != "" {
				summary = "drift " + htmlEscape(a.Expected)
				fmt.Fprintf(&b, "_This drift is %s: a break-glass window is open, so it is not judged. When the window closes gitward captures it into a pull request._\n\n", markdown.Cell(a.Expected))
			}
			writeObjects(&b, changedObjects(a.Drift), true)
			writeHidden(&b, a.Drift.Hidden)
			sections = append(sections, Section{Group: group, GroupHeader: open(summary), GroupFooter: closeTag, Text: b.String()})
		} else if a.Drift != nil && len(a.Drift.Hidden) > 0 {
			var b strings.Builder
			b.WriteString("No drift.\n\n")
			writeHidden(&b, a.Drift.Hidden)
			sections = append(sections, Section{Group: group, GroupHeader: open("no drift"), GroupFooter: closeTag, Text: b.String()})
		}
	}
	return h.String(), sections
}

// DriftCheck fills the gitward/drift verdict and its text into run.
func DriftCheck(run forge.CheckRun, apps []verdict.App, mode string) forge.CheckRun {
	v := verdict.Decide(apps, mode)
	run.Status = forge.CheckCompleted
	run.Conclusion = v.Conclusion
	run.Title = v.Title
	header, sections := LiveChanges(apps, mode)
	var b strings.Builder
	b.WriteString(strings.TrimPrefix(header, LiveChangesHeading))
	for _, s := range sections {
		b.WriteString(s.GroupHeader)
		b.WriteString(s.Text)
		b.WriteString(s.GroupFooter)
	}
	if len(v.Unappliable) > 0 {
		if mode == "enforce" {
			b.WriteString("\nDrift mode is `enforce`: this check fails until every object the pull request renders is one the cluster accepts.\n")
		} else {
			b.WriteString("\nDrift mode is `notify`: objects the cluster refuses are reported here but do not block.\n")
		}
	}
	if v.Conclusion != forge.ConclusionSuccess && len(v.Drifted) > 0 {
		if mode == "enforce" {
			b.WriteString("\nDrift mode is `enforce`: this check fails until the drift is captured in git (or undone in the cluster), or the ignore rules change.\n")
		} else {
			b.WriteString("\nDrift mode is `notify`: drift is reported here but does not block.\n")
		}
	}
	run.Summary = b.String()
	return run
}

func changedObjects(r *live.Result) []live.Object {
	var out []live.Object
	for _, o := range r.Objects {
		if o.Action != live.Unchanged {
			out = append(out, o)
		}
	}
	return out
}

// splitFailed parts objects into those the cluster refused and the rest.
func splitFailed(objs []live.Object) (failed, rest []live.Object) {
	for _, o := range objs {
		if o.Action == live.Failed {
			failed = append(failed, o)
		} else {
			rest = append(rest, o)
		}
	}
	return failed, rest
}

func writeObjects(b *strings.Builder, objs []live.Object, drift bool) {
	icons := map[live.Action]string{live.Created: "➕", live.Changed: "✏️", live.Pruned: "➖", live.Missing: "❔", live.Skipped: "⏭️", live.Failed: "❌"}
	for _, o := range objs {
		ns := ""
		if o.ID.Namespace != "" {
			ns = o.ID.Namespace + "/"
		}
		action := string(o.Action)
		if drift && o.Action == live.Missing {
			action = "missing from the cluster"
		}
		fmt.Fprintf(b, "- %s **%s** %s %s", icons[o.Action], markdown.Cell(o.ID.Kind), markdown.Code(ns+o.ID.Name), action)
		if o.Note != "" {
			fmt.Fprintf(b, " — %s", o.Note)
		}
		if o.Err != nil {
			// The cluster's message may quote values from the pull request.
			fmt.Fprintf(b, " — %s", markdown.Cell(o.Err.Error()))
		}
		b.WriteString("\n")
		for _, f := range o.Fields {
			fmt.Fprintf(b, "  - %s\n", markdown.Code(f.String()))
		}
	}
	b.WriteString("\n")
}

func writeHidden(b *strings.Builder, hidden []live.Hidden) {
	for _, h := range hidden {
		fmt.Fprintf(b, "_%s._\n", h)
	}
	if len(hidden) > 0 {
		b.WriteString("\n")
	}
}

func planText(r *live.Result) string {
	if r == nil {
		return "nothing (the app is removed)"
	}
	s := countActions(r, live.Created, live.Changed, live.Pruned)
	if n := r.Count(live.Failed); n > 0 {
		fail := "❌ fail to apply " + markdown.Count(n, "object", "objects")
		if s != "" {
			fail += " (otherwise " + s + ")"
		}
		return fail
	}
	if s == "" {
		return "change nothing"
	}
	return s
}

// countActions says how many objects have each action, like "1 created,
// 2 changed"; "" when none.
func countActions(r *live.Result, actions ...live.Action) string {
	var parts []string
	for _, a := range actions {
		if n := r.Count(a); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a))
		}
	}
	return strings.Join(parts, ", ")
}
