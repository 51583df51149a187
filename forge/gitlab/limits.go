package gitlab

import "github.com/gitward/gitward/forge"

// Limits implements forge.Forge: notes up to MaxNoteChars, and commit
// statuses that show one line, so the core puts check reports in the
// sticky note.
func (f *Forge) Limits() forge.Limits {
	return forge.Limits{CommentChars: MaxNoteChars, CheckText: false, PullRequestPrefix: "!"}
}
