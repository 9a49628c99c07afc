//go:build arm64 || loong64

package rightsize

// exp2IsReduced: see exp2_reduced.go.
const exp2IsReduced = false
