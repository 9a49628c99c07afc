package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigil-dev/vigil/actions"
)

// scaledObjects are KEDA's autoscalers.
var scaledObjects = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}

// bounds are replica counts: the workload's own (Min = Max = replicas),
// or an autoscaler's.
type bounds struct{ Min, Max int }

// scaleSpec is a scale frozen: what owns the replicas and their bounds
// before and after.
type scaleSpec struct {
	// Owner is "" for the /scale subresource, or "hpa" or "keda" with
	// the autoscaler's name.
	Owner     string `json:"owner,omitempty"`
	OwnerName string `json:"owner_name,omitempty"`
	From      bounds `json:"from"`
	To        bounds `json:"to"`
}

func (x *Executor) planScale(ctx context.Context, req actions.Request) (actions.Plan, error) {
	t := req.Do.Target
	sc := &autoscalingv1.Scale{}
	if err := x.Get(ctx, Deployments, t.Namespace, t.Name, sc, "scale"); err != nil {
		return actions.Plan{}, fmt.Errorf("cannot read the scale of %s: %w", t, err)
	}
	current := int(sc.Spec.Replicas)
	want, err := desired(req, current)
	if err != nil {
		return actions.Plan{}, err
	}
	to, note := step(current, want, req.Guardrails)
	s := &scaleSpec{From: bounds{current, current}, To: bounds{to, to}}
	if err := x.autoscaler(ctx, t, s); err != nil {
		return actions.Plan{}, err
	}
	if s.Owner != "" {
		note = join(note, fmt.Sprintf("%s %s owns the replicas of %s: its bounds change instead, so Vigil does not fight it", ownerKind(s.Owner), s.OwnerName, t))
	}
	return plan(req, spec{Scale: s}, s.changes(), note, true)
}

// desired is the replica count the policy asks for.
func desired(req actions.Request, current int) (int, error) {
	d := req.Do
	switch {
	case d.Replicas > 0:
		return d.Replicas, nil
	case d.Add != 0:
		return current + d.Add, nil
	case d.Factor > 0:
		return int(math.Ceil(float64(current) * d.Factor)), nil
	case req.Evidence.Recommendation != nil && req.Evidence.Recommendation.Replicas != nil:
		return req.Evidence.Recommendation.Replicas.Recommended, nil
	}
	return 0, fmt.Errorf("the policy names no replica count and the evidence recommends none")
}

// step bounds one scale: at most × MaxFactor (and + MaxAdd) up, ÷
// MaxFactor down, within the policy's min and max.
func step(current, want int, g actions.Guardrails) (int, string) {
	to := want
	hi := int(math.Floor(float64(max(current, 1)) * g.MaxFactor))
	if g.MaxAdd > 0 {
		hi = min(hi, current+g.MaxAdd)
	}
	lo := int(math.Ceil(float64(current) / g.MaxFactor))
	to = min(max(to, lo), hi)
	if g.MaxReplicas > 0 {
		to = min(to, g.MaxReplicas)
	}
	to = max(to, g.MinReplicas, 1)
	if to != want {
		return to, fmt.Sprintf("%d replicas asked, %d allowed by the guardrails (a step of at most ×%g%s, within [%d, %s])",
			want, to, g.MaxFactor, plusN(g.MaxAdd), max(g.MinReplicas, 1), maxOrNone(g.MaxReplicas))
	}
	return to, ""
}

func plusN(n int) string {
	if n > 0 {
		return fmt.Sprintf(" and +%d", n)
	}
	return ""
}

