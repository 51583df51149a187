package audit

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gitward/gitward/report/markdown"
)

// ExportSchema names the JSON export's format.
const ExportSchema = "gitward.dev/audit-export/v1"

// Formats are the export formats.
var Formats = []string{"csv", "json", "markdown"}

// Evidence is the change-management evidence of one change, as SOC 2
// CC8.1 asks for it: what changed, who authored and who approved it, on
// which commit, whether duties were separated, whether commits were signed,
// and any emergency bypass with its after-the-fact review.
type Evidence struct {
	Record     string    `json:"record"`
	RecordHash string    `json:"record_hash"`
	Kind       Kind      `json:"kind"`
	Date       time.Time `json:"date"`
	Repository string    `json:"repository"`
	Branch     string    `json:"branch"`
	// PullRequest is 0 for an unreviewed push.
	PullRequest int    `json:"pull_request"`
	Title       string `json:"title"`
	URL         string `json:"url"`
	// Commit is the merge commit, or the pushed head of an unreviewed push.
	Commit   string     `json:"commit"`
	Author   string     `json:"author"`
	MergedBy string     `json:"merged_by"`
	Approved []Approval `json:"approvals"`
	// ChangeControl is the conclusion of the change-control check at merge
	// time, "error" when it could not be evaluated, or "bypassed" for an
	// unreviewed push.
	ChangeControl      string              `json:"change_control"`
	SeparationOfDuties Rule                `json:"separation_of_duties"`
	Signatures         SignatureSummary    `json:"signatures"`
	BreakGlass         *BreakGlass         `json:"break_glass"`
	Checks             map[string]string   `json:"checks"`
	Unreviewed         []UnreviewedCommit  `json:"unreviewed_commits"`
	Manifests          []ManifestsEvidence `json:"manifests"`
}

// SignatureSummary counts a change's commits by signature verdict.
type SignatureSummary struct {
	Commits  int `json:"commits"`
	Verified int `json:"verified"`
	// Signers names who signed each verified commit, where known.
	Signers []string `json:"signers"`
	// Problems names each commit whose signature did not verify.
	Problems []string `json:"problems"`
}

// UnreviewedCommit is a commit pushed without review.
type UnreviewedCommit struct {
	SHA     string `json:"sha"`
	Author  string `json:"author"`
	Subject string `json:"subject"`
}

// ManifestsEvidence is one app's rendered digest at the merge commit.
type ManifestsEvidence struct {
	App    string `json:"app"`
	Digest string `json:"digest"`
	Error  string `json:"error,omitempty"`
}

// EvidenceOf turns a stored record into evidence.
func EvidenceOf(s Stored) Evidence {
	e := Evidence{
		Record: SeqName(s.Seq), RecordHash: s.Hash, Kind: s.Kind, Date: s.Date(),
		Repository: s.Repository, Branch: s.Branch, Approved: s.Approvals,
		BreakGlass: s.Record.BreakGlass, Checks: map[string]string{},
	}
	if e.Approved == nil {
		e.Approved = []Approval{}
	}
	for _, c := range s.Checks {
		e.Checks[c.Name] = c.Conclusion
	}
	e.Signatures.Commits = len(s.Commits)
	e.Signatures.Problems, e.Signatures.Signers = []string{}, []string{}
	for _, c := range s.Commits {
		if c.Signature.Verified {
			e.Signatures.Verified++
			switch {
			case c.Signature.Signer != "":
				e.Signatures.Signers = append(e.Signatures.Signers, markdown.Short(c.SHA)+" "+c.Signature.Signer)
			case c.Signature.WebCommit:
				e.Signatures.Signers = append(e.Signatures.Signers, markdown.Short(c.SHA)+" the forge's web interface")
			}
			continue
		}
		why := c.Signature.Reason
		if why == "" {
			why = "not verified"
		}
		if !c.Signature.Signed {
			why = "unsigned"
		}
		e.Signatures.Problems = append(e.Signatures.Problems, markdown.Short(c.SHA)+" "+why)
	}
	switch s.Kind {
	case KindMerge:
		pr := s.PullRequest
		e.PullRequest, e.Title, e.URL, e.Commit, e.Author, e.MergedBy = pr.Number, pr.Title, pr.URL, pr.MergeSHA, pr.Author, pr.MergedBy
		if cc := s.ChangeControl; cc != nil {
			e.ChangeControl, e.SeparationOfDuties = cc.Conclusion, cc.SeparationOfDuties
			if cc.Error != "" {
				e.ChangeControl = "error"
				e.SeparationOfDuties = Rule{Name: "separation of duties", Reason: cc.Error}
			}
		}
		if s.Manifests != nil {
			for _, a := range s.Manifests.Apps {
				e.Manifests = append(e.Manifests, ManifestsEvidence{App: a.Name, Digest: a.Digest, Error: a.Error})
			}
		}
	case KindRetroactive:
		pr := s.PullRequest
		e.PullRequest, e.Title, e.URL, e.Commit, e.Author, e.MergedBy = pr.Number, pr.Title, pr.URL, pr.MergeSHA, pr.Author, pr.MergedBy
		e.ChangeControl = "retroactively approved"
		e.SeparationOfDuties = Rule{Name: "separation of duties", OK: true, Reason: "post-incident review"}
	case KindUnreviewed:
		e.Title = "Unreviewed push to " + s.Branch
		e.Commit, e.Author = s.Push.After, s.Push.Pusher
		e.ChangeControl = "bypassed"
		e.SeparationOfDuties = Rule{Name: "separation of duties", Reason: "no review: pushed directly"}
		for _, c := range s.Commits {
			e.Unreviewed = append(e.Unreviewed, UnreviewedCommit{SHA: c.SHA, Author: author(c), Subject: c.Subject})
		}
	}
	if e.Unreviewed == nil {
		e.Unreviewed = []UnreviewedCommit{}
	}
	if e.Manifests == nil {
		e.Manifests = []ManifestsEvidence{}
	}
	return e
}

