// Package kubetest gives tests the real Kubernetes API server that
// scripts/kube-cluster starts: VIGIL_TEST_KUBE names its kubeconfig.
// Without it tests skip, and fail when VIGIL_TEST_STRICT is set, as the
// ClickHouse tests do.
package kubetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"

	"github.com/vigil-dev/vigil/actions/kube"
)

// Cluster is the test cluster: the executors' clients, and the typed
// clientset the tests set up their objects with.
type Cluster struct {
	kube.Clients
	Kube kubernetes.Interface
}

// Connect returns clients of the test cluster, or skips.
func Connect(t testing.TB) Cluster {
	t.Helper()
	path := os.Getenv("VIGIL_TEST_KUBE")
	if path == "" {
		if os.Getenv("VIGIL_TEST_STRICT") != "" {
			t.Fatal("VIGIL_TEST_STRICT is set but VIGIL_TEST_KUBE names no kubeconfig (scripts/kube-cluster start prints one)")
		}
		t.Skip("VIGIL_TEST_KUBE is not set: no Kubernetes API server to test against (scripts/kube-cluster start)")
	}
	c, err := kube.Connect(kube.Config{Kubeconfig: path, QPS: 50, Burst: 100})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	rc.QPS, rc.Burst = 50, 100
	typed, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return Cluster{Clients: c, Kube: typed}
}

// Unprivileged connects as the cluster's "vigil" user, which has no
// group and so no rights but those a test binds to it (scripts/
// kube-cluster writes its kubeconfig beside the admin's).
func Unprivileged(t testing.TB) kube.Clients {
	t.Helper()
	Connect(t)
	c, err := kube.Connect(kube.Config{Kubeconfig: filepath.Join(filepath.Dir(os.Getenv("VIGIL_TEST_KUBE")), "vigil.kubeconfig")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var seq atomic.Int64

// Namespace creates a namespace of the test's own, deleted after it.
func Namespace(t testing.TB, c Cluster) string {
	t.Helper()
	name := fmt.Sprintf("vigil-%d-%d", time.Now().UnixNano()%1e9, seq.Add(1))
	ctx := context.Background()
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Kube.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	return name
}

// Deployment creates a Deployment of one container at an image.
func Deployment(t testing.TB, c Cluster, ns, name, image string, replicas int32, resources corev1.ResourceRequirements) *appsv1.Deployment {
	t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: appsv1.DeploymentSpec{
		Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "server", Image: image, Resources: resources}}}}}}
	d, err := c.Kube.AppsV1().Deployments(ns).Create(context.Background(), d, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Eventually polls cond every 100ms for up to 30s.
func Eventually(t testing.TB, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s (last error: %v)", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Revision waits until the Deployment's controller has numbered its
// rollout rev, and returns its image at that revision.
func Revision(t testing.TB, c Cluster, ns, name, rev string) {
	t.Helper()
	Eventually(t, fmt.Sprintf("deployment %s/%s at revision %s", ns, name, rev), func() (bool, error) {
		d, err := c.Kube.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
		return err == nil && d.Annotations["deployment.kubernetes.io/revision"] == rev, err
	})
}

// SetImage changes the Deployment's container image: a new rollout.
func SetImage(t testing.TB, c Cluster, ns, name, image string) {
	t.Helper()
	ctx := context.Background()
	// The controllers update the Deployment too: retried on a conflict.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := c.Kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].Image = image
		_, err = c.Kube.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
