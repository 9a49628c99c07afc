package kube_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/actions/kube"
	"github.com/vigil-dev/vigil/actions/kube/kubetest"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
)

func request(op, ns, name string) actions.Request {
	return actions.Request{Action: "test", Guardrails: actions.DefaultGuardrails, Do: actions.Do{Executor: actions.Kubernetes, Operation: op,
		Target: actions.Target{Executor: actions.Kubernetes, Kind: "Deployment", Namespace: ns, Name: name}}}
}

// Rollout undo end to end, with the deployment and replicaset
// controllers at work: v1, then v2, then back; the template is v1's again
// and the controller rolls it out as a new revision.
func TestRollbackAsRolloutUndo(t *testing.T) {
	c := kubetest.Connect(t)
	ns := kubetest.Namespace(t, c)
	ctx := context.Background()
	x := &kube.Executor{Clients: c.Clients}
	kubetest.Deployment(t, c, ns, "chat", "registry.invalid/chat:v1", 1, corev1.ResourceRequirements{})
	kubetest.Revision(t, c, ns, "chat", "1")
	kubetest.SetImage(t, c, ns, "chat", "registry.invalid/chat:v2")
	kubetest.Revision(t, c, ns, "chat", "2")

	p, err := x.Plan(ctx, request(actions.OpRollback, ns, "chat"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Diff(); got != "revision 2 → 1, image server registry.invalid/chat:v2 → registry.invalid/chat:v1" {
		t.Errorf("dry-run %q", got)
	}
	if res, err := x.Apply(ctx, p); err != nil || !strings.Contains(res, "rolled") {
		t.Fatalf("apply: %q %v", res, err)
	}
	kubetest.Revision(t, c, ns, "chat", "3")
	d, _ := c.Kube.AppsV1().Deployments(ns).Get(ctx, "chat", metav1.GetOptions{})
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "registry.invalid/chat:v1" {
		t.Errorf("image after the rollback %s", img)
	}
	kubetest.Eventually(t, "v1's ReplicaSet as revision 3, scaled up", func() (bool, error) {
		rss, err := c.Kube.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		for _, rs := range rss.Items {
			if rs.Annotations["deployment.kubernetes.io/revision"] == "3" && rs.Spec.Template.Spec.Containers[0].Image == "registry.invalid/chat:v1" && *rs.Spec.Replicas == 1 {
				return true, nil
			}
		}
		return false, err
	})
	// Applied again (a second replica, a restart): nothing changes.
	if res, err := x.Apply(ctx, p); err != nil || !strings.Contains(res, "already") {
		t.Errorf("again: %q %v", res, err)
	}
	if ok, detail, err := x.Verify(ctx, p); !ok || err != nil {
		t.Errorf("verify: %v %s %v", ok, detail, err)
	}
	// A target that moved since the plan is refused, not overwritten.
	kubetest.SetImage(t, c, ns, "chat", "registry.invalid/chat:v3")
	kubetest.Revision(t, c, ns, "chat", "4")
	if _, err := x.Apply(ctx, p); !errors.Is(err, actions.ErrStale) {
		t.Errorf("a stale plan: %v", err)
	}
	// To a named revision.
	req := request(actions.OpRollback, ns, "chat")
	req.Do.Revision = 2
	if p, err := x.Plan(ctx, req); err != nil || !strings.Contains(p.Diff(), "→ registry.invalid/chat:v2") {
		t.Errorf("to revision 2: %q %v", p.Diff(), err)
	}
}

func scale(t *testing.T, x *kube.Executor, req actions.Request) actions.Plan {
	t.Helper()
	p, err := x.Plan(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScaleThroughTheScaleSubresource(t *testing.T) {
	c := kubetest.Connect(t)
	ns := kubetest.Namespace(t, c)
	ctx := context.Background()
	x := &kube.Executor{Clients: c.Clients}
	kubetest.Deployment(t, c, ns, "ranker", "registry.invalid/ranker:v1", 3, corev1.ResourceRequirements{})
	req := request(actions.OpScale, ns, "ranker")
	req.Do.Add = 10
	req.Guardrails.MaxReplicas = 5
	p := scale(t, x, req)
	if p.Diff() != "replicas 3 → 5" || !strings.Contains(p.Note, "13 replicas asked, 5 allowed") || !p.Revertible {
		t.Errorf("plan %q (%s)", p.Diff(), p.Note)
	}
	if _, err := x.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	if res, err := x.Apply(ctx, p); err != nil || !strings.Contains(res, "already") {
		t.Errorf("again: %q %v", res, err)
	}
	sc, _ := c.Kube.AppsV1().Deployments(ns).GetScale(ctx, "ranker", metav1.GetOptions{})
	if sc.Spec.Replicas != 5 {
		t.Errorf("replicas %d", sc.Spec.Replicas)
	}
	if res, err := x.Revert(ctx, p); err != nil || !strings.Contains(res, "from 5 replicas to 3 replicas") {
		t.Errorf("revert: %q %v", res, err)
	}
	// From a replica recommendation, bounded to × 2 a step.
	req = request(actions.OpScale, ns, "ranker")
	req.Evidence.Recommendation = &rightsize.Advice{Replicas: &rightsize.ReplicaAdvice{ReplicaRecommendation: rightsize.ReplicaRecommendation{Current: 3, Recommended: 20}}}
	if p := scale(t, x, req); p.Diff() != "replicas 3 → 6" {
		t.Errorf("from a recommendation: %q", p.Diff())
	}
}

// With an HPA on the Deployment, the executor moves the HPA's bounds and
// leaves the replicas to it.
func TestScaleChangesTheAutoscalersBounds(t *testing.T) {
	c := kubetest.Connect(t)
	ns := kubetest.Namespace(t, c)
	ctx := context.Background()
	x := &kube.Executor{Clients: c.Clients}
	kubetest.Deployment(t, c, ns, "gw", "registry.invalid/gw:v1", 2, corev1.ResourceRequirements{})
	min := int32(2)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: &min, MaxReplicas: 3,
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "gw"}}}
	if _, err := c.Kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	req := request(actions.OpScale, ns, "gw")
	req.Do.Factor = 2
	p := scale(t, x, req)
	if p.Diff() != "gw minReplicas 2 → 4, gw maxReplicas 3 → 4" || !strings.Contains(p.Note, "HorizontalPodAutoscaler gw owns the replicas") {
		t.Fatalf("plan %q (%s)", p.Diff(), p.Note)
	}
	if _, err := x.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, _ := c.Kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "gw", metav1.GetOptions{})
	d, _ := c.Kube.AppsV1().Deployments(ns).Get(ctx, "gw", metav1.GetOptions{})
	if *got.Spec.MinReplicas != 4 || got.Spec.MaxReplicas != 4 {
		t.Errorf("HPA bounds %d..%d", *got.Spec.MinReplicas, got.Spec.MaxReplicas)
	}
	for _, f := range d.ManagedFields {
		if f.Manager == "vigil" {
			t.Errorf("vigil changed the deployment itself: %s", f.FieldsV1)
		}
	}
	if ok, detail, err := x.Verify(ctx, p); !ok || err != nil {
		t.Errorf("verify: %v %s %v", ok, detail, err)
	}
}

