package policy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gitward/gitward/forge"
)

// bobApproves adds bob's approval of the head to f.
func bobApproves(f Facts) Facts {
	f.Reviews = append(f.Reviews, approvedOn("bob", headSHA, 20))
	return f
}

func TestSeparationOfDuties(t *testing.T) {
	const waiting = "0 of 1 approval, waiting for 1; ignored @bob: "
	tests := []struct {
		name   string
		config string
		change func(f *Facts)
		reason string // of the approvals rule; "" when bob's approval counts
	}{
		{"the pull request's author cannot approve", "",
			func(f *Facts) { f.PR.Author = "bob" },
			"opened the pull request"},
		{"a commit's author cannot approve", "",
			func(f *Facts) { f.Commits[0].Author = person("bob") },
			"authored commit 3f2a1c9"},
		{"a commit's committer cannot approve", "",
			func(f *Facts) { f.Commits[1].Committer = person("bob") },
			"committed 9be01d2"},
		{"a committer may approve when committers_are_authors is off", "separation_of_duties: {committers_are_authors: false}",
			func(f *Facts) { f.Commits[1].Committer = person("bob") },
			""},
		{"a co-author named by login cannot approve", "",
			func(f *Facts) { f.Commits[1].Message += "\n\nCo-authored-by: bob <bob@elsewhere.example>" },
			"is named as a co-author of commit 9be01d2"},
		{"a co-author the forge linked to a login cannot approve, whatever the trailer says", "",
			func(f *Facts) {
				coAuthor(f, 1, forge.Identity{Name: "Robert B.", Email: "rb@home.example", Login: "bob"})
			},
			"is named as a co-author of commit 9be01d2"},
		{"a co-author the forge linked to another login still excludes a namesake (a trailer can only withhold)", "",
			func(f *Facts) { coAuthor(f, 1, forge.Identity{Name: "bob", Email: "bob@home.example", Login: "bobby"}) },
			"is named as a co-author of commit 9be01d2"},
		{"a forge-private address is the adapter's to read, not the policy's", "",
			func(f *Facts) {
				coAuthor(f, 1, forge.Identity{Name: "Robert", Email: "1005-bob@users.noreply.gitlab.example", Login: "bob"})
			},
			"is named as a co-author of commit 9be01d2"},
		{"a co-author named by a plain e-mail of theirs cannot approve", "separation_of_duties: {committers_are_authors: false}",
			func(f *Facts) {
				f.Commits[0].Committer = person("bob")
				f.Commits[1].Message += "\n\nCo-authored-by: Robert B. <bob@corp.example>"
			},
			"is named as a co-author of commit 9be01d2"},
		{"the trailer key is read without case", "",
			func(f *Facts) { f.Commits[1].Message += "\n\nco-authored-BY: bob <b@laptop.local>" },
			"is named as a co-author of commit 9be01d2"},
		{"a forged trailer naming the reviewer excludes them: the safe direction", "",
			func(f *Facts) { f.Commits[1].Message += "\n\nCo-authored-by: bob <nobody@nowhere.example>" },
			"is named as a co-author of commit 9be01d2"},
		{"a trailer with an e-mail nobody is known by excludes nobody", "",
			func(f *Facts) { f.Commits[1].Message += "\n\nCo-authored-by: Robert B. <robert@home.example>" },
			""},
		{"co-authors may approve when co_authors_are_authors is off", "separation_of_duties: {co_authors_are_authors: false}",
			func(f *Facts) { f.Commits[1].Message += "\n\nCo-authored-by: bob <bob@corp.example>" },
			""},
		{"a commit author the forge did not link is matched by name", "",
			func(f *Facts) { f.Commits[0].Author = forge.Identity{Name: "bob", Email: "b@laptop.local"} },
			"authored commit 3f2a1c9"},
		{"logins compare without case", "",
			func(f *Facts) { f.Commits[0].Author = person("BOB") },
			"authored commit 3f2a1c9"},
		{"authors may approve with allow_self_approval", "separation_of_duties: {allow_self_approval: true}",
			func(f *Facts) {
				f.PR.Author = "bob"
				f.Commits[0].Author = person("bob")
				f.Commits[1].Message += "\n\nCo-authored-by: bob <bob@corp.example>"
			},
			""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := bobApproves(facts(t, tt.config))
			tt.change(&f)
			if tt.reason == "" {
				assertHolds(t, f, "approvals", "1 of 1 approval")
			} else {
				assertFails(t, f, "approvals", waiting+tt.reason)
			}
		})
	}
}

