package changecontrol

import (
	"context"

	"github.com/gitward/gitward/checks/changecontrol/policy"
	"github.com/gitward/gitward/checks/diff"
	"github.com/gitward/gitward/evaluation"
)

// secrets finds the plaintext Secrets the pull request's head renders, in
// the apps it affects, located in their source files.
func (c *Capability) secrets(ctx context.Context, ev *evaluation.Evaluation) ([]policy.SecretFinding, error) {
	in, err := diff.InputsFor(ctx, ev)
	if err != nil {
		return nil, err
	}
	found, err := c.Engine.PlaintextSecrets(ctx, in)
	if err != nil {
		return nil, err
	}
	out := make([]policy.SecretFinding, 0, len(found))
	for _, s := range found {
		out = append(out, policy.SecretFinding{File: s.File, Line: s.Line, Object: s.Object, Keys: s.Keys, Unchecked: s.Unchecked})
	}
	return out, nil
}
