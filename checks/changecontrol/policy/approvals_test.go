package policy

import (
	"testing"

	"github.com/gitward/gitward/forge"
)

func TestApprovals(t *testing.T) {
	t.Run("an approving review on the head counts", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20)}
		assertHolds(t, f, "approvals", "1 of 1 approval")
		assertApprovers(t, assertPasses(t, f), "bob via review on 9be01d2")
	})
	t.Run("without approvals the check fails, waiting for one", func(t *testing.T) {
		f := facts(t, "")
		v := assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1")
		if v.Title != "0 of 1 approval; commits signed; no plaintext secrets" {
			t.Errorf("title %q", v.Title)
		}
	})
	t.Run("a pending approval names how many more are awaited", func(t *testing.T) {
		f := facts(t, "approvals: {required: 2}")
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20)}
		assertFails(t, f, "approvals", "1 of 2 approvals, waiting for 1 more")
	})
	t.Run("more approvals than required are all recorded", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{approvedOn("dave", headSHA, 21), approvedOn("bob", headSHA, 20)}
		v := assertHolds(t, f, "approvals", "2 approvals (1 required)")
		assertApprovers(t, v, "bob via review on 9be01d2", "dave via review on 9be01d2")
	})
	t.Run("with no approvals required the rule holds", func(t *testing.T) {
		f := facts(t, "approvals: {required: 0}")
		assertHolds(t, f, "approvals", "no approvals required")
		if v := assertPasses(t, f); v.Title != "commits signed; no plaintext secrets" {
			t.Errorf("title %q", v.Title)
		}
	})
	t.Run("one person's two approvals count once", func(t *testing.T) {
		f := facts(t, "approvals: {required: 2}")
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20)}
		f.Approvals = []CommandApproval{command("bob", "", 21)}
		v := assertFails(t, f, "approvals", "1 of 2 approvals, waiting for 1 more")
		assertApprovers(t, v, "bob via review on 9be01d2")
	})
	t.Run("logins compare without case", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{approvedOn("Bob", headSHA, 20)}
		assertHolds(t, f, "approvals", "1 of 1 approval")
	})
}

func TestApprovalsNeedWritePermission(t *testing.T) {
	tests := []struct {
		name, login, reason string
	}{
		{"maintain is more than write", "carol", "1 of 1 approval"},
		{"admin is more than write", "dave", "1 of 1 approval"},
		{"read is not enough", "erin", "0 of 1 approval, waiting for 1; ignored @erin: has read permission on this repository; approving needs write permission"},
		{"triage is not enough", "grace", "0 of 1 approval, waiting for 1; ignored @grace: has triage permission on this repository; approving needs write permission"},
		{"no access is not enough", "nobody", "0 of 1 approval, waiting for 1; ignored @nobody: has no access to this repository; approving needs write permission"},
		{"an unknown permission is not enough", "stranger", "0 of 1 approval, waiting for 1; ignored @stranger: permission on the repository unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := facts(t, "")
			f.Reviews = []forge.Review{approvedOn(tt.login, headSHA, 20)}
			assertRule(t, f, "approvals", tt.reason == "1 of 1 approval", tt.reason)
		})
	}
}

func TestBotsCannotApprove(t *testing.T) {
	t.Run("a review from an account the forge marks as a bot", func(t *testing.T) {
		f := facts(t, "")
		r := approvedOn("deployer", headSHA, 20)
		r.User.Bot = true
		f.Reviews = []forge.Review{r}
		f.Permissions["deployer"] = forge.PermissionAdmin
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @deployer: bots cannot approve")
	})
	t.Run("a review from an app account", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{approvedOn("renovate[bot]", headSHA, 20)}
		f.Permissions["renovate[bot]"] = forge.PermissionWrite
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @renovate[bot]: bots cannot approve")
	})
	t.Run("an /approve from a bot", func(t *testing.T) {
		f := facts(t, "")
		c := command("deployer", headSHA, 20)
		c.User.Bot = true
		f.Approvals = []CommandApproval{c}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @deployer: bots cannot approve")
	})
}

