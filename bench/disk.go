package bench

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vigil-dev/vigil/store/clickhouse"
)

// DiskUsage is what spans take on disk in ClickHouse.
type DiskUsage struct {
	Spans     uint64 // rows in spans
	SpanBytes uint64 // bytes on disk of spans
	// IndexBytes is the bytes on disk of the tables the spans' views fill
	// (trace_index, trace_locations, span_names): what a span costs
	// beyond its own row.
	IndexBytes uint64
}

// SpanDiskUsage merges the spans table and those its views fill in the store URL's
// database (OPTIMIZE ... FINAL, repeated until each partition is one part,
// since ClickHouse skips it while background merges run) and reads their
// size from system.parts.
func SpanDiskUsage(ctx context.Context, storeURL string) (DiskUsage, error) {
	cfg, err := clickhouse.ParseURL(storeURL)
	if err != nil {
		return DiskUsage{}, err
	}
	opts := *cfg.Options
	opts.Auth.Database = cfg.Database
	conn, err := ch.Open(&opts)
	if err != nil {
		return DiskUsage{}, err
	}
	defer conn.Close()
	var u DiskUsage
	for _, table := range []string{"spans", "trace_index", "trace_locations", "span_names"} {
		optimize := ch.Context(ctx, ch.WithSettings(ch.Settings{"optimize_throw_if_noop": 1}))
		for deadline := time.Now().Add(5 * time.Minute); ; {
			var parts, partitions uint64
			if err := conn.QueryRow(ctx, `SELECT count(), uniqExact(partition_id) FROM system.parts WHERE database = ? AND table = ? AND active`, cfg.Database, table).Scan(&parts, &partitions); err != nil {
				return u, err
			}
			if parts == partitions {
				break
			}
			if time.Now().After(deadline) {
				return u, fmt.Errorf("%s still has %d parts after OPTIMIZE", table, parts)
			}
			if err := conn.Exec(optimize, "OPTIMIZE TABLE "+table+" FINAL"); err != nil {
				time.Sleep(200 * time.Millisecond)
			}
		}
		var bytes, rows uint64
		if err := conn.QueryRow(ctx, `SELECT sum(bytes_on_disk), sum(rows) FROM system.parts WHERE database = ? AND table = ? AND active`, cfg.Database, table).Scan(&bytes, &rows); err != nil {
			return u, err
		}
		if table == "spans" {
			u.Spans, u.SpanBytes = rows, bytes
		} else {
			u.IndexBytes += bytes
		}
	}
	return u, nil
}
