package audit

import (
	"regexp"
	"unicode/utf8"
)

// Redacted replaces anything in a record's free text that looks like a
// credential.
const Redacted = "[redacted]"

// MaxText bounds one free-text field of a record (a check run's summary,
// a title, a reason), in bytes.
const MaxText = 16 << 10

// credentials are shapes of secret values that must never reach a record
// even if they found their way into a check run or a commit subject:
// private keys, forge and cloud tokens, JSON web tokens and the value written
// after a password or API key's name.
var credentials = []*regexp.Regexp{
	regexp.MustCompile(`(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|$)`),
	regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_\-]{20,})`),
	regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`),
	regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`),
	regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`),
	regexp.MustCompile(`(?i)\b((?:password|passwd|api[_-]?key|client[_-]?secret|secret[_-]?key|access[_-]?token|auth[_-]?token)["']?\s*[:=]\s*)["']?[^\s"',;]{4,}`),
}

// Scrub returns s with credential-shaped text replaced by Redacted, cut
// to MaxText bytes at a character boundary.
func Scrub(s string) string {
	for i, re := range credentials {
		if i == len(credentials)-1 {
			s = re.ReplaceAllString(s, "${1}"+Redacted)
			continue
		}
		s = re.ReplaceAllString(s, Redacted)
	}
	if len(s) > MaxText {
		cut := MaxText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "… (cut)"
	}
	return s
}

// scrub applies Scrub to every free-text field of the record.
func (r *Record) scrub() {
	if r.PullRequest != nil {
		pr := *r.PullRequest
		pr.Title = Scrub(pr.Title)
		r.PullRequest = &pr
	}
	commits := make([]Commit, len(r.Commits))
	for i, c := range r.Commits {
		c.Subject = Scrub(c.Subject)
		c.Signature.Reason = Scrub(c.Signature.Reason)
		commits[i] = c
	}
	r.Commits = commits
	if r.ChangeControl != nil {
		cc := *r.ChangeControl
		cc.Title, cc.Error = Scrub(cc.Title), Scrub(cc.Error)
		cc.SeparationOfDuties.Reason = Scrub(cc.SeparationOfDuties.Reason)
		rules := make([]Rule, len(cc.Rules))
		for i, rule := range cc.Rules {
			rule.Reason = Scrub(rule.Reason)
			rules[i] = rule
		}
		cc.Rules = rules
		ignored := make([]IgnoredApproval, len(cc.Ignored))
		for i, a := range cc.Ignored {
			a.Reason = Scrub(a.Reason)
			ignored[i] = a
		}
		cc.Ignored = ignored
		r.ChangeControl = &cc
	}
	checks := make([]Check, len(r.Checks))
	for i, c := range r.Checks {
		c.Title, c.Summary = Scrub(c.Title), Scrub(c.Summary)
		checks[i] = c
	}
	r.Checks = checks
	if r.Manifests != nil {
		m := *r.Manifests
		m.Error = Scrub(m.Error)
		apps := make([]RenderedApp, len(m.Apps))
		for i, a := range m.Apps {
			a.Error = Scrub(a.Error)
			apps[i] = a
		}
		m.Apps = apps
		r.Manifests = &m
	}
	if r.BreakGlass != nil {
		bg := *r.BreakGlass
		bg.Reason = Scrub(bg.Reason)
		r.BreakGlass = &bg
	}
}