func TestApprovalsAreBoundToTheHead(t *testing.T) {
	t.Run("a review of an earlier commit does not count after a push", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{approvedOn("bob", firstSHA, 5)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: approved 3f2a1c9, not the head 9be01d2")
	})
	t.Run("a review of the old head submitted after the push (the race) does not count", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{approvedOn("bob", firstSHA, pushedAt+1)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: approved 3f2a1c9, not the head 9be01d2")
	})
	t.Run("re-approving the new head counts again", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{approvedOn("bob", firstSHA, 5), approvedOn("bob", headSHA, 20)}
		assertHolds(t, f, "approvals", "1 of 1 approval")
	})
	t.Run("with invalidate_on_push off an earlier commit's review counts", func(t *testing.T) {
		f := facts(t, "approvals: {invalidate_on_push: false}")
		f.Reviews = []forge.Review{approvedOn("bob", firstSHA, 5)}
		v := assertHolds(t, f, "approvals", "1 of 1 approval")
		assertApprovers(t, v, "bob via review on 3f2a1c9")
	})
	t.Run("a review that names no commit does not count", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{approvedOn("bob", "", 20)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: the review names no commit")
	})
	t.Run("with the head unknown nothing counts", func(t *testing.T) {
		f := facts(t, "")
		f.PR.HeadSHA = ""
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: the head commit is unknown")
	})
}

func TestLatestReviewStateWins(t *testing.T) {
	t.Run("changes requested after an approval takes the approval back", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20), changesOn("bob", headSHA, 21)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1")
		assertFails(t, f, "changes requested", "@bob requested changes on 9be01d2")
	})
	t.Run("an approval after changes requested counts and clears the request", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{changesOn("bob", headSHA, 20), approvedOn("bob", headSHA, 21)}
		assertHolds(t, f, "approvals", "1 of 1 approval")
		assertHolds(t, f, "changes requested", "no changes requested")
	})
	t.Run("a comment-only review after an approval keeps the approval", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20), review("bob", forge.ReviewCommented, headSHA, 21)}
		assertHolds(t, f, "approvals", "1 of 1 approval")
	})
	t.Run("a dismissed review does not count", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{review("bob", forge.ReviewDismissed, headSHA, 20)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: the review on 9be01d2 was dismissed")
	})
	t.Run("a pending (unsubmitted) review does not count", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{review("bob", forge.ReviewPending, headSHA, 20)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1")
	})
	t.Run("reviews submitted in the same second are ordered by ID", func(t *testing.T) {
		f := facts(t, "")
		first, second := approvedOn("bob", headSHA, 20), changesOn("bob", headSHA, 20)
		f.Reviews = []forge.Review{second, first}
		assertFails(t, f, "changes requested", "@bob requested changes on 9be01d2")
	})
}