func maxOrNone(n int) string {
	if n > 0 {
		return strconv.Itoa(n)
	}
	return "∞"
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func ownerKind(owner string) string {
	return map[string]string{"hpa": "HorizontalPodAutoscaler", "keda": "KEDA ScaledObject"}[owner]
}

// autoscaler finds an HPA or a KEDA ScaledObject that owns the
// Deployment's replicas and moves the scale onto its bounds: up, the
// minimum rises to the count (and the maximum with it if need be); down,
// the maximum falls to it (and the minimum with it).
func (x *Executor) autoscaler(ctx context.Context, t actions.Target, s *scaleSpec) error {
	hpas := &autoscalingv2.HorizontalPodAutoscalerList{}
	if err := x.List(ctx, HPAs, t.Namespace, "", hpas); err != nil {
		return fmt.Errorf("cannot list the autoscalers of %s: %w", t.Namespace, err)
	}
	for _, h := range hpas.Items {
		if ref := h.Spec.ScaleTargetRef; ref.Kind == "Deployment" && ref.Name == t.Name {
			s.Owner, s.OwnerName, s.From = "hpa", h.Name, bounds{int(ptrOr(h.Spec.MinReplicas, 1)), int(h.Spec.MaxReplicas)}
			s.To = onto(s.From, s.To.Min)
			return nil
		}
	}
	sos, err := x.Dynamic.Resource(scaledObjects).Namespace(t.Namespace).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return nil // KEDA is not installed
	}
	if err != nil {
		return fmt.Errorf("cannot list the ScaledObjects of %s: %w", t.Namespace, err)
	}
	for _, so := range sos.Items {
		name, _, _ := unstructured.NestedString(so.Object, "spec", "scaleTargetRef", "name")
		kind, _, _ := unstructured.NestedString(so.Object, "spec", "scaleTargetRef", "kind")
		if name == t.Name && (kind == "" || kind == "Deployment") {
			lo, _, _ := unstructured.NestedInt64(so.Object, "spec", "minReplicaCount")
			hi, ok, _ := unstructured.NestedInt64(so.Object, "spec", "maxReplicaCount")
			if !ok {
				hi = 100 // KEDA's default
			}
			s.Owner, s.OwnerName, s.From = "keda", so.GetName(), bounds{int(lo), int(hi)}
			s.To = onto(s.From, s.To.Min)
			return nil
		}
	}
	return nil
}

