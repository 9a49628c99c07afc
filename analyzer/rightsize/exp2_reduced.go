//go:build !arm64 && !loong64

package rightsize

// exp2IsReduced says math.Exp2 is the pure-Go one, which reduces its
// argument as decayCache.factor relies on; on arm64 and loong64 it is
// assembly, and factor computes every value.
const exp2IsReduced = true
