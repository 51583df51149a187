package policy

import (
	"time"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
)

// Facts is everything the change-control verdict depends on. The caller
// gathers it; Evaluate only reads it.
type Facts struct {
	// Config is .gitward.yaml at the base SHA, or config.DefaultRepo() when
	// the base has none. A nil Config fails the check.
	Config *config.Repo
	// ConfigError is why .gitward.yaml could not be read or parsed. It fails
	// the check, and its message (with the line) is the reason.
	ConfigError error

	PR PullRequest
	// Commits are the pull request's commits, oldest first.
	Commits []Commit
	// Reviews are every submitted review, in any order.
	Reviews []forge.Review
	// Approvals are the /approve commands in the pull request's comments.
	Approvals []CommandApproval
	// Unapprovals are the /unapprove commands in the pull request's comments.
	// Each withdraws every approval its writer gave before it.
	Unapprovals []CommandUse
	// HeadPushedAt is when the head SHA was pushed, inferred by the caller
	// and never earlier than the real push; zero when unknown.
	HeadPushedAt time.Time
	// ChangedFiles are the paths the pull request touches (for renames, both
	// the old and the new path).
	ChangedFiles []string
	// Permissions maps the login of everyone who reviewed or commented a
	// command to their permission on the repository. A login missing from
	// the map has unknown permission and cannot approve.
	Permissions map[string]forge.Permission
	// Teams maps every team the approval rules name, spelled as in
	// .gitward.yaml, to its members among the people who approved.
	Teams map[string]map[string]bool
	// PlaintextSecrets are the Secrets with plaintext data in the head's
	// rendered manifests, located in their source files.
	PlaintextSecrets []SecretFinding
	// BreakGlass is set when an authorised responder broke glass on this
	// pull request. The caller decides who is authorised.
	BreakGlass *BreakGlassUse
}

// PullRequest is what the verdict needs to know about the pull request.
type PullRequest struct {
	// Author is the login of the person who opened it.
	Author  string
	BaseRef string
	BaseSHA string
	HeadSHA string
}

// Commit is one commit of the pull request.
type Commit struct {
	SHA       string
	Author    forge.Identity
	Committer forge.Identity
	// Message is the full commit message, trailers included.
	Message string
	// CoAuthors are the message's Co-authored-by trailers with the logins
	// the forge adapter resolved (forge.Commit.CoAuthors). When nil, the
	// trailers are read from Message and matched like unlinked identities.
	CoAuthors []forge.Identity
	Signature SignatureVerdict
}

// NewCommit is the policy's view of a forge commit whose signature the
// caller judged.
func NewCommit(c forge.Commit, sig SignatureVerdict) Commit {
	return Commit{SHA: c.SHA, Author: c.Author, Committer: c.Committer, Message: c.Message,
		CoAuthors: c.CoAuthors, Signature: sig}
}

// SignatureVerdict is what the caller found out about a commit's signature.
type SignatureVerdict struct {
	// Signed is set when the commit carries a signature.
	Signed bool
	// Verified is set when the signature verifies: by the forge, or, when
	// signatures.allowed_signers is set, by gitward against that list.
	Verified bool
	// Reason is the verifier's word when it did not verify, such as
	// "unknown_key" or "bad_email".
	Reason string
	// Signer is who signed, when known: an OpenPGP fingerprint or the SSH
	// principal that ssh-keygen -Y find-principals reported.
	Signer string
	// WebCommit is set for commits the forge made in its web interface and
	// signed with its own key.
	WebCommit bool
}

// CommandApproval is one /approve comment.
type CommandApproval struct {
	User      forge.User
	CommentID int64
	// SHA is the commit the command named, or "" for a bare /approve.
	SHA       string
	CreatedAt time.Time
	// Edited is set when the comment was changed after it was posted.
	Edited bool
	// Withdrawn is set when the caller found a later /unapprove by the same
	// person. (Unapprovals does the same from the raw commands.)
	Withdrawn bool
}

// CommandUse is one use of a command that carries nothing but who and when.
type CommandUse struct {
	User      forge.User
	CommentID int64
	CreatedAt time.Time
}

// SecretFinding is a rendered Secret that carries plaintext data.
type SecretFinding struct {
	// File and Line locate the object in its source file.
	File string
	Line int
	// Object names it, as "Secret namespace/name".
	Object string
	// Keys are the keys under data and stringData. Values never appear.
	Keys []string
	// Unchecked is set when what Object names could not be checked at all
	// (an app that does not render); the rule fails on it all the same,
	// but does not count it as a plaintext Secret.
	Unchecked bool
}

// BreakGlassUse is an authorised /breakglass on the pull request.
type BreakGlassUse struct {
	// User is the responder's login.
	User      string
	Reason    string
	CommentID int64
	At        time.Time
}
