package handlers_test

import (
	"bytes"
	"encoding/json"
	"github.com/gitward/gitward/audit"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitward/gitward/checks/changecontrol"
	"github.com/gitward/gitward/checks/diff"
	"github.com/gitward/gitward/commands"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
	ghforge "github.com/gitward/gitward/forge/github"
	"github.com/gitward/gitward/forge/github/githubtest"
	"github.com/gitward/gitward/forge/snapshot"
	"github.com/gitward/gitward/handlers"
	"github.com/gitward/gitward/render"
	"github.com/rs/zerolog"
)

// The repository, installation and commits the octokit example payloads
// name: issue_comment payloads are about issue 1, pull_request_review
// payloads about pull request 2 from ccBase to ccHead.
const (
	ccRepo         = "Codertocat/Hello-World"
	ccInstallation = 1
	ccAuthor       = "Codertocat"
	ccBase         = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
	ccHead         = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	// ccPushed is a commit pushed on top of ccHead.
	ccPushed = "9d3f2b1c0a4e5f60718293a4b5c6d7e8f9012345"
	ccCheck  = "gitward/change-control"
)

const oneApproval = "version: 1\napprovals:\n  required: 1\n"

const withResponders = oneApproval + "break_glass:\n  responders:\n    users: [oncall]\n"

// sshSignature has the armor of a git SSH signature. With no allowed
// signers configured gitward takes the forge's verdict, so its content is
// never checked.
const sshSignature = "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n"

// ccSetup describes the pull request a change-control fixture seeds.
type ccSetup struct {
	// number is the pull request's number: 1 for issue_comment payloads,
	// 2 for pull_request_review ones.
	number int
	// policy is .gitward.yaml at the base commit.
	policy string
	// message is the head commit's message; "" means a plain one.
	message string
	// pushed adds ccPushed on top of ccHead and makes it the head: the
	// payloads then describe a head that has moved on.
	pushed bool
}

// ccFixture is a pull request of the payloads' repository in the GitHub
// double, evaluated by the change-control capability.
type ccFixture struct {
	t        *testing.T
	gh       *githubtest.Server
	f        *ghforge.Forge
	repo     forge.Repo
	n        int
	head     string
	log      *syncBuffer
	comments *handlers.IssueComment
	reviews  *handlers.PullRequestReview
	// gather is the change-control check, which the audit reads facts
	// with; renderer renders for merge records.
	gather   *changecontrol.Capability
	renderer *render.Renderer
}

