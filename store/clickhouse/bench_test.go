package clickhouse_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/clickhouse"
	"github.com/vigil-dev/vigil/store/storetest"
)

// BenchmarkWriteSpans writes batches of spans into a new database per batch
// size, then merges the spans table to one part (OPTIMIZE ... FINAL) and
// reports its size on disk per span, B/span-on-disk.
func BenchmarkWriteSpans(b *testing.B) {
	addr := server(b)
	for _, batch := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, cfg := openFresh(b, addr)
			b.Cleanup(func() { s.Close() })
			storetest.BenchmarkWriteSpans(b, s, batch)
			bytes, rows := spansOnDisk(b, cfg)
			if rows > 0 {
				b.ReportMetric(float64(bytes)/float64(rows), "B/span-on-disk")
			}
		})
	}
}

// spansOnDisk merges the spans table down to one part per partition and
// returns its active parts' bytes on disk and rows.
func spansOnDisk(b *testing.B, cfg clickhouse.Config) (bytes, rows uint64) {
	b.Helper()
	return tableOnDisk(b, cfg, "spans")
}

// tableOnDisk merges a table down to one part per partition and returns
// its active parts' bytes on disk and rows.
func tableOnDisk(b *testing.B, cfg clickhouse.Config, table string) (bytes, rows uint64) {
	b.Helper()
	ctx := context.Background()
	opts := *cfg.Options
	opts.Auth.Database = cfg.Database
	conn, err := ch.Open(&opts)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	// OPTIMIZE does nothing while background merges hold the parts (18.16
	// says "Can't OPTIMIZE by some reason"), so repeat until it has merged.
	optimize := ch.Context(ctx, ch.WithSettings(ch.Settings{"optimize_throw_if_noop": 1}))
	for deadline := time.Now().Add(2 * time.Minute); ; {
		var parts, partitions uint64
		err := conn.QueryRow(ctx, `SELECT count(), uniqExact(partition_id) FROM system.parts
			WHERE database = ? AND table = ? AND active`, cfg.Database, table).Scan(&parts, &partitions)
		if err != nil {
			b.Fatalf("reading system.parts: %v", err)
		}
		if parts == partitions {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s still has %d parts in %d partitions after OPTIMIZE", table, parts, partitions)
		}
		if err := conn.Exec(optimize, "OPTIMIZE TABLE "+table+" FINAL"); err != nil {
			time.Sleep(200 * time.Millisecond)
		}
	}
	err = conn.QueryRow(ctx, `SELECT sum(bytes_on_disk), sum(rows) FROM system.parts
		WHERE database = ? AND table = ? AND active`, cfg.Database, table).Scan(&bytes, &rows)
	if err != nil {
		b.Fatalf("reading system.parts: %v", err)
	}
	return bytes, rows
}

// BenchmarkClusterWriteSpans is BenchmarkWriteSpans on the cluster in
// VIGIL_TEST_CLICKHOUSE_CLUSTER: inserts into the Distributed table,
// synchronous (insert_distributed_sync), each shard's rows to its first
// live replica and copied from there to the other. B/span-on-disk is one
// copy's: the active parts of one replica of each shard, as background
// merges left them (18.16 fails OPTIMIZE ... ON CLUSTER on Replicated
// tables with "Unknown log entry type: 0").
func BenchmarkClusterWriteSpans(b *testing.B) {
	url := cluster(b)
	for _, batch := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, cfg := openFreshURL(b, url)
			b.Cleanup(func() { s.Close() })
			storetest.BenchmarkWriteSpans(b, s, batch)
			ctx := context.Background()
			opts := *cfg.Options
			opts.Auth.Database = cfg.Database
			conn, err := ch.Open(&opts)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			var bytes, rows uint64
			err = conn.QueryRow(ctx, "SELECT sum(bytes_on_disk), sum(rows) FROM cluster('"+cfg.Cluster+"', system, parts) WHERE database = ? AND table = 'spans_local' AND active",
				cfg.Database).Scan(&bytes, &rows)
			if err != nil {
				b.Fatal(err)
			}
			if rows > 0 {
				b.ReportMetric(float64(bytes)/float64(rows), "B/span-on-disk")
			}
		})
	}
}

// BenchmarkTraceByID reads one 10-span trace by id among 200,000 spans
// (20,000 traces over the last 2 days) on the single server and on the
// cluster: on the cluster every shard is asked, each looks its trace
// index up, and one of them has the spans.
func BenchmarkTraceByID(b *testing.B) {
	for _, name := range []string{"server", "cluster"} {
		b.Run(name, func(b *testing.B) {
			s := traceTargets[name](b)
			b.Cleanup(func() { s.Close() })
			writeBenchTraces(b, s)
			ctx := context.Background()
			const traces, perTrace = benchTraces, benchPerTrace
			i := 0
			for b.Loop() {
				var id store.TraceID
				binary.BigEndian.PutUint64(id[8:], uint64(i*7919%traces+1))
				got, err := s.Trace(ctx, "acme", id)
				if err != nil || len(got) != perTrace {
					b.Fatalf("trace %x: %d spans, %v", id, len(got), err)
				}
				i++
			}
		})
	}
}

// BenchmarkLogSLICounts counts a log SLI's minutes, beside the span SLI
// it stands in for, over a day of 1,000,000 rows each.
func BenchmarkLogSLICounts(b *testing.B) {
	s, _ := openFresh(b, server(b))
	b.Cleanup(func() { s.Close() })
	storetest.BenchmarkLogSLICounts(b, s, 1_000_000)
}
