package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/vigil-dev/vigil/web/keda"
)

// sendLoad emits, through the OpenTelemetry SDK, perMinute spans of
// chat-gateway in each minute [from, from+minutes), spread evenly, each
// taking d.
func sendLoad(t *testing.T, ctx context.Context, tr trace.Tracer, from time.Time, minutes, perMinute int, d time.Duration) int {
	t.Helper()
	for m := range minutes {
		for i := range perMinute {
			at := from.Add(time.Duration(m)*time.Minute + time.Duration(i)*time.Minute/time.Duration(perMinute))
			_, sp := tr.Start(ctx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at))
			sp.End(trace.WithTimestamp(at.Add(d)))
		}
	}
	return minutes * perMinute
}

// TestKEDAExternalScaler sends a load step through the real SDK into
// `vigil serve` and asks its KEDA port, as KEDA would, how many replicas
// chat-gateway needs.
//
// The data, in the minutes before now's minute M: M-8 to M-5 carry 60
// requests a minute (1 request/s) at 100 ms, within the 0.8 s SLO; M-4 to
// M-1 carry 240 (4 requests/s) at 1.5 s, over it. There are 2 replicas
// (the replicas metadata: no kube-state-metrics here). By hand:
//
//   - target per replica: the most requests/s per replica while p95 met
//     the SLO, 1/2 = 0.5;
//   - the HPA replay (tolerance 0.1, scale-down window 5 minutes): the
//     empty minutes before M-8 take it to 1 replica; at M-8 the ratio is
//     1/1/0.5 = 2, so ceil(1·2) = 2; at M-4 it is 4/2/0.5 = 4, so
//     ceil(2·4) = 8, and 4/8/0.5 = 1 holds 8; the empty minute M (and M+1,
//     should the clock pass a minute during the test) want 1, but the
//     scale-down window still holds 8s.
//
// So GetMetrics returns 8 against GetMetricSpec's target 1, and KEDA's HPA
// (AverageValue: ceil(8/1)) sets 8 replicas.
func TestKEDAExternalScaler(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { testKEDA(t, "") })
	t.Run("clickhouse", func(t *testing.T) {
		ch := needClickHouse(t)
		db := fmt.Sprintf("vigil_keda_%d", time.Now().UnixNano())
		defer dropDatabase(ch, db)
		testKEDA(t, "clickhouse://"+ch+"/"+db)
	})
}

func testKEDA(t *testing.T, storeURL string) {
	kedaAddr := freeAddr(t)
	dir := t.TempDir()
	globexViewer := createToken(t, dir, storeURL, "globex", "viewer") // before the embedded store is locked
	v := startServe(t, storeURL, "--keda.listen-address", kedaAddr, "--data-dir", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(v.grpc), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithHeaders(headers(v.grpc, "X-Scope-OrgID", "acme")))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "chat-gateway"))),
		sdktrace.WithBatcher(exp, sdktrace.WithMaxExportBatchSize(500)))
	tr := tp.Tracer("vigil-keda-e2e")
	m := time.Now().UTC().Truncate(time.Minute)
	sent := sendLoad(t, ctx, tr, m.Add(-8*time.Minute), 4, 60, 100*time.Millisecond)
	sent += sendLoad(t, ctx, tr, m.Add(-4*time.Minute), 4, 240, 1500*time.Millisecond)
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("exporting to vigil: %v", err)
	}

	// The same recommendation through the HTTP API, over a fixed window;
	// polled until the collector has written every span.
	q := url.Values{"kind": {"replicas"}, "service": {"chat-gateway"}, "latency_slo": {"0.8"}, "replicas": {"2"}, "deployment": {"chat-gateway"},
		"from": {m.Add(-30 * time.Minute).Format(time.RFC3339)}, "to": {m.Format(time.RFC3339)}}
	var adv struct {
		Current     int     `json:"current"`
		CurrentFrom string  `json:"current_from"`
		Recommended int     `json:"recommended"`
		Peak        int     `json:"peak"`
		Target      float64 `json:"target_per_replica"`
		Requests    int     `json:"requests"`
		PeakRPS     float64 `json:"peak_rps"`
	}
	deadline := time.Now().Add(time.Minute)
	for {
		v.getJSONTenant(t, "acme", "/api/v1/recommendations?"+q.Encode(), &adv)
		if adv.Requests == sent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d spans arrived: %+v\nstderr:\n%s", adv.Requests, sent, adv, v.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if adv.Current != 2 || adv.CurrentFrom != "parameter" || adv.Recommended != 8 || adv.Peak != 8 || adv.Target != 0.5 || adv.PeakRPS != 4 {
		t.Errorf("API: %+v", adv)
	}

	conn, err := grpc.NewClient(kedaAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := &keda.Client{Conn: conn}
	ref0 := keda.ScaledObjectRef{Name: "chat-gateway", Namespace: "inference", ScalerMetadata: map[string]string{"service": "chat-gateway", "tenant": "acme", "latencySLO": "0.8"}}
	// Without a credential the call is refused; a viewer of another
	// tenant cannot name acme in its trigger.
	if _, err := client.IsActive(ctx, ref0); status.Code(err) != codes.Unauthenticated {
		t.Errorf("IsActive without a token: %v", err)
	}
	globex := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+globexViewer)
	if _, err := client.IsActive(globex, ref0); status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "not one of yours") {
		t.Errorf("IsActive of acme with globex's token: %v", err)
	}
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+v.token)
	ref := keda.ScaledObjectRef{Name: "chat-gateway", Namespace: "inference", ScalerMetadata: map[string]string{
		"scalerAddress": kedaAddr, "service": "chat-gateway", "tenant": "acme", "latencySLO": "0.8", "history": "30m", "replicas": "2"}}

	specs, err := client.GetMetricSpec(ctx, ref)
	if err != nil || len(specs) != 1 || specs[0] != (keda.MetricSpec{MetricName: "vigil-chat-gateway-replicas", TargetSize: 1, TargetSizeFloat: 1}) {
		t.Fatalf("GetMetricSpec: %+v, %v", specs, err)
	}
	values, err := client.GetMetrics(ctx, ref, specs[0].MetricName)
	if err != nil || len(values) != 1 || values[0] != (keda.MetricValue{MetricName: "vigil-chat-gateway-replicas", MetricValue: 8, MetricValueFloat: 8}) {
		t.Errorf("GetMetrics: %+v, %v", values, err)
	}
	// Spans in the last 5 minutes: active. A service without spans, or
	// another tenant's view of this one, is not.
	if active, err := client.IsActive(ctx, ref); err != nil || !active {
		t.Errorf("IsActive: %v, %v", active, err)
	}
	for _, md := range []map[string]string{{"service": "ranker"}, {"tenant": "globex"}} {
		other := keda.ScaledObjectRef{Name: ref.Name, Namespace: ref.Namespace, ScalerMetadata: map[string]string{}}
		for k, v := range ref.ScalerMetadata {
			other.ScalerMetadata[k] = v
		}
		for k, v := range md {
			other.ScalerMetadata[k] = v
		}
		if active, err := client.IsActive(ctx, other); err != nil || active {
			t.Errorf("IsActive %v: %v, %v", md, active, err)
		}
	}
	recv, err := client.StreamIsActive(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if active, err := recv(); err != nil || !active {
		t.Errorf("StreamIsActive: %v, %v", active, err)
	}
	// Shutting down ends the open stream rather than waiting on it.
	v.stop(t)
	if _, err := recv(); err == nil {
		t.Error("the stream outlived the server")
	}
}
