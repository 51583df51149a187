package policy

import (
	"sort"
	"strings"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
)

// evaluation holds the facts normalised for one Evaluate call: logins in
// lower case (the forge compares them without case), reviews reduced to each
// reviewer's latest state, and each approver's outcome.
type evaluation struct {
	f    Facts
	cfg  *config.Repo
	head string

	names map[string]string // lower-case login → login as the forge spells it
	perms map[string]forge.Permission
	teams map[string]map[string]bool // lower-case team → lower-case logins

	authors authorship
	// candidates are each person's approvals, reviews and commands alike.
	candidates map[string][]candidate
	// changes holds each reviewer whose latest review requests changes.
	changes map[string]forge.Review
	// unapproved is when each person last wrote /unapprove.
	unapproved map[string]CommandUse

	// counted and ignored are the outcome per person: the approval that
	// counted, or why none did.
	counted map[string]ApprovalRecord
	ignored map[string]IgnoredApproval

	commitNotes []commitNote
	secretNotes []secretNote
}

func newEvaluation(f Facts) *evaluation {
	e := &evaluation{
		f:          f,
		cfg:        f.Config,
		head:       strings.ToLower(f.PR.HeadSHA),
		names:      map[string]string{},
		perms:      map[string]forge.Permission{},
		teams:      map[string]map[string]bool{},
		candidates: map[string][]candidate{},
		changes:    map[string]forge.Review{},
		unapproved: map[string]CommandUse{},
		counted:    map[string]ApprovalRecord{},
		ignored:    map[string]IgnoredApproval{},
	}
	for login, p := range f.Permissions {
		e.perms[strings.ToLower(login)] = p
	}
	for team, members := range f.Teams {
		m := map[string]bool{}
		for login, in := range members {
			if in {
				m[strings.ToLower(login)] = true
			}
		}
		e.teams[strings.ToLower(team)] = m
	}
	for _, u := range f.Unapprovals {
		l := e.name(u.User.Login)
		if prev, ok := e.unapproved[l]; !ok || u.CreatedAt.After(prev.CreatedAt) {
			e.unapproved[l] = u
		}
	}
	// Approvers' logins are shown as their reviews and comments spell them.
	e.collectReviews()
	e.collectCommands()
	e.name(f.PR.Author)
	for _, c := range f.Commits {
		e.name(c.Author.Login)
		e.name(c.Committer.Login)
	}

	approvers := map[string]bool{}
	for l := range e.candidates {
		approvers[l] = true
	}
	e.authors = findAuthors(f, approvers)
	e.decide()
	return e
}

// name remembers how the forge spells a login and returns its lower case.
func (e *evaluation) name(login string) string {
	l := strings.ToLower(login)
	if _, ok := e.names[l]; !ok && login != "" {
		e.names[l] = login
	}
	return l
}

// display returns a lower-case login as the forge spells it.
func (e *evaluation) display(l string) string {
	if n, ok := e.names[l]; ok {
		return n
	}
	return l
}

// sameCommit reports whether sha names the head commit: equal to it, or a
// prefix of at least seven digits.
func (e *evaluation) sameCommit(sha string) bool {
	sha = strings.ToLower(sha)
	return len(sha) >= 7 && e.head != "" && strings.HasPrefix(e.head, sha)
}

// isBot reports whether a forge user is an app or bot account.
func isBot(u forge.User) bool { return u.Bot || strings.HasSuffix(u.Login, "[bot]") }

// records returns the counted approvals, oldest first, and the ignored
// ones by login.
func (e *evaluation) records() ([]ApprovalRecord, []IgnoredApproval) {
	var counted []ApprovalRecord
	for _, r := range e.counted {
		counted = append(counted, r)
	}
	sort.Slice(counted, func(i, j int) bool {
		if !counted[i].At.Equal(counted[j].At) {
			return counted[i].At.Before(counted[j].At)
		}
		return strings.ToLower(counted[i].User) < strings.ToLower(counted[j].User)
	})
	var ignored []IgnoredApproval
	for _, l := range sortedKeys(e.ignored) {
		ignored = append(ignored, e.ignored[l])
	}
	return counted, ignored
}
