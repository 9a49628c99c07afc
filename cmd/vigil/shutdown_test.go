package main

import (
	"context"
	"database/sql"
	be "encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/opentracing/opentracing-go"
	jaegerclient "github.com/uber/jaeger-client-go"
	jaegercfg "github.com/uber/jaeger-client-go/config"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store/embedded"
)

// otlpLoad exports spans in a loop through the OpenTelemetry SDK's OTLP
// exporters and keeps the trace id of every span an export acknowledged.
type otlpLoad struct {
	next      atomic.Uint64 // span counter: trace and span ids
	sigterm   atomic.Bool   // SIGTERM has been sent
	mu        sync.Mutex
	acked     map[string]bool // trace ids (hex) of acknowledged spans; guarded by mu
	refused   []string        // exports the collector refused as shutting down; guarded by mu
	inFlight  int             // exports started before SIGTERM and answered after; guarded by mu
	ackedLate int             // of those, acknowledged; guarded by mu
}

// batch makes n spans of one service, each its own trace.
func (l *otlpLoad) batch(service string, n int) ([]sdktrace.ReadOnlySpan, []string) {
	res := resource.NewSchemaless(attribute.String("service.name", service))
	stubs := make(tracetest.SpanStubs, n)
	ids := make([]string, n)
	now := time.Now()
	for i := range stubs {
		c := l.next.Add(1)
		var tid trace.TraceID
		copy(tid[:8], "sigterm!")
		be.BigEndian.PutUint64(tid[8:], c)
		var sid trace.SpanID
		be.BigEndian.PutUint64(sid[:], c)
		stubs[i] = tracetest.SpanStub{
			Name:        "infer",
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}),
			SpanKind:    trace.SpanKindServer,
			StartTime:   now,
			EndTime:     now.Add(time.Millisecond),
			Resource:    res,
		}
		ids[i] = hex.EncodeToString(tid[:])
	}
	return stubs.Snapshots(), ids
}

// run exports batches until stop is closed.
func (l *otlpLoad) run(exp sdktrace.SpanExporter, service string, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		spans, ids := l.batch(service, 50)
		before := l.sigterm.Load()
		err := exp.ExportSpans(context.Background(), spans)
		after := l.sigterm.Load()
		l.mu.Lock()
		if !before && after {
			l.inFlight++
		}
		if err == nil {
			for _, id := range ids {
				l.acked[id] = true
			}
			if !before && after {
				l.ackedLate++
			}
		} else if strings.Contains(err.Error(), collector.ErrClosed.Error()) {
			l.refused = append(l.refused, service+": "+err.Error())
		}
		l.mu.Unlock()
		if err != nil {
			time.Sleep(10 * time.Millisecond) // the port is going away: do not spin
		}
	}
}

// udpLoad reports spans through jaeger-client-go's UDP agent transport
// until stop is closed.
func udpLoad(t *testing.T, addr, service string, stop <-chan struct{}) {
	cfg := jaegercfg.Configuration{
		ServiceName: service,
		Sampler:     &jaegercfg.SamplerConfig{Type: jaegerclient.SamplerTypeConst, Param: 1},
		Reporter:    &jaegercfg.ReporterConfig{LocalAgentHostPort: addr, BufferFlushInterval: 10 * time.Millisecond, QueueSize: 10000},
	}
	tracer, closer, err := cfg.NewTracer()
	if err != nil {
		t.Error(err)
		return
	}
	defer closer.Close()
	for {
		select {
		case <-stop:
			return
		default:
		}
		sp := tracer.StartSpan("rank", opentracing.Tag{Key: "span.kind", Value: "server"})
		sp.Finish()
		time.Sleep(500 * time.Microsecond)
	}
}

// udpAccount is the UDP receiver's account of what it read, from the log
// line it writes when it stops.
var udpAccount = regexp.MustCompile(`msg="Jaeger agent UDP stopped" (?:\S+ )*?datagrams=(\d+) undecodable=(\d+) spans_read=(\d+) spans_written=(\d+) spans_dropped=(\d+)`)

