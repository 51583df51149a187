// Package evaluationtest holds a check for tests of what runs checks: it
// records the evaluation it was given and publishes its checks green, or
// fails with the error it was told to.
package evaluationtest

import (
	"context"

	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge"
)

// Check records what it was given and publishes each of its check runs
// with a success conclusion, unless Err is set.
type Check struct {
	ID   string   // its name in logs
	Runs []string // the check runs it publishes
	Err  error    // returned instead of publishing, when set
	Got  *evaluation.Evaluation
}

// Name implements evaluation.Capability.
func (c *Check) Name() string { return c.ID }

// Checks implements evaluation.Capability.
func (c *Check) Checks() []string { return c.Runs }

// Evaluate records ev and publishes the check runs green, or returns Err.
func (c *Check) Evaluate(ctx context.Context, ev *evaluation.Evaluation) error {
	c.Got = ev
	if c.Err != nil {
		return c.Err
	}
	for _, name := range c.Runs {
		run := ev.CheckRun(name)
		run.Status, run.Conclusion, run.Summary = forge.CheckCompleted, forge.ConclusionSuccess, "ok"
		if err := ev.Publish(ctx, run); err != nil {
			return err
		}
	}
	return nil
}
