package dashboards

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/slo"
)

// benchSLOs are n SLOs alike to the golden ones: availability, latency
// and metric ratios in turn, each of its own service.
func benchSLOs(b *testing.B, n int) []*slo.SLO {
	b.Helper()
	var spec string
	for i := range n {
		switch i % 3 {
		case 0:
			spec += fmt.Sprintf("  - name: avail-%d\n    service: svc-%d\n    availability: true\n    objective: 99.9%%\n    window: 28d\n", i, i)
		case 1:
			spec += fmt.Sprintf("  - name: latency-%d\n    service: svc-%d\n    latency: 500ms\n    objective: 99%%\n    window: 7d\n", i, i)
		default:
			spec += fmt.Sprintf("  - name: ratio-%d\n    service: svc-%d\n    metric:\n      bad: http_requests_total{job=\"svc-%d\",code=~\"5..\"}\n      total: http_requests_total{job=\"svc-%d\"}\n    objective: 99.9%%\n    window: 28d\n", i, i, i, i)
		}
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte("slos:\n"+spec), 0o644); err != nil {
		b.Fatal(err)
	}
	slos, problems, err := slo.Load([]string{dir}, time.Minute)
	if err != nil || len(problems) > 0 {
		b.Fatalf("%v %v", err, problems)
	}
	return slos
}

// BenchmarkSyncTick is what the sync job costs the analyzer at a tick
// with nothing changed: after a reload (new SLO values, each SLO's
// dashboard generated, checked and hashed) and between reloads (the same
// SLOs, compared by pointer). The baseline, generate-all, is Generate of
// the SLOs' whole inventory (their services' dashboards, cost and Vigil
// itself too): what the job's first version did at every tick.
func BenchmarkSyncTick(b *testing.B) {
	for _, n := range []int{10, 100} {
		slos := benchSLOs(b, n)
		b.Run(fmt.Sprintf("slos=%d/generate-all", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Generate(Inventory{SLOs: slos}); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, reload := range []bool{true, false} {
			name := fmt.Sprintf("slos=%d/unchanged", n)
			if reload {
				name = fmt.Sprintf("slos=%d/reloaded", n)
			}
			b.Run(name, func(b *testing.B) {
				// Two readings of the same files: alike, not the same values.
				readings := [2][]*slo.SLO{slos, make([]*slo.SLO, len(slos))}
				for i, s := range slos {
					c := *s
					readings[1][i] = &c
				}
				i := 0
				s := &Sync{Current: func() []*slo.SLO {
					if reload {
						i++
					}
					return readings[i%2]
				}}
				tick := time.Now()
				if err := s.Run(context.Background(), tick); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if err := s.Run(context.Background(), tick); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
