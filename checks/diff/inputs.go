package diff

import (
	"context"
	"fmt"

	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
)

// ChangedFiles returns the files the evaluated pull request changes, read
// from the forge once per evaluation.
func ChangedFiles(ctx context.Context, ev *evaluation.Evaluation) ([]forge.ChangedFile, error) {
	v, err := ev.Shared("diff.changed-files", func() (any, error) {
		return ev.Forge.ChangedFiles(ctx, ev.PR.Ref)
	})
	if err != nil {
		return nil, err
	}
	return v.([]forge.ChangedFile), nil
}

// InputsFor returns the evaluated pull request as the engine reads it: the
// policy at its base, the snapshots of its base and head commits and its
// changed files. Every capability of one evaluation shares one Inputs, so
// the trees are opened and the affected apps found once; the snapshots are
// released when the evaluation closes.
func InputsFor(ctx context.Context, ev *evaluation.Evaluation) (*Inputs, error) {
	v, err := ev.Shared("diff.inputs", func() (any, error) {
		changed, err := ChangedFiles(ctx, ev)
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
	if err != nil {
		return nil, err
	}
	return v.(*Inputs), nil
}