func newChangeControl(t *testing.T, s ccSetup) *ccFixture {
	t.Helper()
	gh := githubtest.New(t)
	snaps, err := snapshot.NewCache(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	f := ghforge.New(gh.ClientCreator(t), ghforge.Options{AppID: githubtest.DefaultAppID, Snapshots: snaps})

	gh.AddInstallation(ccInstallation, ccAuthor)
	gh.AddRepo(ccInstallation, ccAuthor, "Hello-World", "master")
	app := map[string]string{
		"apps/podinfo/kustomization.yaml": "resources:\n  - deployment.yaml\n",
		"apps/podinfo/deployment.yaml":    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\nspec:\n  replicas: 1\n",
	}
	base := map[string]string{".gitward.yaml": s.policy}
	head := map[string]string{".gitward.yaml": s.policy}
	for p, c := range app {
		base[p], head[p] = c, strings.Replace(c, "replicas: 1", "replicas: 2", 1)
	}
	gh.SetTree(ccRepo, ccBase, base)
	gh.SetTree(ccRepo, ccHead, head)
	headSHA := ccHead
	if s.pushed {
		headSHA = ccPushed
		gh.SetTree(ccRepo, ccPushed, head)
	}
	n := gh.AddPullRequest(ccRepo, githubtest.PullRequest{
		Number: s.number, Title: "Scale podinfo", Author: ccAuthor,
		BaseRef: "master", BaseSHA: ccBase, HeadRef: "changes", HeadSHA: headSHA,
	})
	message := s.message
	if message == "" {
		message = "Scale podinfo to 2"
	}
	me := githubtest.Identity{Name: "Codertocat", Email: "21031067+Codertocat@users.noreply.github.com", Login: ccAuthor, Date: time.Now().Add(-2 * time.Hour)}
	gh.AddCommit(ccRepo, n, githubtest.Commit{SHA: ccHead, Author: me, Committer: me, Message: message,
		Verified: true, Reason: "valid", Signature: sshSignature, Payload: "tree 0\n\n" + message})
	if s.pushed {
		gh.AddCommit(ccRepo, n, githubtest.Commit{SHA: ccPushed, Author: me, Committer: me, Message: "Scale podinfo to 3",
			Verified: true, Reason: "valid", Signature: sshSignature, Payload: "tree 1\n\nScale podinfo to 3"})
	}
	gh.SetFiles(ccRepo, n, []githubtest.File{{Filename: "apps/podinfo/deployment.yaml", Status: "modified", Additions: 1, Deletions: 1}})
	gh.SetPermission(ccRepo, ccAuthor, "admin")
	// gitward saw the head an hour ago, when it was pushed: commands
	// written since then are about this head.
	gh.AddCheckRun(ccRepo, githubtest.CheckRun{Name: ccCheck, HeadSHA: headSHA, Status: "queued", StartedAt: time.Now().Add(-time.Hour)})

	engine := &diff.Engine{Renderer: render.NewRenderer(render.Options{})}
	cc := changecontrol.New(engine)
	e := &evaluation.Evaluator{Capabilities: []evaluation.Capability{cc}, Backoff: time.Millisecond}
	return &ccFixture{
		t: t, gh: gh, f: f, n: n, head: headSHA, log: &syncBuffer{},
		repo:     forge.Repo{Host: "github.com", Owner: ccAuthor, Name: "Hello-World", InstallationID: ccInstallation, DefaultBranch: "master"},
		comments: &handlers.IssueComment{Forge: f, Evaluator: e, Reviews: &audit.Reviews{Gather: cc}},
		reviews:  &handlers.PullRequestReview{Forge: f, Evaluator: e},
		gather:   cc, renderer: engine.Renderer,
	}
}

// syncBuffer collects log lines from any goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// auditLines returns the log lines written under evaluation.AuditKey.
func (fx *ccFixture) auditLines() []string {
	var out []string
	for _, line := range strings.Split(fx.log.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m[evaluation.AuditKey] == true {
			out = append(out, line)
		}
	}
	return out
}

// deliver hands a webhook to the handler for its event, with a logger in
// the context as go-githubapp's dispatcher provides.
func (fx *ccFixture) deliver(event string, payload []byte) {
	fx.t.Helper()
	ctx := zerolog.New(fx.log).WithContext(fx.t.Context())
	var err error
	switch event {
	case "issue_comment":
		err = fx.comments.Handle(ctx, event, "delivery", payload)
	case "pull_request_review":
		err = fx.reviews.Handle(ctx, event, "delivery", payload)
	default:
		fx.t.Fatalf("no handler for %s", event)
	}
	if err != nil {
		fx.t.Fatalf("%s: %v", event, err)
	}
}

// rewrite changes fields of a real payload, named by dotted paths; the
// last key of a path is added when missing.
func rewrite(t *testing.T, payload []byte, fields map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	for path, v := range fields {
		keys := strings.Split(path, ".")
		obj := m
		for _, k := range keys[:len(keys)-1] {
			next, ok := obj[k].(map[string]any)
			if !ok {
				t.Fatalf("payload has no object at %q (fixture changed?)", k)
			}
			obj = next
		}
		obj[keys[len(keys)-1]] = v
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// post seeds a conversation comment, as GitHub stores it before it
// delivers the webhook, and returns its ID.
func (fx *ccFixture) post(user, body string, at time.Time) int64 {
	return fx.gh.AddComment(ccRepo, fx.n, githubtest.Comment{User: user, Body: body, CreatedAt: at, UpdatedAt: at})
}

// commentEvent is the real issue_comment payload for comment id on this
// pull request: issue 1 gains the pull_request field GitHub sets on pull
// request conversations.
func (fx *ccFixture) commentEvent(action string, id int64, user, body string) []byte {
	file := "created.with-installation.payload.json"
	fields := map[string]any{
		"action": action, "comment.id": id, "comment.body": body, "comment.user.login": user, "sender.login": user,
		"issue.number": fx.n,
		"issue.pull_request": map[string]any{
			"url":      "https://api.github.com/repos/Codertocat/Hello-World/pulls/1",
			"html_url": "https://github.com/Codertocat/Hello-World/pull/1",
		},
	}
	if action == "edited" {
		file = "edited.payload.json" // carries changes.body.from, but no installation
		fields["installation"] = map[string]any{"id": ccInstallation}
	}
	return rewrite(fx.t, githubtest.Payload(fx.t, "issue_comment", file), fields)
}

// command posts a comment now and delivers its created event.
func (fx *ccFixture) command(user, body string) int64 {
	fx.t.Helper()
	id := fx.post(user, body, time.Now())
	fx.deliver("issue_comment", fx.commentEvent("created", id, user, body))
	return id
}

// reviewEvent is a real pull_request_review payload for review id.
func (fx *ccFixture) reviewEvent(file string, id int64, user, state, commit string) []byte {
	return rewrite(fx.t, githubtest.Payload(fx.t, "pull_request_review", file), map[string]any{
		"review.id": id, "review.user.login": user, "sender.login": user, "review.state": state, "review.commit_id": commit,
	})
}

// check returns gitward/change-control on the head, which must have been
// updated in place.
func (fx *ccFixture) check() githubtest.CheckRun {
	fx.t.Helper()
	runs := fx.gh.CheckRuns(ccRepo, fx.head)
	if len(runs) != 1 {
		fx.t.Fatalf("got %d check runs on the head, want %s updated in place", len(runs), ccCheck)
	}
	return runs[0]
}

// replies returns what gitward wrote in the conversation.
func (fx *ccFixture) replies() []string {
	var out []string
	for _, c := range fx.gh.Comments(ccRepo, fx.n) {
		if c.User == githubtest.DefaultAppSlug+"[bot]" {
			out = append(out, c.Body)
		}
	}
	return out
}

func (fx *ccFixture) wantCheck(conclusion string, summary ...string) githubtest.CheckRun {
	fx.t.Helper()
	run := fx.check()
	if run.Status != "completed" || run.Conclusion != conclusion {
		fx.t.Fatalf("%s is %s %s %q, want %s\n%s", ccCheck, run.Status, run.Conclusion, run.Title, conclusion, run.Summary)
	}
	for _, s := range summary {
		if !strings.Contains(run.Summary, s) {
			fx.t.Errorf("summary does not say %q:\n%s", s, run.Summary)
		}
	}
	return run
}

func TestCommentCommandsAreAnsweredWithAReactionAndReasons(t *testing.T) {
	malformed := commands.Parse("/approve please", commands.OnPullRequest)[0].Err.Error()
	tests := []struct {
		name       string
		policy     string
		permission map[string]string
		user, body string
		reaction   string
		reply      []string // nil: no reply
		evaluated  bool
		conclusion string
		summary    []string
		title      string // prefix
		labels     []string
	}{
		{
			name: "an /approve from a writer who wrote none of the change passes the check and names the approver",
			user: "bob", body: "/approve", permission: map[string]string{"bob": "write"},
			reaction: "+1", evaluated: true, conclusion: "success", title: "1 of 1 approval", summary: []string{"@bob", "/approve"},
		},
		{
			name: "an /approve from a reader is refused, naming the permission",
			user: "rita", body: "/approve", permission: map[string]string{"rita": "read"},
			reaction: "confused", reply: []string{"@rita has read permission on this repository; approving needs write permission"},
			evaluated: true, conclusion: "failure", summary: []string{"ignored @rita: has read permission on this repository; approving needs write permission"},
		},
		{
			name: "an /approve naming a commit other than the head is refused, naming the head",
			user: "bob", body: "/approve f95f852", permission: map[string]string{"bob": "write"},
			reaction: "confused", reply: []string{"`/approve f95f852` names a commit that is not the head of this pull request (`ec26c3e`)"},
			evaluated: true, conclusion: "failure", summary: []string{"ignored @bob: approved f95f852, not the head ec26c3e"},
		},
		{
			name: "an /approve from the pull request's author is refused: separation of duties",
			user: ccAuthor, body: "/approve",
			reaction: "confused", reply: []string{"@Codertocat opened the pull request; an author's approval does not count"},
			evaluated: true, conclusion: "failure", summary: []string{"ignored @Codertocat: opened the pull request"},
		},
		{
			name:   "an /approve where the policy turns the command off is refused, pointing to reviews",
			policy: oneApproval + "commands:\n  approve: false\n", user: "bob", body: "/approve", permission: map[string]string{"bob": "write"},
			reaction: "confused", reply: []string{"`/approve` is turned off by this repository's policy (commands.approve); approve with a review instead"},
			evaluated: true, conclusion: "failure", summary: []string{"ignored @bob: /approve is turned off (commands.approve)"},
		},
		{
			name: "a /recheck evaluates the pull request and is acknowledged",
			user: "bob", body: "/recheck", permission: map[string]string{"bob": "write"},
			reaction: "+1", evaluated: true, conclusion: "failure", title: "0 of 1 approval",
		},
		{
			name: "a /gitward help replies with the commands and evaluates nothing",
			user: "bob", body: "/gitward help",
			reaction: "eyes", reply: []string{"| command | what it does |", "`/approve <sha>`", "`/unapprove`"},
		},
		{
			name: "a malformed command is answered with the parser's message",
			user: "bob", body: "/approve please", permission: map[string]string{"bob": "write"},
			reaction: "confused", reply: []string{"`/approve please` was not accepted: " + malformed},
		},
		{
			name:   "a /breakglass by a responder with write passes the check and labels the pull request",
			policy: withResponders, user: "oncall", body: "/breakglass payments are down, rolling back", permission: map[string]string{"oncall": "write"},
			reaction: "+1", evaluated: true, conclusion: "success", title: "Break-glass by @oncall: payments are down, rolling back",
			summary: []string{"This check passes without change control"}, labels: []string{"break-glass"},
		},
		{
			name:   "a /breakglass by someone who is not a responder is refused, naming the responders",
			policy: withResponders, user: "bob", body: "/breakglass payments are down", permission: map[string]string{"bob": "write"},
			reaction: "confused", reply: []string{"@bob is not a break-glass responder; @oncall may break glass"},
			evaluated: true, conclusion: "failure", title: "0 of 1 approval",
		},
		{
			name:   "a /breakglass by a responder who only reads is refused, naming the permission",
			policy: withResponders, user: "oncall", body: "/breakglass payments are down", permission: map[string]string{"oncall": "read"},
			reaction: "confused", reply: []string{"@oncall has read permission on this repository; breaking glass needs write permission"},
			evaluated: true, conclusion: "failure",
		},
		{
			name:   "a command under an invalid policy is answered so, and the check fails with the line",
			policy: "version: 1\napprovals:\n  required: -1\n", user: "bob", body: "/approve", permission: map[string]string{"bob": "write"},
			reaction: "confused", reply: []string{"`/approve` cannot act: .gitward.yaml at the base commit is invalid"},
			evaluated: true, conclusion: "failure", title: ".gitward.yaml at the base commit is invalid", summary: []string{".gitward.yaml:3"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			policy := tc.policy
			if policy == "" {
				policy = oneApproval
			}
			fx := newChangeControl(t, ccSetup{number: 1, policy: policy})
			for user, role := range tc.permission {
				fx.gh.SetPermission(ccRepo, user, role)
			}
			id := fx.command(tc.user, tc.body)

			if got := fx.gh.Reactions(ccRepo, id); len(got) != 1 || got[0] != tc.reaction {
				t.Errorf("reactions = %q, want %q", got, tc.reaction)
			}
			replies := fx.replies()
			switch {
			case tc.reply == nil && len(replies) != 0:
				t.Errorf("unexpected replies %q", replies)
			case tc.reply != nil && len(replies) != 1:
				t.Errorf("got %d replies, want 1: %q", len(replies), replies)
			case tc.reply != nil:
				if !strings.HasPrefix(replies[0], "@"+tc.user+"\n\n") {
					t.Errorf("reply does not address @%s:\n%s", tc.user, replies[0])
				}
				for _, want := range tc.reply {
					if !strings.Contains(replies[0], want) {
						t.Errorf("reply does not say %q:\n%s", want, replies[0])
					}
				}
			}
			if !tc.evaluated {
				if run := fx.check(); run.Status != "queued" || fx.gh.Calls("checks/update")+fx.gh.Calls("checks/create") != 0 {
					t.Errorf("evaluated although the command asks for no evaluation: %s %q", run.Status, run.Title)
				}
				return
			}
			run := fx.wantCheck(tc.conclusion, tc.summary...)
			if !strings.HasPrefix(run.Title, tc.title) {
				t.Errorf("title %q, want it to start with %q", run.Title, tc.title)
			}
			if got := fx.gh.Labels(ccRepo, fx.n); strings.Join(got, ",") != strings.Join(tc.labels, ",") {
				t.Errorf("labels = %q, want %q", got, tc.labels)
			}
		})
	}
}

func TestAnApprovalCommentChangedAfterItWasPostedNoLongerCounts(t *testing.T) {
	tests := []struct {
		name    string
		action  string
		before  string // as posted
		body    string // after the edit
		summary string
	}{
		{"an /approve edited to say more is re-evaluated and no longer counts", "edited", "/approve", "/approve\n\nand the dashboards too", "ignored @bob: edited the /approve comment after posting it"},
		{"an /approve edited into something else no longer counts", "edited", "/approve", "LGTM", "0 of 1 approval"},
		{"a comment edited into an /approve does not approve", "edited", "LGTM", "/approve", "ignored @bob: edited the /approve comment after posting it"},
		{"a deleted /approve no longer counts", "deleted", "/approve", "/approve", "0 of 1 approval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := newChangeControl(t, ccSetup{number: 1, policy: oneApproval})
			fx.gh.SetPermission(ccRepo, "bob", "write")
			// Posted a minute ago, so the edit is visibly later.
			id := fx.post("bob", tc.before, time.Now().Add(-time.Minute))
			fx.deliver("issue_comment", fx.commentEvent("created", id, "bob", tc.before))
			if tc.before == "/approve" {
				fx.wantCheck("success", "@bob")
			}
			if lines := fx.auditLines(); len(lines) != 0 {
				t.Errorf("audit lines before any edit: %q", lines)
			}

			payload := fx.commentEvent(tc.action, id, "bob", tc.body)
			if tc.action == "edited" {
				fx.gh.EditComment(ccRepo, id, tc.body)
				payload = rewrite(t, payload, map[string]any{"changes.body.from": tc.before})
			} else if err := fx.f.DeleteComment(t.Context(), forge.Thread{Repo: fx.repo}, id); err != nil {
				t.Fatal(err)
			}
			fx.gh.ResetRequests()
			fx.deliver("issue_comment", payload)

			fx.wantCheck("failure", tc.summary)
			if fx.gh.Calls("reactions/create-for-issue-comment") != 0 || len(fx.replies()) != 0 {
				t.Error("a changed comment was answered as a new command")
			}
			lines := fx.auditLines()
			if len(lines) == 0 {
				t.Fatalf("no log line under %q:\n%s", evaluation.AuditKey, fx.log)
			}
			if !strings.Contains(lines[0], `"comment_id":`) || !strings.Contains(lines[0], `"action":"`+tc.action+`"`) || !strings.Contains(lines[0], `"user":"bob"`) {
				t.Errorf("audit line does not record the action, comment and user: %s", lines[0])
			}
		})
	}
}

func TestAnApprovalCommentRemovedByAnotherAppNoLongerCounts(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 1, policy: oneApproval})
	fx.gh.SetPermission(ccRepo, "bob", "write")
	id := fx.command("bob", "/approve")
	fx.wantCheck("success", "@bob")

	// A moderation app with issues: write deletes bob's comment: the
	// sender is a bot, the comment is still a person's.
	if err := fx.f.DeleteComment(t.Context(), forge.Thread{Repo: fx.repo}, id); err != nil {
		t.Fatal(err)
	}
	fx.deliver("issue_comment", rewrite(t, fx.commentEvent("deleted", id, "bob", "/approve"), map[string]any{
		"sender.login": "tidy-bot[bot]", "sender.type": "Bot",
	}))
	fx.wantCheck("failure", "0 of 1 approval")
	lines := fx.auditLines()
	if len(lines) == 0 || !strings.Contains(lines[0], `"sender":"tidy-bot[bot]"`) {
		t.Errorf("audit lines %q, want one naming the app that deleted the comment", lines)
	}
}

