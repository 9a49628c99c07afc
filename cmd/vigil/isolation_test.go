package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/collector/jaeger"
	"github.com/vigil-dev/vigil/collector/otlp"
	"github.com/vigil-dev/vigil/collector/promrw"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/web"
)

// TestTenantIsolation: tokens of tenant acme cannot read, write or learn
// of tenant globex's data through any route of any HTTP port — Vigil's
// API, the Jaeger and Prometheus APIs, ingest. Every route is asked with
// globex's own identifiers (its service, trace id, SLO and metric).
func TestTenantIsolation(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	now := time.Now()
	traceID := store.TraceID{0xb, 0x5e, 0xc2}
	if err := st.WriteSpans(ctx, []store.Span{{Tenant: "globex", TraceID: traceID, SpanID: store.SpanID{1}, Service: "secret-service",
		Operation: "secret-op", StartUnixNano: now.Add(-10 * time.Minute).UnixNano(), DurationNano: 1e6}}); err != nil {
		t.Fatal(err)
	}
	series := store.NewSeries("globex", "secret_metric", store.MetricGauge, store.Attributes{{Key: "team", Value: "secret-team"}})
	if err := st.WriteMetrics(ctx, []store.Series{series}, []store.Sample{{Tenant: "globex", Fingerprint: series.Fingerprint, TimestampMsec: now.Add(-time.Minute).UnixMilli(), Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := slo.SaveSilence(ctx, st, slo.Silence{Tenant: "globex", Matchers: map[string]string{"slo": "secret-slo"}, StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour), Comment: "hush"}); err != nil {
		t.Fatal(err)
	}

	guard := auth.New(auth.Options{Store: st})
	token := func(tenant string, r auth.Role) string {
		tok, _, err := auth.CreateToken(ctx, st, auth.TokenSpec{Tenant: tenant, Role: r}, "test", now)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	acme := map[auth.Role]string{auth.Viewer: token("acme", auth.Viewer), auth.Admin: token("acme", auth.Admin), auth.Ingest: token("acme", auth.Ingest)}
	globexAdmin := token("globex", auth.Admin)

	srv, err := web.New(web.Options{ListenAddr: "127.0.0.1:0", Store: st, Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler), Guard: guard})
	if err != nil {
		t.Fatal(err)
	}
	srv.Shutdown(ctx)
	prices, _ := loadPrices(nil)
	stats := collector.NewMetrics(prometheus.NewRegistry())
	limits := collector.BodyLimits{MaxBytes: 1 << 20, MaxDecodedBytes: 1 << 20}
	rcv := &otlp.Receiver{Spans: st, Metrics: st, Mapping: collector.Mapping{Pricer: prices}, Limits: limits, Stats: stats}
	ports := map[string]*auth.Mux{
		"web":    srv.Handler(),
		"ingest": ingestMux(guard, rcv, &promrw.Receiver{Metrics: st, Limits: limits, Stats: stats}, &jaeger.Receiver{Spans: st, Limits: limits, Stats: stats, Logger: slog.New(slog.DiscardHandler)}),
	}
	do := func(mux http.Handler, method, target, tok string, header ...string) (int, string) {
		r := httptest.NewRequest(method, target, strings.NewReader("{}"))
		r.Header.Set("Authorization", "Bearer "+tok)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		return rec.Code, rec.Body.String()
	}
	leaked := 0
	for port, mux := range ports {
		for _, rt := range mux.Routes() {
			if rt.Role == auth.Public {
				continue
			}
			target := isolationTarget(rt, traceID, now)
			tok := acme[auth.Viewer]
			switch {
			case port == "ingest":
				tok = acme[auth.Ingest]
			case rt.Method != "GET":
				tok = acme[auth.Admin]
			}
			// Naming globex is refused exactly as naming a tenant that
			// does not exist: nothing tells the two apart.
			code, body := do(mux, rt.Method, target, tok, "X-Scope-OrgID", "globex")
			code2, body2 := do(mux, rt.Method, target, tok, "X-Scope-OrgID", "nosuchtenant")
			if code != 403 || code2 != 403 || strings.ReplaceAll(body, "globex", "nosuchtenant") != body2 {
				t.Errorf("%s %s naming globex: %d %s; naming no tenant: %d %s", port, rt, code, body, code2, body2)
			}
			// In acme's own tenant, globex's data never shows.
			code, body = do(mux, rt.Method, target, tok)
			if showsGlobex(body) {
				t.Errorf("%s %s with acme's token shows globex's data: %d %s", port, rt, code, body)
			}
			// The same request by globex's admin does show it, where the
			// route reads it: the test asks the right questions.
			if rt.Method == "GET" && port == "web" && rt.Scope == auth.TenantScope {
				if _, body := do(mux, "GET", target, globexAdmin); showsGlobex(body) {
					leaked++
				}
			}
		}
	}
	if leaked < 8 {
		t.Errorf("only %d routes show globex's data to globex's admin: the targets ask nothing", leaked)
	}
	// Sending with acme's token lands in acme, never in globex.
	if code, body := do(ports["ingest"], "POST", "/v1/traces", acme[auth.Ingest], "Content-Type", "application/json"); code != 200 {
		t.Fatalf("acme's ingest: %d %s", code, body)
	}
	services, err := st.Services(ctx, "globex")
	if err != nil || fmt.Sprint(services) != "[secret-service]" {
		t.Errorf("globex's services after acme sent: %v %v", services, err)
	}
}

// showsGlobex reports whether an answer holds globex's data: strings that
// are in its data and in no request (a 404 may repeat the name asked for).
func showsGlobex(body string) bool {
	for _, s := range []string{"secret-op", "secret-team", "hush", `"secret-service"]`} {
		if strings.Contains(body, s) {
			return true
		}
	}
	return false
}

// isolationTarget is a request for a route that asks for globex's data by
// its identifiers, with the parameters the route's API reads.
func isolationTarget(rt auth.Route, traceID store.TraceID, now time.Time) string {
	path := strings.NewReplacer("{traceID}", traceID.String(), "{service}", "secret-service", "{name}", "secret-slo", "{$}", "").Replace(rt.Pattern)
	if strings.HasSuffix(rt.Pattern, "/label/{name}/values") {
		path = strings.Replace(rt.Pattern, "{name}", "team", 1)
	}
	q := url.Values{}
	switch {
	case strings.HasPrefix(path, "/api/traces"), strings.HasPrefix(path, "/api/services"), path == "/api/operations":
		q.Set("service", "secret-service")
		q.Set("lookback", "24h")
	case strings.HasPrefix(path, "/prometheus/api/v1/"):
		q.Set("match[]", `{__name__=~".+"}`)
		q.Set("query", "secret_metric")
		q.Set("metric", "secret_metric")
		q.Set("start", fmt.Sprint(now.Add(-time.Hour).Unix()))
		q.Set("end", fmt.Sprint(now.Unix()))
		q.Set("step", "60")
	default:
		q.Set("from", now.Add(-24*time.Hour).UTC().Format(time.RFC3339))
		q.Set("to", now.Add(time.Hour).UTC().Format(time.RFC3339))
		q.Set("service", "secret-service")
	}
	return path + "?" + q.Encode()
}
