package argo

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/actions/kube"
)

// Argo's revision annotation and pod-template hash label.
const (
	revisionAnnotation = "rollout.argoproj.io/revision"
	hashLabel          = "rollouts-pod-template-hash"
)

// undoSpec is an undo frozen: the rollout's resource version when planned
// and the template to restore.
type undoSpec struct {
	ResourceVersion string                 `json:"resource_version"`
	ToRevision      int64                  `json:"to_revision"`
	Template        corev1.PodTemplateSpec `json:"template"`
}

func (x *Executor) planUndo(ctx context.Context, req actions.Request, ro *unstructured.Unstructured) (actions.Plan, error) {
	rs, rev, err := x.revision(ctx, ro, req.Do.Revision)
	if err != nil {
		return actions.Plan{}, err
	}
	tmpl := *rs.Spec.Template.DeepCopy()
	delete(tmpl.Labels, hashLabel)
	current, err := template(ro)
	if err != nil {
		return actions.Plan{}, err
	}
	s := spec{Undo: &undoSpec{ResourceVersion: ro.GetResourceVersion(), ToRevision: rev, Template: tmpl}}
	if same(current, &tmpl) {
		return newPlan(req, s, nil, fmt.Sprintf("the template is already revision %d's", rev))
	}
	changes := []actions.Change{{Field: "revision", From: ro.GetAnnotations()[revisionAnnotation], To: strconv.FormatInt(rev, 10)}}
	for _, c := range tmpl.Spec.Containers {
		for _, cur := range current.Spec.Containers {
			if cur.Name == c.Name && cur.Image != c.Image {
				changes = append(changes, actions.Change{Field: "image " + c.Name, From: cur.Image, To: c.Image})
			}
		}
	}
	return newPlan(req, s, changes, fmt.Sprintf("restores the pod template of ReplicaSet %s (revision %d), as kubectl argo rollouts undo does", rs.Name, rev))
}

// revision finds the ReplicaSet of a revision the rollout controls, or of
// the previous one for 0.
func (x *Executor) revision(ctx context.Context, ro *unstructured.Unstructured, want int64) (*appsv1.ReplicaSet, int64, error) {
	sel, _, _ := unstructured.NestedStringMap(ro.Object, "spec", "selector", "matchLabels")
	list := &appsv1.ReplicaSetList{}
	if err := x.List(ctx, kube.ReplicaSets, ro.GetNamespace(), metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: sel}), list); err != nil {
		return nil, 0, fmt.Errorf("cannot list the ReplicaSets of rollout %s: %w", ro.GetName(), err)
	}
	var latest, previous *appsv1.ReplicaSet
	var latestRev, previousRev int64 = -1, -1
	for i := range list.Items {
		rs := &list.Items[i]
		rev, err := strconv.ParseInt(rs.Annotations[revisionAnnotation], 10, 64)
		if err != nil || !metav1.IsControlledBy(rs, ro) {
			continue
		}
		switch {
		case want > 0 && rev == want:
			return rs, rev, nil
		case rev > latestRev:
			previous, previousRev, latest, latestRev = latest, latestRev, rs, rev
		case rev > previousRev:
			previous, previousRev = rs, rev
		}
	}
	if want > 0 || previous == nil {
		return nil, 0, fmt.Errorf("rollout %s/%s has no revision %d to go back to", ro.GetNamespace(), ro.GetName(), want)
	}
	return previous, previousRev, nil
}

func template(ro *unstructured.Unstructured) (*corev1.PodTemplateSpec, error) {
	raw, _, _ := unstructured.NestedMap(ro.Object, "spec", "template")
	var t corev1.PodTemplateSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &t); err != nil {
		return nil, fmt.Errorf("rollout %s's template: %w", ro.GetName(), err)
	}
	return &t, nil
}

func same(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, hashLabel)
	delete(b.Labels, hashLabel)
	return apiequality.Semantic.DeepDerivative(b, a)
}

// applyUndo replaces the template if the rollout is at the resource
// version the plan read (a JSON patch test); already restored is done.
func (x *Executor) applyUndo(ctx context.Context, t actions.Target, s *undoSpec) (string, error) {
	body, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": s.ResourceVersion},
		{"op": "replace", "path": "/spec/template", "value": s.Template},
	})
	if err != nil {
		return "", err
	}
	_, err = x.Dynamic.Resource(Rollouts).Namespace(t.Namespace).Patch(ctx, t.Name, types.JSONPatchType, body, metav1.PatchOptions{FieldManager: "vigil"})
	if err == nil {
		return fmt.Sprintf("rollout %s back at revision %d's template", t, s.ToRevision), nil
	}
	if ok, _, verr := x.verifyUndo(ctx, t, s); verr == nil && ok {
		return fmt.Sprintf("rollout %s already has revision %d's template", t, s.ToRevision), nil
	}
	return "", fmt.Errorf("%w: rollout %s changed since the plan (%v)", actions.ErrStale, t, err)
}

func (x *Executor) verifyUndo(ctx context.Context, t actions.Target, s *undoSpec) (bool, string, error) {
	ro, err := x.rollout(ctx, t)
	if err != nil {
		return false, "", err
	}
	cur, err := template(ro)
	if err != nil {
		return false, "", err
	}
	return same(cur, &s.Template), fmt.Sprintf("rollout %s compared with revision %d's template", t, s.ToRevision), nil
}