func TestUnapproveWithdrawsAnApproval(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 1, policy: oneApproval})
	fx.gh.SetPermission(ccRepo, "bob", "write")
	fx.command("bob", "/approve")
	fx.wantCheck("success", "@bob")

	id := fx.command("bob", "/unapprove")
	if got := fx.gh.Reactions(ccRepo, id); len(got) != 1 || got[0] != "+1" {
		t.Errorf("reactions = %q, want +1", got)
	}
	fx.wantCheck("failure", "ignored @bob: withdrew it with /unapprove")
}

// TestCommandApprovalsSurviveRepeatedEvaluations: on GitHub too a bare
// /approve is bound to the head by time, against when gitward first saw
// it (the start of its check run there). With two approvals required,
// bob's and carol's keep counting however often the same head is
// evaluated again, because the check run is updated in place and keeps
// its start.
func TestCommandApprovalsSurviveRepeatedEvaluations(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 1, policy: "version: 1\napprovals:\n  required: 2\n"})
	fx.gh.SetPermission(ccRepo, "bob", "write")
	fx.gh.SetPermission(ccRepo, "carol", "write")
	fx.command("bob", "/approve")
	started := fx.wantCheck("failure", "1 of 2").StartedAt
	fx.command("carol", "/approve")
	fx.wantCheck("success", "@bob", "@carol")
	for i := range 3 {
		fx.command(ccAuthor, "/recheck")
		if run := fx.wantCheck("success", "@bob", "@carol"); !run.StartedAt.Equal(started) {
			t.Errorf("recheck %d moved the check run's start from %s to %s", i+1, started, run.StartedAt)
		}
	}
}

