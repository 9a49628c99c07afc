package clickhouse_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vigil-dev/vigil/store"
)

// TestClusterRetentionEveryReplica drops old days of spans on the cluster
// and asks every server, not the Distributed table, which days its
// replica still holds: a partition dropped on one replica of a shard and
// not the other would come back in reads when that one answers.
func TestClusterRetentionEveryReplica(t *testing.T) {
	s, cfg := openFreshURL(t, cluster(t))
	defer s.Close()
	ctx := context.Background()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var spans []store.Span
	for day := range 4 {
		for i := range 50 { // enough traces that both shards hold some of each day
			var sp store.Span
			sp.Tenant, sp.Service, sp.Operation = "acme", "svc", "op"
			binary.BigEndian.PutUint64(sp.TraceID[8:], uint64(day*1000+i+1))
			binary.BigEndian.PutUint64(sp.SpanID[:], uint64(day*1000+i+1))
			sp.StartUnixNano = today.Add(-time.Duration(day)*24*time.Hour + time.Hour).UnixNano()
			spans = append(spans, sp)
		}
	}
	if err := s.WriteSpans(ctx, spans); err != nil {
		t.Fatal(err)
	}
	cutoff := today.Add(-24 * time.Hour) // keeps today and yesterday
	if err := s.DropBefore(ctx, store.SignalSpans, cutoff); err != nil {
		t.Fatal(err)
	}
	keep := map[string]bool{today.Format("20060102"): true, cutoff.Format("20060102"): true}
	for _, addr := range cfg.Options.Addr {
		opts := *cfg.Options
		opts.Addr = []string{addr}
		opts.Auth.Database = cfg.Database
		conn, err := ch.Open(&opts)
		if err != nil {
			t.Fatal(err)
		}
		// Replication of the drop is asynchronous on the other replica.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			var kept, stale uint64
			err := conn.QueryRow(ctx, `SELECT countIf(partition IN (?, ?)), countIf(partition NOT IN (?, ?))
				FROM system.parts WHERE database = ? AND table IN ('spans_local', 'trace_index_local') AND active`,
				today.Format("20060102"), cutoff.Format("20060102"), today.Format("20060102"), cutoff.Format("20060102"), cfg.Database).Scan(&kept, &stale)
			if err != nil {
				t.Fatalf("%s: %v", addr, err)
			}
			if stale == 0 && kept > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d parts of dropped days left, %d of kept days (%v)", addr, stale, kept, keep)
			}
		}
		conn.Close()
	}
}
