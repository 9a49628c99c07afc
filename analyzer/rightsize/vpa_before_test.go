package rightsize

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// estimateBefore is VPA.Estimate as it was before issue 19: every CPU
// sample's bucket by its logarithm and its decay by math.Exp2. It is the
// baseline of TestVPAEstimateMatchesBefore and of BenchmarkVPAEstimate.
func estimateBefore(c *Container) (e VPAEstimate, ok bool) {
	cpu := newDecayingHistogram(vpaCPUBuckets)
	mem := newDecayingHistogram(vpaMemoryBuckets)
	weight := max(amount(c.Current.CPURequest*1000)/1000, vpaMinSampleWeight)
	e.First, e.Last = math.MaxInt64, math.MinInt64
	for _, p := range c.Pods {
		last := int64(math.MinInt64)
		for _, s := range p.CPU {
			if s.Value < 0 || s.TimestampMsec <= last {
				continue // out of order or duplicate, as the VPA discards them
			}
			last = s.TimestampMsec
			cpu.add(amount(s.Value*1000)/1000, weight, s.TimestampMsec)
			e.Samples++
			e.First, e.Last = min(e.First, s.TimestampMsec), max(e.Last, s.TimestampMsec)
		}
		var ms memoryState
		ooms := podOOMs(c.OOMKills, p.Name)
		j := 0
		for _, s := range p.Memory {
			for ; j < len(ooms) && ooms[j].TimestampMsec <= s.TimestampMsec; j++ {
				ms.recordOOM(mem, ooms[j].TimestampMsec, ooms[j].Request)
			}
			ms.addMemory(mem, s.TimestampMsec, amount(s.Value), false)
		}
		for ; j < len(ooms); j++ {
			ms.recordOOM(mem, ooms[j].TimestampMsec, ooms[j].Request)
		}
	}
	if e.Samples == 0 {
		return VPAEstimate{}, false
	}
	days := float64(e.Last-e.First) / float64((24 * time.Hour).Milliseconds())
	e.Confidence = math.Min(days, float64(e.Samples)/(60*24))

	e.CPUP50, e.CPUP90, e.CPUP95 = amount(cpu.percentile(0.5)*1000), amount(cpu.percentile(0.9)*1000), amount(cpu.percentile(0.95)*1000)
	e.MemoryP50, e.MemoryP90, e.MemoryP95 = amount(mem.percentile(0.5)), amount(mem.percentile(0.9)), amount(mem.percentile(0.95))
	margin := func(v float64) float64 { return amount(v * 1.15) }
	lower := func(v float64) float64 { return amount(margin(v) * math.Pow(1+0.001/e.Confidence, -2)) }
	upper := func(v float64) float64 { return amount(margin(v) * math.Pow(1+1/e.Confidence, 1)) }
	e.CPUTarget, e.CPULower, e.CPUUpper = margin(e.CPUP90), lower(e.CPUP50), upper(e.CPUP95)
	e.MemoryTarget, e.MemoryLower, e.MemoryUpper = margin(e.MemoryP90), lower(e.MemoryP50), upper(e.MemoryP95)

	// Per-pod floors, split evenly over the pod's containers.
	n := max(c.PodContainers, 1)
	minCPU := amount(amount(25*0.001*1000) / float64(n))
	minMem := amount(amount(250*MiB) / float64(n))
	e.CPUTarget, e.CPULower, e.CPUUpper = max(e.CPUTarget, minCPU), max(e.CPULower, minCPU), max(e.CPUUpper, minCPU)
	e.MemoryTarget, e.MemoryLower, e.MemoryUpper = max(e.MemoryTarget, minMem), max(e.MemoryLower, minMem), max(e.MemoryUpper, minMem)
	return e, true
}

