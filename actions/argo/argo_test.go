package argo_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/actions/argo"
	"github.com/vigil-dev/vigil/actions/kube/kubetest"
)

var crds = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// installCRD installs testdata's Rollout CRD once and waits until it is
// served.
func installCRD(t *testing.T, c kubetest.Cluster) {
	t.Helper()
	raw, err := os.ReadFile("testdata/rollout-crd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Dynamic.Resource(crds).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	kubetest.Eventually(t, "the Rollout CRD served", func() (bool, error) {
		_, err := c.Dynamic.Resource(argo.Rollouts).Namespace("default").List(ctx, metav1.ListOptions{})
		return err == nil, err
	})
}

func rollout(ns, image string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
		"metadata": map[string]any{"name": "gw", "namespace": ns},
		"spec": map[string]any{"replicas": int64(3), "paused": true,
			"selector": map[string]any{"matchLabels": map[string]any{"app": "gw"}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "gw"}},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "gw", "image": image}}}},
			"strategy": map[string]any{"canary": map[string]any{"steps": []any{map[string]any{"setWeight": int64(20)}, map[string]any{"pause": map[string]any{}}}}}},
	}}
}

func req(op, ns string) actions.Request {
	return actions.Request{Do: actions.Do{Executor: actions.Argo, Operation: op, Target: actions.Target{Executor: actions.Argo, Kind: "Rollout", Namespace: ns, Name: "gw"}}}
}

// The abort patch lands on the status subresource; retry and promote as
// the plugin sends them.
func TestAbortRetryPromote(t *testing.T) {
	c := kubetest.Connect(t)
	installCRD(t, c)
	ns := kubetest.Namespace(t, c)
	ctx := context.Background()
	ros := c.Dynamic.Resource(argo.Rollouts).Namespace(ns)
	if _, err := ros.Create(ctx, rollout(ns, "registry.invalid/gw:v2"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	x := &argo.Executor{Clients: c.Clients}
	step := func(op, diff string) {
		t.Helper()
		p, err := x.Plan(ctx, req(op, ns))
		if err != nil || p.Diff() != diff {
			t.Fatalf("%s: plan %q %v", op, p.Diff(), err)
		}
		if _, err := x.Apply(ctx, p); err != nil {
			t.Fatal(err)
		}
		if ok, detail, err := x.Verify(ctx, p); !ok || err != nil {
			t.Errorf("%s: verify %v %s %v", op, ok, detail, err)
		}
	}
	step(actions.OpAbort, "status.abort false → true")
	ro, _ := ros.Get(ctx, "gw", metav1.GetOptions{})
	abort, _, _ := unstructured.NestedBool(ro.Object, "status", "abort")
	paused, _, _ := unstructured.NestedBool(ro.Object, "spec", "paused")
	if !abort || !paused {
		t.Errorf("after abort: status.abort %v spec.paused %v", abort, paused)
	}
	step(actions.OpRetry, "status.abort true → false")
	ro, _ = ros.Get(ctx, "gw", metav1.GetOptions{})
	ro.Object["status"] = map[string]any{"pauseConditions": []any{map[string]any{"reason": "CanaryPauseStep"}}}
	if _, err := ros.UpdateStatus(ctx, ro, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	step(actions.OpPromote, "spec.paused true → false, status.pauseConditions 1 → none")
}

// Undo restores an earlier revision's template from the ReplicaSets the
// rollout controls.
func TestUndo(t *testing.T) {
	c := kubetest.Connect(t)
	installCRD(t, c)
	ns := kubetest.Namespace(t, c)
	ctx := context.Background()
	ro, err := c.Dynamic.Resource(argo.Rollouts).Namespace(ns).Create(ctx, rollout(ns, "registry.invalid/gw:v2"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	for rev, image := range map[string]string{"1": "registry.invalid/gw:v1", "2": "registry.invalid/gw:v2"} {
		labels := map[string]string{"app": "gw", "rollouts-pod-template-hash": "h" + rev}
		zero := int32(0)
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "gw-" + rev, Namespace: ns, Labels: labels,
			Annotations:     map[string]string{"rollout.argoproj.io/revision": rev},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout", Name: "gw", UID: ro.GetUID(), Controller: &yes}}},
			Spec: appsv1.ReplicaSetSpec{Replicas: &zero, Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "gw", Image: image}}}}}}
		if _, err := c.Kube.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	x := &argo.Executor{Clients: c.Clients}
	p, err := x.Plan(ctx, req(actions.OpUndo, ns))
	if err != nil || !strings.Contains(p.Diff(), "image gw registry.invalid/gw:v2 → registry.invalid/gw:v1") {
		t.Fatalf("plan %q %v", p.Diff(), err)
	}
	if _, err := x.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	if res, err := x.Apply(ctx, p); err != nil || !strings.Contains(res, "already") {
		t.Errorf("again: %q %v", res, err)
	}
	got, _ := c.Dynamic.Resource(argo.Rollouts).Namespace(ns).Get(ctx, "gw", metav1.GetOptions{})
	cs, _, _ := unstructured.NestedSlice(got.Object, "spec", "template", "spec", "containers")
	if img := cs[0].(map[string]any)["image"]; img != "registry.invalid/gw:v1" {
		t.Errorf("image after undo %v", img)
	}
}
