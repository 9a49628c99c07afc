// Package argo is the Argo Rollouts executor of actions: abort, retry,
// promote and undo a Rollout as the kubectl argo rollouts plugin does,
// through the dynamic client (no Argo module): abort and retry set
// status.abort on the status subresource; promote unpauses the spec and
// clears the status's pause conditions; undo restores the pod template
// of an earlier revision's ReplicaSet.
//
// The executor needs get and patch on rollouts and rollouts/status
// (argoproj.io) and list on replicasets.
package argo

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/actions/kube"
)

// Rollouts are Argo's.
var Rollouts = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "rollouts"}

// Executor is the Argo Rollouts executor.
type Executor struct {
	kube.Clients
}

// patch is one merge patch of a plan, on the rollout or its status.
type patch struct {
	Status bool            `json:"status"` // on the status subresource
	Body   json.RawMessage `json:"body"`
}

// spec is what a plan freezes: the patches, or an undo.
type spec struct {
	Patches []patch   `json:"patches,omitempty"`
	Undo    *undoSpec `json:"undo,omitempty"`
}

func (x *Executor) rollout(ctx context.Context, t actions.Target) (*unstructured.Unstructured, error) {
	ro, err := x.Dynamic.Resource(Rollouts).Namespace(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("cannot read rollout %s: %w", t, err)
	}
	return ro, nil
}

// Plan implements actions.Executor: the dry-run.
func (x *Executor) Plan(ctx context.Context, req actions.Request) (actions.Plan, error) {
	ro, err := x.rollout(ctx, req.Do.Target)
	if err != nil {
		return actions.Plan{}, err
	}
	var s spec
	var changes []actions.Change
	switch req.Do.Operation {
	case actions.OpAbort, actions.OpRetry:
		abort := req.Do.Operation == actions.OpAbort
		if now, _, _ := unstructured.NestedBool(ro.Object, "status", "abort"); now != abort {
			changes = []actions.Change{{Field: "status.abort", From: fmt.Sprint(now), To: fmt.Sprint(abort)}}
			s.Patches = []patch{{Status: true, Body: json.RawMessage(fmt.Sprintf(`{"status":{"abort":%t}}`, abort))}}
		}
	case actions.OpPromote:
		s.Patches, changes = promotion(ro)
	case actions.OpUndo:
		return x.planUndo(ctx, req, ro)
	default:
		return actions.Plan{}, fmt.Errorf("argo cannot %s", req.Do.Operation)
	}
	return newPlan(req, s, changes, "")
}

// promotion is what the plugin's promote patches: the spec unpaused, the
// status's pause conditions cleared.
func promotion(ro *unstructured.Unstructured) ([]patch, []actions.Change) {
	var ps []patch
	var changes []actions.Change
	if paused, _, _ := unstructured.NestedBool(ro.Object, "spec", "paused"); paused {
		ps = append(ps, patch{Body: json.RawMessage(`{"spec":{"paused":false}}`)})
		changes = append(changes, actions.Change{Field: "spec.paused", From: "true", To: "false"})
	}
	if conds, _, _ := unstructured.NestedSlice(ro.Object, "status", "pauseConditions"); len(conds) > 0 {
		ps = append(ps, patch{Status: true, Body: json.RawMessage(`{"status":{"pauseConditions":null}}`)})
		changes = append(changes, actions.Change{Field: "status.pauseConditions", From: fmt.Sprintf("%d", len(conds)), To: "none"})
	}
	return ps, changes
}

func newPlan(req actions.Request, s spec, changes []actions.Change, note string) (actions.Plan, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return actions.Plan{}, err
	}
	return actions.Plan{Executor: actions.Argo, Operation: req.Do.Operation, Target: req.Do.Target, Changes: changes, Note: note, Spec: raw}, nil
}

func decode(p actions.Plan) (spec, error) {
	var s spec
	err := json.Unmarshal(p.Spec, &s)
	return s, err
}

// Apply implements actions.Executor. Abort, retry and promote set flags,
// so applying them twice is applying them once; undo tests the resource
// version its plan read.
func (x *Executor) Apply(ctx context.Context, p actions.Plan) (string, error) {
	s, err := decode(p)
	if err != nil {
		return "", err
	}
	if s.Undo != nil {
		return x.applyUndo(ctx, p.Target, s.Undo)
	}
	for _, pt := range s.Patches {
		if err := x.merge(ctx, p.Target, pt); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%s rollout %s: %s", p.Operation, p.Target, p.Diff()), nil
}

// merge sends a merge patch to the status subresource, or to the rollout
// where the CRD has no status subresource (Argo Rollouts before v0.10),
// as the plugin does.
func (x *Executor) merge(ctx context.Context, t actions.Target, pt patch) error {
	rs := x.Dynamic.Resource(Rollouts).Namespace(t.Namespace)
	opts := metav1.PatchOptions{FieldManager: "vigil"}
	var err error
	if pt.Status {
		_, err = rs.Patch(ctx, t.Name, types.MergePatchType, pt.Body, opts, "status")
		if !apierrors.IsNotFound(err) {
			return wrap(err, t)
		}
	}
	_, err = rs.Patch(ctx, t.Name, types.MergePatchType, pt.Body, opts)
	return wrap(err, t)
}

func wrap(err error, t actions.Target) error {
	if err != nil {
		return fmt.Errorf("cannot patch rollout %s: %w", t, err)
	}
	return nil
}

// Verify implements actions.Executor: the rollout shows what the plan
// set.
func (x *Executor) Verify(ctx context.Context, p actions.Plan) (bool, string, error) {
	s, err := decode(p)
	if err != nil {
		return false, "", err
	}
	if s.Undo != nil {
		return x.verifyUndo(ctx, p.Target, s.Undo)
	}
	ro, err := x.rollout(ctx, p.Target)
	if err != nil {
		return false, "", err
	}
	abort, _, _ := unstructured.NestedBool(ro.Object, "status", "abort")
	paused, _, _ := unstructured.NestedBool(ro.Object, "spec", "paused")
	conds, _, _ := unstructured.NestedSlice(ro.Object, "status", "pauseConditions")
	detail := fmt.Sprintf("rollout %s: status.abort=%t spec.paused=%t pauseConditions=%d", p.Target, abort, paused, len(conds))
	switch p.Operation {
	case actions.OpAbort:
		return abort, detail, nil
	case actions.OpRetry:
		return !abort, detail, nil
	}
	return !paused && len(conds) == 0, detail, nil
}
