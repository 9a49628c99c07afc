package auth

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// livePolicy is a policy a test changes as a reload would.
type livePolicy struct{ p atomic.Pointer[Policy] }

func (l *livePolicy) get() *Policy { return l.p.Load() }

func TestRateLimitsHTTP(t *testing.T) {
	live := &livePolicy{}
	live.p.Store(&Policy{Limits: map[string]Limits{
		"acme": {Tenant: Rate{RequestsPerSecond: 1, RequestsBurst: 3}, Token: Rate{RequestsPerSecond: 1, RequestsBurst: 2}},
		"beta": {Tenant: Rate{BytesPerSecond: 1000}},
	}})
	reg := prometheus.NewRegistry()
	f := newFixture(t, Options{Policy: live.get, Registerer: reg})
	f.mux.Handle(Route{Method: "POST", Pattern: "/upload", Role: Ingest, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	})})
	a := f.token(TokenSpec{Tenant: "acme", Role: Editor})
	b := f.token(TokenSpec{Tenant: "acme", Role: Viewer})
	beta := f.token(TokenSpec{Tenant: "beta", Role: Admin})

	expect := func(path, token string, code int, body string) {
		t.Helper()
		method := "GET"
		if path != "/read" {
			method = "POST"
		}
		got, msg, h := f.do(method, path, token)
		if got != code || !strings.Contains(msg, body) {
			t.Errorf("%s %s: %d %s; want %d %q", method, path, got, msg, code, body)
		}
		if code == 429 && h.Get("Retry-After") != "1" {
			t.Errorf("429 with Retry-After %q, want 1", h.Get("Retry-After"))
		}
	}
	// A request refused for want of a role spends nothing.
	expect("/send", a, 403, "ingest")
	expect("/read", a, 200, "acme")
	expect("/read", a, 200, "acme")
	expect("/read", a, 429, "this credential in tenant")
	expect("/read", b, 200, "acme")
	expect("/read", b, 429, `rate limit: tenant \"acme\" sent more requests per second`)
	f.clock.Add(time.Second)
	expect("/read", a, 200, "acme")
	if got := testutil.ToFloat64(f.guard.limits.limited.WithLabelValues("acme", "token", "requests")); got != 1 {
		t.Errorf("token limit counted %v times, want 1", got)
	}
	if got := testutil.ToFloat64(f.guard.limits.limited.WithLabelValues("acme", "tenant", "requests")); got != 1 {
		t.Errorf("tenant limit counted %v times, want 1", got)
	}

	// Bytes: a body of known length is charged before it is read; one of
	// unknown length as it is read, and the next requests wait for it.
	send := func(body string, known bool) int {
		r := httptest.NewRequest("POST", "/upload", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+beta)
		if !known {
			r.ContentLength = -1
			r.Body = io.NopCloser(strings.NewReader(body))
		}
		rec := httptest.NewRecorder()
		f.mux.ServeHTTP(rec, r)
		return rec.Code
	}
	if send(strings.Repeat("x", 600), true) != 200 || send(strings.Repeat("x", 600), true) != 429 {
		t.Errorf("the second 600 bytes within a second of the first are not refused")
	}
	f.clock.Add(time.Second)
	if send(strings.Repeat("x", 3000), false) != 200 || send("x", true) != 429 {
		t.Errorf("a body of unknown length is not charged")
	}

	// A reload changes the limits at once: acme without limits.
	live.p.Store(&Policy{})
	for range 5 {
		expect("/read", a, 200, "acme")
	}
}

func TestRateLimitsGRPC(t *testing.T) {
	live := &livePolicy{}
	live.p.Store(&Policy{Limits: map[string]Limits{AllTenants: {Tenant: Rate{BytesPerSecond: 1, BytesBurst: 100}}}})
	f := newFixture(t, Options{Policy: live.get})
	tok := f.token(TokenSpec{Tenant: "acme", Role: Viewer})
	srv := grpc.NewServer(f.guard.GRPC(Methods{"/grpc.health.v1.Health/Check": Viewer})...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
	// 60 bytes of service name: the first call leaves 40 of the burst, the
	// second needs 60 and is refused, which only a count of the request's
	// bytes can tell.
	req := &healthpb.HealthCheckRequest{Service: strings.Repeat("s", 60)}
	client := healthpb.NewHealthClient(conn)
	if _, err := client.Check(ctx, req); status.Code(err) != codes.NotFound {
		t.Fatalf("first call: %v", err)
	}
	_, err = client.Check(ctx, req)
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "bytes") {
		t.Fatalf("second call: %v", err)
	}
	if len(st.Details()) != 1 || st.Details()[0].(*errdetails.RetryInfo).GetRetryDelay().AsDuration() <= 0 {
		t.Errorf("RESOURCE_EXHAUSTED without RetryInfo: %v", st.Details())
	}
}
