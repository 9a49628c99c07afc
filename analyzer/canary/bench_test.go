package canary

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkEvaluate judges 100,000 latencies a side (the store's default
// sample bound): ranking, both medians and p95s, Hodges–Lehmann.
func BenchmarkEvaluate(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	lat := func(scale float64) []time.Duration {
		out := make([]time.Duration, 100_000)
		for i := range out {
			out[i] = time.Duration(rng.ExpFloat64() * scale * float64(time.Millisecond))
		}
		return out
	}
	c, s := Side{Latencies: lat(110), Requests: 100_000, Errors: 100}, Side{Latencies: lat(100), Requests: 100_000, Errors: 90}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(c, s, Config{}); err != nil {
			b.Fatal(err)
		}
	}
}
