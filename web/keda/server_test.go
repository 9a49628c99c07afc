package keda

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
	pb "github.com/vigil-dev/vigil/web/keda/externalscaler"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// spansAt returns n spans of chat-gateway in the minute starting at, each
// taking d, spread evenly over the minute.
func spansAt(at time.Time, n int, d time.Duration, seq *int) []store.Span {
	var out []store.Span
	for i := range n {
		*seq++
		sp := store.Span{Tenant: "acme", Service: "chat-gateway", Operation: "generate", DurationNano: int64(d),
			StartUnixNano: at.Add(time.Duration(i) * time.Minute / time.Duration(n)).UnixNano()}
		sp.TraceID[0], sp.TraceID[14], sp.TraceID[15] = 1, byte(*seq>>8), byte(*seq)
		sp.SpanID[6], sp.SpanID[7] = byte(*seq>>8), byte(*seq)
		out = append(out, sp)
	}
	return out
}

type fixture struct {
	store  *embedded.Store
	client *Client
	server *Server
	now    atomic.Int64 // unix nanoseconds
	seq    int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{store: st}
	f.now.Store(t0.Add(10*time.Minute + 30*time.Second).UnixNano())
	srv, err := New(Options{ListenAddr: "127.0.0.1:0", Store: st, Guard: auth.Disabled(), Now: func() time.Time { return time.Unix(0, f.now.Load()).UTC() },
		StreamInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f.server = srv
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	conn, err := grpc.NewClient(srv.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f.client = &Client{Conn: conn}

	// Minutes 0-4: 60 spans of 200 ms (1 request/s, within a 0.5 s SLO);
	// minutes 5-9: 180 spans of 1 s (3 requests/s, over it).
	var spans []store.Span
	for m := range 10 {
		n, d := 60, 200*time.Millisecond
		if m >= 5 {
			n, d = 180, time.Second
		}
		spans = append(spans, spansAt(t0.Add(time.Duration(m)*time.Minute), n, d, &f.seq)...)
	}
	if err := st.WriteSpans(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
	return f
}

func ref(md map[string]string) ScaledObjectRef {
	base := map[string]string{"scalerAddress": "vigil.monitoring:9443", "service": "chat-gateway", "tenant": "acme", "latencySLO": "0.5", "history": "10m"}
	for k, v := range md {
		if v == "" {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	return ScaledObjectRef{Name: "chat", Namespace: "inference", ScalerMetadata: base}
}

func TestScalerOverGRPC(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	specs, err := f.client.GetMetricSpec(ctx, ref(nil))
	if err != nil || len(specs) != 1 || specs[0] != (MetricSpec{MetricName: "vigil-chat-gateway-replicas", TargetSize: 1, TargetSizeFloat: 1}) {
		t.Fatalf("GetMetricSpec: %+v, %v", specs, err)
	}

	// Without kube-state-metrics, replicas=2 is the count. Within the SLO
	// (minutes 0-4) 1 request/s took 2 replicas: 0.5 each. At 3
	// requests/s the HPA ratio is 3/2/0.5 = 3: ceil(2·3) = 6 replicas,
	// which 3/6/0.5 = 1 then holds.
	values, err := f.client.GetMetrics(ctx, ref(map[string]string{"replicas": "2"}), "vigil-chat-gateway-replicas")
	if err != nil || len(values) != 1 || values[0] != (MetricValue{MetricName: "vigil-chat-gateway-replicas", MetricValue: 6, MetricValueFloat: 6}) {
		t.Fatalf("GetMetrics from the replicas metadata: %+v, %v", values, err)
	}

	// kube-state-metrics says 4 now (the ScaledObject's name and namespace
	// are the Deployment's): 1/4 = 0.25 each, and 3/4/0.25 = 3 wants
	// ceil(4·3) = 12. The metadata's 2 is only a fallback.
	series := store.NewSeries("acme", rightsize.MetricDeploymentStatusReplicas, store.MetricGauge,
		store.Attributes{{Key: "namespace", Value: "inference"}, {Key: "deployment", Value: "chat"}})
	if err := f.store.WriteMetrics(ctx, []store.Series{series}, []store.Sample{{Tenant: "acme", Fingerprint: series.Fingerprint,
		TimestampMsec: t0.Add(9*time.Minute + 30*time.Second).UnixMilli(), Value: 4}}); err != nil {
		t.Fatal(err)
	}
	values, err = f.client.GetMetrics(ctx, ref(map[string]string{"replicas": "2"}), "vigil-chat-gateway-replicas")
	if err != nil || len(values) != 1 || values[0].MetricValue != 12 || values[0].MetricValueFloat != 12 {
		t.Fatalf("GetMetrics from kube-state-metrics: %+v, %v", values, err)
	}
	// An explicit target: 3 requests/s at 0.25 each is 12 too; at 1 each, 3.
	values, err = f.client.GetMetrics(ctx, ref(map[string]string{"targetPerReplica": "1", "latencySLO": ""}), "vigil-chat-gateway-replicas")
	if err != nil || values[0].MetricValue != 3 {
		t.Fatalf("GetMetrics with targetPerReplica: %+v, %v", values, err)
	}

	// Spans in the last 5 minutes: active. In the last 30 s: none.
	if active, err := f.client.IsActive(ctx, ref(nil)); err != nil || !active {
		t.Errorf("IsActive: %v, %v", active, err)
	}
	if active, err := f.client.IsActive(ctx, ref(map[string]string{"activationWindow": "30s"})); err != nil || active {
		t.Errorf("IsActive over 30 s: %v, %v", active, err)
	}
	// Another tenant has no spans.
	if active, err := f.client.IsActive(ctx, ref(map[string]string{"tenant": ""})); err != nil || active {
		t.Errorf("IsActive of the default tenant: %v, %v", active, err)
	}

	// A map entry whose key repeats with the wrong wire type panicked
	// protobuf-go's dynamicpb decoder (FuzzScaledObjectRef found it): the
	// call fails, the server stays up.
	bad := &pb.ScaledObjectRef{}
	bad.ProtoReflect().SetUnknown(protoreflect.RawFields("\x1a\x17\n\x100000000000000000\r0000"))
	if _, err := pb.NewExternalScalerClient(f.client.Conn).IsActive(ctx, bad); status.Code(err) != codes.InvalidArgument {
		t.Errorf("malformed map entry: %v", err)
	}
	if recv, err := f.client.StreamIsActive(ctx, ScaledObjectRef{}); err != nil {
		t.Error(err)
	} else if _, err := recv(); status.Code(err) != codes.InvalidArgument {
		t.Errorf("empty metadata on a stream: %v", err)
	}

	for _, tc := range []struct {
		name string
		call func() error
		code codes.Code
	}{
		{"no service", func() error { _, err := f.client.GetMetricSpec(ctx, ref(map[string]string{"service": ""})); return err }, codes.InvalidArgument},
		{"no SLO", func() error { _, err := f.client.IsActive(ctx, ref(map[string]string{"latencySLO": ""})); return err }, codes.InvalidArgument},
		{"bad tenant", func() error { _, err := f.client.IsActive(ctx, ref(map[string]string{"tenant": "a b"})); return err }, codes.InvalidArgument},
		{"bad history", func() error {
			_, err := f.client.GetMetrics(ctx, ref(map[string]string{"history": "10s"}), "vigil-chat-gateway-replicas")
			return err
		}, codes.InvalidArgument},
		{"another metric", func() error { _, err := f.client.GetMetrics(ctx, ref(nil), "vigil-ranker-replicas"); return err }, codes.NotFound},
		{"no replica count", func() error {
			_, err := f.client.GetMetrics(ctx, ref(map[string]string{"deployment": "ranker"}), "vigil-chat-gateway-replicas")
			return err
		}, codes.FailedPrecondition},
	} {
		if err := tc.call(); status.Code(err) != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
}

func TestStreams(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	r := ref(map[string]string{"activationWindow": "30s"})
	recv, err := f.client.StreamIsActive(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	// At once: no spans in the last 30 s.
	if active, err := recv(); err != nil || active {
		t.Fatalf("first StreamIsActive message: %v, %v", active, err)
	}
	// A span arrives: the next look sends true.
	if err := f.store.WriteSpans(ctx, spansAt(t0.Add(10*time.Minute+10*time.Second), 1, time.Millisecond, &f.seq)); err != nil {
		t.Fatal(err)
	}
	if active, err := recv(); err != nil || !active {
		t.Fatalf("after a span: %v, %v", active, err)
	}
	// 30 s later it is quiet again.
	f.now.Add(int64(30 * time.Second))
	if active, err := recv(); err != nil || active {
		t.Fatalf("after the window: %v, %v", active, err)
	}

	specRecv, err := f.client.StreamMetricSpec(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if specs, err := specRecv(); err != nil || len(specs) != 1 || specs[0].MetricName != "vigil-chat-gateway-replicas" || specs[0].TargetSizeFloat != 1 {
		t.Fatalf("StreamMetricSpec: %+v, %v", specs, err)
	}

	// Shutdown ends both streams cleanly instead of waiting for them.
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	f.server.Shutdown(sctx)
	if sctx.Err() != nil {
		t.Error("Shutdown waited for the streams")
	}
	if _, err := recv(); !errors.Is(err, io.EOF) {
		t.Errorf("StreamIsActive after shutdown: %v", err)
	}
	if _, err := specRecv(); !errors.Is(err, io.EOF) {
		t.Errorf("StreamMetricSpec after shutdown: %v", err)
	}
}

// TestMethodsDeclared: every method the scaler serves declares its role.
func TestMethodsDeclared(t *testing.T) {
	desc := pb.ExternalScaler_ServiceDesc
	var served []string
	for _, m := range desc.Methods {
		served = append(served, "/"+desc.ServiceName+"/"+m.MethodName)
	}
	for _, s := range desc.Streams {
		served = append(served, "/"+desc.ServiceName+"/"+s.StreamName)
	}
	if len(served) != len(Methods()) {
		t.Errorf("served %v, declared %v", served, Methods())
	}
	for _, m := range served {
		if Methods()[m] != auth.Viewer {
			t.Errorf("%s needs %q, want viewer", m, Methods()[m])
		}
	}
}
