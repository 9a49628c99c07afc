package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// servedOpenAPI fetches the document the way a client does and loads it
// with kin-openapi.
func servedOpenAPI(t *testing.T) (*openapi3.T, []byte) {
	t.Helper()
	mux := auth.NewMux(auth.Disabled())
	(&API{}).Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/v1/openapi.json: %d %q %.200s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	raw := rec.Body.Bytes()
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("the served document does not load: %v", err)
	}
	return doc, raw
}

// TestOpenAPIDocument checks that the served document is JSON and a valid
// OpenAPI 3.0 document, and that every operation says what every handler
// shares: the tenant header and the error shape.
func TestOpenAPIDocument(t *testing.T) {
	doc, raw := servedOpenAPI(t)
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if generic["openapi"] != "3.0.3" {
		t.Errorf("openapi: %v, want 3.0.3", generic["openapi"])
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("not a valid OpenAPI 3.0 document: %v", err)
	}
	errorSchema := doc.Components.Schemas["Error"]
	if errorSchema == nil || !slices.Equal(errorSchema.Value.Required, []string{"error"}) {
		t.Fatalf("no Error schema requiring error")
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.Responses == nil || op.Responses.Len() == 0 {
				t.Errorf("%s: no responses", name)
				continue
			}
			if path == "/api/v1/openapi.json" {
				continue // the same for every tenant; it reads no header
			}
			params := append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...)
			if params.GetByInAndName("header", "X-Scope-OrgID") == nil {
				t.Errorf("%s: no X-Scope-OrgID parameter", name)
			}
			// Every handler answers an invalid tenant 400, a missing
			// credential 401, a missing role 403 and a failing store 500,
			// with {"error": ...}.
			for _, code := range []int{400, 401, 403, 500} {
				r := op.Responses.Status(code)
				if r == nil || r.Value.Content.Get("application/json") == nil {
					t.Errorf("%s: no JSON %d response", name, code)
					continue
				}
				if s := r.Value.Content.Get("application/json").Schema; s == nil || s.Value != errorSchema.Value {
					t.Errorf("%s: the %d response is not the Error schema", name, code)
				}
			}
		}
	}
}

// requestFor builds a request that pattern ("GET /a/{x}") matches.
func requestFor(pattern string) *http.Request {
	method, path, _ := strings.Cut(pattern, " ")
	path = regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(path, "x")
	return httptest.NewRequest(method, path, nil)
}

