package audit

import (
	"sort"
	"strings"
	"time"

	"github.com/gitward/gitward/checks/changecontrol/policy"
	"github.com/gitward/gitward/forge"
)

// Merge is what gitward knows of a merged pull request when it records it.
type Merge struct {
	Repo forge.Repo
	PR   forge.PullRequest
	// MergedAt and MergedBy come from the merge event.
	MergedAt time.Time
	MergedBy string
	// Landed are the first-parent commits the merge put on the base
	// branch, oldest first; nil means the merge commit alone.
	Landed []string
	// Facts and Verdict are change control's, decided at merge time.
	// VerdictErr says why they could not be gathered; Facts is then nil.
	Facts      *policy.Facts
	Verdict    policy.Verdict
	VerdictErr error
	// CheckRuns are gitward's check runs on the head commit.
	CheckRuns []forge.CheckRun
	Manifests Manifests
	// Version is gitward's version.
	Version string
	// DriftCapture links a drift-capture pull request, if any.
	DriftCapture string
}

// MergeRecord builds the evidence record of a merged pull request.
func MergeRecord(m Merge) Record {
	pr := m.PR
	landed := m.Landed
	if len(landed) == 0 {
		landed = []string{pr.MergeSHA}
	}
	manifests := m.Manifests
	rec := Record{
		Kind:           KindMerge,
		GitwardVersion: m.Version,
		Repository:     m.Repo.String(),
		Branch:         pr.BaseRef,
		Covers:         append([]string(nil), landed...),
		PullRequest: &PullRequest{
			Number: pr.Ref.Number, Title: pr.Title, URL: pr.URL, Author: pr.Author.Login,
			BaseRef: pr.BaseRef, BaseSHA: pr.BaseSHA, HeadSHA: pr.HeadSHA, MergeSHA: pr.MergeSHA,
			MergedAt: m.MergedAt, MergedBy: m.MergedBy,
		},
		Checks:       checks(m.CheckRuns),
		Manifests:    &manifests,
		DriftCapture: m.DriftCapture,
	}
	cc := &ChangeControl{}
	rec.ChangeControl = cc
	if m.VerdictErr != nil || m.Facts == nil {
		cc.Conclusion = string(forge.ConclusionFailure)
		cc.Error = "change control could not be evaluated at merge time"
		if m.VerdictErr != nil {
			cc.Error += ": " + m.VerdictErr.Error()
		}
		return rec
	}
	for _, c := range m.Facts.Commits {
		rec.Commits = append(rec.Commits, Commit{
			SHA: c.SHA, Subject: subject(c.Message), Author: person(c.Author), Committer: person(c.Committer),
			Signature: Signature{
				Signed: c.Signature.Signed, Verified: c.Signature.Verified, Reason: c.Signature.Reason,
				Signer: c.Signature.Signer, WebCommit: c.Signature.WebCommit,
			},
		})
	}
	v := m.Verdict
	for _, a := range v.Approvers {
		rec.Approvals = append(rec.Approvals, approval(a))
	}
	cc.Conclusion, cc.Title = string(v.Conclusion), v.Title
	for _, r := range v.Rules {
		rule := Rule{Name: r.Name, OK: r.OK, Reason: r.Reason}
		cc.Rules = append(cc.Rules, rule)
		if r.Name == policy.RuleSeparation {
			cc.SeparationOfDuties = rule
		}
	}
	if cc.SeparationOfDuties.Name == "" {
		cc.SeparationOfDuties = Rule{Name: policy.RuleSeparation, Reason: "not evaluated: " + firstReason(v.Rules)}
	}
	for _, ig := range v.Ignored {
		cc.Ignored = append(cc.Ignored, IgnoredApproval{Approval: approval(ig.ApprovalRecord), Reason: ig.Reason})
	}
	if bg := m.Facts.BreakGlass; bg != nil {
		rulesHeld := true
		for _, r := range v.Rules {
			rulesHeld = rulesHeld && r.OK
		}
		rec.BreakGlass = &BreakGlass{User: bg.User, Reason: bg.Reason, CommentID: bg.CommentID, At: bg.At, Decisive: !rulesHeld}
	}
	return rec
}

