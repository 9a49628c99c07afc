package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigil-dev/vigil/actions"
)

// revisionAnnotation numbers a Deployment's rollouts, on it and on each
// of its ReplicaSets.
const revisionAnnotation = "deployment.kubernetes.io/revision"

// keptAnnotations are the Deployment's own, which a rollback keeps rather
// than copying the ReplicaSet's (as kubectl rollout undo does).
var keptAnnotations = map[string]bool{
	corev1.LastAppliedConfigAnnotation:          true,
	revisionAnnotation:                          true,
	"deployment.kubernetes.io/revision-history": true,
	"deployment.kubernetes.io/desired-replicas": true,
	"deployment.kubernetes.io/max-replicas":     true,
	appsv1.DeprecatedRollbackTo:                 true,
}

// rollbackSpec is a rollback frozen: the revision the Deployment is
// expected at, and the template and annotations of the one to restore.
type rollbackSpec struct {
	FromRevision string                 `json:"from_revision"`
	ToRevision   int64                  `json:"to_revision"`
	Template     corev1.PodTemplateSpec `json:"template"`
	Annotations  map[string]string      `json:"annotations"`
}

func (x *Executor) planRollback(ctx context.Context, req actions.Request) (actions.Plan, error) {
	t := req.Do.Target
	d := &appsv1.Deployment{}
	if err := x.Get(ctx, Deployments, t.Namespace, t.Name, d); err != nil {
		return actions.Plan{}, fmt.Errorf("cannot read deployment %s/%s: %w", t.Namespace, t.Name, err)
	}
	if d.Spec.Paused {
		return actions.Plan{}, fmt.Errorf("deployment %s/%s is paused: resume it before rolling back", t.Namespace, t.Name)
	}
	rs, rev, err := x.revision(ctx, d, req.Do.Revision)
	if err != nil {
		return actions.Plan{}, err
	}
	tmpl := *rs.Spec.Template.DeepCopy()
	delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	s := &rollbackSpec{FromRevision: d.Annotations[revisionAnnotation], ToRevision: rev, Template: tmpl, Annotations: rollbackAnnotations(d, rs)}
	if sameTemplate(&d.Spec.Template, &tmpl) {
		return plan(req, spec{Rollback: s}, nil, fmt.Sprintf("the template is already revision %d's", rev), false)
	}
	changes := []actions.Change{{Field: "revision", From: s.FromRevision, To: strconv.FormatInt(rev, 10)}}
	changes = append(changes, imageChanges(&d.Spec.Template, &tmpl)...)
	note := fmt.Sprintf("restores the pod template of ReplicaSet %s (revision %d), as kubectl rollout undo does", rs.Name, rev)
	return plan(req, spec{Rollback: s}, changes, note, false)
}

// revision finds the ReplicaSet of a revision of the Deployment, or of
// the previous one (the second highest) for 0.
func (x *Executor) revision(ctx context.Context, d *appsv1.Deployment, want int64) (*appsv1.ReplicaSet, int64, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, 0, err
	}
	list := &appsv1.ReplicaSetList{}
	if err := x.List(ctx, ReplicaSets, d.Namespace, sel.String(), list); err != nil {
		return nil, 0, fmt.Errorf("cannot list the ReplicaSets of %s/%s: %w", d.Namespace, d.Name, err)
	}
	var latest, previous *appsv1.ReplicaSet
	var latestRev, previousRev int64 = -1, -1
	for i := range list.Items {
		rs := &list.Items[i]
		rev, err := strconv.ParseInt(rs.Annotations[revisionAnnotation], 10, 64)
		if err != nil || !metav1.IsControlledBy(rs, d) {
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
	if want > 0 {
		return nil, 0, fmt.Errorf("deployment %s/%s has no revision %d", d.Namespace, d.Name, want)
	}
	if previous == nil {
		return nil, 0, fmt.Errorf("deployment %s/%s has no previous revision to roll back to", d.Namespace, d.Name)
	}
	return previous, previousRev, nil
}

func rollbackAnnotations(d *appsv1.Deployment, rs *appsv1.ReplicaSet) map[string]string {
	out := map[string]string{}
	for k, v := range d.Annotations {
		if keptAnnotations[k] {
			out[k] = v
		}
	}
	for k, v := range rs.Annotations {
		if !keptAnnotations[k] {
			out[k] = v
		}
	}
	return out
}

// sameTemplate compares pod templates but for the hash label the
// Deployment controller adds to its ReplicaSets'.
func sameTemplate(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	delete(b.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return apiequality.Semantic.DeepEqual(a, b)
}

func imageChanges(from, to *corev1.PodTemplateSpec) []actions.Change {
	images := map[string]string{}
	for _, c := range from.Spec.Containers {
		images[c.Name] = c.Image
	}
	var out []actions.Change
	for _, c := range to.Spec.Containers {
		if images[c.Name] != c.Image {
			out = append(out, actions.Change{Field: "image " + c.Name, From: images[c.Name], To: c.Image})
		}
	}
	return out
}

// applyRollback replaces the template and annotations, on the condition
// that the Deployment is still at the revision the plan found (a JSON
// patch test): a rollback already applied, by this action or another
// replica, is seen as done, and any other change since refuses it.
func (x *Executor) applyRollback(ctx context.Context, t actions.Target, s *rollbackSpec) (string, error) {
	patch, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/annotations/" + jsonPointer(revisionAnnotation), "value": s.FromRevision},
		{"op": "replace", "path": "/spec/template", "value": s.Template},
		{"op": "replace", "path": "/metadata/annotations", "value": s.Annotations},
	})
	if err != nil {
		return "", err
	}
	err = x.Patch(ctx, Deployments, t.Namespace, t.Name, types.JSONPatchType, patch)
	if err == nil {
		return fmt.Sprintf("rolled %s back from revision %s to revision %d's template", t, s.FromRevision, s.ToRevision), nil
	}
	if !apierrors.IsInvalid(err) && !apierrors.IsConflict(err) {
		return "", fmt.Errorf("cannot roll %s back: %w", t, err)
	}
	d := &appsv1.Deployment{}
	if gerr := x.Get(ctx, Deployments, t.Namespace, t.Name, d); gerr == nil && sameTemplate(&d.Spec.Template, &s.Template) {
		return fmt.Sprintf("%s already has revision %d's template", t, s.ToRevision), nil
	}
	return "", fmt.Errorf("%w: %s is no longer at revision %s (%v)", actions.ErrStale, t, s.FromRevision, err)
}

func (x *Executor) verifyRollback(ctx context.Context, t actions.Target, s *rollbackSpec) (bool, string, error) {
	d := &appsv1.Deployment{}
	if err := x.Get(ctx, Deployments, t.Namespace, t.Name, d); err != nil {
		return false, "", err
	}
	if !sameTemplate(&d.Spec.Template, &s.Template) {
		return false, fmt.Sprintf("%s's template is no longer revision %d's", t, s.ToRevision), nil
	}
	return true, fmt.Sprintf("%s runs revision %d's template as revision %s", t, s.ToRevision, d.Annotations[revisionAnnotation]), nil
}

// jsonPointer escapes a key for a JSON pointer (RFC 6901).
func jsonPointer(key string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(key)
}
