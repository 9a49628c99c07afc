package slo

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// A quality SLO counts a drift monitor's judgements: the real drift job
// judges four hours, one of them drifted, and the SLO reads 3 of 4 good.
func TestDriftSLI(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	end := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	// Each hour 60 calls with 1..60 output tokens, except the hour before
	// end, when they run 41..100.
	var spans []store.Span
	for h := 0; h < 5; h++ {
		shift := 0
		if h == 4 {
			shift = 40
		}
		for i := 0; i < 60; i++ {
			n := h*60 + i + 1
			var sid store.SpanID
			var tid store.TraceID
			binary.BigEndian.PutUint64(sid[:], uint64(n))
			binary.BigEndian.PutUint64(tid[8:], uint64(n))
			spans = append(spans, store.Span{Tenant: store.DefaultTenant, TraceID: tid, SpanID: sid, Service: "chat", Operation: "chat",
				StartUnixNano: end.Add(time.Duration(h-5)*time.Hour + time.Duration(i)*time.Minute).UnixNano(), OutputTokens: int64(shift + i + 1)})
		}
	}
	if err := st.WriteSpans(ctx, spans); err != nil {
		t.Fatal(err)
	}
	// Each hour against the hour before it.
	m := &drift.Monitor{Name: "chat-length", Filter: drift.Filter{Service: "chat"}, Watch: drift.Watch{Kind: drift.WatchOutputTokens},
		Reference: drift.Reference{Offset: time.Hour}, Current: time.Hour, Every: time.Hour}
	job := &drift.Job{Store: st, Monitors: []*drift.Monitor{m}}
	for h := 3; h >= 0; h-- {
		if err := job.Run(ctx, end.Add(-time.Duration(h)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "quality.yaml"), []byte("slos:\n  - name: chat-quality\n    service: chat\n    drift: chat-length\n    objective: 50%\n    window: 1d\n"), 0o644)
	slos, problems, err := Load([]string{dir}, time.Minute)
	if err != nil || len(problems) > 0 {
		t.Fatalf("%v %v", err, problems)
	}
	s := slos[0]
	e := &Evaluator{Store: st, SLOs: []*SLO{s}}
	if err := e.Run(ctx, end); err != nil {
		t.Fatal(err)
	}
	status, err := Compute(ctx, st, s, end)
	if err != nil {
		t.Fatal(err)
	}
	if status.Counts != (Counts{Good: 3, Total: 4}) || status.Budget.SLI != 0.75 {
		t.Errorf("drift SLI: %+v, SLI %v", status.Counts, status.Budget.SLI)
	}
}
