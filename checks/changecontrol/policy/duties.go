package policy

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
)

// authorship records who wrote the change, and the first reason found for
// each of them.
type authorship struct {
	// why maps a lower-case login to the reason it is an author, such as
	// "authored commit 3f2a1c9".
	why map[string]string
	// unlinked lists the commits whose author matched no login.
	unlinked []string
}

// loginRE is the shape of a login, for matching trailer names to logins.
var loginRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// findAuthors works out who wrote the change. candidates are the lower-case
// logins of everyone who approved, which a trailer's or an unlinked
// identity's name may match.
func findAuthors(f Facts, candidates map[string]bool) authorship {
	a := authorship{why: map[string]string{}}
	add := func(login, why string) {
		login = strings.ToLower(login)
		if login == "" {
			return
		}
		if _, seen := a.why[login]; !seen {
			a.why[login] = why
		}
	}
	add(f.PR.Author, "opened the pull request")

	// E-mails of identities the forge linked to a login.
	known := map[string]map[string]bool{}
	for _, c := range f.Commits {
		for _, id := range []forge.Identity{c.Author, c.Committer} {
			if id.Login != "" && id.Email != "" {
				e := strings.ToLower(id.Email)
				if known[e] == nil {
					known[e] = map[string]bool{}
				}
				known[e][strings.ToLower(id.Login)] = true
			}
		}
	}
	// An identity the forge linked is that login; any other is matched by
	// e-mail to the identities the forge linked, and by name to the
	// approvers. Reading an address as a login is the forge adapter's
	// work, as each forge writes its private addresses differently.
	// A co-author trailer is text anyone can write, so it is matched every
	// way (the forge's login, the e-mail, the name): reading more of it can
	// only exclude more approvals.
	resolve := func(id forge.Identity, trailer bool) []string {
		if id.Login != "" && !trailer {
			return []string{strings.ToLower(id.Login)}
		}
		set := map[string]bool{}
		if id.Login != "" {
			set[strings.ToLower(id.Login)] = true
		}
		email := strings.ToLower(strings.TrimSpace(id.Email))
		for l := range known[email] {
			set[l] = true
		}
		name := strings.ToLower(strings.TrimSpace(id.Name))
		if loginRE.MatchString(name) && candidates[name] {
			set[name] = true
		}
		return sortedKeys(set)
	}

	sod := f.Config.SeparationOfDuties
	for _, c := range f.Commits {
		sha := markdown.Short(c.SHA)
		logins := resolve(c.Author, false)
		if len(logins) == 0 {
			a.unlinked = append(a.unlinked, sha)
		}
		for _, l := range logins {
			add(l, "authored commit "+sha)
		}
		if sod.CommittersAreAuthors {
			for _, l := range resolve(c.Committer, false) {
				add(l, "committed "+sha)
			}
		}
		if sod.CoAuthorsAreAuthors {
			for _, co := range c.coAuthors() {
				for _, l := range resolve(co, true) {
					add(l, "is named as a co-author of commit "+sha)
				}
			}
		}
	}
	return a
}

// coAuthors are the co-authors the forge adapter resolved, or, for a
// commit no adapter saw, the message's trailers without logins.
func (c Commit) coAuthors() []forge.Identity {
	if c.CoAuthors != nil {
		return c.CoAuthors
	}
	return forge.CoAuthorTrailers(c.Message)
}

// separation is the separation-of-duties rule. It holds whenever the
// configuration could be read; what it costs shows in the approval rules.
func (e *evaluation) separation() rule {
	r := rule{RuleResult: RuleResult{Name: RuleSeparation, OK: true}}
	if e.cfg.SeparationOfDuties.AllowSelfApproval {
		r.Reason = "self-approval allowed (separation_of_duties.allow_self_approval)"
		return r
	}
	var names []string
	for _, l := range sortedKeys(e.authors.why) {
		names = append(names, "@"+e.display(l))
	}
	r.Reason = "authors cannot approve: " + strings.Join(names, ", ")
	if len(names) == 0 {
		r.Reason = "no authors known"
	}
	switch n := len(e.authors.unlinked); {
	case n == 1:
		r.Reason += fmt.Sprintf("; the author of commit %s is linked to no account", e.authors.unlinked[0])
	case n > 1:
		r.Reason += fmt.Sprintf("; the authors of commits %s are linked to no account", joinAnd(e.authors.unlinked))
	}
	return r
}

// authorReason says why login may not approve, or "" when it may.
func (e *evaluation) authorReason(login string) string {
	if e.cfg.SeparationOfDuties.AllowSelfApproval {
		return ""
	}
	return e.authors.why[login]
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// joinAnd joins words as "a", "a and b" or "a, b and c".
func joinAnd(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