// TestSIGTERMLosesNothingAcknowledged sends spans steadily to vigil serve
// (embedded store) through the SDK's OTLP gRPC and HTTP exporters and
// jaeger-client-go's UDP agent transport, sends SIGTERM in the middle,
// starts vigil again on the same data directory (which replays anything
// spooled), stops it and reads the store. It checks:
//
//   - every span an OTLP export acknowledged is stored;
//   - no export was refused as "collector is shutting down": a request the
//     collector accepted is answered once durable, never refused because
//     the pipeline stopped before the port;
//   - UDP has no acknowledgement, so the rule is that every span the agent
//     receiver read is stored: its account at shutdown says how many it
//     wrote and that it dropped none, and the store holds exactly those.
func TestSIGTERMLosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	// A long batch age keeps every export waiting in the pipeline for a
	// while, so exports are in flight when SIGTERM comes.
	// The Jaeger agent's UDP carries no credential: a trusted network.
	v := startServe(t, "", "--data-dir", dir, "--collector.max-batch-age", "500ms", "--auth.anonymous-ingest-tenant", "default")

	load := &otlpLoad{acked: map[string]bool{}}
	stop := make(chan struct{})
	var senders sync.WaitGroup
	for i := 0; i < 4; i++ {
		g, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(v.grpc), otlptracegrpc.WithInsecure(),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}), otlptracegrpc.WithTimeout(20*time.Second), otlptracegrpc.WithHeaders(headers(v.grpc)))
		if err != nil {
			t.Fatal(err)
		}
		h, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpoint(v.http), otlptracehttp.WithInsecure(),
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}), otlptracehttp.WithTimeout(20*time.Second), otlptracehttp.WithHeaders(headers(v.http)))
		if err != nil {
			t.Fatal(err)
		}
		senders.Add(2)
		go func() { defer senders.Done(); load.run(g, "sigterm-otlp-grpc", stop) }()
		go func() { defer senders.Done(); load.run(h, "sigterm-otlp-http", stop) }()
		defer g.Shutdown(context.Background())
		defer h.Shutdown(context.Background())
	}
	for i := 0; i < 2; i++ {
		senders.Add(1)
		go func() { defer senders.Done(); udpLoad(t, v.udp, "sigterm-udp", stop) }()
	}

	// Steady load for a while, then SIGTERM in the middle of it.
	waitUntil(t, 30*time.Second, func() bool { load.mu.Lock(); defer load.mu.Unlock(); return len(load.acked) >= 1000 })
	time.Sleep(time.Second)
	load.sigterm.Store(true)
	v.cmd.Process.Signal(syscall.SIGTERM)
	if code := v.wait(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, v.stderr)
	}
	close(stop)
	senders.Wait()
	stderr := v.stderr.String()

	m := udpAccount.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no account of the UDP receiver in the log:\n%s", stderr)
	}
	udpWritten, _ := strconv.Atoi(m[4])
	if m[5] != "0" || udpWritten == 0 {
		t.Errorf("UDP receiver: %s", m[0])
	}

	// Start again on the same directory: anything spooled is replayed.
	v = startServe(t, "", "--data-dir", dir)
	waitUntil(t, 30*time.Second, func() bool {
		_, body := get(t, v.proc, "http://"+v.web+"/metrics")
		return strings.Contains(body, `vigil_collector_spool_bytes{signal="spans"} 0`)
	})
	v.stop(t)

	c, err := duckdb.NewConnector(filepath.Join(dir, embedded.FileName), nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	stored := map[string]bool{}
	rows, err := db.Query(`SELECT lower(hex(trace_id)) FROM spans WHERE service LIKE 'sigterm-otlp-%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		stored[id] = true
	}
	rows.Close()
	var udpStored int
	if err := db.QueryRow(`SELECT count(*) FROM spans WHERE service = 'sigterm-udp'`).Scan(&udpStored); err != nil {
		t.Fatal(err)
	}

	load.mu.Lock()
	defer load.mu.Unlock()
	missing := 0
	for id := range load.acked {
		if !stored[id] {
			missing++
		}
	}
	t.Logf("OTLP: %d spans acknowledged, %d stored; %d exports in flight at SIGTERM, %d of them acknowledged; UDP: %s, %d stored",
		len(load.acked), len(stored), load.inFlight, load.ackedLate, m[0], udpStored)
	if missing > 0 {
		t.Errorf("%d of %d acknowledged OTLP spans are not in the store", missing, len(load.acked))
	}
	if len(load.refused) > 0 {
		t.Errorf("%d exports accepted and then refused because the collector was shutting down, e.g. %s", len(load.refused), load.refused[0])
	}
	if udpStored != udpWritten {
		t.Errorf("the UDP receiver wrote %d spans it read; the store holds %d", udpWritten, udpStored)
	}
	if load.inFlight == 0 {
		t.Errorf("no export was in flight at SIGTERM: the test proved nothing")
	}
}

func waitUntil(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached in %s", d)
		}
	}
}

// TestShutdownTimeoutBoundsTheDrain: a request that never finishes sending
// its body holds the ingest HTTP port only until --shutdown-timeout, and
// the store is still closed cleanly after it.
func TestShutdownTimeoutBoundsTheDrain(t *testing.T) {
	dir := t.TempDir()
	v := startServe(t, "", "--data-dir", dir, "--shutdown-timeout", "1s")
	conn, err := net.Dial("tcp", v.http)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/traces HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000\r\n\r\nonly part of it")
	// Wait until the server is reading the body (the request is active).
	time.Sleep(200 * time.Millisecond)
	v.cmd.Process.Signal(syscall.SIGTERM)
	if code := v.wait(t); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, v.stderr)
	}
	stderr := v.stderr.String()
	if !strings.Contains(stderr, `msg="stopped past the shutdown deadline" component=collector err="ingest HTTP: context deadline exceeded"`) {
		t.Errorf("no sign of the deadline in the log:\n%s", stderr)
	}
	// The store was closed: another process opens it.
	s, err := embedded.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}