func TestApproveCommand(t *testing.T) {
	t.Run("a bare /approve written after the push counts for the head", func(t *testing.T) {
		f := facts(t, "")
		f.Approvals = []CommandApproval{command("bob", "", 20)}
		v := assertHolds(t, f, "approvals", "1 of 1 approval")
		assertApprovers(t, v, "bob via command on 9be01d2")
	})
	t.Run("a bare /approve written before the push does not count", func(t *testing.T) {
		f := facts(t, "")
		f.Approvals = []CommandApproval{command("bob", "", 5)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: approved before 9be01d2 was pushed")
	})
	t.Run("a bare /approve written at the moment of the push does not count", func(t *testing.T) {
		f := facts(t, "")
		f.Approvals = []CommandApproval{command("bob", "", pushedAt)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: approved before 9be01d2 was pushed")
	})
	t.Run("a bare /approve does not count when the push time is unknown", func(t *testing.T) {
		f := facts(t, "")
		f.HeadPushedAt = zeroTime
		f.Approvals = []CommandApproval{command("bob", "", 20)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: /approve without a commit, and when 9be01d2 was pushed is unknown; /approve 9be01d2 would count")
	})
	t.Run("/approve naming the head counts even when the push time is unknown", func(t *testing.T) {
		f := facts(t, "")
		f.HeadPushedAt = zeroTime
		f.Approvals = []CommandApproval{command("bob", "9be01d2", 20)}
		v := assertHolds(t, f, "approvals", "1 of 1 approval")
		assertApprovers(t, v, "bob via command on 9be01d2")
		if v.Approvers[0].SHA != headSHA {
			t.Errorf("recorded SHA %q, want the full head %q", v.Approvers[0].SHA, headSHA)
		}
	})
	t.Run("/approve naming the head in capitals counts", func(t *testing.T) {
		f := facts(t, "")
		f.Approvals = []CommandApproval{command("bob", "9BE01D2A3C", 20)}
		assertHolds(t, f, "approvals", "1 of 1 approval")
	})
	t.Run("/approve naming another commit does not count", func(t *testing.T) {
		f := facts(t, "")
		f.Approvals = []CommandApproval{command("bob", otherSHA, 20)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: approved 1234567, not the head 9be01d2")
	})
	t.Run("/approve naming the old head after the push (the race) does not count", func(t *testing.T) {
		f := facts(t, "")
		f.Approvals = []CommandApproval{command("bob", "3f2a1c9", pushedAt+1)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: approved 3f2a1c9, not the head 9be01d2")
	})
	t.Run("/approve naming a commit stays pinned to it even with invalidate_on_push off", func(t *testing.T) {
		f := facts(t, "approvals: {invalidate_on_push: false}")
		f.Approvals = []CommandApproval{command("bob", "3f2a1c9", 5)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: approved 3f2a1c9, not the head 9be01d2")
	})
	t.Run("a bare /approve from before the push counts with invalidate_on_push off", func(t *testing.T) {
		f := facts(t, "approvals: {invalidate_on_push: false}")
		f.Approvals = []CommandApproval{command("bob", "", 5)}
		assertHolds(t, f, "approvals", "1 of 1 approval")
	})
	t.Run("an edited /approve comment does not count", func(t *testing.T) {
		f := facts(t, "")
		c := command("bob", "", 20)
		c.Edited = true
		f.Approvals = []CommandApproval{c}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: edited the /approve comment after posting it")
	})
	t.Run("a deleted /approve comment is gone from the facts and counts for nothing", func(t *testing.T) {
		f := facts(t, "")
		f.Approvals = nil
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1")
	})
	t.Run("an /approve the caller marked withdrawn does not count", func(t *testing.T) {
		f := facts(t, "")
		c := command("bob", "", 20)
		c.Withdrawn = true
		f.Approvals = []CommandApproval{c}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: withdrew it with /unapprove")
	})
	t.Run("/unapprove withdraws an earlier /approve", func(t *testing.T) {
		f := facts(t, "")
		f.Approvals = []CommandApproval{command("bob", "", 20)}
		f.Unapprovals = []CommandUse{unapprove("bob", 21)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: withdrew it with /unapprove")
	})
	t.Run("/unapprove withdraws an earlier approving review too", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20)}
		f.Unapprovals = []CommandUse{unapprove("bob", 21)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: withdrew it with /unapprove")
	})
	t.Run("approving again after /unapprove counts", func(t *testing.T) {
		f := facts(t, "")
		f.Approvals = []CommandApproval{command("bob", "", 20), command("bob", "", 22)}
		f.Unapprovals = []CommandUse{unapprove("bob", 21)}
		v := assertHolds(t, f, "approvals", "1 of 1 approval")
		if v.Approvers[0].At != at(22) {
			t.Errorf("counted the approval at %v, want the one after /unapprove", v.Approvers[0].At)
		}
	})
	t.Run("someone else's /unapprove withdraws nothing", func(t *testing.T) {
		f := facts(t, "")
		f.Approvals = []CommandApproval{command("bob", "", 20)}
		f.Unapprovals = []CommandUse{unapprove("carol", 21)}
		assertHolds(t, f, "approvals", "1 of 1 approval")
	})
	t.Run("/approve does not count when commands.approve is off", func(t *testing.T) {
		f := facts(t, "commands: {approve: false}")
		f.Approvals = []CommandApproval{command("bob", "", 20)}
		assertFails(t, f, "approvals", "0 of 1 approval, waiting for 1; ignored @bob: /approve is turned off (commands.approve)")
	})
	t.Run("/approve and a review from different people add up", func(t *testing.T) {
		f := facts(t, "approvals: {required: 2}")
		f.Reviews = []forge.Review{approvedOn("bob", headSHA, 20)}
		f.Approvals = []CommandApproval{command("carol", "", 19)}
		v := assertHolds(t, f, "approvals", "2 of 2 approvals")
		assertApprovers(t, v, "carol via command on 9be01d2", "bob via review on 9be01d2")
	})
}

func TestChangesRequested(t *testing.T) {
	t.Run("a reviewer with write permission blocks", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{approvedOn("dave", headSHA, 20), changesOn("bob", headSHA, 21)}
		v := assertFails(t, f, "changes requested", "@bob requested changes on 9be01d2")
		if v.Title != "1 of 1 approval; changes requested by @bob; commits signed; no plaintext secrets" {
			t.Errorf("title %q", v.Title)
		}
	})
	t.Run("a request on an earlier commit still blocks after a push", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{changesOn("bob", firstSHA, 5)}
		assertFails(t, f, "changes requested", "@bob requested changes on 3f2a1c9")
	})
	t.Run("dismissing the request unblocks", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{review("bob", forge.ReviewDismissed, firstSHA, 5)}
		assertHolds(t, f, "changes requested", "no changes requested")
	})
	t.Run("the same reviewer's later /approve unblocks", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{changesOn("bob", headSHA, 20)}
		f.Approvals = []CommandApproval{command("bob", "", 21)}
		assertHolds(t, f, "changes requested", "no changes requested")
		assertHolds(t, f, "approvals", "1 of 1 approval")
	})
	t.Run("an /approve from before the request does not unblock", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{changesOn("bob", headSHA, 21)}
		f.Approvals = []CommandApproval{command("bob", "", 20)}
		assertFails(t, f, "changes requested", "@bob requested changes on 9be01d2")
	})
	t.Run("another reviewer's approval does not unblock", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{changesOn("bob", headSHA, 20), approvedOn("carol", headSHA, 21)}
		assertFails(t, f, "changes requested", "@bob requested changes on 9be01d2")
	})
	t.Run("a request from someone without write permission does not block", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{changesOn("erin", headSHA, 20)}
		assertHolds(t, f, "changes requested", "no changes requested; ignored @erin: has read permission on this repository; a request for changes needs write permission")
	})
	t.Run("a request from a bot does not block", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{changesOn("linter[bot]", headSHA, 20)}
		f.Permissions["linter[bot]"] = forge.PermissionWrite
		assertHolds(t, f, "changes requested", "no changes requested")
	})
	t.Run("several requests are listed by login", func(t *testing.T) {
		f := facts(t, "")
		f.Reviews = []forge.Review{changesOn("dave", headSHA, 20), changesOn("bob", firstSHA, 5)}
		v := assertFails(t, f, "changes requested", "@bob requested changes on 3f2a1c9; @dave requested changes on 9be01d2")
		if v.Title != "0 of 1 approval; changes requested by @bob and @dave; commits signed; no plaintext secrets" {
			t.Errorf("title %q", v.Title)
		}
	})
}

func TestIgnoredApprovalsAreReportedForTheAuditLog(t *testing.T) {
	f := facts(t, "")
	c := command("bob", "", 20)
	c.Edited = true
	f.Approvals = []CommandApproval{c}
	v := Evaluate(f)
	if len(v.Ignored) != 1 {
		t.Fatalf("ignored %+v, want bob's edited comment", v.Ignored)
	}
	got := v.Ignored[0]
	if got.User != "bob" || got.Via != ViaCommand || got.ID != c.CommentID || got.Reason != "edited the /approve comment after posting it" {
		t.Errorf("ignored %+v", got)
	}
}