func TestSeparationOfDutiesRuleNamesTheAuthors(t *testing.T) {
	t.Run("it lists everyone who wrote the change", func(t *testing.T) {
		f := facts(t, "")
		f.Commits[1].Committer = person("frank")
		coAuthor(&f, 1, forge.Identity{Name: "Carol", Email: "carol@users.noreply.github.com", Login: "carol"})
		assertHolds(t, f, "separation of duties", "authors cannot approve: @alice, @carol, @frank")
	})
	t.Run("it says when a commit's author is linked to no account", func(t *testing.T) {
		f := facts(t, "")
		f.Commits[0].Author = forge.Identity{Name: "Mallory", Email: "m@laptop.local"}
		assertHolds(t, f, "separation of duties", "authors cannot approve: @alice; the author of commit 3f2a1c9 is linked to no account")
	})
	t.Run("it says when self-approval is allowed", func(t *testing.T) {
		f := facts(t, "separation_of_duties: {allow_self_approval: true}")
		f.Reviews = []forge.Review{approvedOn("alice", headSHA, 20)}
		assertHolds(t, f, "separation of duties", "self-approval allowed (separation_of_duties.allow_self_approval)")
		assertHolds(t, f, "approvals", "1 of 1 approval")
	})
	t.Run("the author's own approval is ignored by name", func(t *testing.T) {
		f := facts(t, "approvals: {required: 2}")
		f.Reviews = []forge.Review{approvedOn("alice", headSHA, 19), approvedOn("bob", headSHA, 20)}
		assertFails(t, f, "approvals", "1 of 2 approvals, waiting for 1 more; ignored @alice: opened the pull request")
	})
}

func TestAuthorshipNeverSilencesARequestForChanges(t *testing.T) {
	f := facts(t, "")
	f.Commits[1].Message += "\n\nCo-authored-by: bob <forged@nowhere.example>"
	f.Reviews = []forge.Review{changesOn("bob", headSHA, 20), approvedOn("carol", headSHA, 21)}
	assertFails(t, f, "changes requested", "@bob requested changes on 9be01d2")
}

// coAuthor names id in a Co-authored-by trailer of commit i, resolved as
// the forge adapter resolved it.
func coAuthor(f *Facts, i int, id forge.Identity) {
	f.Commits[i].Message += fmt.Sprintf("\n\nCo-authored-by: %s <%s>", id.Name, id.Email)
	f.Commits[i].CoAuthors = append(f.Commits[i].CoAuthors, id)
}

func TestMayApprove(t *testing.T) {
	tests := []struct {
		name   string
		change func(f *Facts)
		user   forge.User
		want   string
	}{
		{"a reviewer with write permission may", func(*Facts) {}, forge.User{Login: "bob"}, ""},
		{"the pull request's author may not", func(*Facts) {}, forge.User{Login: "alice"},
			"@alice opened the pull request; an author's approval does not count"},
		{"a co-author may not, by the same rule as the verdict",
			func(f *Facts) { coAuthor(f, 1, forge.Identity{Name: "C.", Email: "c@home.example", Login: "carol"}) },
			forge.User{Login: "carol"},
			"@carol is named as a co-author of commit 9be01d2; an author's approval does not count"},
		{"a co-author matched by name may not", func(f *Facts) { f.Commits[1].Message += "\n\nCo-authored-by: carol <c@x.example>" },
			forge.User{Login: "Carol"},
			"@Carol is named as a co-author of commit 9be01d2; an author's approval does not count"},
		{"a co-author named carol stays excluded when the forge links the trailer's address to another account",
			func(f *Facts) {
				coAuthor(f, 1, forge.Identity{Name: "carol", Email: "c@corp.example", Login: "carol-corp"})
			},
			forge.User{Login: "carol"},
			"@carol is named as a co-author of commit 9be01d2; an author's approval does not count"},
		{"someone without access may not, in words", func(*Facts) {}, forge.User{Login: "mallory"},
			"@mallory has no access to this repository; approving needs write permission"},
		{"a reader may not", func(*Facts) {}, forge.User{Login: "erin"},
			"@erin has read permission on this repository; approving needs write permission"},
		{"someone whose permission is unknown may not", func(*Facts) {}, forge.User{Login: "stranger"},
			"@stranger cannot approve: permission on the repository unknown"},
		{"a bot may not", func(*Facts) {}, forge.User{Login: "helper[bot]", Bot: true},
			"@helper[bot] cannot approve: bots cannot approve"},
		{"an author may with allow_self_approval",
			func(f *Facts) { f.Config.SeparationOfDuties.AllowSelfApproval = true }, forge.User{Login: "alice"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := facts(t, "")
			f.Permissions["mallory"] = forge.PermissionNone
			f.Permissions["carol"] = forge.PermissionWrite
			tt.change(&f)
			if got := MayApprove(f, tt.user); got != tt.want {
				t.Errorf("MayApprove(%s) = %q, want %q", tt.user.Login, got, tt.want)
			}
		})
	}
}

// TestMayApproveIsTheVerdictsAnswer shows the verdict ignores exactly the
// approvals MayApprove refuses, for the same reason.
func TestMayApproveIsTheVerdictsAnswer(t *testing.T) {
	f := facts(t, "")
	coAuthor(&f, 1, forge.Identity{Name: "C.", Email: "c@home.example", Login: "carol"})
	f.Permissions["carol"] = forge.PermissionWrite
	f.Permissions["mallory"] = forge.PermissionNone
	for _, login := range []string{"alice", "bob", "carol", "erin", "mallory"} {
		g := f
		g.Reviews = []forge.Review{approvedOn(login, headSHA, 20)}
		v := Evaluate(g)
		refusal := MayApprove(f, forge.User{Login: login})
		counted := len(v.Approvers) == 1
		if counted != (refusal == "") {
			t.Errorf("%s: counted %v, but MayApprove says %q", login, counted, refusal)
		}
		for _, ig := range v.Ignored {
			if !strings.Contains(refusal, ig.Reason) {
				t.Errorf("%s: the verdict ignores them because %q; MayApprove says %q", login, ig.Reason, refusal)
			}
		}
	}
}
