package github_test

import (
	"strings"
	"testing"
)

// GitHub's API can show a review or a push a moment after its webhook.
// The evaluation the webhook starts then reads the old facts; it must not
// be green on them, and the next evaluation (the resync's) repairs it.

func TestAnApprovalTheAPIDoesNotShowYetDoesNotCountUntilItDoes(t *testing.T) {
	fx := newFreshFixture(t)
	head := strings.Repeat("1", 40)
	fx.gh.Later(1_000_000, func() { fx.review("APPROVED", head) })

	fx.evaluate() // started by the review's webhook
	if c := fx.check(head); c.Conclusion == "success" {
		t.Fatalf("green on an approval the API does not show: %q", c.Title)
	}
	fx.gh.Settle()
	fx.evaluate() // the resync's pass
	if c := fx.check(head); c.Conclusion != "success" {
		t.Errorf("the approval, now visible, did not count: %s %q", c.Conclusion, c.Title)
	}
}

func TestAPushTheAPIDoesNotShowYetIsCheckedOnceItDoes(t *testing.T) {
	fx := newFreshFixture(t)
	old := strings.Repeat("1", 40)
	fx.review("APPROVED", old)
	fx.evaluate()
	if c := fx.check(old); c.Conclusion != "success" {
		t.Fatalf("approved head did not pass: %s %q", c.Conclusion, c.Title)
	}
	next := strings.Repeat("2", 40)
	fx.gh.Later(1_000_000, func() { fx.push() })

	fx.evaluate() // started by the push's webhook, reading the old head
	for _, cr := range fx.gh.CheckRuns(freshRepo, next) {
		if cr.Conclusion == "success" {
			t.Fatalf("the new head is green before the API shows it: %q", cr.Title)
		}
	}
	fx.gh.Settle()
	fx.evaluate() // the resync's pass
	if c := fx.check(next); c.Conclusion == "success" {
		t.Errorf("the new head passed on an approval of the old one: %q", c.Title)
	}
}
