package changecontrol

import (
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
		{"a co-author named by a no-reply e-mail cannot approve", "",
			func(f *Facts) {
				f.Commits[1].Message += "\n\nCo-authored-by: Bob Builder <4242+bob@users.noreply.github.com>"
			},
			"is named as a co-author of commit 9be01d2"},
		{"a co-author named by an old-style no-reply e-mail cannot approve", "",
			func(f *Facts) {
				f.Commits[1].Message += "\n\nCo-authored-by: Bob Builder <bob@users.noreply.github.com>"
			},
			"is named as a co-author of commit 9be01d2"},
		{"a co-author named by a plain e-mail of theirs cannot approve", "separation_of_duties: {committers_are_authors: false}",
			func(f *Facts) {
				f.Commits[0].Committer = person("bob")
				f.Commits[1].Message += "\n\nCo-authored-by: Robert B. <bob@corp.example>"
			},
			"is named as a co-author of commit 9be01d2"},
		{"the trailer key is read without case", "",
			func(f *Facts) {
				f.Commits[1].Message += "\n\nco-authored-BY: Bob Builder <4242+bob@users.noreply.github.com>"
			},
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
		{"a commit author the forge did not link is matched by no-reply e-mail", "",
			func(f *Facts) {
				f.Commits[0].Author = forge.Identity{Name: "Robert", Email: "4242+bob@users.noreply.github.com"}
			},
			"authored commit 3f2a1c9"},
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
		f.Commits[1].Message += "\n\nCo-authored-by: Carol <carol@users.noreply.github.com>"
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

func TestCoAuthorTrailers(t *testing.T) {
	got := coAuthors("Fix\r\n\r\nCo-authored-by: Bob Builder <bob@x.example>\r\nCo-Authored-By: carol@y.example\nco-authored-by: dave\nSigned-off-by: erin <erin@z>\n")
	want := []forge.Identity{
		{Name: "Bob Builder", Email: "bob@x.example"},
		{Email: "carol@y.example"},
		{Name: "dave"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("trailer %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
