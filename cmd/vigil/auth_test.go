package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// plainClient sends only the credentials a test gives it.
var plainClient = &http.Client{}

// call sends one request with a bearer token ("" for none) and returns
// the status and body.
func call(t *testing.T, method, u, token string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(`{"matchers":{"slo":"x"},"duration":"1h"}`))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestAuthEndToEnd is issue 12's "done when", on the real binary: auth on
// by default, how to sign in printed, 401 without a credential, a viewer
// reads and is refused a change naming the role it needs, OTLP with an
// ingest token of tenant A lands in A and without one is refused — and no
// secret in the log but the admin's first password, once.
func TestAuthEndToEnd(t *testing.T) {
	dir := t.TempDir()
	viewer := createToken(t, dir, "", "acme", "viewer")
	ingest := createToken(t, dir, "", "acme", "ingest")
	other := createToken(t, dir, "", "globex", "viewer")
	v := startServe(t, "", "--data-dir", dir)
	base := "http://" + v.web

	stderr := v.stderr.String()
	m := regexp.MustCompile(`created the local admin.* url=(\S+) user=admin password=(\S+)`).FindStringSubmatch(stderr)
	if m == nil || m[1] != base+"/login" || !strings.Contains(stderr, "vigil admin password") || !strings.Contains(stderr, "auth is on") {
		t.Fatalf("vigil serve does not say how to sign in:\n%s", stderr)
	}
	password := m[2]

	if code, body := call(t, "GET", base+"/api/v1/slos", ""); code != 401 || !strings.Contains(body, "authentication required") {
		t.Errorf("no credential: %d %s", code, body)
	}
	if code, body := call(t, "GET", base+"/api/v1/slos", viewer); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("viewer: %d %s", code, body)
	}
	if code, body := call(t, "POST", base+"/api/v1/silences", viewer); code != 403 || !strings.Contains(body, "editor") {
		t.Errorf("viewer creating a silence: %d %s", code, body)
	}
	if code, body := call(t, "GET", base+"/api/v1/slos", viewer, "X-Scope-OrgID", "globex"); code != 403 {
		t.Errorf("viewer of acme asking for globex: %d %s", code, body)
	}

	// OTLP, as an SDK user configures it: the ingest token as a header.
	ctx := context.Background()
	grpcExp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(v.grpc), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithHeaders(map[string]string{"authorization": "Bearer " + ingest}))
	if err != nil {
		t.Fatal(err)
	}
	traceID := sendTraces(t, grpcExp, "chat-gateway")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, _ := call(t, "GET", base+"/api/traces/"+traceID.String(), viewer)
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the trace sent with acme's ingest token is not in acme: %d", code)
		}
	}
	if code, _ := call(t, "GET", base+"/api/traces/"+traceID.String(), other); code != 404 {
		t.Errorf("globex's viewer reading acme's trace: %d, want 404", code)
	}
	for _, exp := range []func() error{
		func() error {
			e, _ := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(v.grpc), otlptracegrpc.WithInsecure(), otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
			return export(e)
		},
		func() error {
			e, _ := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(v.http), otlptracehttp.WithInsecure(), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}),
				otlptracehttp.WithHeaders(map[string]string{"authorization": "Bearer " + viewer})) // a viewer may not send
			return export(e)
		},
	} {
		if err := exp(); err == nil {
			t.Errorf("an export without an ingest credential was accepted")
		}
	}

	// Plant secrets where they could leak: a failed sign-in, bad tokens.
	form := url.Values{"username": {"admin"}, "password": {"planted-Secret-Password"}}
	plainClient.PostForm(base+"/login", form)
	forged := ingest[:len(ingest)-8] + "deadbeef"
	call(t, "POST", "http://"+v.http+"/v1/traces", forged)
	call(t, "GET", base+"/api/v1/slos", "vigil_planted-not-a-token")
	v.stop(t)
	log := v.stderr.String()
	for _, secret := range []string{viewer, ingest, other, forged, "planted-Secret-Password", "planted-not-a-token", secretOf(viewer), secretOf(ingest)} {
		if strings.Contains(log, secret) {
			t.Errorf("a secret is in the log: %s", secret)
		}
	}
	if n := strings.Count(log, password); n != 1 {
		t.Errorf("the admin's first password is in the log %d times, want once", n)
	}
	// A second start shows no password: only its hash is kept.
	v2 := startServe(t, "", "--data-dir", dir)
	v2.stop(t)
	if strings.Contains(v2.stderr.String(), "password=") || !strings.Contains(v2.stderr.String(), "auth is on") {
		t.Errorf("second start:\n%s", v2.stderr)
	}
}

func secretOf(token string) string { return token[strings.LastIndexByte(token, '_')+1:] }

// export sends one span through an exporter and returns its error.
func export(e sdktrace.SpanExporter) error {
	return e.ExportSpans(context.Background(), tracetest.SpanStubs{{Name: "refused", SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}})}}.Snapshots())
}
