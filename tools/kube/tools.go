//go:build tools

// Package tools pins the Kubernetes servers Vigil's tests run against
// (scripts/kube-cluster builds them from here): kube-apiserver and
// kube-controller-manager of k8s.io/kubernetes v1.37.2. The module is
// apart from Vigil's own so that nothing of k8s.io/kubernetes reaches
// Vigil's build; its replace directives map each staging module, which
// k8s.io/kubernetes requires at v0.0.0, to its v0.37.2 release.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