// Evidences turns stored records into evidence, one per change: a
// retroactive approval is shown next to the change it approves (the
// merge's break_glass gains the post-incident issue and the approval)
// rather than as a change of its own, unless that merge is not among
// records.
func Evidences(records []Stored) []Evidence {
	var out []Evidence
	merges := map[string]int{}
	key := func(s Stored) string { return s.Repository + "#" + fmt.Sprint(s.PullRequest.Number) }
	for _, s := range records {
		if s.Kind == KindMerge && s.PullRequest != nil {
			merges[key(s)] = len(out)
		}
		out = append(out, EvidenceOf(s))
	}
	folded := map[int]bool{}
	for i, s := range records {
		if s.Kind == KindRetroactive && s.PullRequest != nil && s.BreakGlass != nil {
			if j, ok := merges[key(s)]; ok && out[j].BreakGlass != nil {
				bg := *out[j].BreakGlass
				bg.PostIncidentIssue = s.BreakGlass.PostIncidentIssue
				bg.RetroactiveApproval = s.BreakGlass.RetroactiveApproval
				out[j].BreakGlass = &bg
				folded[i] = true
			}
		}
	}
	var kept []Evidence
	for i := range out {
		if !folded[i] {
			kept = append(kept, out[i])
		}
	}
	return kept
}

// Date is when the change reached its branch: the merge time, or when
// gitward recorded the push.
func (r *Record) Date() time.Time {
	if r.PullRequest != nil && !r.PullRequest.MergedAt.IsZero() {
		return r.PullRequest.MergedAt
	}
	return r.RecordedAt
}

func author(c Commit) string {
	if c.Author.Login != "" {
		return c.Author.Login
	}
	return c.Author.Name + " <" + c.Author.Email + ">"
}

