package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
)

// settings are a workload's container resources as quantities, by
// "container/resource/setting" (e.g. "server/cpu/request").
type settings map[string]string

// resizeSpec is a resize frozen: the values before and after.
type resizeSpec struct {
	From settings `json:"from"`
	To   settings `json:"to"`
}

func key(container string, r rightsize.Resource, s rightsize.Setting) string {
	return container + "/" + string(r) + "/" + string(s)
}

func (x *Executor) planResize(ctx context.Context, req actions.Request) (actions.Plan, error) {
	t := req.Do.Target
	advice := req.Evidence.Recommendation
	if advice == nil || len(advice.Resources) == 0 {
		return actions.Plan{}, fmt.Errorf("the evidence recommends no resources for %s", t)
	}
	d := &appsv1.Deployment{}
	if err := x.Get(ctx, Deployments, t.Namespace, t.Name, d); err != nil {
		return actions.Plan{}, fmt.Errorf("cannot read deployment %s: %w", t, err)
	}
	live := current(d.Spec.Template.Spec.Containers)
	s := &resizeSpec{From: settings{}, To: settings{}}
	var notes []string
	for _, rec := range advice.Resources {
		for _, v := range rec.Values {
			k := key(rec.Container, v.Resource, v.Setting)
			to, note := bounded(k, live[k], v, req.Guardrails.MaxChange)
			if note != "" {
				notes = append(notes, note)
			}
			if to != "" && to != live[k] {
				s.From[k], s.To[k] = live[k], to
			}
		}
	}
	return plan(req, spec{Resize: s}, s.changes(), strings.Join(notes, "; "), true)
}

// current reads the containers' requests and limits in the units
// right-sizing formats (millicores, Mi).
func current(cs []corev1.Container) settings {
	out := settings{}
	for _, c := range cs {
		for setting, list := range map[rightsize.Setting]corev1.ResourceList{rightsize.Request: c.Resources.Requests, rightsize.Limit: c.Resources.Limits} {
			for _, r := range []rightsize.Resource{rightsize.CPU, rightsize.Memory} {
				if q, ok := list[corev1.ResourceName(r)]; ok {
					out[key(c.Name, r, setting)] = rightsize.Quantity(r, q.AsApproximateFloat64())
				}
			}
		}
	}
	return out
}

// bounded is the recommended value within ± maxChange of the current
// one. A value unset now, or recommended unset, has no step to bound, and
// is left as it is.
func bounded(k, now string, v rightsize.Value, maxChange float64) (string, string) {
	if v.Skipped != "" || v.Recommended == 0 {
		return "", ""
	}
	if now == "" {
		return "", fmt.Sprintf("%s is unset: no step to bound, left alone", k)
	}
	cur := quantity(now)
	to := math.Min(math.Max(v.Recommended, cur*(1-maxChange)), cur*(1+maxChange))
	q := rightsize.Quantity(v.Resource, to)
	if to != v.Recommended {
		return q, fmt.Sprintf("%s: %s recommended, %s allowed (a step of at most ±%.0f%%)", k, v.RecommendedQuantity, q, maxChange*100)
	}
	return q, ""
}

func (s *resizeSpec) changes() []actions.Change {
	keys := make([]string, 0, len(s.To))
	for k := range s.To {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]actions.Change, len(keys))
	for i, k := range keys {
		out[i] = actions.Change{Field: strings.ReplaceAll(k, "/", " "), From: s.From[k], To: s.To[k]}
	}
	return out
}

// patch is the strategic-merge patch that sets the values: the one
// right-sizing writes (rightsize.Patches) for the same values.
func (s settings) patch(t actions.Target, from settings) ([]byte, error) {
	byContainer := map[string]*rightsize.Recommendation{}
	var recs []rightsize.Recommendation
	for k, to := range s {
		parts := strings.Split(k, "/")
		c, r, st := parts[0], rightsize.Resource(parts[1]), rightsize.Setting(parts[2])
		if byContainer[c] == nil {
			recs = append(recs, rightsize.Recommendation{Namespace: t.Namespace, Kind: t.Kind, Workload: t.Name, Container: c})
			byContainer[c] = &recs[len(recs)-1]
		}
		byContainer[c].Values = append(byContainer[c].Values, rightsize.Value{Resource: r, Setting: st,
			Current: quantity(from[k]), Recommended: quantity(to), CurrentQuantity: from[k], RecommendedQuantity: to})
	}
	ps := rightsize.Patches(recs)
	if len(ps) != 1 || ps[0].Doc == nil {
		return nil, fmt.Errorf("no patch for %s", t)
	}
	return json.Marshal(ps[0].Doc)
}

func quantity(s string) float64 {
	if s == "" {
		return 0
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0
	}
	return q.AsApproximateFloat64()
}

// applyResize patches the values from From to To when the Deployment
// still has From, conditioned on the resource version read: done already
// is done, anything else since the plan is refused.
func (x *Executor) applyResize(ctx context.Context, t actions.Target, s *resizeSpec) (string, error) {
	d := &appsv1.Deployment{}
	if err := x.Get(ctx, Deployments, t.Namespace, t.Name, d); err != nil {
		return "", fmt.Errorf("cannot read deployment %s: %w", t, err)
	}
	live := current(d.Spec.Template.Spec.Containers)
	switch {
	case matches(live, s.To):
		return fmt.Sprintf("%s already has %s", t, s.describe(s.To)), nil
	case !matches(live, s.From):
		return "", fmt.Errorf("%w: %s no longer has %s", actions.ErrStale, t, s.describe(s.From))
	}
	body, err := s.To.patch(t, s.From)
	if err != nil {
		return "", err
	}
	// The resource version read makes the patch a compare-and-set.
	var doc map[string]any
	json.Unmarshal(body, &doc)
	doc["metadata"].(map[string]any)["resourceVersion"] = d.ResourceVersion
	body, _ = json.Marshal(doc)
	if err := x.Patch(ctx, Deployments, t.Namespace, t.Name, types.StrategicMergePatchType, body); err != nil {
		if apierrors.IsConflict(err) {
			return "", fmt.Errorf("%w: %s changed while it was resized (%v)", actions.ErrStale, t, err)
		}
		return "", fmt.Errorf("cannot resize %s: %w", t, err)
	}
	return fmt.Sprintf("resized %s: %s", t, s.describe(s.To)), nil
}

func matches(live, want settings) bool {
	for k, v := range want {
		if live[k] != v {
			return false
		}
	}
	return true
}

func (s *resizeSpec) describe(vals settings) string {
	parts := make([]string, 0, len(vals))
	for k, v := range vals {
		if v == "" {
			v = "unset"
		}
		parts = append(parts, strings.ReplaceAll(k, "/", " ")+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func (x *Executor) verifyResize(ctx context.Context, t actions.Target, to settings) (bool, string, error) {
	d := &appsv1.Deployment{}
	if err := x.Get(ctx, Deployments, t.Namespace, t.Name, d); err != nil {
		return false, "", err
	}
	live := current(d.Spec.Template.Spec.Containers)
	return matches(live, to), fmt.Sprintf("%s has %s", t, (&resizeSpec{}).describe(live)), nil
}