func TestResizeWithinTheStep(t *testing.T) {
	c := kubetest.Connect(t)
	ns := kubetest.Namespace(t, c)
	ctx := context.Background()
	x := &kube.Executor{Clients: c.Clients}
	kubetest.Deployment(t, c, ns, "embed", "registry.invalid/embed:v1", 1, corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}})
	req := request(actions.OpResize, ns, "embed")
	req.Evidence.Recommendation = &rightsize.Advice{Namespace: ns, Kind: "Deployment", Workload: "embed", Resources: []rightsize.Recommendation{{
		Container: "server", Values: []rightsize.Value{
			{Resource: rightsize.CPU, Setting: rightsize.Request, Current: 0.1, Recommended: 0.3, RecommendedQuantity: "300m"},
			{Resource: rightsize.Memory, Setting: rightsize.Request, Current: 128 << 20, Recommended: 100 << 20, RecommendedQuantity: "100Mi"}}}}}
	p, err := x.Plan(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if p.Diff() != "server cpu request 100m → 150m, server memory request 128Mi → 100Mi" || !strings.Contains(p.Note, "300m recommended, 150m allowed") {
		t.Fatalf("plan %q (%s)", p.Diff(), p.Note)
	}
	if _, err := x.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	d, _ := c.Kube.AppsV1().Deployments(ns).Get(ctx, "embed", metav1.GetOptions{})
	r := d.Spec.Template.Spec.Containers[0].Resources.Requests
	if cpu, mem := r[corev1.ResourceCPU], r[corev1.ResourceMemory]; cpu.String() != "150m" || mem.String() != "100Mi" {
		t.Errorf("requests %s %s", cpu.String(), mem.String())
	}
	if res, err := x.Apply(ctx, p); err != nil || !strings.Contains(res, "already") {
		t.Errorf("again: %q %v", res, err)
	}
	if _, err := x.Revert(ctx, p); err != nil {
		t.Fatal(err)
	}
	d, _ = c.Kube.AppsV1().Deployments(ns).Get(ctx, "embed", metav1.GetOptions{})
	if cpu := d.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU]; cpu.String() != "100m" {
		t.Errorf("cpu after the revert %s", cpu.String())
	}
}

// The RBAC in deploy/ is all the executor needs: bound to a user with no
// other rights, it rolls back, scales and resizes, and can delete nothing.
func TestLeastPrivilege(t *testing.T) {
	c := kubetest.Connect(t)
	ns := kubetest.Namespace(t, c)
	ctx := context.Background()
	raw, err := os.ReadFile("../../deploy/kubernetes/actions-rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var role rbacv1.ClusterRole
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		t.Fatal(err)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &role); err != nil {
		t.Fatal(err)
	}
	role.Name = ns // one per test: the ClusterRole as written, under a name of its own
	if _, err := c.Kube.RbacV1().ClusterRoles().Create(ctx, &role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Kube.RbacV1().ClusterRoles().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "vigil-actions", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: ns},
		Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "vigil"}}}
	if _, err := c.Kube.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubetest.Deployment(t, c, ns, "chat", "registry.invalid/chat:v1", 1, corev1.ResourceRequirements{})
	kubetest.Revision(t, c, ns, "chat", "1")
	kubetest.SetImage(t, c, ns, "chat", "registry.invalid/chat:v2")
	kubetest.Revision(t, c, ns, "chat", "2")
	least := kubetest.Unprivileged(t)
	x := &kube.Executor{Clients: least}
	for _, req := range []actions.Request{request(actions.OpRollback, ns, "chat"), func() actions.Request {
		r := request(actions.OpScale, ns, "chat")
		r.Do.Replicas = 2
		return r
	}()} {
		var p actions.Plan
		kubetest.Eventually(t, "RBAC in force for "+req.Do.Operation, func() (bool, error) {
			var err error
			p, err = x.Plan(ctx, req)
			return err == nil, err
		})
		if _, err := x.Apply(ctx, p); err != nil {
			t.Errorf("%s as vigil: %v", req.Do.Operation, err)
		}
	}
	err = least.Dynamic.Resource(kube.Deployments).Namespace(ns).Delete(ctx, "chat", metav1.DeleteOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("vigil deleting a deployment: %v", err)
	}
}
