package kube

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// The resources the executors read and patch. They go through the
// dynamic client, converted to and from the typed structs: client-go's
// typed clientset brings every API group of Kubernetes along, which made
// the vigil binary 162 MB instead of 126 MB for the three groups used.
var (
	Deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	ReplicaSets = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
	HPAs        = schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}
)

// Get reads an object (or its subresource) into a typed struct.
func (c Clients) Get(ctx context.Context, gvr schema.GroupVersionResource, ns, name string, out any, subresource ...string) error {
	u, err := c.Dynamic.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{}, subresource...)
	if err != nil {
		return err
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out)
}

// List reads the objects a label selector selects into a typed list.
func (c Clients) List(ctx context.Context, gvr schema.GroupVersionResource, ns, selector string, out any) error {
	l, err := c.Dynamic.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return err
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(l.UnstructuredContent(), out)
}

// Patch patches an object (or its subresource) as Vigil's field manager.
func (c Clients) Patch(ctx context.Context, gvr schema.GroupVersionResource, ns, name string, pt types.PatchType, body []byte, subresource ...string) error {
	_, err := c.Dynamic.Resource(gvr).Namespace(ns).Patch(ctx, name, pt, body, metav1.PatchOptions{FieldManager: "vigil"}, subresource...)
	return err
}
