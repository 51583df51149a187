package policy

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
)

// candidate is one approval before the rules decide whether it counts.
type candidate struct {
	ApprovalRecord
	bot       bool
	dismissed bool // a review whose latest state is DISMISSED
	explicit  bool // an /approve that named a commit
	edited    bool
	withdrawn bool
}

// collectReviews reduces each reviewer's reviews to the latest one that
// decides something: APPROVED, CHANGES_REQUESTED or DISMISSED. A COMMENTED
// review changes nothing, as on the forge.
func (e *evaluation) collectReviews() {
	latest := map[string]forge.Review{}
	for _, r := range e.f.Reviews {
		switch r.State {
		case forge.ReviewApproved, forge.ReviewChangesRequested, forge.ReviewDismissed:
		default:
			continue
		}
		l := e.name(r.User.Login)
		if l == "" {
			continue
		}
		prev, seen := latest[l]
		if !seen || r.SubmittedAt.After(prev.SubmittedAt) ||
			(r.SubmittedAt.Equal(prev.SubmittedAt) && r.ID > prev.ID) {
			latest[l] = r
		}
	}
	for l, r := range latest {
		c := candidate{
			ApprovalRecord: ApprovalRecord{User: e.display(l), Via: ViaReview, ID: r.ID,
				SHA: strings.ToLower(r.CommitSHA), At: r.SubmittedAt},
			bot: isBot(r.User),
		}
		switch r.State {
		case forge.ReviewChangesRequested:
			if !c.bot {
				e.changes[l] = r
			}
			continue
		case forge.ReviewDismissed:
			c.dismissed = true
		}
		if u, ok := e.unapproved[l]; ok && !u.CreatedAt.Before(r.SubmittedAt) {
			c.withdrawn = true
		}
		e.candidates[l] = append(e.candidates[l], c)
	}
}

// collectCommands adds the /approve comments.
func (e *evaluation) collectCommands() {
	for _, a := range e.f.Approvals {
		l := e.name(a.User.Login)
		if l == "" {
			continue
		}
		c := candidate{
			ApprovalRecord: ApprovalRecord{User: e.display(l), Via: ViaCommand, ID: a.CommentID,
				SHA: strings.ToLower(a.SHA), At: a.CreatedAt},
			bot:       isBot(a.User),
			explicit:  a.SHA != "",
			edited:    a.Edited,
			withdrawn: a.Withdrawn,
		}
		if u, ok := e.unapproved[l]; ok && !u.CreatedAt.Before(a.CreatedAt) {
			c.withdrawn = true
		}
		if c.explicit && e.sameCommit(c.SHA) {
			c.SHA = e.head
		}
		e.candidates[l] = append(e.candidates[l], c)
	}
}

// decide settles each person's outcome: their earliest approval that counts
// (a review before a command at the same moment), or, when none does, the
// reason their latest approval does not.
func (e *evaluation) decide() {
	for l, cs := range e.candidates {
		sort.SliceStable(cs, func(i, j int) bool {
			if !cs[i].At.Equal(cs[j].At) {
				return cs[i].At.Before(cs[j].At)
			}
			return cs[i].Via == ViaReview && cs[j].Via != ViaReview
		})
		done := false
		for _, c := range cs {
			if e.ignoreReason(l, c) == "" {
				rec := c.ApprovalRecord
				if rec.Via == ViaCommand && !c.explicit {
					rec.SHA = e.head
				}
				e.counted[l] = rec
				done = true
				break
			}
		}
		if !done {
			c := cs[len(cs)-1]
			e.ignored[l] = IgnoredApproval{ApprovalRecord: c.ApprovalRecord, Reason: e.ignoreReason(l, c)}
		}
	}
}

// ignoreReason says why an approval does not count, or "" when it does.
func (e *evaluation) ignoreReason(l string, c candidate) string {
	if r := e.eligibility(l, c.bot); r.why != "" {
		return r.why
	}
	if c.dismissed {
		return fmt.Sprintf("the review on %s was dismissed", markdown.Short(c.SHA))
	}
	if c.Via == ViaCommand && !e.cfg.Commands.Approve {
		return "/approve is turned off (commands.approve)"
	}
	if c.withdrawn {
		return "withdrew it with /unapprove"
	}
	if c.edited {
		return "edited the /approve comment after posting it"
	}
	if e.head == "" {
		return "the head commit is unknown"
	}
	invalidate := e.cfg.Approvals.InvalidateOnPush
	headName := markdown.Short(e.head)
	switch {
	case c.Via == ViaReview:
		if c.SHA == "" {
			return "the review names no commit"
		}
		if invalidate && !e.sameCommit(c.SHA) {
			return fmt.Sprintf("approved %s, not the head %s", markdown.Short(c.SHA), headName)
		}
	case c.explicit:
		if !e.sameCommit(c.SHA) {
			return fmt.Sprintf("approved %s, not the head %s", markdown.Short(c.SHA), headName)
		}
	case invalidate && e.f.HeadPushedAt.IsZero():
		return fmt.Sprintf("/approve without a commit, and when %s was pushed is unknown; /approve %s would count", headName, headName)
	case invalidate && !c.At.After(e.f.HeadPushedAt):
		return fmt.Sprintf("approved before %s was pushed", headName)
	}
	return ""
}

