package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// dashboardSLOs are the SLOs of the dashboards' end-to-end test: two
// over spans, two over Vigil's own metrics as a real Prometheus
// remote-writes them.
const dashboardSLOs = `slos:
  - name: chat-availability
    service: chat-gateway
    availability: true
    objective: 99.9%
    window: 28d
  - name: chat-latency
    service: chat-gateway
    model: gpt-4o
    latency: 500ms
    objective: 99%
    window: 7d
  - name: ranker-latency
    service: ranker
    operation: rank
    latency: 250ms
    objective: 99%
    window: 7d
  - name: ingest-acceptance
    service: vigil
    metric:
      bad: vigil_collector_refused_items_total{job="vigil-self"}
      total: vigil_collector_received_items_total{job="vigil-self"}
    objective: 99%
    window: 28d
  - name: pipeline-queue
    service: vigil
    metric:
      gauge: vigil_collector_queue_items{job="vigil-self"}
      op: lt
      value: 10000
    objective: 99%
    window: 7d
`

// dashboardForeignSLOs are SLOs whose SLIs are PromQL of their own, in
// Sloth's and OpenSLO's files, over Vigil's own metrics as Prometheus
// remote-writes them: a Sloth events SLI with {{.window}}, with a page
// alert (burn-rate panels), and an OpenSLO ratio of rate queries.
var dashboardForeignSLOs = map[string]string{
	"sloth.yaml": `version: "prometheus/v1"
service: "vigil"
slos:
  - name: "ingest-refusals"
    objective: 99
    sli:
      events:
        error_query: sum(rate(vigil_collector_refused_items_total{job="vigil-self"}[{{.window}}]))
        total_query: sum(rate(vigil_collector_received_items_total{job="vigil-self"}[{{.window}}]))
    alerting:
      name: VigilIngestRefusals
      page_alert:
        labels:
          routing_key: vigil
      ticket_alert:
        disable: true
`,
	"openslo.yaml": `apiVersion: openslo/v1
kind: SLO
metadata:
  name: ingest-accepted
spec:
  service: vigil
  indicator:
    metadata:
      name: ingest-accepted
    spec:
      ratioMetric:
        counter: false
        good:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(vigil_collector_accepted_items_total{job="vigil-self"}[1m]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(vigil_collector_received_items_total{job="vigil-self"}[1m]))
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
`,
}

// dashboardBudgets is the budget of the dashboards' end-to-end test,
// over the bill lines focusLinesNow imports.
const dashboardBudgets = `budgets:
  - name: llm-monthly
    amount: "50"
    currency: USD
    thresholds: [80]
    forecast: true
`

// focusLinesNow is a FOCUS 1.0 export of two lines charged in the last
// hour of the current month (7.5 and 5 USD), so a monthly budget's spend
// is 12.5 whenever the test runs.
func focusLinesNow(now time.Time) string {
	now = now.UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	start := now.Truncate(time.Hour).Add(-time.Hour)
	if start.Before(month) {
		start = month
	}
	const layout = "2006-01-02 15:04:05"
	var b strings.Builder
	b.WriteString("BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargeClass," +
		"ChargeDescription,ChargePeriodEnd,ChargePeriodStart,ContractedCost,EffectiveCost,InvoiceIssuerName,ListCost,PricingQuantity,PricingUnit," +
		"ProviderName,PublisherName,ServiceCategory,ServiceName\n")
	for i, c := range []string{"7.5", "5"} {
		fmt.Fprintf(&b, "%s,acct-1,Vigil test,USD,%s,%s,Usage,,GPU hours %d,%s,%s,%s,%s,Cloud Co,%s,1,Hours,Cloud Co,Cloud Co,Compute,GPU VMs\n",
			c, month.AddDate(0, 1, 0).Format(layout), month.Format(layout), i, start.Add(time.Hour).Format(layout), start.Format(layout), c, c, c)
	}
	return b.String()
}

