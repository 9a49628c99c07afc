package embedded

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/storetest"
)

// TestSpansAtScale is issue 19's embedded-store benchmark, run only with
// VIGIL_BENCH_EMBEDDED=1: it writes VIGIL_BENCH_SPANS spans (10M unless
// set) in batches of 10,000 (storetest's GenAI spans, four a trace, ids
// random-looking) into a new store, logs the write rate of every million
// (wall clock, and per CPU-second of the whole process, DuckDB's threads
// included), and of them all with a final CHECKPOINT, and the process's
// peak RSS, then looks up 200 traces written along the way by id and logs
// the median and p99. VIGIL_BENCH_LAYOUT=index puts back the ART index on
// spans (tenant, trace_id) that the schema used to have, to measure the
// layout before issue 19 in the same way. VIGIL_BENCH_DUCKDB is a DuckDB
// statement run before writing, to measure a setting.
func TestSpansAtScale(t *testing.T) {
	if os.Getenv("VIGIL_BENCH_EMBEDDED") != "1" {
		t.Skip("set VIGIL_BENCH_EMBEDDED=1 to run")
	}
	total := 10_000_000
	if v := os.Getenv("VIGIL_BENCH_SPANS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("VIGIL_BENCH_SPANS: %v", err)
		}
		total = n
	}
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	layout := "no index (now)"
	if os.Getenv("VIGIL_BENCH_LAYOUT") == "index" {
		layout = "ART index on (tenant, trace_id) (before)"
		if _, err := s.db.ExecContext(ctx, createSpansTraceIndex); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("layout: %s", layout)
	if set := os.Getenv("VIGIL_BENCH_DUCKDB"); set != "" {
		// Settings to try, such as SET GLOBAL checkpoint_threshold = '1GB'.
		if _, err := s.db.ExecContext(ctx, set); err != nil {
			t.Fatal(err)
		}
		t.Logf("settings: %s", set)
	}
	const batch, segment = 10_000, 1_000_000
	g := storetest.NewSpanBatches(batch)
	rng := rand.New(rand.NewPCG(19, 3))
	var probes []store.Span // a span of each batch, to look its trace up
	start, cpuStart := time.Now(), processCPU(t)
	segStart, segCPU := start, cpuStart
	for n := batch; n <= total; n += batch {
		spans := g.Next()
		probes = append(probes, spans[rng.IntN(len(spans))])
		if err := s.WriteSpans(ctx, spans); err != nil {
			t.Fatalf("writing spans %d-%d: %v", n-batch, n, err)
		}
		if n%segment == 0 || n+batch > total {
			now, cpu := time.Now(), processCPU(t)
			written := float64(n - (n-1)/segment*segment)
			t.Logf("spans %9d: %7.0f spans/s, %7.0f spans per CPU-second", n,
				written/now.Sub(segStart).Seconds(), written/(cpu-segCPU).Seconds())
			segStart, segCPU = now, cpu
		}
	}
	// A checkpoint writes what is still only in the WAL into the file:
	// counted in the totals, or a larger checkpoint_threshold would look
	// faster only by leaving its work to Close.
	ckStart, ckCPU := time.Now(), processCPU(t)
	if _, err := s.db.ExecContext(ctx, `CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	t.Logf("final CHECKPOINT: %v, %v CPU", time.Since(ckStart).Round(time.Millisecond), (processCPU(t) - ckCPU).Round(time.Millisecond))
	t.Logf("all %d with the checkpoint: %.0f spans/s, %.0f spans per CPU-second; peak RSS %d MB", total,
		float64(total)/time.Since(start).Seconds(), float64(total)/(processCPU(t)-cpuStart).Seconds(), peakRSS(t)>>20)

	var lat []time.Duration
	for range 200 {
		sp := probes[rng.IntN(len(probes))]
		at := time.Now()
		got, err := s.Trace(ctx, sp.Tenant, sp.TraceID)
		lat = append(lat, time.Since(at))
		if err != nil {
			t.Fatalf("trace %s: %v", sp.TraceID, err)
		}
		if !slices.ContainsFunc(got, func(g store.Span) bool { return g.SpanID == sp.SpanID }) {
			t.Fatalf("trace %s: %d spans, not span %s", sp.TraceID, len(got), sp.SpanID)
		}
	}
	slices.Sort(lat)
	t.Logf("trace by id at %d spans: median %v, p99 %v", total, lat[len(lat)/2], lat[len(lat)*99/100])
}

func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's largest resident set so far, in bytes.
func peakRSS(t *testing.T) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Maxrss << 10 // Linux reports KiB
}
