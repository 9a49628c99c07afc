package keda

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store/backend"
)

// BenchmarkGetMetrics measures what one KEDA poll costs: a GetMetrics
// call over loopback gRPC whose recommendation reads the default hour of
// a service at 50 requests/s (180,000 spans, 3,000 a minute), on the
// embedded store and, when VIGIL_TEST_CLICKHOUSE names a server, on
// ClickHouse. B/op counts this process only (client, server and Go
// driver), not DuckDB's or ClickHouse's own memory.
func BenchmarkGetMetrics(b *testing.B) {
	b.Run("embedded", func(b *testing.B) { benchGetMetrics(b, "") })
	b.Run("clickhouse", func(b *testing.B) {
		addr := os.Getenv("VIGIL_TEST_CLICKHOUSE")
		if addr == "" {
			b.Skip("VIGIL_TEST_CLICKHOUSE is not set")
		}
		db := fmt.Sprintf("vigil_keda_bench_%d", time.Now().UnixNano())
		b.Cleanup(func() {
			host, port, _ := strings.Cut(addr, ":")
			exec.Command("clickhouse-client", "--host", host, "--port", port, "--query", "DROP DATABASE IF EXISTS "+db).Run()
		})
		benchGetMetrics(b, "clickhouse://"+addr+"/"+db)
	})
}

func benchGetMetrics(b *testing.B, url string) {
	ctx := context.Background()
	st, err := backend.Open(ctx, url, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	const perMinute = 3000
	seq := 0
	for m := range 60 {
		spans := spansAt(t0.Add(time.Duration(m)*time.Minute), perMinute, time.Duration(100+m)*time.Millisecond, &seq)
		for i := range spans {
			spans[i].SpanID[5] = byte(m) // spansAt's ids are 16-bit
			spans[i].DurationNano += int64(i%100) * int64(time.Millisecond)
		}
		if err := st.WriteSpans(ctx, spans); err != nil {
			b.Fatal(err)
		}
	}
	srv, err := New(Options{ListenAddr: "127.0.0.1:0", Store: st, Guard: auth.Disabled(), Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve()
	b.Cleanup(func() { srv.Shutdown(ctx) })
	conn, err := grpc.NewClient(srv.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	c := &Client{Conn: conn}
	r := ScaledObjectRef{Name: "chat", Namespace: "inference", ScalerMetadata: map[string]string{"service": "chat-gateway", "tenant": "acme", "latencySLO": "0.25", "replicas": "4"}}
	var got []MetricValue
	for b.Loop() {
		if got, err = c.GetMetrics(ctx, r, "vigil-chat-gateway-replicas"); err != nil {
			b.Fatal(err)
		}
	}
	if len(got) != 1 || got[0].MetricValue < 1 {
		b.Fatalf("GetMetrics: %+v", got)
	}
}