// refusal is why someone may not approve, and which rule says so.
type refusal struct {
	why  string // "" when they may approve
	rule refusalRule
}

type refusalRule int

const (
	refusedBot refusalRule = iota + 1
	refusedAuthor
	refusedPermission
	refusedPermissionUnknown
)

// eligibility says why l may not approve at all, whatever they approved
// and when: bots never, the change's authors not (separation of duties),
// nor anyone below write permission.
func (e *evaluation) eligibility(l string, bot bool) refusal {
	if bot {
		return refusal{"bots cannot approve", refusedBot}
	}
	if why := e.authorReason(l); why != "" {
		return refusal{why, refusedAuthor}
	}
	if why := e.permissionReason(l, "approving"); why != "" {
		if _, known := e.perms[l]; !known {
			return refusal{why, refusedPermissionUnknown}
		}
		return refusal{why, refusedPermission}
	}
	return refusal{}
}

// permissionReason says why l's permission is too low for act, or "".
func (e *evaluation) permissionReason(l, act string) string {
	p, ok := e.perms[l]
	if !ok {
		return "permission on the repository unknown"
	}
	return lacksWrite(p, act)
}

// lacksWrite says in words, for a sentence that names the person first,
// why permission p is too low for act ("approving", "breaking glass"),
// or "" when p is write or more.
func lacksWrite(p forge.Permission, act string) string {
	switch {
	case p == forge.PermissionNone:
		return fmt.Sprintf("has no access to this repository; %s needs write permission", act)
	case p < forge.PermissionWrite:
		return fmt.Sprintf("has %s permission on this repository; %s needs write permission", p, act)
	}
	return ""
}

// MayApprove answers whether user may approve the head of the pull
// request f describes, by the rules the verdict applies to every approval:
// no bot, none of the change's authors (separation of duties, co-authors
// as the forge resolved them), nobody below write permission
// (f.Permissions). It returns "" when they may, or a sentence saying why
// not, such as "@carol is named as a co-author of commit abc1234; an
// author's approval does not count". Which commit an approval is bound to
// and the path rules are Evaluate's to judge.
func MayApprove(f Facts, user forge.User) string {
	if f.Config == nil {
		return "the repository's policy could not be read, so nobody's approval can be judged"
	}
	f.Reviews, f.Unapprovals = nil, nil
	f.Approvals = []CommandApproval{{User: user}}
	e := newEvaluation(f)
	l := e.name(user.Login)
	switch r := e.eligibility(l, isBot(user)); r.rule {
	case 0:
		return ""
	case refusedAuthor:
		return fmt.Sprintf("@%s %s; an author's approval does not count", user.Login, r.why)
	case refusedPermission:
		return "@" + user.Login + " " + r.why
	default:
		return fmt.Sprintf("@%s cannot approve: %s", user.Login, r.why)
	}
}

// approvals returns the overall approval rule and one rule per configured
// path rule.
func (e *evaluation) approvals() []rule {
	a := e.cfg.Approvals
	out := []rule{e.approvalRule(RuleApprovals, a.Required, nil)}
	for i := range a.Rules {
		r := &a.Rules[i]
		name := RuleApprovals + ": " + r.Name
		if matched := e.matchingFiles(r); len(matched) == 0 {
			out = append(out, rule{RuleResult: RuleResult{Name: name, OK: true,
				Reason: "does not apply: no changed file matches " + globList(r.Paths)}})
			continue
		}
		out = append(out, e.approvalRule(name, r.Required, r))
	}
	return out
}

