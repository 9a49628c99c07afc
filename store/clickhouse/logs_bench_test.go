package clickhouse_test

import (
	"context"
	"os"
	"testing"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vigil-dev/vigil/store/clickhouse"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
	"github.com/vigil-dev/vigil/store/storetest"
)

// BenchmarkLogSearch writes VIGIL_BENCH_LOG_LINES log lines (default
// 1,000,000; the measurement is 10,000,000) of
// storetest.WriteLogSearchLines, reports lines written per second and
// bytes on disk per line (logs and log_tokens, merged), then times one
// page (100 lines, newest first, every column) of a one-word search for
// each of storetest.LogSearchWords four ways: planned (what Vigil runs:
// the word's log_tokens rows counted, then the index or the tokens
// column), index (the log_tokens lookup whatever the count, the plan
// before the count), tokens-column (has in a PREWHERE, every row of the
// range) and body-scan (positionCaseInsensitive, not the same matches:
// for comparison).
//
// VIGIL_BENCH_LOG_DB names a database to keep the lines in: a run finds
// them there when it holds as many lines, and writes them only when it
// is empty (it reports no write rate then). Drop it when done.
func BenchmarkLogSearch(b *testing.B) {
	addr := server(b)
	lines := storetest.LogSearchLines(b, 1_000_000)
	ctx := context.Background()
	var (
		s   *clickhouse.Store
		cfg clickhouse.Config
	)
	db := os.Getenv("VIGIL_BENCH_LOG_DB")
	if db == "" {
		s, cfg = openFresh(b, addr)
	} else {
		var err error
		if cfg, err = clickhouse.ParseURL("clickhouse://" + addr + "/" + db); err != nil {
			b.Fatal(err)
		}
		if s, err = clickhouse.Open(ctx, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() { s.Close() })

	opts := *cfg.Options
	opts.Auth.Database = cfg.Database
	conn, err := ch.Open(&opts)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var stored uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM logs").Scan(&stored); err != nil {
		b.Fatal(err)
	}
	perSec := 0.0
	switch stored {
	case 0:
		perSec = storetest.WriteLogSearchLines(b, s, lines)
	case uint64(lines):
	default:
		b.Fatalf("database %s holds %d log lines, not 0 or %d", cfg.Database, stored, lines)
	}
	logBytes, _ := tableOnDisk(b, cfg, "logs")
	tokenBytes, _ := tableOnDisk(b, cfg, "log_tokens")
	bytes := logBytes + tokenBytes

	page := func(b *testing.B, prewhere, where string, arg any) {
		q := "SELECT " + sqlq.LogColumns + " FROM logs PREWHERE " + prewhere + " WHERE tenant = ? AND " + where + " ORDER BY time_ns DESC, id DESC LIMIT 100"
		for b.Loop() {
			rows, err := conn.Query(ctx, q, arg, storetest.LogSearchTenant, arg)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			if err := rows.Err(); err != nil || n == 0 {
				b.Fatalf("%d lines, %v", n, err)
			}
		}
	}
	for _, w := range storetest.LogSearchWords {
		b.Run("planned/"+w.Name, func(b *testing.B) {
			storetest.SearchLogPage(b, s, w)
			// After the loop: its first round resets reported metrics.
			if perSec > 0 {
				b.ReportMetric(perSec, "lines-written/s")
			}
			b.ReportMetric(float64(bytes)/float64(lines), "B/line-on-disk")
			b.ReportMetric(float64(tokenBytes)/float64(lines), "B/line-of-index")
		})
		b.Run("index/"+w.Name, func(b *testing.B) {
			page(b, "id IN (SELECT id FROM log_tokens WHERE tenant = '"+storetest.LogSearchTenant+"' AND token = ?)", "has(tokens, ?)", w.Word)
		})
		b.Run("tokens-column/"+w.Name, func(b *testing.B) {
			page(b, "has(tokens, ?)", "has(tokens, ?)", w.Word)
		})
		b.Run("body-scan/"+w.Name, func(b *testing.B) {
			page(b, "positionCaseInsensitive(body, ?) > 0", "positionCaseInsensitive(body, ?) > 0", w.Word)
		})
	}
}
