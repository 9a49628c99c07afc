// Package kube is the Kubernetes executor of actions: it rolls a
// Deployment back the way kubectl rollout undo does, scales it through
// the /scale subresource (or, when an HPA or a KEDA ScaledObject owns its
// replicas, changes the autoscaler's bounds instead), and resizes its
// containers with the strategic-merge patches right-sizing generates.
//
// Every plan carries what it expects to find (a revision, a replica
// count, a resource version) and is applied as a compare-and-set against
// the API server: applied twice it changes the target once, and a target
// that moved since the plan is refused with actions.ErrStale.
//
// The executor needs, in the target's namespace: get, list and patch on
// deployments; get and patch on deployments/scale; list on replicasets;
// list and patch on horizontalpodautoscalers (autoscaling) and
// scaledobjects (keda.sh). deploy/ has the Role.
package kube

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/vigil-dev/vigil/actions"
)

// Executor is the Kubernetes executor.
type Executor struct {
	Clients
}

var _ actions.Reverter = (*Executor)(nil)

// spec is what a plan freezes for applying it, one of these.
type spec struct {
	Rollback *rollbackSpec `json:"rollback,omitempty"`
	Scale    *scaleSpec    `json:"scale,omitempty"`
	Resize   *resizeSpec   `json:"resize,omitempty"`
}

func decode(p actions.Plan) (spec, error) {
	var s spec
	if err := json.Unmarshal(p.Spec, &s); err != nil {
		return s, fmt.Errorf("the plan's spec: %w", err)
	}
	return s, nil
}

func plan(req actions.Request, s spec, changes []actions.Change, note string, revertible bool) (actions.Plan, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return actions.Plan{}, err
	}
	return actions.Plan{Executor: actions.Kubernetes, Operation: req.Do.Operation, Target: req.Do.Target, Changes: changes,
		Note: note, Revertible: revertible, Spec: raw}, nil
}

// Plan implements actions.Executor: the dry-run.
func (x *Executor) Plan(ctx context.Context, req actions.Request) (actions.Plan, error) {
	switch req.Do.Operation {
	case actions.OpRollback:
		return x.planRollback(ctx, req)
	case actions.OpScale:
		return x.planScale(ctx, req)
	case actions.OpResize:
		return x.planResize(ctx, req)
	}
	return actions.Plan{}, fmt.Errorf("kubernetes cannot %s", req.Do.Operation)
}

// Apply implements actions.Executor.
func (x *Executor) Apply(ctx context.Context, p actions.Plan) (string, error) {
	s, err := decode(p)
	switch {
	case err != nil:
		return "", err
	case s.Rollback != nil:
		return x.applyRollback(ctx, p.Target, s.Rollback)
	case s.Scale != nil:
		return x.applyScale(ctx, p.Target, s.Scale.From, s.Scale.To)
	case s.Resize != nil:
		return x.applyResize(ctx, p.Target, s.Resize)
	}
	return "", fmt.Errorf("the plan has nothing to apply")
}

// Verify implements actions.Executor: the target shows the change.
func (x *Executor) Verify(ctx context.Context, p actions.Plan) (bool, string, error) {
	s, err := decode(p)
	switch {
	case err != nil:
		return false, "", err
	case s.Rollback != nil:
		return x.verifyRollback(ctx, p.Target, s.Rollback)
	case s.Scale != nil:
		return x.verifyScale(ctx, p.Target, s.Scale.To)
	case s.Resize != nil:
		return x.verifyResize(ctx, p.Target, s.Resize.To)
	}
	return false, "", fmt.Errorf("the plan has nothing to verify")
}

// Revert implements actions.Reverter: a scale or a resize restored.
func (x *Executor) Revert(ctx context.Context, p actions.Plan) (string, error) {
	s, err := decode(p)
	switch {
	case err != nil:
		return "", err
	case s.Scale != nil:
		return x.applyScale(ctx, p.Target, s.Scale.To, s.Scale.From)
	case s.Resize != nil:
		back := &resizeSpec{From: s.Resize.To, To: s.Resize.From}
		return x.applyResize(ctx, p.Target, back)
	}
	return "", fmt.Errorf("%s cannot be reverted", p.Operation)
}
