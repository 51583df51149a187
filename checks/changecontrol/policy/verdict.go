package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
)

// Rule names, as the check's summary shows them. A path rule is shown as
// RuleApprovals + ": " + its name.
const (
	RuleConfiguration    = "configuration"
	RuleSignedCommits    = "signed commits"
	RuleSeparation       = "separation of duties"
	RuleApprovals        = "approvals"
	RuleChangesRequested = "changes requested"
	RulePlaintextSecrets = "plaintext secrets"
)

// Approval channels.
const (
	ViaReview  = "review"
	ViaCommand = "command"
)

// Verdict is the change-control check's result.
type Verdict struct {
	// Conclusion is success when every rule holds or glass was broken, and
	// failure otherwise, including while approvals are still awaited.
	Conclusion forge.Conclusion
	// Title is one line for the check run, such as
	// "1 of 2 approvals; commits signed; no plaintext secrets".
	Title string
	// Summary is Markdown: a table of the rules, then the details.
	Summary string
	// Rules lists every rule's state, in a fixed order.
	Rules []RuleResult
	// Annotations point at the files and lines of failures.
	Annotations []forge.Annotation
	// Approvers are the approvals that counted, for the audit record.
	Approvers []ApprovalRecord
	// Ignored are the approvals that did not count, with the reason.
	Ignored []IgnoredApproval
}

// RuleResult is one rule's state.
type RuleResult struct {
	Name string
	OK   bool
	// Reason says why, in words a reviewer understands.
	Reason string
}

// ApprovalRecord is one approval that counted.
type ApprovalRecord struct {
	User string
	// Via is ViaReview or ViaCommand.
	Via string
	// ID is the review's or the comment's ID.
	ID int64
	// SHA is the commit approved.
	SHA string
	At  time.Time
}

// IgnoredApproval is an approval that did not count, and why.
type IgnoredApproval struct {
	ApprovalRecord
	Reason string
}

// Passed reports whether the verdict lets the pull request merge.
func (v Verdict) Passed() bool { return v.Conclusion == forge.ConclusionSuccess }

// Rule returns the named rule's result, and whether it was evaluated.
func (v Verdict) Rule(name string) (RuleResult, bool) {
	for _, r := range v.Rules {
		if r.Name == name {
			return r, true
		}
	}
	return RuleResult{}, false
}

// rule is a RuleResult with the phrase it adds to the title ("" for none).
type rule struct {
	RuleResult
	title string
}

// Evaluate decides the change-control check for the facts.
func Evaluate(f Facts) Verdict {
	var rules []rule
	var v Verdict
	var details []section
	switch {
	case f.ConfigError != nil:
		rules = append(rules, rule{RuleResult: RuleResult{Name: RuleConfiguration,
			Reason: fmt.Sprintf("%s could not be read: %s", config.RepoFile, markdown.OneLine(f.ConfigError.Error()))}})
	case f.Config == nil:
		rules = append(rules, rule{RuleResult: RuleResult{Name: RuleConfiguration,
			Reason: "no repository configuration was given, so nothing can be checked"}})
	default:
		e := newEvaluation(f)
		rules = append(rules, e.signatures())
		rules = append(rules, e.separation())
		rules = append(rules, e.approvals()...)
		rules = append(rules, e.changesRequested())
		secrets, annotations := e.secrets()
		rules = append(rules, secrets)
		v.Annotations = annotations
		v.Approvers, v.Ignored = e.records()
		details = e.details()
	}

	ok := true
	for _, r := range rules {
		v.Rules = append(v.Rules, r.RuleResult)
		ok = ok && r.OK
	}
	v.Conclusion = forge.ConclusionFailure
	if ok || f.BreakGlass != nil {
		v.Conclusion = forge.ConclusionSuccess
	}
	v.Title = title(f, rules)
	v.Summary = summary(f, v, details)
	return v
}

// title builds the one-line title from the rules' phrases, approvals first.
func title(f Facts, rules []rule) string {
	if f.BreakGlass != nil {
		return markdown.Clip(fmt.Sprintf("Break-glass by @%s: %s", f.BreakGlass.User, markdown.OneLine(f.BreakGlass.Reason)), 200)
	}
	if len(rules) == 1 && rules[0].Name == RuleConfiguration {
		return "Configuration error: " + markdown.Clip(rules[0].Reason, 160)
	}
	var first, rest []string
	for _, r := range rules {
		if r.title == "" {
			continue
		}
		if r.Name == RuleApprovals || strings.HasPrefix(r.Name, RuleApprovals+": ") || r.Name == RuleChangesRequested {
			first = append(first, r.title)
		} else {
			rest = append(rest, r.title)
		}
	}
	return markdown.Clip(strings.Join(append(first, rest...), "; "), 200)
}
