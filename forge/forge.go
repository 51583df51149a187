package forge

import (
	"context"
	"time"

	"github.com/gitward/gitward/forge/snapshot"
)

// Reader reads the facts of a pull request and its repository. Every method
// is safe for concurrent use. Lists are complete: adapters follow pagination.
type Reader interface {
	// PullRequest returns the current state of one pull request.
	PullRequest(ctx context.Context, pr PRRef) (*PullRequest, error)
	// Commits returns the pull request's commits, oldest first, with the
	// forge's signature verdicts.
	Commits(ctx context.Context, pr PRRef) ([]Commit, error)
	// Reviews returns every review, in the order submitted.
	Reviews(ctx context.Context, pr PRRef) ([]Review, error)
	// Comments returns a pull request's or issue's conversation comments,
	// oldest first.
	Comments(ctx context.Context, t Thread) ([]Comment, error)
	// ChangedFiles returns the files the pull request changes.
	ChangedFiles(ctx context.Context, pr PRRef) ([]ChangedFile, error)
	// Permission returns a user's effective permission on the repository.
	Permission(ctx context.Context, repo Repo, login string) (Permission, error)
	// TeamMember reports whether login is an active member of team, named
	// "org/slug" (GitLab: a group path).
	TeamMember(ctx context.Context, repo Repo, team, login string) (bool, error)
	// File returns one file's content at a commit; ErrNotFound when absent.
	File(ctx context.Context, repo Repo, sha, path string) ([]byte, error)
	// Snapshot returns the repository tree at a commit, downloaded once and
	// cached. The caller releases it when done.
	Snapshot(ctx context.Context, repo Repo, sha string) (*snapshot.Snapshot, error)
	// CheckRuns returns this app's check runs on a commit.
	CheckRuns(ctx context.Context, repo Repo, sha string) ([]CheckRun, error)
	// OpenPullRequests lists the repository's open pull requests.
	OpenPullRequests(ctx context.Context, repo Repo) ([]PullRequest, error)
	// UserGPGKeys returns the OpenPGP public keys login registered on the
	// forge, for verifying commit signatures against pinned fingerprints.
	UserGPGKeys(ctx context.Context, repo Repo, login string) ([]GPGKey, error)
	// Commit returns one commit of the repository with its parents;
	// ErrNotFound when there is none.
	Commit(ctx context.Context, repo Repo, sha string) (*Commit, error)
	// PullRequestsForCommit lists the pull requests a commit belongs to:
	// for a commit on the default branch, the merged pull request that
	// brought it there.
	PullRequestsForCommit(ctx context.Context, repo Repo, sha string) ([]PullRequest, error)
	// IssuesLabelled lists the issues, open and closed, that carry label;
	// pull requests are left out.
	IssuesLabelled(ctx context.Context, repo Repo, label string) ([]Issue, error)
}

// Publisher reports verdicts and makes the changes gitward proposes.
type Publisher interface {
	// PublishCheck creates the check run, or updates it when ID is set.
	PublishCheck(ctx context.Context, repo Repo, run CheckRun) (CheckRun, error)
	// CreateComment posts a conversation comment on a pull request or issue.
	CreateComment(ctx context.Context, t Thread, body string) (Comment, error)
	// EditComment replaces the body of comment id in thread t.
	EditComment(ctx context.Context, t Thread, id int64, body string) error
	// DeleteComment removes comment id from thread t.
	DeleteComment(ctx context.Context, t Thread, id int64) error
	// React adds a reaction ("+1", "-1", "confused", "eyes", ...) to
	// comment id in thread t, to acknowledge a command; reacting twice is
	// not an error.
	React(ctx context.Context, t Thread, id int64, content string) error
	// AddLabels adds labels to a pull request or issue.
	AddLabels(ctx context.Context, t Thread, labels ...string) error
	// RemoveLabel removes a label; removing an absent label is not an error.
	RemoveLabel(ctx context.Context, t Thread, label string) error
	// CreateIssue opens an issue.
	CreateIssue(ctx context.Context, repo Repo, issue Issue) (Issue, error)
	// CloseIssue closes an issue.
	CloseIssue(ctx context.Context, repo Repo, number int) error
	// BranchHead returns the SHA a branch points at; ErrNotFound when the
	// branch does not exist.
	BranchHead(ctx context.Context, repo Repo, branch string) (string, error)
	// CommitToBranch writes one commit and moves the branch to it with a
	// compare-and-swap; ErrConflict when the branch moved meanwhile.
	CommitToBranch(ctx context.Context, repo Repo, c BranchCommit) (sha string, err error)
	// StartBranch creates a branch whose first commit is a root commit —
	// one without parents — holding only c.Files, for a history unrelated
	// to the repository's code such as the audit ledger. ExpectedHead and
	// Parent must be empty. ErrConflict when the branch exists already.
	StartBranch(ctx context.Context, repo Repo, c BranchCommit) (sha string, err error)
	// FindPullRequest returns the open pull request from head into base, or
	// ErrNotFound.
	FindPullRequest(ctx context.Context, repo Repo, head, base string) (*PullRequest, error)
	// CreatePullRequest opens a pull request.
	CreatePullRequest(ctx context.Context, repo Repo, pr NewPullRequest) (*PullRequest, error)
	// UpdatePullRequest replaces the title and body of a pull request.
	UpdatePullRequest(ctx context.Context, pr PRRef, title, body string) error
}

// Forge is one forge account gitward acts through: a GitHub App or a GitLab
// token.
type Forge interface {
	Reader
	Publisher
	// Repositories lists every repository gitward can see, for the resync
	// loop.
	Repositories(ctx context.Context) ([]Repo, error)
	// Limits says what the forge can show, so the core fits its reports
	// to it.
	Limits() Limits
}

// HeadClock is implemented by a forge that records when each head of a
// pull request arrived, such as GitLab's merge request diff versions.
// Where it is missing, the core infers the time from its own check runs.
type HeadClock interface {
	// HeadSince returns the pull request's head as the forge recorded it
	// and since when it has been the head without a break: a push away
	// and back starts again. sha is "" when the forge does not know.
	HeadSince(ctx context.Context, pr PRRef) (sha string, since time.Time, err error)
}

// Limits is what a forge can show.
type Limits struct {
	// CommentChars is the longest comment body, in characters.
	CommentChars int
	// CheckText is true when a check shows a long summary and text beside
	// its verdict (GitHub's check runs). GitLab's commit statuses show one
	// short line, so there the core writes each check's report into the
	// sticky comment instead.
	CheckText bool
	// PullRequestPrefix writes a pull request's number as a reference in
	// the forge's Markdown: "#" on GitHub, "!" on GitLab (where "#1" is
	// an issue).
	PullRequestPrefix string
}
