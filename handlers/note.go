package handlers

import "github.com/gitward/gitward/forge"

// NoteAction is what happened to a comment.
type NoteAction string

// Comment actions.
const (
	NoteCreated NoteAction = "created"
	NoteEdited  NoteAction = "edited"
	NoteDeleted NoteAction = "deleted"
)

// Note is one comment event in the form the comment handler reads, decoded
// from a GitHub issue_comment or a GitLab note event.
type Note struct {
	// Thread is the pull request or issue the comment is on.
	Thread forge.Thread
	// IssueBody is the issue's description, for a comment on an issue.
	IssueBody string
	Action    NoteAction
	Comment   forge.Comment
	// OldBody is the comment's text before an edit; OldBodyKnown is false
	// when the forge does not send it (GitLab).
	OldBody      string
	OldBodyKnown bool
	// Sender is who acted: the author of a new comment, whoever edited or
	// deleted one.
	Sender forge.User
}