func TestCommentsThatAreNoPullRequestCommandsCallNothing(t *testing.T) {
	tests := []struct {
		name    string
		payload func(fx *ccFixture) []byte
	}{
		{"a comment by a bot, gitward's own reply included, is ignored", func(fx *ccFixture) []byte {
			return rewrite(fx.t, fx.commentEvent("created", 42, "gitward[bot]", "@bob\n\n/approve was not accepted"), map[string]any{
				"comment.user.type": "Bot", "sender.type": "Bot",
			})
		}},
		{"an edit by a bot is ignored", func(fx *ccFixture) []byte {
			return rewrite(fx.t, fx.commentEvent("edited", 42, "gitward[bot]", "/approve"), map[string]any{
				"comment.user.type": "Bot", "sender.type": "Bot", "changes.body.from": "/approve",
			})
		}},
		{"a comment on an issue, not a pull request, is ignored", func(fx *ccFixture) []byte {
			return rewrite(fx.t, githubtest.Payload(fx.t, "issue_comment", "created.with-installation.payload.json"), map[string]any{
				"comment.body": "/approve",
			})
		}},
		{"a comment without commands is ignored", func(fx *ccFixture) []byte {
			return fx.commentEvent("created", 42, "bob", "Looks good, but see the note on replicas.\n\n> /approve\n\n```\n/approve\n```")
		}},
		{"an edit of a comment that never held a command is ignored", func(fx *ccFixture) []byte {
			return rewrite(fx.t, fx.commentEvent("edited", 42, "bob", "typo fixed"), map[string]any{"changes.body.from": "typo fxed"})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := newChangeControl(t, ccSetup{number: 1, policy: oneApproval})
			payload := tc.payload(fx)
			fx.gh.ResetRequests()
			fx.deliver("issue_comment", payload)
			if reqs := fx.gh.Requests(); len(reqs) != 0 {
				t.Errorf("made %d API calls, want none; first %s %s", len(reqs), reqs[0].Method, reqs[0].Path)
			}
		})
	}
}

