//go:build tools

// Package tools pins etcd v3.7.3 for the Kubernetes API server of Vigil's
// tests. The root package of go.etcd.io/etcd/server/v3 is the etcd
// command itself, so scripts/kube-cluster builds it by that path; this
// import keeps the module's requirements complete for it.
package tools

import _ "go.etcd.io/etcd/server/v3/etcdmain"
