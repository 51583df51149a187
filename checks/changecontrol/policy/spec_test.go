package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
)

// The pull request most tests start from: @alice opened it with two commits
// she authored and signed; 9be01d2… is its head, pushed at minute 10.
const (
	baseSHA  = "0d1e2f30405162738495a6b7c8d9e0f1a2b3c4d5"
	firstSHA = "3f2a1c9e5b7d4c6a8f0e1d2c3b4a59687f6e5d4c"
	headSHA  = "9be01d2a3c4f5e6d7c8b9a0f1e2d3c4b5a697887"
	otherSHA = "1234567890abcdef1234567890abcdef12345678"
)

var t0 = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

// at is a moment, in minutes after the pull request was opened.
func at(minute int) time.Time { return t0.Add(time.Duration(minute) * time.Minute) }

// pushedAt is when the head was pushed in the standard facts.
const pushedAt = 10

// repo reads a .gitward.yaml body; version: 1 is added.
func repo(t *testing.T, body string) *config.Repo {
	t.Helper()
	r, err := config.ParseRepo(".gitward.yaml", []byte("version: 1\n"+body))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return r
}

// person is a commit identity the forge linked to a login.
func person(login string) forge.Identity {
	return forge.Identity{Name: strings.ToUpper(login[:1]) + login[1:], Email: login + "@corp.example", Login: login}
}

// signed is a commit signed and verified by the forge.
func signed(sha string, author forge.Identity, message string) Commit {
	return Commit{SHA: sha, Author: author, Committer: author, Message: message,
		Signature: SignatureVerdict{Signed: true, Verified: true, Reason: "valid"}}
}

// facts is the standard pull request under the given configuration.
func facts(t *testing.T, config string) Facts {
	t.Helper()
	return Facts{
		Config: repo(t, config),
		PR:     PullRequest{Author: "alice", BaseRef: "main", BaseSHA: baseSHA, HeadSHA: headSHA},
		Commits: []Commit{
			signed(firstSHA, person("alice"), "Scale web to 3 replicas"),
			signed(headSHA, person("alice"), "Raise web's memory limit"),
		},
		HeadPushedAt: at(pushedAt),
		ChangedFiles: []string{"apps/web/deployment.yaml"},
		Permissions: map[string]forge.Permission{
			"alice": forge.PermissionWrite, "bob": forge.PermissionWrite, "carol": forge.PermissionMaintain,
			"dave": forge.PermissionAdmin, "erin": forge.PermissionRead, "frank": forge.PermissionWrite,
			"grace": forge.PermissionTriage, "nobody": forge.PermissionNone,
		},
	}
}

var reviewIDs int64

// review is a review submitted at a minute.
func review(login string, state forge.ReviewState, sha string, minute int) forge.Review {
	reviewIDs++
	return forge.Review{ID: reviewIDs, User: forge.User{Login: login, Bot: strings.HasSuffix(login, "[bot]")},
		State: state, CommitSHA: sha, SubmittedAt: at(minute)}
}

func approvedOn(login, sha string, minute int) forge.Review {
	return review(login, forge.ReviewApproved, sha, minute)
}

func changesOn(login, sha string, minute int) forge.Review {
	return review(login, forge.ReviewChangesRequested, sha, minute)
}

var commentIDs int64

// command is an /approve comment written at a minute; sha is "" for a bare one.
func command(login, sha string, minute int) CommandApproval {
	commentIDs++
	return CommandApproval{User: forge.User{Login: login}, CommentID: commentIDs, SHA: sha, CreatedAt: at(minute)}
}

// unapprove is an /unapprove comment written at a minute.
func unapprove(login string, minute int) CommandUse {
	commentIDs++
	return CommandUse{User: forge.User{Login: login}, CommentID: commentIDs, CreatedAt: at(minute)}
}

// assertHolds checks that the named rule holds, for this reason.
func assertHolds(t *testing.T, f Facts, name, reason string) Verdict {
	t.Helper()
	return assertRule(t, f, name, true, reason)
}

// assertFails checks that the named rule fails, for this reason, and that
// the check therefore fails.
func assertFails(t *testing.T, f Facts, name, reason string) Verdict {
	t.Helper()
	v := assertRule(t, f, name, false, reason)
	if v.Conclusion != forge.ConclusionFailure && f.BreakGlass == nil {
		t.Errorf("conclusion %s with a failing rule, want failure", v.Conclusion)
	}
	return v
}

func assertRule(t *testing.T, f Facts, name string, ok bool, reason string) Verdict {
	t.Helper()
	v := Evaluate(f)
	r, found := v.Rule(name)
	if !found {
		t.Fatalf("no rule %q in %+v", name, v.Rules)
	}
	if r.OK != ok || r.Reason != reason {
		t.Errorf("rule %q\n got ok=%v %q\nwant ok=%v %q", name, r.OK, r.Reason, ok, reason)
	}
	return v
}

// assertPasses checks that the whole check passes.
func assertPasses(t *testing.T, f Facts) Verdict {
	t.Helper()
	v := Evaluate(f)
	if v.Conclusion != forge.ConclusionSuccess {
		t.Errorf("conclusion %s, want success; rules:\n%s", v.Conclusion, ruleList(v))
	}
	return v
}

func ruleList(v Verdict) string {
	var b strings.Builder
	for _, r := range v.Rules {
		b.WriteString("  " + mark(r.OK) + " " + r.Name + ": " + r.Reason + "\n")
	}
	return b.String()
}

// approvers lists the counted approvals as "login via sha7".
func approvers(v Verdict) []string {
	var out []string
	for _, a := range v.Approvers {
		out = append(out, a.User+" via "+a.Via+" on "+markdown.Short(a.SHA))
	}
	return out
}

func assertApprovers(t *testing.T, v Verdict, want ...string) {
	t.Helper()
	got := approvers(v)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("approvers\n got %q\nwant %q", got, want)
	}
}

// zeroTime is an unknown moment.
var zeroTime time.Time
