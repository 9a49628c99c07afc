package drift

import "slices"

// sortFloats sorts finite values ascending.
func sortFloats(xs []float64) {
	slices.Sort(xs)
}
