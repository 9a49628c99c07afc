package api

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

func setup(t *testing.T) http.Handler {
	s, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	mux := auth.NewMux(auth.Disabled())
	(&API{Store: s, MaxUploadBytes: 8 << 20}).Register(mux)
	return mux
}

func do(t *testing.T, h http.Handler, method, path, ct string, body []byte) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

func sample(t *testing.T) []byte {
	b, err := os.ReadFile("../../collector/billing/testdata/focus_1.0_sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImportAndCost(t *testing.T) {
	h := setup(t)
	code, body := do(t, h, "POST", "/api/v1/billing/import?name=sample.csv", "text/csv", sample(t))
	if code != 200 || !strings.Contains(body, `"accepted":1000`) || !strings.Contains(body, `"format":"focus"`) {
		t.Fatalf("raw import: %d %s", code, body)
	}
	// The same file again as a multipart upload: totals must not move.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "sample-again.csv")
	fw.Write(sample(t))
	mw.Close()
	if code, body := do(t, h, "POST", "/api/v1/billing/import", mw.FormDataContentType(), form.Bytes()); code != 200 || !strings.Contains(body, `"file":"sample-again.csv"`) {
		t.Fatalf("multipart import: %d %s", code, body)
	}
	code, body = do(t, h, "GET", "/api/v1/cost?from=2024-01-01&to=2025-01-01&group_by=provider", "", nil)
	var resp struct {
		Groups []struct {
			Group      map[string]string
			BilledCost string `json:"billed_cost"`
		}
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil || code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	got := map[string]string{}
	for _, g := range resp.Groups {
		got[g.Group["provider"]] = g.BilledCost
	}
	if got["AWS"] != "18.0066386184" || got["Microsoft"] != "1.97651418586" || got["Oracle"] != "0.53707392473" {
		t.Errorf("by provider: %v", got)
	}
	if code, body := do(t, h, "GET", "/api/v1/cost?from=2024-01-01&to=2025-01-01&filter=provider=Oracle", "", nil); code != 200 || !strings.Contains(body, `"billed_cost":"0.53707392473"`) {
		t.Errorf("filtered: %d %s", code, body)
	}
	// Monthly buckets of the September 2024 sample: one bucket per currency.
	code, body = do(t, h, "GET", "/api/v1/cost?from=2024-09-01&to=2024-10-01&step=30d", "", nil)
	if code != 200 || strings.Count(body, `"time":`) < 1 {
		t.Errorf("series: %d %s", code, body)
	}
	code, body = do(t, h, "GET", "/api/v1/cost?from=2024-09-01&to=2024-10-01&step=1d", "", nil)
	var series struct {
		Groups []struct {
			BilledCost string `json:"billed_cost"`
		}
	}
	json.Unmarshal([]byte(body), &series)
	sum := decimal.Zero
	for _, g := range series.Groups {
		sum = sum.Add(decimal.RequireFromString(g.BilledCost))
	}
	if code != 200 || len(series.Groups) < 2 || sum.String() != "20.52022672899" {
		t.Errorf("daily series: %d groups summing to %s", len(series.Groups), sum)
	}
}

func TestErrors(t *testing.T) {
	h := setup(t)
	for _, c := range []struct {
		method, path, ct, body string
		code                   int
		substr                 string
	}{
		{"POST", "/api/v1/billing/import", "text/csv", "a,b\n1,2\n", 400, "unknown billing format"},
		{"POST", "/api/v1/billing/import?format=aws-cur", "text/csv", "a,b\n", 400, "not a aws-cur file: missing required column(s) line_item_usage_start_date"},
		{"POST", "/api/v1/billing/import?format=sap", "text/csv", "a,b\n", 400, `unknown billing format \"sap\"`},
		{"GET", "/api/v1/cost?to=2025-01-01", "", "", 400, `parameter \"from\" is required`},
		{"GET", "/api/v1/cost?from=2024-01-01&to=2025-01-01&group_by=colour", "", "", 400, `unknown cost dimension \"colour\"`},
		{"GET", "/api/v1/cost?from=2024-01-01&to=2025-01-01&filter=provider", "", "", 400, "want dimension=value"},
		{"GET", "/api/v1/cost?from=2024-01-01&to=2025-01-01&step=soon", "", "", 400, "want a duration"},
	} {
		if code, body := do(t, h, c.method, c.path, c.ct, []byte(c.body)); code != c.code || !strings.Contains(body, c.substr) {
			t.Errorf("%s %s: %d %s", c.method, c.path, code, body)
		}
	}
	big := setupSmall(t)
	if code, body := do(t, big, "POST", "/api/v1/billing/import", "text/csv", sample(t)); code != 413 {
		t.Errorf("oversized upload: %d %s", code, body)
	}
}

func setupSmall(t *testing.T) http.Handler {
	s, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	mux := auth.NewMux(auth.Disabled())
	(&API{Store: s, MaxUploadBytes: 1000}).Register(mux)
	return mux
}

func TestBudgets(t *testing.T) {
	s, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mux := auth.NewMux(auth.Disabled())
	b := &cost.Budget{Name: "aws-sept", Period: "month", Amount: decimal.RequireFromString("30"), Currency: "USD", Cost: "billed",
		Filter: map[string]string{"provider": "AWS"}, Thresholds: []int{50, 100}, Forecast: true, File: "budgets.yaml:2"}
	at := time.Date(2024, 9, 16, 0, 0, 0, 0, time.UTC) // half of September gone
	(&API{Store: s, MaxUploadBytes: 8 << 20, Budgets: []*cost.Budget{b}, Now: func() time.Time { return at }}).Register(mux)
	if code, body := do(t, mux, "POST", "/api/v1/billing/import", "text/csv", sample(t)); code != 200 {
		t.Fatal(body)
	}
	code, body := do(t, mux, "GET", "/api/v1/budgets", "", nil)
	// AWS billed 18.0066386184 in September: 60.02% of 30, forecast 36.01.
	for _, want := range []string{`"spent":"18.0066386184"`, `"percent":"60.02"`, `"thresholds_crossed":[50]`, `"forecast_overrun":true`, `"forecast":"36.0132772368"`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("budgets: %d %s\nlacks %s", code, body, want)
		}
	}
	if _, body := do(t, mux, "GET", "/api/v1/budgets", "", nil); strings.Contains(body, "acme") {
		t.Error(body)
	}
}

// TestExportFOCUS exports imported billing and priced model calls, then
// imports the export again: a FOCUS round trip keeps the exact total.
func TestExportFOCUS(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mux := auth.NewMux(auth.Disabled())
	(&API{Store: s, MaxUploadBytes: 8 << 20}).Register(mux)
	if code, body := do(t, mux, "POST", "/api/v1/billing/import", "text/csv", sample(t)); code != 200 {
		t.Fatal(body)
	}
	day := time.Date(2024, 9, 10, 12, 0, 0, 0, time.UTC)
	var spans []store.Span
	for i := 0; i < 3; i++ {
		spans = append(spans, store.Span{Tenant: store.DefaultTenant, TraceID: store.TraceID{byte(i + 1)}, SpanID: store.SpanID{byte(i + 1)},
			Service: "chat", Operation: "chat gpt-4o", StartUnixNano: day.Add(time.Duration(i) * time.Minute).UnixNano(), DurationNano: 1,
			Model: "gpt-4o", Provider: "openai", InputTokens: 1000, OutputTokens: 500, Cost: decimal.RequireFromString("0.0075")})
	}
	if err := s.WriteSpans(ctx, spans); err != nil {
		t.Fatal(err)
	}
	code, body := do(t, mux, "GET", "/api/v1/cost/export?format=focus&from=2024-09-01&to=2024-10-01", "", nil)
	if code != 200 || !strings.HasPrefix(body, "AvailabilityZone,BilledCost,") {
		t.Fatalf("%d %.300s", code, body)
	}
	if !strings.Contains(body, `3 calls to gpt-4o from chat, priced by Vigil at ingest`) || !strings.Contains(body, `0.0225,`) {
		t.Errorf("no model-call line in the export")
	}
	// Import the export into a fresh store: 1000 billing lines plus 1.
	s2, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	mux2 := auth.NewMux(auth.Disabled())
	(&API{Store: s2, MaxUploadBytes: 8 << 20}).Register(mux2)
	code, imported := do(t, mux2, "POST", "/api/v1/billing/import", "text/csv", []byte(body))
	if code != 200 || !strings.Contains(imported, `"accepted":1001`) {
		t.Fatalf("re-import: %d %s", code, imported)
	}
	if _, total := do(t, mux2, "GET", "/api/v1/cost?from=2024-01-01&to=2025-01-01", "", nil); !strings.Contains(total, `"billed_cost":"20.54272672899"`) {
		t.Errorf("round-trip total: %s", total)
	}
	if code, _ := do(t, mux, "GET", "/api/v1/cost/export?format=csv&from=2024-09-01&to=2024-10-01", "", nil); code != 400 {
		t.Errorf("unknown export format: %d", code)
	}
}

// TestMultipartFailures: a form whose second file is refused names the
// first file, which stays imported; a form cut off by the upload limit
// inside a part's headers is 413, not 400.
func TestMultipartFailures(t *testing.T) {
	h := setup(t)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "good.csv")
	fw.Write(sample(t))
	fw, _ = mw.CreateFormFile("file", "bad.csv")
	fw.Write([]byte("a,b\n1,2\n"))
	mw.Close()
	code, body := do(t, h, "POST", "/api/v1/billing/import", mw.FormDataContentType(), form.Bytes())
	if code != 400 || !strings.Contains(body, "unknown billing format") || !strings.Contains(body, "imported before it, and kept: good.csv (1000 rows)") {
		t.Errorf("second file refused: %d %s", code, body)
	}

	small := setupSmall(t) // a 1,000-byte limit
	form.Reset()
	mw = multipart.NewWriter(&form)
	// A part whose headers cross the limit.
	part, _ := mw.CreatePart(map[string][]string{"Content-Disposition": {`form-data; name="file"; filename="` + strings.Repeat("n", 2000) + `.csv"`}})
	part.Write([]byte("y"))
	mw.Close()
	if code, body := do(t, small, "POST", "/api/v1/billing/import", mw.FormDataContentType(), form.Bytes()); code != 413 {
		t.Errorf("limit inside part headers: %d %s", code, body)
	}
	if code, body := do(t, h, "GET", "/api/v1/cost/allocation?from=2024-01-01&to=2024-01-02&aggregate=colour", "", nil); code != 400 || !strings.Contains(body, `aggregate \"colour\"`) {
		t.Errorf("unknown aggregate: %d %s", code, body)
	}
}