// TestVPAEstimateMatchesBefore checks the remembered buckets and decay
// factors against the computation they replace, on randomized containers
// estimated one after another (so the caches carry from one to the next):
// several pods with aligned or shifted ticks, steps from 10 s to 5 min,
// usage from nothing to beyond the bucket table, out-of-order and
// negative samples, OOM kills, and gaps of months that move the
// histogram's reference time. Every field must be equal.
func TestVPAEstimateMatchesBefore(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 2))
	day := (24 * time.Hour).Milliseconds()
	for round := range 400 {
		c := &Container{Name: "app", Current: Resources{CPURequest: []float64{0, 0.05, 1, 3.7}[rng.IntN(4)], MemoryRequest: GiB},
			PodContainers: rng.IntN(3)}
		start := int64(1.7e12) + rng.Int64N(10*day)
		step := []int64{10_000, 15_000, 30_000, 75_000, 300_000}[rng.IntN(5)]
		points := 1 + rng.IntN(3000)
		scale := []float64{0.001, 0.5, 4, 90, 5000}[rng.IntN(5)]
		for p := range 1 + rng.IntN(4) {
			t0 := start
			if rng.IntN(2) == 0 {
				t0 += rng.Int64N(step)
			}
			var cpu, mem []Point
			ts := t0
			for range points {
				ts += step
				if rng.IntN(500) == 0 {
					ts += rng.Int64N(200 * day) // past 100 half-lives: the reference moves
				}
				at := ts
				if rng.IntN(100) == 0 {
					at -= 3 * step // out of order
				}
				v := scale * rng.ExpFloat64()
				if rng.IntN(200) == 0 {
					v = -v
				}
				cpu = append(cpu, Point{TimestampMsec: at, Value: v})
				mem = append(mem, Point{TimestampMsec: at, Value: (50 + 500*rng.Float64()) * MiB})
			}
			name := string(rune('a' + p))
			c.Pods = append(c.Pods, Pod{Name: name, CPU: cpu, Memory: mem})
			if rng.IntN(3) == 0 {
				c.OOMKills = append(c.OOMKills, OOMKill{Pod: name, TimestampMsec: t0 + rng.Int64N(int64(points)*step), Request: GiB})
			}
		}
		got, gotOK := VPA{}.Estimate(c)
		want, wantOK := estimateBefore(c)
		if got != want || gotOK != wantOK {
			t.Fatalf("round %d: got %v (%v), before %v (%v)\n%+v\n%+v", round, got, gotOK, want, wantOK, got, want)
		}
	}
}

// BenchmarkVPAEstimate is BenchmarkStrategies' VPA input, 10,000
// containers, through the estimate before issue 19 and now, side by side:
// with every pod's samples on the same ticks ("aligned", as the
// benchmark has always had them) and with each pod at a scrape offset of
// its own ("offsets"), where no decay factor repeats.
func BenchmarkVPAEstimate(b *testing.B) {
	for _, offsets := range []bool{false, true} {
		cs := benchContainers(offsets)
		input := "aligned"
		if offsets {
			input = "offsets"
		}
		for _, f := range []struct {
			name string
			f    func(*Container) (VPAEstimate, bool)
		}{{"before", estimateBefore}, {"now", VPA{}.Estimate}} {
			b.Run(input+"/"+f.name, func(b *testing.B) {
				start := cpuTime(b)
				for b.Loop() {
					for i := range cs {
						f.f(&cs[i])
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(cs)), "ns/container")
				reportCPU(b, start)
			})
		}
	}
}

// TestRecommendAllKeepsOrder checks the parallel recommendations against
// one container at a time.
func TestRecommendAllKeepsOrder(t *testing.T) {
	cs := benchContainers(true)[:200]
	ptrs := make([]*Container, len(cs))
	for i := range cs {
		cs[i].Current.CPURequest = float64(i%7) / 4
		ptrs[i] = &cs[i]
	}
	got := recommendAll(VPA{}, ptrs)
	for i, c := range ptrs {
		if want := (VPA{}).Recommend(c); !reflect.DeepEqual(got[i], want) {
			t.Fatalf("container %d: %+v, alone %+v", i, got[i], want)
		}
	}
}

// TestDecayFactorIsExp2 checks the remembered decay factor against
// math.Exp2 itself, to the bit, one cache shared by all the distances as
// across containers: random distances within ±1100 half-lives (past
// where the factor is computed directly), whole and half half-lives and
// their neighbours (where t is 0 or ±1/2), and runs at a fixed step.
func TestDecayFactorIsExp2(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 3))
	const h = int64(24 * time.Hour / time.Millisecond)
	c := decayCaches.Get().(*decayCache)
	defer decayCaches.Put(c)
	check := func(d int64) {
		got, want := c.factor(d), math.Exp2(float64(d)/float64(h))
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("d %d (x %v): %v, Exp2 %v", d, float64(d)/float64(h), got, want)
		}
	}
	for range 1_000_000 {
		check(rng.Int64N(2200*h) - 1100*h)
	}
	for m := int64(-2200); m <= 2200; m++ {
		for e := int64(-3); e <= 3; e++ {
			check(m*h/2 + e)
		}
	}
	for range 200 {
		d, step := rng.Int64N(40*h)-20*h, 1+rng.Int64N(600_000)
		for range 5000 {
			check(d)
			d += step
		}
	}
}
