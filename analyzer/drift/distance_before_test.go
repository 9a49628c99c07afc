package drift

import "math"

// wassersteinBefore is Wasserstein as it was before issue 19, kept as the
// baseline of the equivalence test and of BenchmarkWasserstein.
func wassersteinBefore(ref, cur []float64) float64 {
	n1, n2 := len(ref), len(cur)
	var i, j int
	total := 0.0
	prev := min(ref[0], cur[0])
	for i < n1 || j < n2 {
		var v float64
		switch {
		case i == n1:
			v = cur[j]
		case j == n2:
			v = ref[i]
		default:
			v = min(ref[i], cur[j])
		}
		// Between prev and v both ECDFs are flat at i/n1 and j/n2.
		total += math.Abs(float64(i)/float64(n1)-float64(j)/float64(n2)) * (v - prev)
		for i < n1 && ref[i] <= v {
			i++
		}
		for j < n2 && cur[j] <= v {
			j++
		}
		prev = v
	}
	return total
}
