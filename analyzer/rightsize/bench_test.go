package rightsize

import (
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStrategies runs each strategy over 10,000 containers with 14
// days of history at KRR's 1.25-minute step (16,128 CPU and 16,128 memory
// points a container). The series come from a pool of 64 generated pods so
// the input fits in memory (64 × 2 × 16,128 points, 33 MB); every
// container is computed in full. One op is all 10,000 containers.
func BenchmarkStrategies(b *testing.B) {
	cs := benchContainers(false)
	for _, s := range []Strategy{Simple{}, VPA{}, Kubecost{}} {
		b.Run(s.Name(), func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime(b)
			for b.Loop() {
				for i := range cs {
					s.Recommend(&cs[i])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(cs)), "ns/container")
			reportCPU(b, start)
		})
	}
}

// benchContainers are BenchmarkStrategies' 10,000 containers; with
// offsets, each pod of the pool is scraped at an offset of its own within
// the step, as targets of one Prometheus are, so no two share timestamps.
func benchContainers(offsets bool) []Container {
	const containers, pool = 10_000, 64
	step := 75 * time.Second
	n := int(14 * 24 * time.Hour / step)
	rng := rand.New(rand.NewPCG(1, 2))
	pods := make([]Pod, pool)
	for i := range pods {
		base, mem := 0.05+rng.Float64(), (100+rng.Float64()*900)*MiB
		cpu, m := make([]Point, n), make([]Point, n)
		offset := int64(0)
		if offsets {
			offset = rng.Int64N(step.Milliseconds())
		}
		for j := range n {
			t := offset + int64(j)*step.Milliseconds()
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
	return cs
}

// cpuTime is the CPU time (user and system) the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start, as
// "cpu-ns/op": on a machine shared with other builds the wall clock
// measures the load as much as the code.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkRecommendAll is issue 19's right-sizing target: the VPA over
// BenchmarkStrategies' 10,000 containers as the Recommender runs it, on
// every core, with aligned and with offset scrapes (see
// BenchmarkVPAEstimate).
func BenchmarkRecommendAll(b *testing.B) {
	for _, offsets := range []bool{false, true} {
		cs := benchContainers(offsets)
		ptrs := make([]*Container, len(cs))
		for i := range cs {
			ptrs[i] = &cs[i]
		}
		name := "vpa/aligned"
		if offsets {
			name = "vpa/offsets"
		}
		b.Run(name, func(b *testing.B) {
			start := cpuTime(b)
			for b.Loop() {
				recommendAll(VPA{}, ptrs)
			}
			reportCPU(b, start)
		})
	}
}