// Select keeps the records dated within [since, until]; a zero bound is
// open.
func Select(records []Stored, since, until time.Time) []Stored {
	var out []Stored
	for _, s := range records {
		d := s.Date()
		if !since.IsZero() && d.Before(since) || !until.IsZero() && d.After(until) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// ExportHeader describes the ledger an export was taken from.
type ExportHeader struct {
	Repository string    `json:"repository"`
	Branch     string    `json:"ledger_branch"`
	Records    int       `json:"ledger_records"`
	Tip        string    `json:"ledger_tip"`
	Since      time.Time `json:"since"`
	Until      time.Time `json:"until"`
}

// Export writes evidence in format: "csv" (one row per change), "json" or
// "markdown".
func Export(w io.Writer, format string, h ExportHeader, changes []Evidence) error {
	switch format {
	case "json":
		return exportJSON(w, h, changes)
	case "csv":
		return exportCSV(w, changes)
	case "markdown":
		return exportMarkdown(w, h, changes)
	}
	return fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(Formats, ", "))
}

func exportJSON(w io.Writer, h ExportHeader, changes []Evidence) error {
	if changes == nil {
		changes = []Evidence{}
	}
	doc := struct {
		Schema string `json:"schema"`
		ExportHeader
		Changes []Evidence `json:"changes"`
	}{ExportSchema, h, changes}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

var csvHeader = []string{
	"record", "date", "kind", "repository", "branch", "pull_request", "title", "url", "commit", "author", "merged_by",
	"approvals", "change_control", "separation_of_duties", "signatures", "break_glass", "post_incident_issue",
	"retroactive_approval", "unreviewed_commits", "record_hash",
}

func exportCSV(w io.Writer, changes []Evidence) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, e := range changes {
		pr := ""
		if e.PullRequest > 0 {
			pr = strconv.Itoa(e.PullRequest)
		}
		bg, issue, retro := "", "", ""
		if b := e.BreakGlass; b != nil {
			bg, issue, retro = breakGlassText(b), b.PostIncidentIssue, approvalText(b.RetroactiveApproval)
		}
		var unreviewed []string
		for _, c := range e.Unreviewed {
			unreviewed = append(unreviewed, markdown.Short(c.SHA)+" by "+c.Author)
		}
		row := []string{
			e.Record, stamp(e.Date), string(e.Kind), e.Repository, e.Branch, pr, e.Title, e.URL, e.Commit, e.Author, e.MergedBy,
			approvalsText(e.Approved), e.ChangeControl, sodText(e.SeparationOfDuties), signaturesText(e.Signatures),
			bg, issue, retro, strings.Join(unreviewed, "; "), e.RecordHash,
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func exportMarkdown(w io.Writer, h ExportHeader, changes []Evidence) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Change-management evidence: %s\n\n", h.Repository)
	fmt.Fprintf(&b, "Changes from %s to %s, from the gitward ledger on branch `%s` (%d records, tip `%s`).\n\n",
		day(h.Since, "the first record"), day(h.Until, "the last record"), h.Branch, h.Records, h.Tip)
	if len(changes) == 0 {
		b.WriteString("No change was recorded in this period.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("| Record | Date | Change | Author | Approvals | Separation of duties | Signatures | Change control | Break-glass |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, e := range changes {
		change := "unreviewed push `" + markdown.Short(e.Commit) + "`"
		if e.PullRequest > 0 {
			change = fmt.Sprintf("[#%d](%s) %s, merged as `%s`", e.PullRequest, e.URL, markdown.Cell(e.Title), markdown.Short(e.Commit))
		}
		bg := "—"
		if e.BreakGlass != nil {
			bg = markdown.Cell(breakGlassText(e.BreakGlass))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			e.Record, stamp(e.Date), change, markdown.Cell(e.Author), markdown.Cell(orDash(approvalsText(e.Approved))),
			markdown.Cell(sodText(e.SeparationOfDuties)), markdown.Cell(signaturesText(e.Signatures)), e.ChangeControl, bg)
	}
	for _, e := range changes {
		if e.BreakGlass == nil && len(e.Unreviewed) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## Record %s\n\n", e.Record)
		if bgu := e.BreakGlass; bgu != nil {
			fmt.Fprintf(&b, "- Break-glass by @%s at %s: %s\n", bgu.User, stamp(bgu.At), markdown.Cell(bgu.Reason))
			fmt.Fprintf(&b, "- Post-incident review: %s\n", orText(bgu.PostIncidentIssue, "not opened yet"))
			fmt.Fprintf(&b, "- Retroactive approval: %s\n", orText(approvalText(bgu.RetroactiveApproval), "none yet"))
		}
		for _, c := range e.Unreviewed {
			fmt.Fprintf(&b, "- Unreviewed commit `%s` by %s: %s\n", markdown.Short(c.SHA), c.Author, markdown.Cell(c.Subject))
		}
	}
	b.WriteString("\nEach record's hash links to the one before it; run `gitward audit verify` on a clone to check the chain and that every commit on the branch is covered.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func approvalText(a *Approval) string {
	if a == nil {
		return ""
	}
	return fmt.Sprintf("%s (%s on %s at %s)", a.User, a.Via, markdown.Short(a.SHA), stamp(a.At))
}

func approvalsText(list []Approval) string {
	parts := make([]string, len(list))
	for i := range list {
		parts[i] = approvalText(&list[i])
	}
	return strings.Join(parts, "; ")
}

func sodText(r Rule) string {
	verdict := "held"
	if !r.OK {
		verdict = "not held"
	}
	if r.Reason == "" {
		return verdict
	}
	return verdict + ": " + r.Reason
}

func signaturesText(s SignatureSummary) string {
	out := fmt.Sprintf("%d of %d verified", s.Verified, s.Commits)
	if len(s.Problems) > 0 {
		out += " (" + strings.Join(s.Problems, ", ") + ")"
	}
	return out
}

func breakGlassText(b *BreakGlass) string {
	out := fmt.Sprintf("%s at %s: %s", b.User, stamp(b.At), b.Reason)
	if b.Decisive {
		out += " (merged only because glass was broken)"
	}
	return out
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func day(t time.Time, open string) string {
	if t.IsZero() {
		return open
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string { return orText(s, "—") }

func orText(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