// RestrictedRules are cfg's path rules that name who may approve (users or
// teams) and apply to one of the changed files.
func RestrictedRules(cfg *config.Repo, changed []string) []config.ApprovalRule {
	var out []config.ApprovalRule
	for _, r := range cfg.Approvals.Rules {
		if len(r.Users) == 0 && len(r.Teams) == 0 {
			continue
		}
		for _, f := range changed {
			if r.Matches(f) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// matchingFiles returns the changed files a path rule applies to.
func (e *evaluation) matchingFiles(r *config.ApprovalRule) []string {
	var out []string
	for _, f := range e.f.ChangedFiles {
		if r.Matches(f) {
			out = append(out, f)
		}
	}
	return out
}

// approvalRule counts the approvals for one rule; r is nil for the overall
// requirement.
func (e *evaluation) approvalRule(name string, required int, r *config.ApprovalRule) rule {
	res := rule{RuleResult: RuleResult{Name: name}}
	var count int
	type note struct{ login, why string }
	var notes []note
	for _, l := range sortedKeys(e.counted) {
		if why := e.restrictionReason(l, r); why != "" {
			notes = append(notes, note{l, why})
			continue
		}
		count++
	}
	for _, l := range sortedKeys(e.ignored) {
		notes = append(notes, note{l, e.ignored[l].Reason})
	}
	sort.SliceStable(notes, func(i, j int) bool { return notes[i].login < notes[j].login })

	if required <= 0 {
		res.OK = true
		res.Reason = "no approvals required"
		return res
	}
	var b strings.Builder
	if count > required {
		fmt.Fprintf(&b, "%d approvals (%d required)", count, required)
	} else {
		fmt.Fprintf(&b, "%d of %s", count, markdown.Count(required, "approval", "approvals"))
	}
	countText := b.String()
	if count < required {
		more := ""
		if count > 0 {
			more = " more"
		}
		fmt.Fprintf(&b, ", waiting for %d%s", required-count, more)
		if who := WhoMay(r); who != "" {
			b.WriteString(" from " + who)
		}
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "; ignored @%s: %s", e.display(n.login), n.why)
	}
	res.OK = count >= required
	res.Reason = b.String()
	if r == nil {
		res.title = countText
	} else {
		res.title = fmt.Sprintf("%s: %d of %d", r.Name, count, required)
	}
	return res
}

// restrictionReason says why l may not approve for path rule r (nil for
// the overall requirement), or "" when they may.
func (e *evaluation) restrictionReason(l string, r *config.ApprovalRule) string {
	if r == nil || (len(r.Users) == 0 && len(r.Teams) == 0) {
		return ""
	}
	for _, u := range r.Users {
		if strings.EqualFold(u, l) {
			return ""
		}
	}
	var unknown []string
	for _, t := range r.Teams {
		members, known := e.teams[strings.ToLower(t)]
		if members[l] {
			return ""
		}
		if !known {
			unknown = append(unknown, t)
		}
	}
	why := "the rule needs " + WhoMay(r)
	if len(unknown) > 0 {
		why += fmt.Sprintf(" (membership of %s unknown)", teamList(unknown))
	}
	return why
}

// WhoMay names the people a path rule accepts, like "@dave or team sre".
func WhoMay(r *config.ApprovalRule) string {
	if r == nil {
		return ""
	}
	var parts []string
	for _, u := range r.Users {
		parts = append(parts, "@"+u)
	}
	if len(r.Teams) > 0 {
		parts = append(parts, teamList(r.Teams))
	}
	return joinOr(parts)
}

// teamList names teams: "team sre" or "teams sre or platform".
func teamList(teams []string) string {
	if len(teams) == 1 {
		return "team " + teams[0]
	}
	return "teams " + joinOr(teams)
}

// joinOr joins words as "a", "a or b" or "a, b or c".
func joinOr(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// globList writes globs as "a", "a or b".
func globList(globs []config.Glob) string {
	var s []string
	for _, g := range globs {
		s = append(s, g.String())
	}
	return joinOr(s)
}

// changesRequested is the rule that a reviewer's request for changes blocks.
// Authorship does not silence it (a forged trailer could otherwise), only a
// permission below write does.
func (e *evaluation) changesRequested() rule {
	res := rule{RuleResult: RuleResult{Name: RuleChangesRequested}}
	var blocking, notes, who []string
	for _, l := range sortedKeys(e.changes) {
		r := e.changes[l]
		if why := e.permissionReason(l, "a request for changes"); why != "" {
			notes = append(notes, fmt.Sprintf("ignored @%s: %s", e.display(l), why))
			continue
		}
		if e.approvedAfter(l, r.SubmittedAt) {
			continue
		}
		blocking = append(blocking, fmt.Sprintf("@%s requested changes on %s", e.display(l), markdown.Short(r.CommitSHA)))
		who = append(who, "@"+e.display(l))
	}
	res.OK = len(blocking) == 0
	if res.OK {
		blocking = []string{"no changes requested"}
	} else {
		res.title = "changes requested by " + joinAnd(who)
	}
	res.Reason = strings.Join(append(blocking, notes...), "; ")
	return res
}

// approvedAfter reports whether l wrote an /approve after t that was not
// edited or withdrawn: that answers their own request for changes, as a
// later approving review would.
func (e *evaluation) approvedAfter(l string, t time.Time) bool {
	if !e.cfg.Commands.Approve {
		return false
	}
	for _, c := range e.candidates[l] {
		if c.Via == ViaCommand && c.At.After(t) && !c.edited && !c.withdrawn {
			return true
		}
	}
	return false
}