// TestOpenAPIRoutes checks that every route API.Register adds is in the
// document and that every documented operation is registered.
func TestOpenAPIRoutes(t *testing.T) {
	doc, _ := servedOpenAPI(t)
	mux := auth.NewMux(auth.Disabled())
	(&API{}).Register(mux)

	var registered []string
	for _, rt := range mux.Routes() {
		registered = append(registered, rt.String())
	}
	if len(registered) < 18 {
		t.Fatalf("only %d routes registered: %v", len(registered), registered)
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	// The document's {name} is the route's {name}: the texts are equal.
	sort.Strings(registered)
	sort.Strings(documented)
	for _, p := range registered {
		if _, ok := slices.BinarySearch(documented, p); !ok {
			t.Errorf("route %q is not in the document", p)
		}
	}
	for _, p := range documented {
		if _, ok := slices.BinarySearch(registered, p); !ok {
			t.Errorf("documented %q is not registered", p)
		}
	}
	if len(registered) != len(documented) {
		t.Errorf("%d routes registered, %d documented:\n%v\n%v", len(registered), len(documented), registered, documented)
	}
}

// validator sends requests to an API and holds each exchange to the
// document: the request must be one the document allows, the status one it
// lists, the body valid against the schema — and, stricter than OpenAPI's
// default, no JSON object may carry a field the schema does not name.
type validator struct {
	t      *testing.T
	doc    *openapi3.T
	router routers.Router
	h      http.Handler
	seen   map[string]bool // "METHOD path code" exchanges checked
	bearer string          // the API token every request carries, if any
}

func newValidator(t *testing.T, h http.Handler) *validator {
	doc, _ := servedOpenAPI(t)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &validator{t: t, doc: doc, router: router, h: h, seen: map[string]bool{}}
}

// call sends a request the document allows and checks the exchange; it
// returns the response body.
func (v *validator) call(method, target string, header http.Header, body []byte, want int) []byte {
	v.t.Helper()
	return v.exchange(method, target, header, body, want, true)
}

// refused sends a request the document forbids — it must say so, as the
// handler does — and checks the error answer.
func (v *validator) refused(method, target string, header http.Header, body []byte, want int) []byte {
	v.t.Helper()
	return v.exchange(method, target, header, body, want, false)
}

func (v *validator) exchange(method, target string, header http.Header, body []byte, want int, valid bool) []byte {
	t := v.t
	t.Helper()
	ctx := context.Background()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	for k, vs := range header {
		req.Header[k] = vs
	}
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: not in the document: %v", method, target, err)
	}
	if v.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+v.bearer)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: credentialPresent}}
	err = openapi3filter.ValidateRequest(ctx, in)
	switch {
	case valid && err != nil:
		t.Errorf("%s %s: the document refuses the request: %v", method, target, err)
	case !valid && err == nil:
		t.Errorf("%s %s: the handler refuses the request but the document allows it", method, target)
	}
	// The validated request's body is spent: send a fresh one.
	sent := httptest.NewRequest(method, target, bytes.NewReader(body))
	sent.Header = req.Header.Clone()
	rec := httptest.NewRecorder()
	v.h.ServeHTTP(rec, sent)
	got := rec.Body.Bytes()
	if rec.Code != want {
		t.Fatalf("%s %s: status %d, want %d: %.300s", method, target, rec.Code, want, got)
	}
	v.seen[fmt.Sprintf("%s %s %d", method, route.Path, rec.Code)] = true
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
		Body: io.NopCloser(bytes.NewReader(got)), Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("%s %s: the %d response does not match the document: %v\n%.500s", method, target, rec.Code, err, got)
	}
	ct := rec.Header().Get("Content-Type")
	if !strings.HasPrefix(ct, "application/json") {
		return got
	}
	schema := route.Operation.Responses.Status(rec.Code).Value.Content.Get("application/json").Schema.Value
	var doc any
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatalf("%s %s: not JSON: %v", method, target, err)
	}
	var extra []string
	undocumented("$", schema, doc, &extra)
	if len(extra) > 0 {
		t.Errorf("%s %s: fields the document does not name: %v", method, target, extra)
	}
	return got
}

// credentialPresent is the document's security requirement as a client
// sees it: the request carries a credential of the scheme's kind. Whether
// the credential is good is the server's to answer (401).
func credentialPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	switch in.SecuritySchemeName {
	case "bearerToken":
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			return nil
		}
	case "sessionCookie":
		if _, err := r.Cookie(auth.SessionCookie); err == nil {
			return nil
		}
	}
	return fmt.Errorf("no %s credential", in.SecuritySchemeName)
}

// undocumented appends the paths of object fields in v that s does not
// name. An object schema with neither properties nor additionalProperties
// is free-form.
func undocumented(path string, s *openapi3.Schema, v any, out *[]string) {
	if len(s.OneOf) > 0 {
		for _, branch := range s.OneOf {
			if branch.Value.VisitJSON(v) == nil {
				undocumented(path, branch.Value, v, out)
				return
			}
		}
		*out = append(*out, path+" (no oneOf branch)")
		return
	}
	switch v := v.(type) {
	case map[string]any:
		if len(s.Properties) == 0 && s.AdditionalProperties.Schema == nil {
			return
		}
		for k, x := range v {
			switch {
			case s.Properties[k] != nil:
				undocumented(path+"."+k, s.Properties[k].Value, x, out)
			case s.AdditionalProperties.Schema != nil:
				undocumented(path+"."+k, s.AdditionalProperties.Schema.Value, x, out)
			default:
				*out = append(*out, path+"."+k)
			}
		}
	case []any:
		if s.Items != nil {
			for i, x := range v {
				undocumented(fmt.Sprintf("%s[%d]", path, i), s.Items.Value, x, out)
			}
		}
	}
}

