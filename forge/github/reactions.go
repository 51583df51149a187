package github

import (
	"context"

	"github.com/gitward/gitward/forge"
)

// React adds a reaction to an issue or pull request comment. GitHub answers
// an existing reaction by the same app with 200 instead of 201, so reacting
// twice is harmless.
func (f *Forge) React(ctx context.Context, t forge.Thread, commentID int64, content string) error {
	repo := t.Repo
	c, err := f.client(repo)
	if err != nil {
		return err
	}
	_, _, err = c.Reactions.CreateIssueCommentReaction(ctx, repo.Owner, repo.Name, commentID, content)
	return wrap(err, "react %q to comment %d", content, commentID)
}
