package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	elasticsearch "github.com/elastic/go-elasticsearch/v8"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
)

// logSLONative and logSLOOpenSLO are one log-based SLI in both dialects:
// chat's lines at error or above are bad, all its lines the total.
const logSLONative = `slos:
  - name: chat-log-errors
    service: chat
    objective: 99%
    logs: {severity: error}
`

const logSLOOpenSLO = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: chat-log-errors-openslo
spec:
  service: chat-app
  budgetingMethod: Occurrences
  timeWindow:
    - duration: 30d
      isRolling: true
  objectives:
    - target: 0.99
  indicator:
    metadata:
      name: chat-log-errors
    spec:
      ratioMetric:
        bad:
          metricSource:
            type: vigil-logs
            spec: {service: chat, severity: error}
        total:
          metricSource:
            type: vigil-logs
            spec: {service: chat}
`

// testLogSLO ships lines through the OpenTelemetry SDK's OTLP exporter
// and Elastic's client into vigil serve, and checks each SLO's SLI and
// burn rates against the lines sent: bad lines over all of chat's.
func testLogSLO(t *testing.T, storeURL string) {
	dir := t.TempDir()
	for name, body := range map[string]string{"native.yaml": logSLONative, "openslo.yaml": logSLOOpenSLO} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, out := lint(t, dir); code != 0 || out != "" {
		t.Fatalf("lint: exit %d\n%s", code, out)
	}
	v := startServe(t, storeURL, "--config-dir", dir, "--analyzer.interval", "1s")
	defer v.stop(t)
	ctx := context.Background()

	// Through the SDK: 30 of chat's lines, of which the error and fatal
	// ones are bad (a line without a severity is good), and ranker's
	// errors, which chat's SLI does not count.
	bad, total := 0, 0
	for _, service := range []string{"chat", "ranker"} {
		// A provider shuts its exporter down with it: one each.
		exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(v.http), otlploghttp.WithInsecure(), otlploghttp.WithHeaders(headers(v.http)))
		if err != nil {
			t.Fatal(err)
		}
		lp := sdklog.NewLoggerProvider(sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", service))),
			sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
		logger := lp.Logger("vigil-e2e")
		for i := 0; i < 30; i++ {
			sev := []otellog.Severity{otellog.SeverityInfo, otellog.SeverityDebug, otellog.SeverityWarn, otellog.SeverityError, otellog.SeverityUndefined, otellog.SeverityInfo2}[i%6]
			if i == 17 {
				sev = otellog.SeverityFatal
			}
			if service == "ranker" {
				sev = otellog.SeverityError
			}
			var r otellog.Record
			r.SetTimestamp(time.Now())
			r.SetSeverity(sev)
			r.SetBody(attribute.StringValue(fmt.Sprintf("%s line %d", service, i)))
			logger.Emit(ctx, r)
			if service == "chat" {
				total++
				if sev >= otellog.SeverityError {
					bad++
				}
			}
		}
		if err := lp.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Through the bulk API, as Filebeat ships: an error and an info line.
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{"http://" + v.http}, Username: "shipper", Password: v.token})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	bulk := `{"create":{"_index":"filebeat"}}` + "\n" +
		`{"@timestamp":"` + now + `","message":"upstream model timeout","log":{"level":"error"},"service":{"name":"chat"}}` + "\n" +
		`{"create":{"_index":"filebeat"}}` + "\n" +
		`{"@timestamp":"` + now + `","message":"request served","log":{"level":"info"},"service":{"name":"chat"}}` + "\n"
	resp, err := es.Bulk(strings.NewReader(bulk))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Contains(string(body), `"errors":true`) {
		t.Fatalf("bulk: %d %s", resp.StatusCode, body)
	}
	bad, total = bad+1, total+2

	wantSLI := float64(total-bad) / float64(total)
	wantBurn := float64(bad) / float64(total) / (1 - 0.99)
	for _, name := range []string{"chat-log-errors", "chat-log-errors-openslo"} {
		var last string
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
			r := getSLOStatus(t, v, name)
			last = ""
			if r.SLI == nil || math.Abs(*r.SLI-wantSLI) > 1e-12 {
				last = fmt.Sprintf("SLI %v, want %d/%d", deref(r.SLI), total-bad, total)
			}
			if len(r.BurnRates) == 0 {
				last += "; no burn-rate rules"
			}
			for _, b := range r.BurnRates {
				// Every line was sent within the last minute or two, so
				// every window holds them all.
				for _, got := range []*float64{b.LongBurnRate, b.ShortBurnRate} {
					if got == nil || math.Abs(*got-wantBurn) > 1e-9*wantBurn {
						last += fmt.Sprintf("; burn rate over %s/%s %v %v, want %g", b.LongWindow, b.ShortWindow, deref(b.LongBurnRate), deref(b.ShortBurnRate), wantBurn)
					}
				}
			}
			if last == "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: in 60 s: %s", name, last)
			}
		}
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func TestLogSLOEmbedded(t *testing.T) { testLogSLO(t, "") }

func TestLogSLOClickHouse(t *testing.T) {
	ch := needClickHouse(t)
	db := fmt.Sprintf("vigil_log_slo_%d", time.Now().UnixNano())
	t.Cleanup(func() { dropDatabase(ch, db) })
	testLogSLO(t, "clickhouse://"+ch+"/"+db)
}
