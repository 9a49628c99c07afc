package actions

import (
	"context"
	"errors"
)

// Request is what an executor plans from: the policy's operation and
// guardrails, and the evidence (a recommendation to scale or resize to).
type Request struct {
	Tenant     string
	Action     string // the action's id: an idempotency key for what the executor calls
	Do         Do
	Guardrails Guardrails
	Evidence   Evidence
}

// Executor carries out one kind of operation. Plan is the dry-run: it
// reads the target and returns the exact change without making it. Apply
// makes a planned change and must be idempotent on the plan: applying a
// plan already applied (by a second replica, or again after a restart)
// changes nothing and succeeds, and a target changed since the plan by
// someone else is refused (ErrStale), never overwritten. Verify reports
// whether the change holds.
//
// A plan's Changes describe the change to the target, the same whichever
// action asks for it (no action id, no evidence): the engine keeps a
// policy's open proposal when a fresher trigger plans the same Diff, and
// supersedes it when the Diff differs.
type Executor interface {
	Plan(ctx context.Context, req Request) (Plan, error)
	Apply(ctx context.Context, p Plan) (string, error)
	Verify(ctx context.Context, p Plan) (bool, string, error)
}

// Reverter is an executor that can restore what a plan changed.
type Reverter interface {
	Revert(ctx context.Context, p Plan) (string, error)
}

// ErrStale says the target changed since the plan was made: applying it
// now would act on a state nobody approved.
var ErrStale = errors.New("the target changed since the plan was made")