func firstReason(rules []policy.RuleResult) string {
	if len(rules) > 0 {
		return rules[0].Reason
	}
	return "no rules were evaluated"
}

// checks picks gitward's three checks from the runs on the head, the
// newest of each name.
func checks(runs []forge.CheckRun) []Check {
	latest := map[string]forge.CheckRun{}
	for _, r := range runs {
		if prev, ok := latest[r.Name]; !ok || r.ID > prev.ID {
			latest[r.Name] = r
		}
	}
	var out []Check
	for _, name := range []string{CheckDiff, CheckDrift, CheckChangeControl} {
		r, ok := latest[name]
		switch {
		case !ok:
			out = append(out, Check{Name: name, Conclusion: ConclusionMissing})
		case r.Status != forge.CheckCompleted:
			out = append(out, Check{Name: name, Conclusion: ConclusionPending, Title: r.Title, Summary: r.Summary})
		default:
			out = append(out, Check{Name: name, Conclusion: string(r.Conclusion), Title: r.Title, Summary: r.Summary})
		}
	}
	return out
}

func approval(a policy.ApprovalRecord) Approval {
	return Approval{User: a.User, Via: a.Via, ID: a.ID, SHA: a.SHA, At: a.At}
}

func person(id forge.Identity) Person {
	return Person{Name: id.Name, Email: id.Email, Login: id.Login, Date: id.Date}
}

// subject is a commit message's first line.
func subject(msg string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	return strings.TrimSpace(line)
}

// DirectPush is a push to a protected branch with commits that belong to
// no merged pull request.
type DirectPush struct {
	Repo   forge.Repo
	Branch string
	Ref    string
	Before string
	After  string
	// Pusher is the login that pushed; PusherName and PusherEmail are
	// what git was told.
	Pusher, PusherName, PusherEmail string
	Forced, Truncated               bool
	// Unreviewed are the commits no merged pull request brought, oldest
	// first.
	Unreviewed []forge.Commit
	Version    string
}

// UnreviewedRecord builds the record of a push that bypassed review.
func UnreviewedRecord(p DirectPush) Record {
	rec := Record{
		Kind:           KindUnreviewed,
		GitwardVersion: p.Version,
		Repository:     p.Repo.String(),
		Branch:         p.Branch,
		Push: &Push{
			Ref: p.Ref, Before: p.Before, After: p.After,
			Pusher: p.Pusher, PusherName: p.PusherName, PusherEmail: p.PusherEmail,
			Forced: p.Forced, Truncated: p.Truncated,
		},
	}
	for _, c := range p.Unreviewed {
		rec.Covers = append(rec.Covers, c.SHA)
		rec.Commits = append(rec.Commits, Commit{
			SHA: c.SHA, Subject: subject(c.Message), Author: person(c.Author), Committer: person(c.Committer),
			Signature: Signature{
				Signed:   c.Signature.Signature != "" || c.Signature.Verified,
				Verified: c.Signature.Verified, Reason: c.Signature.Reason,
			},
		})
	}
	return rec
}

// sortedApps orders rendered apps by name, then path.
func sortedApps(apps []RenderedApp) {
	sort.Slice(apps, func(i, j int) bool {
		if apps[i].Name != apps[j].Name {
			return apps[i].Name < apps[j].Name
		}
		return apps[i].Path < apps[j].Path
	})
}

// RetroactiveRecord is the record of a post-incident review's retroactive
// approval of the change merge records: it covers the merge commit again,
// carries the merge's pull request and break-glass use with the review's
// issue and the approval, and lists the approval among its approvals.
func RetroactiveRecord(merge Record, issueURL string, a Approval, version string) Record {
	rec := Record{
		Kind: KindRetroactive, GitwardVersion: version,
		Repository: merge.Repository, Branch: merge.Branch,
		Approvals: []Approval{a},
	}
	if merge.PullRequest != nil {
		pr := *merge.PullRequest
		rec.PullRequest = &pr
		rec.Covers = []string{pr.MergeSHA}
	}
	bg := BreakGlass{}
	if merge.BreakGlass != nil {
		bg = *merge.BreakGlass
	}
	if bg.PostIncidentIssue == "" {
		bg.PostIncidentIssue = issueURL
	}
	bg.RetroactiveApproval = &a
	rec.BreakGlass = &bg
	return rec
}
