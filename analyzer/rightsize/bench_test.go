package rightsize

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkStrategies runs each strategy over 10,000 containers with 14
// days of history at KRR's 1.25-minute step (16,128 CPU and 16,128 memory
// points a container). The series come from a pool of 64 generated pods so
// the input fits in memory (64 × 2 × 16,128 points, 33 MB); every
// container is computed in full. One op is all 10,000 containers.
func BenchmarkStrategies(b *testing.B) {
	const containers, pool = 10_000, 64
	step := 75 * time.Second
	n := int(14 * 24 * time.Hour / step)
	rng := rand.New(rand.NewPCG(1, 2))
	pods := make([]Pod, pool)
	for i := range pods {
		base, mem := 0.05+rng.Float64(), (100+rng.Float64()*900)*MiB
		cpu, m := make([]Point, n), make([]Point, n)
		for j := range n {
			t := int64(j) * step.Milliseconds()
			daily := 1 + 0.5*math.Sin(2*math.Pi*float64(j)/float64(n/14))
			cpu[j] = Point{TimestampMsec: t, Value: base * daily * (0.8 + 0.4*rng.Float64())}
			m[j] = Point{TimestampMsec: t, Value: mem * (0.9 + 0.2*rng.Float64())}
		}
		pods[i] = Pod{Name: "p", CPU: cpu, Memory: m}
	}
	cs := make([]Container, containers)
	for i := range cs {
		cs[i] = Container{Name: "app", Replicas: 1, Current: Resources{CPURequest: 1, MemoryRequest: GiB}, Pods: pods[i%pool : i%pool+1]}
	}
	for _, s := range []Strategy{Simple{}, VPA{}, Kubecost{}} {
		b.Run(s.Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for i := range cs {
					s.Recommend(&cs[i])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/containers, "ns/container")
		})
	}
}
