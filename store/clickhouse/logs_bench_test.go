package clickhouse_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vigil-dev/vigil/store"
)

// BenchmarkLogSearch writes VIGIL_BENCH_LOG_LINES log lines (default
// 1,000,000; the measurement is 10,000,000) of a service's
// chatter, reports lines written per second and bytes on disk per line
// (logs and log_tokens, merged), then times one page (100 lines) of a
// search three ways: through the log_tokens index (what Vigil runs),
// through the tokens column alone (has, every row of the range), and by
// scanning bodies (positionCaseInsensitive) — for a word in one line of
// 100,000 and one in every line.
func BenchmarkLogSearch(b *testing.B) {
	addr := server(b)
	lines := 1_000_000
	if v := os.Getenv("VIGIL_BENCH_LOG_LINES"); v != "" {
		lines, _ = strconv.Atoi(v)
	}
	s, cfg := openFresh(b, addr)
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	start := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	step := int64(24*time.Hour) / int64(lines) // a day of logs
	rng := rand.New(rand.NewPCG(1, 2))
	verbs := []string{"served", "retried", "cached", "queued", "streamed", "throttled"}
	const batch = 10000
	began := time.Now()
	for i := 0; i < lines; i += batch {
		recs := make([]store.LogRecord, 0, batch)
		for j := i; j < min(i+batch, lines); j++ {
			body := fmt.Sprintf("request %08x %s in %dms for tenant-%d model gpt-4o route /v1/chat/completions", rng.Uint32(), verbs[j%len(verbs)], rng.IntN(2000), rng.IntN(500))
			if j%100_000 == 42 {
				body += " needle-" + "zebracorn"
			}
			recs = append(recs, store.LogRecord{Tenant: "acme", ID: uint64(j + 1), TimeUnixNano: start.UnixNano() + int64(j)*step, ObservedUnixNano: start.UnixNano(),
				Service: "chat-gateway", Severity: store.SeverityInfo, Body: body, Resource: store.Attributes{{Key: "host.name", Value: "node-1"}}})
		}
		if err := s.WriteLogs(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	perSec := float64(lines) / time.Since(began).Seconds()
	logBytes, _ := tableOnDisk(b, cfg, "logs")
	tokenBytes, _ := tableOnDisk(b, cfg, "log_tokens")
	bytes := logBytes + tokenBytes

	opts := *cfg.Options
	opts.Auth.Database = cfg.Database
	conn, err := ch.Open(&opts)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	page := func(where string, arg any) int {
		rows, err := conn.Query(ctx, "SELECT time_ns, id, body FROM logs WHERE tenant = 'acme' AND "+where+" ORDER BY time_ns DESC, id DESC LIMIT 100", arg)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
		}
		return n
	}
	for _, word := range []struct{ name, w string }{{"rare", "zebracorn"}, {"common", "completions"}} {
		b.Run("index/"+word.name, func(b *testing.B) {
			for b.Loop() {
				if got, err := s.Logs(ctx, store.LogQuery{Tenant: "acme", Text: word.w}); err != nil || len(got) == 0 {
					b.Fatalf("%d, %v", len(got), err)
				}
			}
			// After the loop: its first round resets reported metrics.
			b.ReportMetric(perSec, "lines-written/s")
			b.ReportMetric(float64(bytes)/float64(lines), "B/line-on-disk")
			b.ReportMetric(float64(tokenBytes)/float64(lines), "B/line-of-index")
		})
		b.Run("tokens-column/"+word.name, func(b *testing.B) {
			for b.Loop() {
				if page("has(tokens, ?)", word.w) == 0 {
					b.Fatal("nothing found")
				}
			}
		})
		b.Run("body-scan/"+word.name, func(b *testing.B) {
			for b.Loop() {
				if page("positionCaseInsensitive(body, ?) > 0", word.w) == 0 {
					b.Fatal("nothing found")
				}
			}
		})
	}
}