// dashboardFlags are the inventory flags of the test's generate and check.
var dashboardFlags = []string{"--service", "chat-gateway,ranker", "--model", "gpt-4o", "--team", "chat=chat-gateway,ranker"}

// TestDashboardsAnswerEveryQuery is the dashboards' real check: `vigil
// serve` holds spans and GenAI metrics sent through the OpenTelemetry
// SDK, and its own metrics as a real Prometheus scrapes and
// remote-writes them; `vigil dashboards check` then asks it every query
// of every generated dashboard (variables, PromQL targets after Grafana's
// substitutions, Jaeger searches) as Grafana would, and every one must
// find data labelled as its legend shows.
func TestDashboardsAnswerEveryQuery(t *testing.T) {
	// Parallel: mostly waits on Prometheus's scrapes and remote writes.
	t.Parallel()
	prom := needTool(t, "prometheus")
	cfgDir := t.TempDir()
	os.WriteFile(filepath.Join(cfgDir, "slos.yaml"), []byte(dashboardSLOs), 0o644)
	os.WriteFile(filepath.Join(cfgDir, "budgets.yaml"), []byte(dashboardBudgets), 0o644)
	for name, content := range dashboardForeignSLOs {
		os.WriteFile(filepath.Join(cfgDir, name), []byte(content), 0o644)
	}
	var delivered atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { delivered.Add(1) }))
	defer hook.Close()
	v := startServe(t, "", "--config-dir", cfgDir, "--collector.span-metrics-interval", "1s",
		"--analyzer.interval", "1s", "--alert.webhook-url", hook.URL)

	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: vigil-self
    authorization:
      credentials: %q
    static_configs:
      - targets: [%q]
