// Package forge defines what gitward reads from and writes to a code forge
// (GitHub, GitLab): the facts the pure core evaluates, and the publishing
// operations that report its verdicts. Adapters live in forge/github and
// forge/gitlab; the core never imports them.
package forge

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound reports that the forge has no such object (file, ref, pull
// request). Adapters wrap it so callers can test with errors.Is.
var ErrNotFound = errors.New("not found")

// ErrConflict reports that a compare-and-swap update lost a race: the ref or
// object changed since it was read.
var ErrConflict = errors.New("conflict")

// Repo identifies a repository on a forge.
type Repo struct {
	// Host is the forge's web host, such as "github.com" or a GitHub
	// Enterprise Server host.
	Host string
	// Owner is the user, organisation or GitLab group path.
	Owner string
	// Name is the repository name.
	Name string
	// InstallationID is the GitHub App installation that grants access;
	// zero on forges without installations.
	InstallationID int64
	// DefaultBranch is the repository's default branch, when known.
	DefaultBranch string
}

// FullName returns "owner/name".
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

// String returns "host/owner/name", or "owner/name" when the host is unknown.
func (r Repo) String() string {
	if r.Host == "" {
		return r.FullName()
	}
	return r.Host + "/" + r.FullName()
}

// PRRef names one pull request (or GitLab merge request).
type PRRef struct {
	Repo   Repo
	Number int
}

// String returns "owner/name#number".
func (p PRRef) String() string { return fmt.Sprintf("%s#%d", p.Repo.FullName(), p.Number) }

// Thread names one conversation: a pull request or an issue. Comments,
// reactions and labels are addressed by thread because forges number the
// two differently: GitHub in one sequence per repository, GitLab in two
// (merge request !1 and issue #1 both exist).
type Thread struct {
	Repo   Repo
	Number int
	// Issue is true for an issue, false for a pull request.
	Issue bool
}

// Thread returns the pull request's conversation.
func (p PRRef) Thread() Thread { return Thread{Repo: p.Repo, Number: p.Number} }

// IssueThread returns the conversation of issue number in repo.
func IssueThread(repo Repo, number int) Thread {
	return Thread{Repo: repo, Number: number, Issue: true}
}

// String returns "owner/name#number".
func (t Thread) String() string { return fmt.Sprintf("%s#%d", t.Repo.FullName(), t.Number) }

// User is an account on the forge.
type User struct {
	Login string
	ID    int64
	// Bot is true for app and bot accounts.
	Bot bool
}

// PRState is the lifecycle state of a pull request.
type PRState string

// Pull request states.
const (
	PROpen   PRState = "open"
	PRClosed PRState = "closed"
)

// PullRequest holds the facts about one pull request.
type PullRequest struct {
	Ref    PRRef
	Title  string
	Body   string
	URL    string
	Author User
	State  PRState
	Draft  bool
	Merged bool
	// MergeSHA is the merge commit once Merged is true.
	MergeSHA string
	// MergedBy and MergedAt say who merged it and when, once Merged is
	// true and the forge says.
	MergedBy User
	MergedAt time.Time
	BaseRef  string
	BaseSHA  string
	HeadRef  string
	HeadSHA  string
	// HeadRepo is the repository the head branch lives in; it differs from
	// Ref.Repo for pull requests from forks.
	HeadRepo  string
	Labels    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Identity is the name and e-mail recorded in a git commit, with the forge
// account it maps to when the forge knows one.
type Identity struct {
	Name  string
	Email string
	// Login is the forge account linked to Email, or "" when none is.
	Login string
	Date  time.Time
}

// Signature is the forge's verdict on a commit signature, with the raw
// material needed to verify it independently.
type Signature struct {
	// Verified is the forge's own verdict.
	Verified bool
	// Reason is the forge's reason code, such as "valid", "unsigned",
	// "unknown_key" or "bad_email".
	Reason string
	// Signature is the armored OpenPGP, SSH or S/MIME signature, if any.
	Signature string
	// Payload is the exact commit object text that was signed.
	Payload string
	// VerdictOnly is set by forges that report their verdict but never the
	// signature and payload (GitLab): the verdict is all there is to go
	// on, and a signed commit cannot be checked against allowed signers.
	VerdictOnly bool
}

// Commit is one commit of a pull request.
type Commit struct {
	SHA       string
	Message   string
	Author    Identity
	Committer Identity
	// CoAuthors are the people the message's Co-authored-by trailers name,
	// in order, each with the login the forge links it to (see
	// CoAuthorTrailers); Login is "" where the forge links no account.
	// The forge adapters fill it; a local repository, which links nobody,
	// leaves it nil.
	CoAuthors []Identity
	Parents   []string
	Signature Signature
}

// GPGKey is an OpenPGP public key a user registered on the forge. Anyone
// can register any public key under their account, so a key's source says
// nothing about whose it is: gitward trusts a key only through a
// fingerprint pinned in the repository's configuration.
type GPGKey struct {
	// KeyID is the primary key's 64-bit key ID in upper-case hex.
	KeyID string
	// Fingerprint is the primary key's full fingerprint when the forge
	// reports it; GitHub does not, and callers derive it from Armored.
	Fingerprint string
	// Armored is the ASCII-armored public key as the user uploaded it, or
	// "" when the forge kept none.
	Armored string
}

// ReviewState is the outcome of a pull request review.
type ReviewState string

// Review states, as GitHub names them.
const (
	ReviewApproved         ReviewState = "APPROVED"
	ReviewChangesRequested ReviewState = "CHANGES_REQUESTED"
	ReviewCommented        ReviewState = "COMMENTED"
	ReviewDismissed        ReviewState = "DISMISSED"
	ReviewPending          ReviewState = "PENDING"
)

// Review is one submitted review.
type Review struct {
	ID    int64
	User  User
	State ReviewState
	Body  string
	// CommitSHA is the head SHA the review was given on.
	CommitSHA   string
	SubmittedAt time.Time
}

// Comment is a conversation comment on a pull request or issue.
type Comment struct {
	ID        int64
	User      User
	Body      string
	URL       string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Edited is true when the body was changed after it was posted. It is
	// the adapter's to say: on GitLab, an award emoji or a resolved thread
	// moves UpdatedAt without an edit.
	Edited bool
}

// FileStatus says how a pull request changed a file.
type FileStatus string

// File statuses.
const (
	FileAdded    FileStatus = "added"
	FileModified FileStatus = "modified"
	FileRemoved  FileStatus = "removed"
	FileRenamed  FileStatus = "renamed"
	FileCopied   FileStatus = "copied"
	FileChanged  FileStatus = "changed"
)

// ChangedFile is one file a pull request touches.
type ChangedFile struct {
	Path string
	// PreviousPath is set for renames.
	PreviousPath string
	Status       FileStatus
	Additions    int
	Deletions    int
}

// Paths lists every path the files touch, in order: each file's path and,
// after it, the path a rename or copy came from, so a rule or render plan
// that matches paths sees both sides of a move.
func Paths(files []ChangedFile) []string {
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
		if f.PreviousPath != "" {
			paths = append(paths, f.PreviousPath)
		}
	}
	return paths
}

// Permission is a user's access level on a repository, ordered from least
// to most.
type Permission int

// Permission levels. GitLab access levels map onto these (Developer and
// above count as Write).
const (
	PermissionNone Permission = iota
	PermissionRead
	PermissionTriage
	PermissionWrite
	PermissionMaintain
	PermissionAdmin
)

var permissionNames = []string{"none", "read", "triage", "write", "maintain", "admin"}

// String returns the lower-case name GitHub uses.
func (p Permission) String() string {
	if p < 0 || int(p) >= len(permissionNames) {
		return fmt.Sprintf("permission(%d)", int(p))
	}
	return permissionNames[p]
}

// ParsePermission reads GitHub's permission names, including the legacy
// "pull" and "push" aliases.
func ParsePermission(s string) (Permission, error) {
	switch strings.ToLower(s) {
	case "none", "":
		return PermissionNone, nil
	case "read", "pull":
		return PermissionRead, nil
	case "triage":
		return PermissionTriage, nil
	case "write", "push":
		return PermissionWrite, nil
	case "maintain":
		return PermissionMaintain, nil
	case "admin":
		return PermissionAdmin, nil
	}
	return PermissionNone, fmt.Errorf("unknown permission %q", s)
}

// CheckStatus is the lifecycle state of a check run.
type CheckStatus string

// Check run statuses.
const (
	CheckQueued     CheckStatus = "queued"
	CheckInProgress CheckStatus = "in_progress"
	CheckCompleted  CheckStatus = "completed"
)

// Conclusion is the verdict of a completed check run.
type Conclusion string

// Conclusions gitward uses.
const (
	ConclusionSuccess        Conclusion = "success"
	ConclusionFailure        Conclusion = "failure"
	ConclusionNeutral        Conclusion = "neutral"
	ConclusionActionRequired Conclusion = "action_required"
	ConclusionCancelled      Conclusion = "cancelled"
	ConclusionSkipped        Conclusion = "skipped"
	ConclusionTimedOut       Conclusion = "timed_out"
)

// AnnotationLevel is the severity of a check run annotation.
type AnnotationLevel string

// Annotation levels.
const (
	AnnotationNotice  AnnotationLevel = "notice"
	AnnotationWarning AnnotationLevel = "warning"
	AnnotationFailure AnnotationLevel = "failure"
)

// Annotation points a check run finding at a file and line.
type Annotation struct {
	Path      string
	StartLine int
	EndLine   int
	Level     AnnotationLevel
	Title     string
	Message   string
}

// CheckRun is a check run as gitward publishes and reads it.
type CheckRun struct {
	ID      int64
	Name    string
	HeadSHA string
	// AppID is the app that owns the run; gitward only trusts its own.
	AppID      int64
	Status     CheckStatus
	Conclusion Conclusion
	// ExternalID carries gitward's own bookkeeping, such as the base SHA
	// the verdict was computed against.
	ExternalID  string
	Title       string
	Summary     string
	Text        string
	DetailsURL  string
	Annotations []Annotation
	StartedAt   time.Time
	CompletedAt time.Time
}

// Issue is an issue gitward opens (post-incident reviews) or reads.
type Issue struct {
	Number int
	Title  string
	Body   string
	URL    string
	State  string
	Labels []string
}

// NewPullRequest describes a pull request gitward opens (drift capture).
type NewPullRequest struct {
	Title  string
	Body   string
	Head   string
	Base   string
	Labels []string
}

// FileChange is one file written by a commit gitward makes. A nil Content
// deletes the path.
type FileChange struct {
	Path    string
	Content []byte
}

// BranchCommit asks for one commit on a branch, made through the forge's API
// without a working tree.
type BranchCommit struct {
	// Branch is the branch name without "refs/heads/".
	Branch string
	// ExpectedHead is the SHA the branch must point at for the update to
	// apply (compare-and-swap). Empty means the branch must not exist yet,
	// and it is created with Parent as the commit's parent.
	ExpectedHead string
	// Parent is the parent commit when the branch is created.
	Parent  string
	Message string
	Files   []FileChange
}
