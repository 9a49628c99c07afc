package drift

import (
	"math"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// benchColumns makes cols columns of rows values: every fifth categorical
// (12 labels), the rest numeric with a few missing values; shift moves the
// current sample so some columns drift.
func benchColumns(cols, rows int, seed uint64, shift float64) []*Column {
	rng := rand.New(rand.NewPCG(seed, 1))
	labels := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}
	out := make([]*Column, cols)
	for c := range out {
		name := "col" + string(rune('A'+c%26)) + string(rune('a'+c/26))
		if c%5 == 4 {
			codes := make([]int32, rows)
			for i := range codes {
				codes[i] = int32(min(rng.ExpFloat64()*3, 11))
			}
			out[c] = &Column{Name: name, Kind: Categorical, Codes: codes, Levels: labels}
			continue
		}
		xs := make([]float64, rows)
		s := 0.0
		if c%3 == 0 {
			s = shift
		}
		for i := range xs {
			xs[i] = rng.NormFloat64()*10 + 50 + s
			if i%1000 == 999 {
				xs[i] = math.NaN()
			}
		}
		out[c] = NumericColumn(name, xs)
	}
	return out
}

// BenchmarkCompare100x1M is issue 6's target: 100 columns (80 numeric, 20
// categorical) of 1,000,000 reference and 1,000,000 current rows, method
// auto (Wasserstein and Jensen–Shannon at this size).
func BenchmarkCompare100x1M(b *testing.B) {
	ref := benchColumns(100, 1_000_000, 1, 0)
	cur := benchColumns(100, 1_000_000, 2, 5)
	// Collect now, so the benchmark does not pay for marking the 1.6 GB
	// of columns it just made.
	runtime.GC()
	start := cpuTime(b)
	for b.Loop() {
		rep := Compare(ref, cur, Options{})
		if rep.Tested != 100 {
			b.Fatalf("tested %d", rep.Tested)
		}
	}
	// 100 columns × (1M reference + 1M current) values.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/200e6, "ns/value")
	reportCPU(b, start)
}

// BenchmarkColumn1M is one numeric column of 1M rows against 1M, per method.
func BenchmarkColumn1M(b *testing.B) {
	ref := benchColumns(1, 1_000_000, 1, 0)[0]
	cur := benchColumns(1, 1_000_000, 2, 5)[0]
	for _, m := range []Method{MethodKS, MethodWasserstein, MethodPSI, MethodJensenShannon} {
		b.Run(string(m), func(b *testing.B) {
			start := cpuTime(b)
			for b.Loop() {
				CompareColumn(ref, cur, Options{Method: m})
			}
			reportCPU(b, start)
		})
	}
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
// measures the load as much as the code, while CPU time measures what
// the code asked of the processors.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}