remote_write:
  - url: http://%s/api/v1/write
    authorization:
      credentials: %q
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
`, v.token, v.web, v.http, v.token)
	os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644)
	p := startProgram(t, prom, nil, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+freeAddr(t))

	// An item Vigil refuses as invalid, for the refused-items panel.
	bad := `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"","spanId":"","name":"broken"}]}]}]}`
	req, _ := http.NewRequest("POST", "http://"+v.http+"/v1/traces", strings.NewReader(bad))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}

	// A bill for the budget: its spend reaches the budget panels through
	// the analyzer's gauges, Prometheus's scrape and its remote write.
	resp, err := http.Post("http://"+v.web+"/api/v1/billing/import?name=now.csv", "text/csv", strings.NewReader(focusLinesNow(time.Now())))
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 {
		t.Fatalf("billing import: %d %s", resp.StatusCode, body)
	}
	resp.Body.Close()

	sendDashboardTelemetry(t, v, 30)
	for deadline := time.Now().Add(60 * time.Second); delivered.Load() == 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no alert was delivered for the failing chat SLO; stderr:\n%s", v.stderr)
		}
	}
	// The deliveries and refusals reach Prometheus's next scrapes.
	sendDashboardTelemetry(t, v, 6)

	// The budget panels show the bill's spend, not merely a series.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		var r struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		v.getJSON(t, "/prometheus/api/v1/query?query="+url.QueryEscape(`max(vigil_budget_spend{budget="llm-monthly",currency="USD",job="vigil-self"})`), &r)
		if len(r.Data.Result) == 1 && r.Data.Result[0].Value[1] == "12.5" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("budget spend through Vigil's Prometheus API: %+v, want 12.5", r.Data.Result)
		}
	}

	out, code := dashboardsCheck(t, v)
	if code != 0 {
		t.Fatalf("vigil dashboards check exit %d:\n%s\nprometheus stderr:\n%s", code, out, p.stderr)
	}
	lines := strings.Count(out, "\n") - 1
	if lines < 100 {
		t.Errorf("checked only %d queries:\n%s", lines, out)
	}
	// The SLOs of Sloth's and OpenSLO's files and the budgets were asked too.
	for _, uid := range []string{"vigil-slo-vigil-ingest-refusals", "vigil-slo-ingest-accepted", "vigil-cost"} {
		if !strings.Contains(out, uid+" ") {
			t.Errorf("no query of %s was checked:\n%s", uid, out)
		}
	}
	if !strings.Contains(out, `panel "Forecast at the period's end"`) {
		t.Errorf("the budget panels were not checked:\n%s", out)
	}
	t.Logf("%d queries answered", lines)

	// The check can fail: a tenant with no data has empty panels.
	cmd := withToken(v, exec.Command(binary, append([]string{"dashboards", "check", "--server", "http://" + v.web, "--tenant", "nobody", "--config-dir", cfgDir, "--range", "10m"}, dashboardFlags...)...))
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stdout.String(), "no data") || !strings.Contains(stdout.String(), "no traces") {
		t.Errorf("check of an empty tenant: %v\n%s", err, stdout.String())
	}
	p.cmd.Process.Kill()
	v.stop(t)
}

func dashboardsCheck(t *testing.T, v *vigilServer) (string, int) {
	t.Helper()
	cfgDir := ""
	for i, a := range v.cmd.Args {
		if a == "--config-dir" {
			cfgDir = v.cmd.Args[i+1]
		}
	}
	cmd := withToken(v, exec.Command(binary, append([]string{"dashboards", "check", "--server", "http://" + v.web, "--config-dir", cfgDir, "--range", "10m"}, dashboardFlags...)...))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String() + stderr.String(), code
}

// sendDashboardTelemetry sends, rounds times half a second apart, a trace
// per service and deployment (a server span and a gpt-4o call under it;
// one round in four failed, one in five slow) and the calls' time to
// first token as OTel GenAI metrics, so every rate has several samples.
func sendDashboardTelemetry(t *testing.T, v *vigilServer, rounds int) {
	t.Helper()
	ctx := context.Background()
	texp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(v.grpc), otlptracegrpc.WithInsecure(), otlptracegrpc.WithHeaders(headers(v.grpc)))
	if err != nil {
		t.Fatal(err)
	}
	mexp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(v.grpc), otlpmetricgrpc.WithInsecure(), otlpmetricgrpc.WithHeaders(headers(v.grpc)))
	if err != nil {
		t.Fatal(err)
	}
	type source struct {
		service, operation, deployment string
		tp                             *sdktrace.TracerProvider
		reader                         *sdkmetric.ManualReader
		ttft                           metric.Float64Histogram
	}
	var sources []*source
	for _, svc := range [][2]string{{"chat-gateway", "POST /chat"}, {"ranker", "rank"}} {
		for _, dep := range []string{"stable", "canary"} {
			res := resource.NewSchemaless(attribute.String("service.name", svc[0]), attribute.String("service.instance.id", svc[0]+"-"+dep),
				attribute.String("deployment.name", dep))
			s := &source{service: svc[0], operation: svc[1], deployment: dep, reader: sdkmetric.NewManualReader(),
				tp: sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSyncer(texp))}
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader), sdkmetric.WithResource(res))
			s.ttft, _ = mp.Meter("vigil-e2e").Float64Histogram("gen_ai.server.time_to_first_token", metric.WithUnit("s"))
			sources = append(sources, s)
		}
	}
	for i := range rounds {
		for _, s := range sources {
			tr := s.tp.Tracer("vigil-e2e")
			d := 100 * time.Millisecond
			if i%5 == 0 {
				d = 1200 * time.Millisecond
			}
			end := time.Now()
			start := end.Add(-d)
			sctx, root := tr.Start(ctx, s.operation, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start))
			_, call := tr.Start(sctx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(start.Add(time.Millisecond)), trace.WithAttributes(
				attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "openai"),
				attribute.String("gen_ai.request.model", "gpt-4o"), attribute.Int("gen_ai.usage.input_tokens", 1000),
				attribute.Int("gen_ai.usage.output_tokens", 500)))
			if i%4 == 0 {
				call.SetStatus(codes.Error, "upstream 503")
				root.SetStatus(codes.Error, "upstream 503")
			}
			call.End(trace.WithTimestamp(end.Add(-time.Millisecond)))
			root.End(trace.WithTimestamp(end))
			s.ttft.Record(ctx, d.Seconds()/4, metric.WithAttributes(attribute.String("gen_ai.request.model", "gpt-4o")))
			var rm metricdata.ResourceMetrics
			if err := s.reader.Collect(ctx, &rm); err != nil {
				t.Fatal(err)
			}
			if err := mexp.Export(ctx, &rm); err != nil {
				t.Fatalf("exporting metrics: %v", err)
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, s := range sources {
		if err := s.tp.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mexp.Shutdown(ctx)
}

// TestDashboardsGenerateFiles: generate writes the same bytes twice, the
// provisioning files name both data sources by uid and hold no token.
func TestDashboardsGenerateFiles(t *testing.T) {
	cfgDir := t.TempDir()
	os.WriteFile(filepath.Join(cfgDir, "slos.yaml"), []byte(dashboardSLOs), 0o644)
	run := func(format string) map[string]string {
		out := t.TempDir()
		p := start(t, nil, append([]string{"dashboards", "generate", "--config-dir", cfgDir, "--out", out, "--format", format}, dashboardFlags...)...)
		if code := p.wait(t); code != 0 {
			t.Fatalf("generate --format %s: exit %d: %s", format, code, p.stderr)
		}
		files := map[string]string{}
		filepath.Walk(out, func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				b, _ := os.ReadFile(path)
				rel, _ := filepath.Rel(out, path)
				files[rel] = string(b)
			}
			return nil
		})
		return files
	}
	a, b := run("files"), run("files")
	if len(a) == 0 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("two runs differ or wrote nothing: %d and %d files", len(a), len(b))
	}
	for _, want := range []string{"dashboards/vigil-team-chat/vigil-slo-chat-availability.json", "dashboards/vigil-team-chat/vigil-service-chat-gateway.json",
		"dashboards/vigil/vigil-model-gpt-4o.json", "dashboards/vigil/vigil-cost.json", "dashboards/vigil/vigil-self.json",
		"dashboards/vigil/vigil-slo-ingest-acceptance.json", "provisioning/dashboards/vigil.yaml", "provisioning/datasources/vigil.yaml"} {
		if _, ok := a[filepath.FromSlash(want)]; !ok {
			t.Errorf("no %s among %d files", want, len(a))
		}
	}
	ds := a[filepath.FromSlash("provisioning/datasources/vigil.yaml")]
	for _, want := range []string{"uid: vigil-prometheus", "uid: vigil-jaeger", "url: http://vigil:8080/prometheus", "httpMethod: POST",
		"datasourceUid: vigil-jaeger", "Bearer ${VIGIL_VIEWER_TOKEN}", "prune: true", "editable: false"} {
		if !strings.Contains(ds, want) {
			t.Errorf("datasources file lacks %q:\n%s", want, ds)
		}
	}
	if dash := a[filepath.FromSlash("provisioning/dashboards/vigil.yaml")]; !strings.Contains(dash, "allowUiUpdates: false") || !strings.Contains(dash, "folderUid: vigil-team-chat") {
		t.Errorf("dashboards provider:\n%s", dash)
	}
	op := run("operator")
	y := op["grafana-operator.yaml"]
	if strings.Count(y, "kind: GrafanaDashboard\n") != 10 || !strings.Contains(y, "kind: GrafanaFolder") || !strings.Contains(y, "kind: GrafanaDatasource") {
		t.Errorf("operator resources: %d dashboards\n%.2000s", strings.Count(y, "kind: GrafanaDashboard\n"), y)
	}

	// A bad flag is named.
	p := start(t, nil, "dashboards", "generate", "--config-dir", cfgDir, "--out", t.TempDir(), "--team", "chat")
	if code := p.wait(t); code != 2 || !strings.Contains(p.stderr.String(), `--team "chat": want team=service,service`) {
		t.Errorf("--team chat: exit %d, %s", code, p.stderr)
	}
}
