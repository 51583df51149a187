package diff

import (
	"context"
	"fmt"

	"github.com/gitward/gitward/evaluation"
)

// inputs is the evaluated pull request as the engine reads it, shared by
// every check of one evaluation.
var inputs = evaluation.Shared[*Inputs]{Name: "read the pull request's trees"}

// InputsFor returns the evaluated pull request as the engine reads it: the
// policy at its base, the snapshots of its base and head commits and its
// changed files. Every check of one evaluation shares one Inputs, so the
// trees are opened and the affected apps found once; the snapshots are
// released when the evaluation closes.
func InputsFor(ctx context.Context, ev *evaluation.Evaluation) (*Inputs, error) {
	return inputs.Get(ev, func() (*Inputs, error) {
		changed, err := ev.ChangedFiles(ctx)
		if err != nil {
			return nil, err
		}
		pr := ev.PR
		base, err := ev.Forge.Snapshot(ctx, pr.Ref.Repo, pr.BaseSHA)
		if err != nil {
			return nil, fmt.Errorf("download the base commit: %w", err)
		}
		ev.OnClose(base.Release)
		head, err := ev.Forge.Snapshot(ctx, pr.Ref.Repo, pr.HeadSHA)
		if err != nil {
			return nil, fmt.Errorf("download the head commit: %w", err)
		}
		ev.OnClose(head.Release)
		return &Inputs{
			Config:  ev.Config,
			Base:    Side{SHA: pr.BaseSHA, FS: base.FS()},
			Head:    Side{SHA: pr.HeadSHA, FS: head.FS()},
			Changed: changed,
		}, nil
	})
}