func TestAnApprovalByACoAuthorDoesNotCount(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 2, policy: oneApproval,
		message: "Scale podinfo to 2\n\nCo-authored-by: carol <carol@example.com>"})
	fx.gh.SetPermission(ccRepo, "carol", "write")
	id := fx.gh.AddReview(ccRepo, fx.n, githubtest.Review{User: "carol", State: "APPROVED", CommitID: ccHead})
	fx.deliver("pull_request_review", fx.reviewEvent("submitted.payload.json", id, "carol", "approved", ccHead))
	fx.wantCheck("failure", "ignored @carol: is named as a co-author of commit ec26c3e")
}

// TestAnApprovalCommandByACoAuthorIsRefusedWithTheVerdictsReason: the
// immediate answer to /approve is the verdict's: a co-author named in a
// trailer is refused at once, with the reason, not acknowledged as
// accepted.
func TestAnApprovalCommandByACoAuthorIsRefusedWithTheVerdictsReason(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 2, policy: oneApproval,
		message: "Scale podinfo to 2\n\nCo-authored-by: carol <carol@example.com>"})
	fx.gh.SetPermission(ccRepo, "carol", "write")
	id := fx.command("carol", "/approve")
	if got := fx.gh.Reactions(ccRepo, id); len(got) != 1 || got[0] != "confused" {
		t.Errorf("reactions = %v, want confused", got)
	}
	replies := fx.replies()
	want := "@carol is named as a co-author of commit ec26c3e; an author's approval does not count"
	if len(replies) != 1 || !strings.Contains(replies[0], want) {
		t.Errorf("replies = %q, want one saying %q", replies, want)
	}
	fx.wantCheck("failure", "ignored @carol: is named as a co-author of commit ec26c3e")
}

