package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// LogSearchWord is a word the log search benchmarks look up, in one line
// of every Every.
type LogSearchWord struct {
	Name, Word string
	Every      int
}

// LogSearchWords are the benchmarks' words, rarest first: at 10,000,000
// lines they are in 100, 10,000, 100,000, about 1,670,000 and 10,000,000
// lines.
var LogSearchWords = []LogSearchWord{
	{"rare", "zebracorn", 100_000},
	{"1-in-1000", "sporadic", 1000},
	{"1-in-100", "degraded", 100},
	{"1-in-6", "throttled", 6},
	{"every", "completions", 1},
}

// LogSearchTenant is the tenant of the benchmarks' lines.
const LogSearchTenant = "acme"

// LogSearchLines is VIGIL_BENCH_LOG_LINES, or def when it is not set.
func LogSearchLines(b *testing.B, def int) int {
	v := os.Getenv("VIGIL_BENCH_LOG_LINES")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("VIGIL_BENCH_LOG_LINES=%q is not a positive number", v)
	}
	return n
}

// WriteLogSearchLines writes lines log lines of one service's chatter over
// one day (a random request id, one of six verbs, a duration, one of 500
// tenants in the text, and the LogSearchWords at their rates) through
// WriteLogs in batches of 10,000, and returns the lines written a second.
func WriteLogSearchLines(b *testing.B, s store.Store, lines int) float64 {
	b.Helper()
	ctx := context.Background()
	start := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	step := int64(24*time.Hour) / int64(lines)
	rng := rand.New(rand.NewPCG(1, 2))
	verbs := []string{"served", "retried", "cached", "queued", "streamed", "throttled"}
	const batch = 10000
	recs := make([]store.LogRecord, 0, batch)
	began := time.Now()
	for i := 0; i < lines; i += batch {
		recs = recs[:0]
		for j := i; j < min(i+batch, lines); j++ {
			body := fmt.Sprintf("request %08x %s in %dms for tenant-%d model gpt-4o route /v1/chat/completions", rng.Uint32(), verbs[j%len(verbs)], rng.IntN(2000), rng.IntN(500))
			switch {
			case j%100_000 == 42:
				body += " needle-zebracorn"
			case j%1000 == 7:
				body += " sporadic"
			case j%100 == 3:
				body += " degraded"
			}
			recs = append(recs, store.LogRecord{Tenant: LogSearchTenant, ID: uint64(j + 1), TimeUnixNano: start.UnixNano() + int64(j)*step, ObservedUnixNano: start.UnixNano(),
				Service: "chat-gateway", Severity: store.SeverityInfo, Body: body, Resource: store.Attributes{{Key: "host.name", Value: "node-1"}}})
		}
		if err := s.WriteLogs(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	return float64(lines) / time.Since(began).Seconds()
}

// SearchLogPage times one page (100 lines, newest first) of s's search for
// w, what GET /api/v1/logs?q= runs, and fails if it finds nothing.
func SearchLogPage(b *testing.B, s store.Store, w LogSearchWord) {
	ctx := context.Background()
	for b.Loop() {
		got, err := s.Logs(ctx, store.LogQuery{Tenant: LogSearchTenant, Text: w.Word, Limit: 100})
		if err != nil || len(got) == 0 {
			b.Fatalf("searching for %q: %d lines, %v", w.Word, len(got), err)
		}
	}
}
