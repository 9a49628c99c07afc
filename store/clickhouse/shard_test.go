package clickhouse_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/go-faster/city"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/clickhouse"
	"github.com/vigil-dev/vigil/store/storetest"
)

// spanShardKey is the spans' sharding expression, cityHash64(tenant,
// trace_id), computed as ClickHouse computes it: each argument hashed
// with CityHash64 v1.0.2 (city.CH64, the version ClickHouse froze), the
// hashes of several arguments combined with CityHash's Hash128to64.
func spanShardKey(tenant string, trace store.TraceID) uint64 {
	return hash128to64(city.CH64([]byte(tenant)), city.CH64(trace[:]))
}

// hash128to64 is CityHash's Hash128to64 of the pair (low, high), with
// which ClickHouse folds each further argument's hash into the first's.
func hash128to64(low, high uint64) uint64 {
	const mul = 0x9ddfea08eb382d69
	a := (low ^ high) * mul
	a ^= a >> 47
	b := (high ^ a) * mul
	b ^= b >> 47
	return b * mul
}

// TestSpanShardKeyMatchesServer compares spanShardKey with the server's
// cityHash64 over tenants of every length CityHash treats apart (0-16,
// 17-32, 33-64 and longer bytes) and random trace ids.
func TestSpanShardKeyMatchesServer(t *testing.T) {
	conn, err := ch.Open(&ch.Options{Addr: []string{server(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 130 {
		tenant := make([]byte, n)
		for i := range tenant {
			tenant[i] = byte(rng.IntN(256))
		}
		var trace store.TraceID
		binary.BigEndian.PutUint64(trace[:8], rng.Uint64())
		binary.BigEndian.PutUint64(trace[8:], rng.Uint64())
		var want uint64
		if err := conn.QueryRow(context.Background(), "SELECT cityHash64(?, toFixedString(?, 16))", string(tenant), string(trace[:])).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got := spanShardKey(string(tenant), trace); got != want {
			t.Errorf("tenant of %d bytes, trace %x: %d, the server says %d", n, trace, got, want)
		}
	}
}

// clusterShards are connections to one replica of each shard of a
// cluster, and the weights the Distributed table shards by.
type clusterShards struct {
	conns   []driver.Conn // by shard_num - 1
	weights []uint64
}

// openShards connects to the first replica of each shard of the store's
// cluster, as system.clusters lists them.
func openShards(t testing.TB, cfg clickhouse.Config) *clusterShards {
	t.Helper()
	ctx := context.Background()
	opts := *cfg.Options
	opts.Auth.Database = cfg.Database
	conn, err := ch.Open(&opts)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(ctx, "SELECT shard_num, shard_weight, host_address, port FROM system.clusters WHERE cluster = ? AND replica_num = 1 ORDER BY shard_num", cfg.Cluster)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	s := &clusterShards{}
	for rows.Next() {
		var num, weight uint32
		var host string
		var port uint16
		if err := rows.Scan(&num, &weight, &host, &port); err != nil {
			t.Fatal(err)
		}
		o := opts
		o.Addr = []string{fmt.Sprintf("%s:%d", host, port)}
		c, err := ch.Open(&o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		s.conns = append(s.conns, c)
		s.weights = append(s.weights, uint64(weight))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(s.conns) == 0 {
		t.Fatalf("cluster %s has no shards", cfg.Cluster)
	}
	return s
}

// shardOf is the shard (index into conns) the Distributed table sends a
// row of key to: key modulo the total weight picks a slot, and each shard
// takes as many slots as its weight, in shard order.
func (s *clusterShards) shardOf(key uint64) int {
	var total uint64
	for _, w := range s.weights {
		total += w
	}
	slot := key % total
	for i, w := range s.weights {
		if slot < w {
			return i
		}
		slot -= w
	}
	panic("unreachable")
}

// routedSpans is a store whose WriteSpans routes each batch to the
// shards itself: the spans of each shard in one insert into that shard's
// local table, the shards at once.
type routedSpans struct {
	*clickhouse.Store
	db     string
	shards *clusterShards
}

func (r routedSpans) WriteSpans(ctx context.Context, spans []store.Span) error {
	parts := make([][]store.Span, len(r.shards.conns))
	for _, sp := range spans {
		i := r.shards.shardOf(spanShardKey(sp.Tenant, sp.TraceID))
		parts[i] = append(parts[i], sp)
	}
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Go(func() { errs[i] = clickhouse.WriteSpansLocal(ctx, r.shards.conns[i], r.db, p) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("shard %d: %w", i+1, err)
		}
	}
	return nil
}

// TestSpanRoutingMatchesDistributed writes spans of many traces and
// tenants through the Distributed table and checks that every row
// landed on the shard shardOf names: Vigil's routing sends each span
// where the cluster itself would.
func TestSpanRoutingMatchesDistributed(t *testing.T) {
	s, cfg := openFreshURL(t, cluster(t))
	defer s.Close()
	shards := openShards(t, cfg)
	ctx := context.Background()
	var spans []store.Span
	for i := range 2000 {
		var sp store.Span
		sp.Tenant = strings.Repeat("t", i%40)
		sp.Service, sp.Operation = "svc", "op"
		binary.BigEndian.PutUint64(sp.TraceID[8:], uint64(i/3+1))
		binary.BigEndian.PutUint64(sp.SpanID[:], uint64(i+1))
		sp.StartUnixNano = 1_700_000_000_000_000_000 + int64(i)
		spans = append(spans, sp)
	}
	if err := s.WriteSpans(ctx, spans); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for i, conn := range shards.conns {
		rows, err := conn.Query(ctx, "SELECT tenant, trace_id FROM "+cfg.Database+".spans_local")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var tenant, trace string
			if err := rows.Scan(&tenant, &trace); err != nil {
				t.Fatal(err)
			}
			var id store.TraceID
			copy(id[:], trace)
			if got := shards.shardOf(spanShardKey(tenant, id)); got != i {
				t.Errorf("tenant %q trace %x is on shard %d, routing says %d", tenant, id, i+1, got+1)
			}
			seen++
		}
		rows.Close()
	}
	if seen != len(spans) {
		t.Errorf("%d spans on the shards' first replicas, %d written", seen, len(spans))
	}
}

// BenchmarkClusterSpanRouting inserts the same batches of 10,000 spans
// into the cluster in VIGIL_TEST_CLICKHOUSE_CLUSTER two ways, each into a
// fresh database: through the Distributed table (insert_distributed_sync,
// the store's write path), and routed by Vigil (the shard key computed in
// Go, one insert per shard into its local table, the shards at once).
// Both return once one replica of every shard holds its rows.
func BenchmarkClusterSpanRouting(b *testing.B) {
	url := cluster(b)
	for _, how := range []string{"distributed", "routed"} {
		b.Run(how+"/batch=10000", func(b *testing.B) {
			s, cfg := openFreshURL(b, url)
			b.Cleanup(func() { s.Close() })
			var st store.Store = s
			if how == "routed" {
				st = routedSpans{Store: s, db: cfg.Database, shards: openShards(b, cfg)}
			}
			storetest.BenchmarkWriteSpans(b, st, 10000)
		})
	}
}