// TestACoAuthorGitHubLinksByEMailCannotApprove: a trailer whose e-mail
// GitHub links to an account excludes that account, though neither the
// trailer's name nor its e-mail spells the login: the /approve is refused
// at once and the verdict ignores it.
func TestACoAuthorGitHubLinksByEMailCannotApprove(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 2, policy: oneApproval,
		message: "Scale podinfo to 2\n\nCo-authored-by: C. Wu <cw@home.example>"})
	fx.gh.AddUserEmail("carol", "cw@home.example")
	fx.gh.SetPermission(ccRepo, "carol", "write")
	id := fx.command("carol", "/approve")
	if got := fx.gh.Reactions(ccRepo, id); len(got) != 1 || got[0] != "confused" {
		t.Errorf("reactions = %v, want confused", got)
	}
	replies := fx.replies()
	want := "@carol is named as a co-author of commit ec26c3e; an author's approval does not count"
	if len(replies) != 1 || !strings.Contains(replies[0], want) {
		t.Errorf("replies = %q, want one saying %q", replies, want)
	}
	fx.wantCheck("failure", "ignored @carol: is named as a co-author of commit ec26c3e")
}

// TestAnApprovalCommandWithoutAccessIsRefusedInWords: a permission of
// "none" reads as having no access.
func TestAnApprovalCommandWithoutAccessIsRefusedInWords(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 1, policy: oneApproval})
	fx.gh.SetPermission(ccRepo, "mallory", "none")
	fx.command("mallory", "/approve")
	replies := fx.replies()
	want := "@mallory has no access to this repository; approving needs write permission"
	if len(replies) != 1 || !strings.Contains(replies[0], want) {
		t.Errorf("replies = %q, want one saying %q", replies, want)
	}
	fx.wantCheck("failure", "ignored @mallory: has no access to this repository")
}

