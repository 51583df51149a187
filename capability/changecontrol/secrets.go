package changecontrol

import (
	"context"
	"fmt"

	"github.com/gitward/gitward/capability/diff"
	policy "github.com/gitward/gitward/checks/changecontrol"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/handlers"
)

// secrets finds the plaintext Secrets the pull request's head renders, in
// the apps it affects, located in their source files.
func (c *Capability) secrets(ctx context.Context, ev *handlers.Evaluation, changed []forge.ChangedFile) ([]policy.SecretFinding, error) {
	pr := ev.PR
	baseSnap, err := ev.Forge.Snapshot(ctx, pr.Ref.Repo, pr.BaseSHA)
	if err != nil {
		return nil, fmt.Errorf("download the base commit: %w", err)
	}
	defer baseSnap.Release()
	headSnap, err := ev.Forge.Snapshot(ctx, pr.Ref.Repo, pr.HeadSHA)
	if err != nil {
		return nil, fmt.Errorf("download the head commit: %w", err)
	}
	defer headSnap.Release()
	found, err := c.Engine.PlaintextSecrets(ctx, ev.Config,
		diff.Side{SHA: pr.BaseSHA, FS: baseSnap.FS()}, diff.Side{SHA: pr.HeadSHA, FS: headSnap.FS()}, changed)
	if err != nil {
		return nil, err
	}
	out := make([]policy.SecretFinding, 0, len(found))
	for _, s := range found {
		out = append(out, policy.SecretFinding{File: s.File, Line: s.Line, Object: s.Object, Keys: s.Keys})
	}
	return out, nil
}
