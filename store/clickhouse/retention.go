package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/vigil-dev/vigil/store"
)

// retained lists, per signal, the tables and the DateTime or Date column
// their daily partition key (toYYYYMMDD) is computed from.
var retained = map[store.Signal][]struct{ table, column string }{
	store.SignalSpans:   {{"spans", "timestamp"}, {"trace_index", "day"}, {"trace_locations", "day"}, {"span_names", "day"}},
	store.SignalSamples: {{"metric_samples", "timestamp"}},
	store.SignalRollups: {{"sli_rollups", "minute"}, {"sli_rollups_hourly", "hour"}},
	store.SignalEvents:  {{"events", "time"}},
	store.SignalLogs:    {{"logs", "timestamp"}, {"log_tokens", "timestamp"}},
}

// DropBefore drops the daily partitions before cutoff's day. It finds them
// by querying the (Distributed, in a cluster) table rather than
// system.parts, which only knows the local node's parts.
func (s *Store) DropBefore(ctx context.Context, sig store.Signal, cutoff time.Time) error {
	tables, ok := retained[sig]
	if !ok {
		return fmt.Errorf("no retention for signal %q", sig)
	}
	day := store.RetentionDay(cutoff)
	for _, t := range tables {
		rows, err := s.conn.Query(ctx, fmt.Sprintf("SELECT DISTINCT toYYYYMMDD(%s) AS p FROM %s WHERE p < %s", t.column, t.table, day.Format("20060102")))
		if err != nil {
			return fmt.Errorf("cannot list partitions of %s: %w", t.table, err)
		}
		var parts []uint32
		for rows.Next() {
			var p uint32
			if err := rows.Scan(&p); err != nil {
				rows.Close()
				return err
			}
			parts = append(parts, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, p := range parts {
			stmt := fmt.Sprintf("ALTER TABLE %s.%s DROP PARTITION %d", quoteIdent(s.ddl.database), quoteIdent(s.ddl.local(t.table)), p)
			if err := s.onShards(ctx, func(conn driver.Conn) error { return conn.Exec(ctx, stmt) }); err != nil {
				return fmt.Errorf("cannot drop partition %d of %s: %w", p, t.table, err)
			}
		}
	}
	return nil
}