func TestReviewsCountOnlyOnTheHead(t *testing.T) {
	t.Run("an approving review on the head passes, and fails again once dismissed", func(t *testing.T) {
		fx := newChangeControl(t, ccSetup{number: 2, policy: oneApproval})
		fx.gh.SetPermission(ccRepo, "bob", "write")
		id := fx.gh.AddReview(ccRepo, fx.n, githubtest.Review{User: "bob", State: "APPROVED", CommitID: ccHead})
		fx.deliver("pull_request_review", fx.reviewEvent("submitted.payload.json", id, "bob", "approved", ccHead))
		fx.wantCheck("success", "@bob")

		fx.gh.DismissReview(ccRepo, fx.n, id)
		fx.deliver("pull_request_review", fx.reviewEvent("dismissed.payload.json", id, "bob", "dismissed", ccHead))
		fx.wantCheck("failure", "ignored @bob: the review on ec26c3e was dismissed")
	})
	t.Run("an approving review of an older commit is stale", func(t *testing.T) {
		fx := newChangeControl(t, ccSetup{number: 2, policy: oneApproval})
		fx.gh.SetPermission(ccRepo, "bob", "write")
		id := fx.gh.AddReview(ccRepo, fx.n, githubtest.Review{User: "bob", State: "APPROVED", CommitID: ccBase})
		fx.deliver("pull_request_review", fx.reviewEvent("submitted.payload.json", id, "bob", "approved", ccBase))
		fx.wantCheck("failure", "ignored @bob: approved f95f852, not the head ec26c3e")
	})
	t.Run("a review of the old head submitted after a push does not count", func(t *testing.T) {
		// The reviewer's page still showed ec26c3e when ccPushed arrived;
		// the payload names ec26c3e as the head, the pull request does not.
		fx := newChangeControl(t, ccSetup{number: 2, policy: oneApproval, pushed: true})
		fx.gh.SetPermission(ccRepo, "bob", "write")
		id := fx.gh.AddReview(ccRepo, fx.n, githubtest.Review{User: "bob", State: "APPROVED", CommitID: ccHead, SubmittedAt: time.Now()})
		fx.deliver("pull_request_review", fx.reviewEvent("submitted.payload.json", id, "bob", "approved", ccHead))
		fx.wantCheck("failure", "ignored @bob: approved ec26c3e, not the head 9d3f2b1")
		if runs := fx.gh.CheckRuns(ccRepo, ccHead); len(runs) != 0 {
			t.Errorf("published on the old head: %+v", runs)
		}
	})
	t.Run("a comment-only review changes nothing and evaluates", func(t *testing.T) {
		fx := newChangeControl(t, ccSetup{number: 2, policy: oneApproval})
		fx.gh.SetPermission(ccRepo, "bob", "write")
		// The real payload as it is: a COMMENTED review by the author.
		id := fx.gh.AddReview(ccRepo, fx.n, githubtest.Review{ID: 237895671, User: ccAuthor, State: "COMMENTED", CommitID: ccHead})
		if id != 237895671 {
			t.Fatalf("review ID %d", id)
		}
		fx.deliver("pull_request_review", githubtest.Payload(t, "pull_request_review", "submitted.payload.json"))
		fx.wantCheck("failure", "0 of 1 approval")
	})
}

func TestAnApprovalCommandByACommitAuthorIsRefusedAtOnce(t *testing.T) {
	fx := newChangeControl(t, ccSetup{number: 1, policy: oneApproval})
	dave := githubtest.Identity{Name: "Dave", Email: "dave@example.com", Login: "dave", Date: time.Now().Add(-3 * time.Hour)}
	fx.gh.AddCommit(ccRepo, fx.n, githubtest.Commit{SHA: strings.Repeat("d", 40), Author: dave, Committer: dave, Message: "Fix the probe",
		Verified: true, Reason: "valid", Signature: sshSignature, Payload: "tree 2\n\nFix the probe"})
	fx.gh.SetPermission(ccRepo, "dave", "write")
	id := fx.command("dave", "/approve")
	if got := fx.gh.Reactions(ccRepo, id); len(got) != 1 || got[0] != "confused" {
		t.Errorf("reactions = %v, want confused", got)
	}
	replies := fx.replies()
	if len(replies) != 1 || !strings.Contains(replies[0], "@dave authored commit ddddddd; an author's approval does not count") {
		t.Errorf("replies = %q", replies)
	}
	fx.wantCheck("failure")
}
