package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/gitward/gitward/report/markdown"
)

// section is one part of the summary's details.
type section struct {
	title string
	body  string
}

// details writes the sections that explain the rules: which approvals
// counted and which did not, who wrote the change, each commit's signature
// and each plaintext Secret.
func (e *evaluation) details() []section {
	var out []section
	counted, ignored := e.records()

	var b strings.Builder
	if e.head == "" {
		b.WriteString("The head commit is unknown.\n")
	} else {
		fmt.Fprintf(&b, "Head %s", markdown.Code(markdown.Short(e.head)))
		switch {
		case !e.cfg.Approvals.InvalidateOnPush:
			b.WriteString("; approvals survive pushes (approvals.invalidate_on_push is off).\n")
		case e.f.HeadPushedAt.IsZero():
			b.WriteString(", push time unknown: only approvals that name it count.\n")
		default:
			fmt.Fprintf(&b, ", pushed %s.\n", stamp(e.f.HeadPushedAt))
		}
	}
	if len(counted)+len(ignored) == 0 {
		b.WriteString("\nNo approvals yet.\n")
	}
	if len(counted) > 0 {
		b.WriteString("\n| Counted | Via | Commit | At |\n|---|---|---|---|\n")
		for _, r := range counted {
			fmt.Fprintf(&b, "| @%s | %s | %s | %s |\n", markdown.Cell(r.User), via(r.Via), markdown.Code(markdown.Short(r.SHA)), stamp(r.At))
		}
	}
	if len(ignored) > 0 {
		b.WriteString("\n| Ignored | Via | Commit | At | Why |\n|---|---|---|---|---|\n")
		for _, r := range ignored {
			commit := "—"
			if r.SHA != "" {
				commit = markdown.Code(markdown.Short(r.SHA))
			}
			fmt.Fprintf(&b, "| @%s | %s | %s | %s | %s |\n", markdown.Cell(r.User), via(r.Via), commit, stamp(r.At), markdown.Cell(r.Reason))
		}
	}
	out = append(out, section{"Approvals", b.String()})

	if !e.cfg.SeparationOfDuties.AllowSelfApproval && len(e.authors.why) > 0 {
		b.Reset()
		b.WriteString("Approvals from the people who wrote the change do not count.\n\n| Author | Why |\n|---|---|\n")
		for _, l := range sortedKeys(e.authors.why) {
			fmt.Fprintf(&b, "| @%s | %s |\n", markdown.Cell(e.display(l)), markdown.Cell(e.authors.why[l]))
		}
		out = append(out, section{"Separation of duties", b.String()})
	}

	if len(e.commitNotes) > 0 {
		b.Reset()
		b.WriteString("| | Commit | Signature |\n|:-:|---|---|\n")
		for _, n := range e.commitNotes {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", mark(n.ok), markdown.Code(n.sha), markdown.Cell(n.say))
		}
		out = append(out, section{"Commits", b.String()})
	}

	if len(e.secretNotes) > 0 {
		b.Reset()
		b.WriteString("Values are never shown.\n\n| | Object | Source | Keys |\n|:-:|---|---|---|\n")
		for _, n := range e.secretNotes {
			state := mark(false)
			if n.exempt {
				state = "➖"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", state, markdown.Cell(n.Object), markdown.Code(location(n.SecretFinding)), markdown.Cell(strings.Join(n.Keys, ", ")))
		}
		if e.secretNotesExempt() {
			b.WriteString("\n➖ exempt by secrets.allowed_paths.\n")
		}
		out = append(out, section{"Plaintext secrets", b.String()})
	}
	return out
}

func (e *evaluation) secretNotesExempt() bool {
	for _, n := range e.secretNotes {
		if n.exempt {
			return true
		}
	}
	return false
}

// summary writes the check's Markdown: the break-glass notice, the rules
// table, then the details.
func summary(f Facts, v Verdict, details []section) string {
	var b strings.Builder
	if bg := f.BreakGlass; bg != nil {
		fmt.Fprintf(&b, "> [!WARNING]\n> **Break-glass by @%s:** %s\n>\n"+
			"> This check passes without change control. The rules' real state is below.\n\n",
			markdown.Cell(bg.User), markdown.Cell(markdown.OneLine(bg.Reason)))
	}
	b.WriteString("| | Rule | Result |\n|:-:|---|---|\n")
	for _, r := range v.Rules {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", mark(r.OK), markdown.Cell(r.Name), markdown.Cell(r.Reason))
	}
	for _, s := range details {
		fmt.Fprintf(&b, "\n### %s\n\n%s", s.title, s.body)
	}
	return b.String()
}

func mark(ok bool) string {
	if ok {
		return "✅"
	}
	return "❌"
}

func via(v string) string {
	if v == ViaCommand {
		return "/approve"
	}
	return v
}

// stamp writes a time in UTC to the minute; the zero time is "—".
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