func ptrOr(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// onto moves an autoscaler's bounds to a replica count.
func onto(b bounds, n int) bounds {
	if n >= b.Min {
		return bounds{Min: n, Max: max(b.Max, n)}
	}
	return bounds{Min: min(b.Min, n), Max: n}
}

func (s *scaleSpec) changes() []actions.Change {
	if s.Owner == "" {
		if s.From.Min == s.To.Min {
			return nil
		}
		return []actions.Change{{Field: "replicas", From: strconv.Itoa(s.From.Min), To: strconv.Itoa(s.To.Min)}}
	}
	minField, maxField := s.fields()
	var out []actions.Change
	if s.From.Min != s.To.Min {
		out = append(out, actions.Change{Field: s.OwnerName + " " + minField, From: strconv.Itoa(s.From.Min), To: strconv.Itoa(s.To.Min)})
	}
	if s.From.Max != s.To.Max {
		out = append(out, actions.Change{Field: s.OwnerName + " " + maxField, From: strconv.Itoa(s.From.Max), To: strconv.Itoa(s.To.Max)})
	}
	return out
}

// fields are the autoscaler's names for its bounds.
func (s *scaleSpec) fields() (string, string) {
	if s.Owner == "keda" {
		return "minReplicaCount", "maxReplicaCount"
	}
	return "minReplicas", "maxReplicas"
}

// applyScale moves the replicas (or the autoscaler's bounds) from one
// count to another with a JSON patch that first tests they are still at
// from: a compare-and-set on the API server.
func (x *Executor) applyScale(ctx context.Context, t actions.Target, from, to bounds) (string, error) {
	s, err := x.scaleOwner(ctx, t)
	if err != nil {
		return "", err
	}
	minField, maxField := s.fields()
	ops := []map[string]any{}
	if s.Owner == "" {
		ops = append(ops, map[string]any{"op": "test", "path": "/spec/replicas", "value": from.Min},
			map[string]any{"op": "replace", "path": "/spec/replicas", "value": to.Min})
	} else {
		ops = append(ops, map[string]any{"op": "test", "path": "/spec/" + minField, "value": from.Min},
			map[string]any{"op": "test", "path": "/spec/" + maxField, "value": from.Max},
			map[string]any{"op": "replace", "path": "/spec/" + minField, "value": to.Min},
			map[string]any{"op": "replace", "path": "/spec/" + maxField, "value": to.Max})
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		return "", err
	}
	if err := x.patchScale(ctx, t, s, patch); err != nil {
		if now, rerr := x.scaleNow(ctx, t, s); rerr == nil && now == to {
			return fmt.Sprintf("%s is already at %s", t, describe(s, to)), nil
		}
		if apierrors.IsInvalid(err) || apierrors.IsConflict(err) {
			return "", fmt.Errorf("%w: %s is no longer at %s (%v)", actions.ErrStale, t, describe(s, from), err)
		}
		return "", fmt.Errorf("cannot scale %s: %w", t, err)
	}
	return fmt.Sprintf("scaled %s from %s to %s", t, describe(s, from), describe(s, to)), nil
}

func describe(s *scaleSpec, b bounds) string {
	if s.Owner == "" {
		return fmt.Sprintf("%d replicas", b.Min)
	}
	minField, maxField := s.fields()
	return fmt.Sprintf("%s %s=%d %s=%d", ownerKind(s.Owner), minField, b.Min, maxField, b.Max)
}

// scaleOwner finds what owns the target's replicas now.
func (x *Executor) scaleOwner(ctx context.Context, t actions.Target) (*scaleSpec, error) {
	s := &scaleSpec{}
	return s, x.autoscaler(ctx, t, s)
}

func (x *Executor) patchScale(ctx context.Context, t actions.Target, s *scaleSpec, patch []byte) error {
	switch s.Owner {
	case "hpa":
		return x.Patch(ctx, HPAs, t.Namespace, s.OwnerName, types.JSONPatchType, patch)
	case "keda":
		return x.Patch(ctx, scaledObjects, t.Namespace, s.OwnerName, types.JSONPatchType, patch)
	}
	return x.Patch(ctx, Deployments, t.Namespace, t.Name, types.JSONPatchType, patch, "scale")
}

// scaleNow reads the replicas, or the owning autoscaler's bounds.
func (x *Executor) scaleNow(ctx context.Context, t actions.Target, s *scaleSpec) (bounds, error) {
	switch s.Owner {
	case "hpa":
		h := &autoscalingv2.HorizontalPodAutoscaler{}
		if err := x.Get(ctx, HPAs, t.Namespace, s.OwnerName, h); err != nil {
			return bounds{}, err
		}
		return hpaBounds(h), nil
	case "keda":
		fresh := &scaleSpec{}
		err := x.autoscaler(ctx, t, fresh)
		return fresh.From, err
	}
	sc := &autoscalingv1.Scale{}
	if err := x.Get(ctx, Deployments, t.Namespace, t.Name, sc, "scale"); err != nil {
		return bounds{}, err
	}
	return bounds{int(sc.Spec.Replicas), int(sc.Spec.Replicas)}, nil
}

func hpaBounds(h *autoscalingv2.HorizontalPodAutoscaler) bounds {
	return bounds{int(ptrOr(h.Spec.MinReplicas, 1)), int(h.Spec.MaxReplicas)}
}

func (x *Executor) verifyScale(ctx context.Context, t actions.Target, to bounds) (bool, string, error) {
	s, err := x.scaleOwner(ctx, t)
	if err != nil {
		return false, "", err
	}
	now, err := x.scaleNow(ctx, t, s)
	if err != nil {
		return false, "", err
	}
	return now == to, fmt.Sprintf("%s is at %s", t, describe(s, now)), nil
}
