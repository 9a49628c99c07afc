package clickhouse

import (
	"context"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/vigil-dev/vigil/store"
)

// WriteSpansLocal writes spans into the node-local spans table of the
// one cluster member conn is connected to (in database db): what routing
// spans to shards from Vigil itself would send each shard, measured
// against the Distributed table's insert (BenchmarkClusterSpanRouting).
func WriteSpansLocal(ctx context.Context, conn driver.Conn, db string, spans []store.Span) error {
	if len(spans) == 0 {
		return nil
	}
	cols, err := spanBlock(spans)
	if err != nil {
		return err
	}
	d := ddl{database: db, cluster: "routed"}
	return insertSpans(ctx, conn, quoteIdent(db)+"."+quoteIdent(d.local("spans")), cols)
}
