package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// sendModelCalls sends four GenAI spans over OTLP/HTTP: two gpt-4o calls
// priced at ingest from the built-in table (1,000 in and 500 out at $2.50
// and $10 per million: 0.0075 each), one whose caller supplied its cost,
// and one of a model no table prices.
func sendModelCalls(t *testing.T, v *vigilServer) {
	t.Helper()
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpoint(v.http), otlptracehttp.WithInsecure(), otlptracehttp.WithHeaders(headers(v.http)))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "chat-gateway"))))
	tr := tp.Tracer("vigil-e2e")
	call := func(model string, in, out int, extra ...attribute.KeyValue) {
		_, sp := tr.Start(context.Background(), "chat "+model, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(append([]attribute.KeyValue{
			attribute.String("gen_ai.operation.name", "chat"),
			attribute.String("gen_ai.request.model", model),
			attribute.Int("gen_ai.usage.input_tokens", in),
			attribute.Int("gen_ai.usage.output_tokens", out),
		}, extra...)...))
		sp.End()
	}
	call("gpt-4o", 1000, 500)
	call("gpt-4o", 1000, 500)
	call("gpt-4o", 1000, 500, attribute.Float64("gen_ai.usage.cost", 0.42))
	call("house-llm", 10, 10)
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatalf("exporting to vigil: %v", err)
	}
}

