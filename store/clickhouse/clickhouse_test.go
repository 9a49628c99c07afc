package clickhouse_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/clickhouse"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
	"github.com/vigil-dev/vigil/store/storetest"
)

// server returns the address in VIGIL_TEST_CLICKHOUSE, or skips: the
// ClickHouse conformance run needs a server, which .ci/run and
// scripts/test start.
func server(t testing.TB) string {
	addr := os.Getenv("VIGIL_TEST_CLICKHOUSE")
	if addr == "" && os.Getenv("VIGIL_TEST_STRICT") != "" {
		t.Fatal("VIGIL_TEST_STRICT is set but VIGIL_TEST_CLICKHOUSE names no server")
	}
	if addr == "" {
		t.Skip("VIGIL_TEST_CLICKHOUSE is not set: no ClickHouse server to test against (scripts/test starts one)")
	}
	return addr
}

// cluster returns the store URL (no database) in
// VIGIL_TEST_CLICKHOUSE_CLUSTER, or skips: scripts/clickhouse-cluster
// starts one, and .ci/run and scripts/test set it.
func cluster(t testing.TB) string {
	url := os.Getenv("VIGIL_TEST_CLICKHOUSE_CLUSTER")
	if url == "" && os.Getenv("VIGIL_TEST_STRICT") != "" {
		t.Fatal("VIGIL_TEST_STRICT is set but VIGIL_TEST_CLICKHOUSE_CLUSTER names no cluster")
	}
	if url == "" {
		t.Skip("VIGIL_TEST_CLICKHOUSE_CLUSTER is not set: no ClickHouse cluster to test against (scripts/test starts one)")
	}
	return url
}

// openFresh opens a store in a database of its own on the server at addr,
// dropped after the test.
func openFresh(t testing.TB, addr string) (*clickhouse.Store, clickhouse.Config) {
	return openFreshURL(t, "clickhouse://"+addr)
}

// openFreshURL is openFresh for a store URL without a database, such as
// a cluster's.
func openFreshURL(t testing.TB, url string) (*clickhouse.Store, clickhouse.Config) {
	t.Helper()
	db := fmt.Sprintf("vigil_test_%d", time.Now().UnixNano())
	hosts, query, _ := strings.Cut(url, "?")
	cfg, err := clickhouse.ParseURL(hosts + "/" + db + "?" + query)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The suite closed s; drop the database through a new connection.
		s2, err := clickhouse.Open(ctx, cfg)
		if err == nil {
			s2.DropDatabase(ctx)
			s2.Close()
		}
	})
	return s, cfg
}

func TestConformance(t *testing.T) {
	addr := server(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openFresh(t, addr)
		return s
	})
}

// TestConformanceLogsScanned runs the log search cases again with every
// word that has an index row taken as too common for the index: the
// tokens-column plan must find what the index plan finds.
func TestConformanceLogsScanned(t *testing.T) {
	addr := server(t)
	saved := sqlq.IndexedRowsLimit
	sqlq.IndexedRowsLimit = 0
	t.Cleanup(func() { sqlq.IndexedRowsLimit = saved })
	storetest.RunLogs(t, func(t *testing.T) store.Store {
		s, _ := openFresh(t, addr)
		return s
	})
}

// TestClusterConformance runs the suite, unchanged, on two shards of two
// replicas: Replicated tables under Distributed ones.
func TestClusterConformance(t *testing.T) {
	url := cluster(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openFreshURL(t, url)
		return s
	})
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	// Nothing listens on port 1: one clear line naming the address.
	cfg, err := clickhouse.ParseURL("clickhouse://127.0.0.1:1/vigil?dial_timeout=1s")
	if err != nil {
		t.Fatal(err)
	}
	_, err = clickhouse.Open(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), "cannot reach ClickHouse at 127.0.0.1:1") || strings.Contains(err.Error(), "\n") {
		t.Errorf("unreachable server: %v", err)
	}

	addr := server(t)
	// A cluster the server does not know: named, not a failure at the
	// first ON CLUSTER statement.
	cfg, err = clickhouse.ParseURL("clickhouse://" + addr + "/vigil_nocluster?cluster=nowhere")
	if err != nil {
		t.Fatal(err)
	}
	if _, err = clickhouse.Open(ctx, cfg); err == nil || !strings.Contains(err.Error(), `no cluster "nowhere" in the server's remote_servers`) {
		t.Errorf("unknown cluster: %v", err)
	}

	s, cfg := openFresh(t, addr)
	s.Close()
	// A newer Vigil migrated this database: refuse to touch it.
	opts := *cfg.Options
	opts.Auth.Database = cfg.Database
	conn, err := ch.Open(&opts)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	b, err := conn.PrepareBatch(ctx, "INSERT INTO vigil_schema (version, applied)")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(uint32(999), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	_, err = clickhouse.Open(ctx, cfg)
	var tooNew *store.SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Version != 999 {
		t.Errorf("schema from the future: %v", err)
	}
}
