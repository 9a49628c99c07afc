package storetest

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// BenchmarkLogSLICounts measures what a log-based SLI costs the SLO
// evaluator: rows a day of four services (one line in twenty an error),
// counted per minute for one service over the day (an SLO's first fill,
// which reads a day at a time) and over the last 11 minutes (every tick's
// recomputation). The baseline, in the same run and store, is the span
// availability SLI over as many spans of the same services, read by
// SLICounts: the SLI a log SLI stands in for.
func BenchmarkLogSLICounts(b *testing.B, s store.Store, rows int) {
	ctx := context.Background()
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	step := int64(24*time.Hour) / int64(rows)
	services := []string{"chat-gateway", "ranker", "embedder", "retriever"}
	const batch = 10000
	for i := 0; i < rows; i += batch {
		logs := make([]store.LogRecord, 0, batch)
		spans := make([]store.Span, 0, batch)
		for j := i; j < min(i+batch, rows); j++ {
			at := day.UnixNano() + int64(j)*step
			sev, status := store.SeverityInfo, store.StatusOK
			if j%20 == 7 {
				sev, status = store.SeverityError, store.StatusError
			}
			svc := services[j%len(services)]
			logs = append(logs, store.LogRecord{Tenant: "acme", ID: uint64(j + 1), TimeUnixNano: at, ObservedUnixNano: at, Service: svc, Severity: sev, Body: "request served"})
			sp := store.Span{Tenant: "acme", Service: svc, Operation: "POST /v1/chat", StartUnixNano: at, DurationNano: int64(time.Millisecond), StatusCode: status}
			binary.BigEndian.PutUint64(sp.TraceID[8:], uint64(j+1))
			binary.BigEndian.PutUint64(sp.SpanID[:], uint64(j+1))
			spans = append(spans, sp)
		}
		if err := s.WriteLogs(ctx, logs); err != nil {
			b.Fatal(err)
		}
		if err := s.WriteSpans(ctx, spans); err != nil {
			b.Fatal(err)
		}
	}
	end := day.Add(24 * time.Hour)
	for _, r := range []struct {
		name  string
		start time.Time
	}{{"day", day}, {"11m", end.Add(-11 * time.Minute)}} {
		b.Run("logs/"+r.name, func(b *testing.B) {
			for b.Loop() {
				got, err := s.LogSLICounts(ctx, store.LogSLIQuery{Tenant: "acme", Service: "chat-gateway", MinSeverity: store.SeverityError, Start: r.start, End: end})
				if err != nil || len(got) == 0 {
					b.Fatalf("LogSLICounts: %d minutes, %v", len(got), err)
				}
			}
		})
		b.Run("spans/"+r.name, func(b *testing.B) {
			for b.Loop() {
				got, err := s.SLICounts(ctx, store.SLIQuery{Tenant: "acme", Service: "chat-gateway", Good: "availability", Start: r.start, End: end})
				if err != nil || len(got) == 0 {
					b.Fatalf("SLICounts: %d minutes, %v", len(got), err)
				}
			}
		})
	}
}