// modelCosts reads the cost of model calls per model from the unit
// economics API, waiting until want calls are visible.
func modelCosts(t *testing.T, v *vigilServer, from, to time.Time, want uint64) map[string]string {
	t.Helper()
	var unit struct {
		Groups []struct {
			Group map[string]string
			Calls uint64
			Cost  string
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		v.getJSON(t, fmt.Sprintf("/api/v1/cost/unit?from=%s&to=%s&group_by=model", from.Format(time.RFC3339), to.Format(time.RFC3339)), &unit)
		var calls uint64
		out := map[string]string{}
		for _, g := range unit.Groups {
			calls += g.Calls
			out[g.Group["model"]] = g.Cost
		}
		if calls == want {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d model calls visible, want %d: %+v", calls, want, unit.Groups)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type repriceJSON struct {
	DryRun bool `json:"dry_run"`
	Models []struct {
		Tenant, Model string
		Spans         uint64
		Repriced      uint64 `json:"spans_repriced"`
		CallerPriced  uint64 `json:"spans_caller_priced"`
		Unpriced      uint64 `json:"spans_unpriced"`
		Before        string `json:"cost_before"`
		After         string `json:"cost_after"`
	}
	Unpriced []struct {
		Model string
		Calls uint64
	} `json:"unpriced_models"`
}

// runRepriceCLI runs vigil cost reprice and returns its JSON report.
func runRepriceCLI(t *testing.T, args ...string) repriceJSON {
	t.Helper()
	out, err := exec.Command(binary, append([]string{"cost", "reprice", "--output", "json"}, args...)...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("vigil cost reprice %v: %v\n%s%s", args, err, out, msg)
	}
	var rep repriceJSON
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	return rep
}

// renderReprice keeps the parts of a report a test compares.
func renderReprice(rep repriceJSON) string {
	var b strings.Builder
	for _, m := range rep.Models {
		fmt.Fprintf(&b, "%s/%s spans=%d repriced=%d caller=%d unpriced=%d %s->%s; ", m.Tenant, m.Model, m.Spans, m.Repriced, m.CallerPriced, m.Unpriced, m.Before, m.After)
	}
	for _, u := range rep.Unpriced {
		fmt.Fprintf(&b, "unpriced %s=%d; ", u.Model, u.Calls)
	}
	return b.String()
}

// newPrices doubles gpt-4o: 1,000 in and 500 out at $5 and $20 per million
// cost 0.005 + 0.01 = 0.015.
const newPrices = `prices:
  - model: gpt-4o
    input: 5.00
    output: 20.00
`

// testRepriceEndToEnd ingests through OTLP, reprices with a new price file
// (between stopping and starting serve when the store is embedded, while it
// runs on ClickHouse), and reads the new totals through the API.
func testRepriceEndToEnd(t *testing.T, storeURL string) {
	dir := t.TempDir()
	priceFile := filepath.Join(dir, "prices.yaml")
	if err := os.WriteFile(priceFile, []byte(newPrices), 0o644); err != nil {
		t.Fatal(err)
	}
	storeArgs := []string{"--data-dir", dir}
	if storeURL != "" {
		storeArgs = []string{"--store", storeURL}
	}
	v := startServe(t, storeURL, "--data-dir", dir)
	sendModelCalls(t, v)
	from, to := time.Now().UTC().Add(-time.Hour).Truncate(time.Second), time.Now().UTC().Add(time.Minute).Truncate(time.Second)
	// At ingest: 2 × 0.0075 + 0.42 from the caller; house-llm has no price.
	if got, want := fmt.Sprint(modelCosts(t, v, from, to, 4)), "map[gpt-4o:0.435 house-llm:0]"; got != want {
		t.Errorf("costs at ingest: %s, want %s", got, want)
	}
	if storeURL == "" {
		v.stop(t)
	}
	rangeArgs := append([]string{"--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339), "--price-file", priceFile}, storeArgs...)

	dry := runRepriceCLI(t, append(rangeArgs, "--dry-run")...)
	want := "default/gpt-4o spans=3 repriced=2 caller=1 unpriced=0 0.435->0.45; default/house-llm spans=1 repriced=0 caller=0 unpriced=1 0->0; unpriced house-llm=1; "
	if got := renderReprice(dry); got != want || !dry.DryRun {
		t.Errorf("dry run:\n got %s\nwant %s", got, want)
	}
	if got := renderReprice(runRepriceCLI(t, rangeArgs...)); got != want {
		t.Errorf("reprice:\n got %s\nwant %s", got, want)
	}
	// Again: the same spans, already at the new price.
	again := "default/gpt-4o spans=3 repriced=2 caller=1 unpriced=0 0.45->0.45; default/house-llm spans=1 repriced=0 caller=0 unpriced=1 0->0; unpriced house-llm=1; "
	if got := renderReprice(runRepriceCLI(t, rangeArgs...)); got != again {
		t.Errorf("second run:\n got %s\nwant %s", got, again)
	}
	// Another tenant has no spans: nothing to do.
	if got := renderReprice(runRepriceCLI(t, append(rangeArgs, "--tenant", "acme")...)); got != "" {
		t.Errorf("tenant acme: %s", got)
	}

	if storeURL == "" {
		v = startServe(t, "", "--data-dir", dir)
	}
	// 2 × 0.015 + 0.42 from the caller.
	if got, want := fmt.Sprint(modelCosts(t, v, from, to, 4)), "map[gpt-4o:0.45 house-llm:0]"; got != want {
		t.Errorf("costs after repricing: %s, want %s", got, want)
	}
	v.stop(t)

	// The text report, and a clear error for a bad range.
	out, err := exec.Command(binary, append([]string{"cost", "reprice", "--dry-run"}, rangeArgs...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "would reprice (dry run, nothing written) 2 spans; 1 caller-priced left alone; 1 of unpriced models left alone") ||
		!strings.Contains(string(out), "house-llm (1 spans)") {
		t.Errorf("text report: %v\n%s", err, out)
	}
	out, err = exec.Command(binary, "cost", "reprice", "--data-dir", dir, "--from", "yesterday", "--to", "2026-01-01").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `--from "yesterday": want RFC 3339`) {
		t.Errorf("bad --from: %v\n%s", err, out)
	}
}

func TestRepriceEmbedded(t *testing.T) { testRepriceEndToEnd(t, "") }

func TestRepriceClickHouse(t *testing.T) {
	ch := needClickHouse(t)
	db := fmt.Sprintf("vigil_reprice_%d", time.Now().UnixNano())
	defer dropDatabase(ch, db)
	testRepriceEndToEnd(t, "clickhouse://"+ch+"/"+db)
}