// responseFixture is a store with something behind every route: the FOCUS
// sample bill, priced model calls, a canary and its baseline, Kubernetes
// and vLLM metrics, SLO rollups, alert events and a delivery log.
func responseFixture(t *testing.T) (*embedded.Store, *API) {
	ctx := context.Background()
	s, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Date(2024, 9, 16, 0, 0, 0, 0, time.UTC) // half of the sample bill's September gone
	t0 := now.Add(-14 * time.Hour)                      // 2024-09-15T10:00Z: spans and metrics

	// Spans: 60 requests a side of a canary twice as slow as its
	// baseline, and three priced model calls.
	var spans []store.Span
	for i := range 120 {
		dep, d := "stable", time.Duration(100+i%60)*time.Millisecond
		if i%2 == 1 {
			dep, d = "canary", 2*d
		}
		sp := store.Span{Tenant: store.DefaultTenant, Service: "chat", Operation: "generate", Deployment: dep, DurationNano: int64(d),
			StartUnixNano: t0.Add(time.Duration(i) * time.Second).UnixNano(), StatusCode: store.StatusOK}
		sp.TraceID[0], sp.TraceID[1], sp.SpanID[0], sp.SpanID[1] = 1, byte(i), 1, byte(i)
		spans = append(spans, sp)
	}
	for i := range 3 {
		spans = append(spans, store.Span{Tenant: store.DefaultTenant, TraceID: store.TraceID{2, byte(i)}, SpanID: store.SpanID{2, byte(i)},
			Service: "assistant", Operation: "chat gpt-4o", StartUnixNano: t0.Add(time.Duration(i) * time.Minute).UnixNano(), DurationNano: 1,
			Model: "gpt-4o", Provider: "openai", InputTokens: 1000, OutputTokens: 500, Cost: decimal.RequireFromString("0.0075")})
	}
	if err := s.WriteSpans(ctx, spans); err != nil {
		t.Fatal(err)
	}

	// Metrics: one node running a container for two hours, and a vLLM
	// deployment's counters over the same hours.
	var series []store.Series
	var samples []store.Sample
	add := func(name string, kind store.MetricType, f func(i int) float64, kv ...string) {
		var l store.Attributes
		for i := 0; i < len(kv); i += 2 {
			l = append(l, store.KeyValue{Key: kv[i], Value: kv[i+1]})
		}
		sr := store.NewSeries(store.DefaultTenant, name, kind, l)
		series = append(series, sr)
		for i := 0; i < 120; i++ {
			samples = append(samples, store.Sample{Tenant: store.DefaultTenant, Fingerprint: sr.Fingerprint, TimestampMsec: t0.Add(time.Duration(i) * time.Minute).UnixMilli(), Value: f(i)})
		}
	}
	gib := float64(1 << 30)
	constant := func(v float64) func(int) float64 { return func(int) float64 { return v } }
	rising := func(perMinute float64) func(int) float64 {
		return func(i int) float64 { return perMinute * float64(i) }
	}
	id := []string{"namespace", "chat", "pod", "vllm-0", "container", "vllm"}
	add("kube_pod_container_resource_requests", store.MetricGauge, constant(1), append(id, "node", "n1", "resource", "cpu", "unit", "core")...)
	add("kube_pod_container_resource_requests", store.MetricGauge, constant(2*gib), append(id, "node", "n1", "resource", "memory", "unit", "byte")...)
	add("container_cpu_usage_seconds_total", store.MetricCounter, rising(30), id...)
	add("container_memory_working_set_bytes", store.MetricGauge, constant(gib), id...)
	add("kube_node_status_capacity", store.MetricGauge, constant(4), "node", "n1", "resource", "cpu")
	add("kube_node_status_capacity", store.MetricGauge, constant(16*gib), "node", "n1", "resource", "memory")
	add("vllm:prompt_tokens_total", store.MetricCounter, rising(2e5), "model_name", "llama")
	add("vllm:generation_tokens_total", store.MetricCounter, rising(5e4), "model_name", "llama")
	add("vllm:prefix_cache_hits_total", store.MetricCounter, rising(1e4), "model_name", "llama")
	if err := s.WriteMetrics(ctx, series, samples); err != nil {
		t.Fatal(err)
	}

	// SLOs: one burning its budget fast for the last hour, one without data.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte(`slos:
  - name: chat-availability
    service: chat
    availability: true
    objective: 99%
  - name: search-availability
    service: search
    availability: true
    objective: 99.9%
`), 0o644)
	slos, problems, err := slo.Load([]string{dir}, time.Minute)
	if err != nil || len(problems) > 0 || len(slos) != 2 {
		t.Fatalf("SLOs: %v %v %d", err, problems, len(slos))
	}
	var rollups []store.Rollup
	for m := now.Add(-3 * time.Hour); m.Before(now); m = m.Add(time.Minute) {
		good := 995.0
		if now.Sub(m) <= time.Hour {
			good = 800 // 20% errors: a burn rate of 20 against 1%
		}
		rollups = append(rollups, store.Rollup{Tenant: store.DefaultTenant, SLO: "chat-availability", Minute: m, Good: good, Total: 1000})
	}
	if err := s.WriteRollups(ctx, rollups); err != nil {
		t.Fatal(err)
	}

	// Alert events as the alerter records them, and a delivery log as the
	// dispatcher keeps it.
	var evs []store.Event
	record := func(ev store.Event, err error) {
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	alertEv := func(fp string, state slo.AlertState, at time.Time) (store.Event, error) {
		return slo.AlertTransitions.Event(store.Event{Tenant: store.DefaultTenant, ID: store.EventID(store.KindAlert, fp, string(state)),
			Subject: "chat-availability", Severity: "page", Time: at, Summary: string(state) + " page: chat is burning its budget"},
			slo.AlertTransition{SLO: "chat-availability", Fingerprint: fp, State: state, StartsAt: at,
				Labels: map[string]string{"alertname": "SLOBurnRate", "severity": "page", "slo": "chat-availability"}})
	}
	record(alertEv("f1", slo.StatePending, now.Add(-50*time.Minute)))
	record(alertEv("f1", slo.StateFiring, now.Add(-45*time.Minute)))
	record(alertEv("f2", slo.StateResolved, now.Add(-2*time.Hour)))
	for i, d := range []dispatch.Delivery{
		{Subscriber: "webhook", Target: "https://hooks.example", Try: 1, LatencyMS: 12, Status: 503, Outcome: dispatch.Retrying, Error: "503 Service Unavailable", Events: []string{"e1"}, Keys: []string{"f1"}},
		{Subscriber: "webhook", Target: "https://hooks.example", Try: 2, LatencyMS: 9, Status: 200, Outcome: dispatch.Delivered, Events: []string{"e1"}, Keys: []string{"f1"}},
		{Subscriber: "slack", Target: "https://hooks.slack.com", Try: 1, Outcome: dispatch.Skipped, Note: "silenced: 1 alert(s)", Events: []string{"e1"}, Keys: []string{}},
		{Subscriber: "actions", Target: "actions", Try: 1, Outcome: dispatch.Skipped, Note: "rollback: already proposed", Events: []string{"e1"}, Keys: []string{}},
	} {
		at := now.Add(time.Duration(i-45) * time.Minute)
		record(dispatch.Deliveries.Event(store.Event{Tenant: store.DefaultTenant, ID: fmt.Sprint("d", i), Subject: d.Subscriber, Time: at}, d))
	}
	if err := s.WriteEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}

	budget := &cost.Budget{Name: "aws-sept", Period: "month", Amount: decimal.RequireFromString("30"), Currency: "USD", Cost: "billed",
		Filter: map[string]string{"provider": "AWS"}, Thresholds: []int{50, 100}, Forecast: true, File: "budgets.yaml:2"}
	a := &API{Store: s, MaxUploadBytes: 8 << 20,
		Budgets: []*cost.Budget{budget, {Name: "all", Period: "week", Amount: decimal.RequireFromString("100"), Currency: "USD", Cost: "effective", File: "budgets.yaml:9"}},
		SLOs:    slos, Now: func() time.Time { return now }}
	return s, a
}

func newToken(t *testing.T, st auth.Store, tenant string, role auth.Role) string {
	t.Helper()
	tok, _, err := auth.CreateToken(context.Background(), st, auth.TokenSpec{Tenant: tenant, Role: role}, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestOpenAPIResponses holds real answers of every route to the document:
// the ones the brief names first (cost, SLOs, alerts, budgets), then the
// rest, and the error answers.
func TestOpenAPIResponses(t *testing.T) {
	st, a := responseFixture(t)
	// The config directory, after an edit that is refused.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte("slos: []\n"), 0o644)
	reg, err := config.NewRegistry(slo.Section(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	reloader, err := config.NewReloader(dir, reg, config.ReloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte("slo: []\n"), 0o644)
	reloader.Reload()
	a.ConfigStatus = reloader.Status
	// Behind a real guard, as the web port serves it: an admin of every
	// tenant calls, and a viewer and a caller without a token are refused.
	guard := auth.New(auth.Options{Store: st})
	mux := auth.NewMux(guard)
	a.Register(mux)
	v := newValidator(t, mux)
	v.bearer = newToken(t, st, auth.AllTenants, auth.Admin)
	none := http.Header{}
	csv := http.Header{"Content-Type": {"text/csv"}}

	if body := v.call("POST", "/api/v1/billing/import?name=sample.csv", csv, sample(t), 200); !bytes.Contains(body, []byte(`"accepted":1000`)) {
		t.Fatalf("import: %s", body)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "again.csv")
	fw.Write(sample(t))
	mw.Close()
	v.call("POST", "/api/v1/billing/import?format=focus", http.Header{"Content-Type": {mw.FormDataContentType()}}, form.Bytes(), 200)
	if body := v.call("POST", "/api/v1/billing/import", csv, []byte("BilledCost,ChargePeriodStart\n1,2\n"), 400); !bytes.Contains(body, []byte("missing required column")) {
		t.Errorf("bad bill: %s", body)
	}

	// The four the brief names.
	body := v.call("GET", "/api/v1/cost?from=2024-09-01&to=2024-10-01&step=1d&group_by=provider,tag:team&filter=currency=USD", none, nil, 200)
	var costs struct{ Groups []map[string]any }
	json.Unmarshal(body, &costs)
	if len(costs.Groups) < 2 {
		t.Fatalf("cost: %s", body)
	}
	if _, isString := costs.Groups[0]["billed_cost"].(string); !isString {
		t.Errorf("money is not a string: %s", body)
	}
	v.call("GET", "/api/v1/cost?from=2024-01-01&to=2025-01-01", none, nil, 200)
	if body := v.call("GET", "/api/v1/slos", none, nil, 200); !bytes.Contains(body, []byte(`"state":"page"`)) || !bytes.Contains(body, []byte(`"sli":null`)) {
		t.Errorf("slos: one should page, one have no data: %s", body)
	}
	if body := v.call("GET", "/api/v1/alerts", none, nil, 200); !bytes.Contains(body, []byte(`"state":"firing"`)) || !bytes.Contains(body, []byte(`"state":"resolved"`)) {
		t.Errorf("alerts: %s", body)
	}
	if body := v.call("GET", "/api/v1/budgets", none, nil, 200); !bytes.Contains(body, []byte(`"spent":"18.0066386184"`)) {
		t.Errorf("budgets: %s", body)
	}

	// The rest.
	v.call("GET", "/api/v1/slos/chat-availability", none, nil, 200)
	v.call("GET", "/api/v1/slos/nope", none, nil, 404)
	if body := v.call("GET", "/api/v1/slos/chat-availability/history?from=2024-09-15T20:00:00Z&to=2024-09-16&step=1h", none, nil, 200); !bytes.Contains(body, []byte(`"sli":null`)) || !bytes.Contains(body, []byte(`"sli":0.8`)) {
		t.Errorf("history: %s", body)
	}
	v.call("GET", "/api/v1/slos/chat-availability/history?from=2024-01-01&to=2024-09-16&step=1m", none, nil, 400)
	if body := v.call("GET", "/api/v1/alerts/deliveries", none, nil, 200); !bytes.Contains(body, []byte(`"outcome":"retrying"`)) || bytes.Contains(body, []byte(`"receiver":"actions"`)) {
		t.Errorf("deliveries: %s", body)
	}
	if body := v.call("GET", "/api/v1/alerts/deliveries?receiver=actions,slack", none, nil, 200); bytes.Count(body, []byte(`"receiver":`)) != 2 || !bytes.Contains(body, []byte(`"receiver":"actions"`)) {
		t.Errorf("the actions' deliveries: %s", body)
	}
	v.call("POST", "/api/v1/silences", http.Header{"Content-Type": {"application/json"}}, []byte(`{"matchers":{"slo":"chat-availability"},"duration":"2h","created_by":"oncall","comment":"deploying a fix"}`), 200)
	v.call("POST", "/api/v1/silences", http.Header{"Content-Type": {"application/json"}}, []byte(`{"matchers":{"slo":"chat-availability"},"ends_at":"2024-09-16T02:00:00Z"}`), 200)
	if body := v.call("GET", "/api/v1/silences", none, nil, 200); !bytes.Contains(body, []byte(`"created_by":"oncall"`)) {
		t.Errorf("silences: %s", body)
	}
	v.call("POST", "/api/v1/silences", http.Header{"Content-Type": {"application/json"}}, []byte(`{"matchers":{"slo":"x"},"duration":"2000h"}`), 400)
	if body := v.call("GET", "/api/v1/cost/unit?from=2024-09-15&to=2024-09-16&group_by=service,model&filter=provider=openai", none, nil, 200); !bytes.Contains(body, []byte(`"cost":"0.0225"`)) {
		t.Errorf("unit cost: %s", body)
	}
	if body := v.call("GET", "/api/v1/cost/unit?from=2024-09-15&to=2024-09-16", none, nil, 200); !bytes.Contains(body, []byte(`"group_by":[]`)) {
		t.Errorf("unit cost without group_by: %s", body)
	}
	if body := v.call("GET", "/api/v1/cost/export?from=2024-09-01&to=2024-10-01", none, nil, 200); !bytes.HasPrefix(body, []byte("AvailabilityZone,BilledCost,")) {
		t.Errorf("export: %.200s", body)
	}
	v.refused("GET", "/api/v1/cost/export?format=csv&from=2024-09-01&to=2024-10-01", none, nil, 400)
	const hours = "from=2024-09-15T10:00:00Z&to=2024-09-15T12:00:00Z"
	if body := v.call("GET", "/api/v1/cost/allocation?"+hours+"&aggregate=pod&idle=separate&split=cost", none, nil, 200); !bytes.Contains(body, []byte(`"name":"chat/vllm-0"`)) {
		t.Errorf("allocation: %s", body)
	}
	if body := v.call("GET", "/api/v1/cost/allocation?from=2024-09-01&to=2024-10-01&source=bill", none, nil, 200); !bytes.Contains(body, []byte(`"unjoined":[{`)) {
		t.Errorf("bill allocation: %s", body)
	}
	if body := v.call("GET", "/api/v1/cost/self-hosted?"+hours+"&hourly=3.20&selector=%7Bmodel_name%3D%22llama%22%7D", none, nil, 200); !bytes.Contains(body, []byte(`"split":"2.5x output:input fallback"`)) {
		t.Errorf("self-hosted: %s", body)
	}
	v.refused("GET", "/api/v1/cost/self-hosted?"+hours+"&hourly=-1", none, nil, 400)
	v.call("GET", "/api/v1/recommendations?from=2024-09-15T10:00:00Z&to=2024-09-15T12:00:00Z&namespace=chat", none, nil, 200)
	v.call("GET", "/api/v1/recommendations?strategy=kubecost&profile=production", none, nil, 200)
	v.call("GET", "/api/v1/recommendations?strategy=vpa&profile=production", none, nil, 400)
	if body := v.call("GET", "/api/v1/recommendations?kind=replicas&service=chat&latency_slo=0.5&replicas=2&"+hours, none, nil, 200); !bytes.Contains(body, []byte(`"current_from":"parameter"`)) {
		t.Errorf("replicas: %s", body)
	}
	v.call("GET", "/api/v1/recommendations?kind=replicas&latency_slo=0.5", none, nil, 400)
	if body := v.call("GET", "/api/v1/canary?service=chat&"+hours, none, nil, 200); !bytes.Contains(body, []byte(`"verdict":"fail"`)) {
		t.Errorf("canary: %s", body)
	}
	if body := v.call("GET", "/api/v1/canary?service=chat&canary=v9&baseline=v8&by=model_version&"+hours, none, nil, 200); !bytes.Contains(body, []byte(`"verdict":"inconclusive"`)) {
		t.Errorf("canary without data: %s", body)
	}
	v.call("GET", "/api/v1/openapi.json", none, nil, 200)
	if body := v.call("GET", "/api/v1/config/status", none, nil, 200); !bytes.Contains(body, []byte(`"successful":false`)) ||
		!bytes.Contains(body, []byte(`slos.yaml:1: unknown top-level key \"slo\" (did you mean `+"`slos`"+`?)`)) {
		t.Errorf("config status: %s", body)
	}

	json := http.Header{"Content-Type": {"application/json"}}
	if body := v.call("POST", "/api/v1/cost/reprice", json, []byte(`{"from":"2024-09-01T00:00:00Z","to":"2024-10-01T00:00:00Z","dry_run":true}`), 200); !bytes.Contains(body, []byte(`"tenant":"default"`)) {
		t.Errorf("reprice: %s", body)
	}
	v.call("POST", "/api/v1/admin/cost/reprice", json, []byte(`{"from":"2024-09-01T00:00:00Z","to":"2024-10-01T00:00:00Z","price_files":[{"name":"p.yaml","data":"cHJpY2VzOiBbXQo="}]}`), 200)
	if body := v.call("POST", "/api/v1/cost/reprice", json, []byte(`{"from":"2024-10-01T00:00:00Z","to":"2024-09-01T00:00:00Z"}`), 400); !bytes.Contains(body, []byte("is not after")) {
		t.Errorf("reprice backwards: %s", body)
	}

	// Errors: the tenant, a missing parameter, an upload over the limit.
	v.refused("GET", "/api/v1/cost?to=2024-10-01", none, nil, 400)
	v.call("GET", "/api/v1/budgets", http.Header{"X-Scope-Orgid": {"acme"}}, nil, 200)
	if body := v.refused("GET", "/api/v1/slos", http.Header{"X-Scope-Orgid": {"a/b"}}, nil, 400); !bytes.Contains(body, []byte("tenant id")) {
		t.Errorf("bad tenant: %s", body)
	}
	small := auth.NewMux(auth.Disabled())
	(&API{Store: a.Store, MaxUploadBytes: 1000}).Register(small)
	sv := newValidator(t, small)
	sv.bearer = v.bearer // with auth disabled it is not read
	sv.call("POST", "/api/v1/billing/import", csv, sample(t), 413)

	// Refusals: no credential, a bad one, a role short of what is needed.
	anon := newValidator(t, mux)
	if body := anon.refused("GET", "/api/v1/slos", none, nil, 401); !bytes.Contains(body, []byte("authentication required")) {
		t.Errorf("no credential: %s", body)
	}
	anon.call("GET", "/api/v1/slos", http.Header{"Authorization": {"Bearer vigil_0000000000000000_" + strings.Repeat("0", 64)}}, nil, 401)
	viewer := newValidator(t, mux)
	viewer.bearer = newToken(t, st, store.DefaultTenant, auth.Viewer)
	if body := viewer.call("POST", "/api/v1/silences", http.Header{"Content-Type": {"application/json"}}, []byte(`{"matchers":{"slo":"x"},"duration":"1h"}`), 403); !bytes.Contains(body, []byte("editor")) {
		t.Errorf("a viewer creating a silence: %s", body)
	}
	viewer.call("GET", "/api/v1/audit", none, nil, 403)
	viewer.call("POST", "/api/v1/cost/reprice", json, []byte(`{"from":"2024-09-01T00:00:00Z","to":"2024-10-01T00:00:00Z"}`), 403)
	viewer.call("POST", "/api/v1/admin/cost/reprice", json, []byte(`{"from":"2024-09-01T00:00:00Z","to":"2024-10-01T00:00:00Z"}`), 403)
	for _, vv := range []*validator{anon, viewer} {
		for k := range vv.seen {
			v.seen[k] = true
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	guard.Audit().Run(ctx) // writes the 403s' records
	if body := v.call("GET", "/api/v1/audit?from=2000-01-01&to=2100-01-01", none, nil, 200); !bytes.Contains(body, []byte(`"action":"forbidden"`)) ||
		!bytes.Contains(body, []byte(`"target":"POST /api/v1/silences"`)) {
		t.Errorf("audit: %s", body)
	}
	v.refused("GET", "/api/v1/audit?limit=0", none, nil, 400)
	checkActionRoutes(t, v, st, guard, a)
	checkTokenRoutes(t, v, st, mux)
	checkLogRoutes(t, v, st, a.Now())

	// Every documented operation has been called at least once.
	for path, item := range v.doc.Paths.Map() {
		for method := range item.Operations() {
			called := false
			for k := range v.seen {
				called = called || strings.HasPrefix(k, method+" "+path+" ")
			}
			if !called {
				t.Errorf("%s %s: no response checked", method, path)
			}
		}
	}
}
