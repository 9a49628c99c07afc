//go:build tools

// Package tools pins the Helm that renders and lints Vigil's chart
// (deploy/helm/vigil): scripts/helm builds its CLI from here. The module
// is apart from Vigil's own so that Helm's dependencies (and the k8s.io
// modules it brings) never reach Vigil's build.
package tools

import (
	_ "helm.sh/helm/v4/cmd/helm"
)
