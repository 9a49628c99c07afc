package bench

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// TestRawInsertFloor inserts the floor's spans into a fresh database and
// reads them back: every row there, with the columns the collector fills.
func TestRawInsertFloor(t *testing.T) {
	addr := os.Getenv("VIGIL_TEST_CLICKHOUSE")
	if addr == "" {
		if os.Getenv("VIGIL_TEST_STRICT") != "" {
			t.Fatal("VIGIL_TEST_CLICKHOUSE is not set")
		}
		t.Skip("VIGIL_TEST_CLICKHOUSE is not set")
	}
	ctx := context.Background()
	db := fmt.Sprintf("bench_floor_%d", time.Now().UnixNano())
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: the database is dropped, then the
	// connection closed.
	t.Cleanup(func() { conn.Close() })
	t.Cleanup(func() {
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Errorf("cannot drop %s: %v", db, err)
		}
	})

	res, err := RawInsertFloor(ctx, "clickhouse://"+addr+"/"+db, 2000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 2000 || res.CPUSeconds <= 0 {
		t.Fatalf("rows %d, CPU %v s", res.Rows, res.CPUSeconds)
	}
	var rows, models, withTokens uint64
	var attrs uint64
	q := "SELECT count(), uniqExact(model), countIf(input_tokens > 0 AND cost > 0), max(length(attr_keys)) FROM " + db + ".spans"
	if err := conn.QueryRow(ctx, q).Scan(&rows, &models, &withTokens, &attrs); err != nil {
		t.Fatal(err)
	}
	if rows != 2000 || models != 4 || withTokens != 2000 || attrs != 8 {
		t.Errorf("%d rows, %d models, %d with tokens and a cost, %d attributes", rows, models, withTokens, attrs)
	}
}
