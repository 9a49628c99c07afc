package main

import (
	"bytes"
	be "encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/vigil-dev/vigil/alert"
)

// sendChat posts n spans of chat-gateway over OTLP/HTTP, the first errors
// of them failed, with ids from first on.
func sendChat(t *testing.T, v *vigilServer, first, n, errors int) {
	t.Helper()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "chat-gateway")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	now := time.Now()
	for i := 0; i < n; i++ {
		s := spans.AppendEmpty()
		var tid pcommon.TraceID
		var sid pcommon.SpanID
		be.BigEndian.PutUint64(tid[8:], uint64(first+i+1))
		be.BigEndian.PutUint64(sid[:], uint64(first+i+1))
		s.SetTraceID(tid)
		s.SetSpanID(sid)
		s.SetName("POST /chat")
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
		if i < errors {
			s.Status().SetCode(ptrace.StatusCodeError)
		}
	}
	body, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	resp, err := http.Post("http://"+v.http+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("send: %v %v", resp, err)
	}
	resp.Body.Close()
}

type sloResponse struct {
	State     string
	SLI       *float64
	Total     uint64 `json:"total_events"`
	BurnRates []struct {
		Severity      string
		LongWindow    string   `json:"long_window"`
		LongBurnRate  *float64 `json:"long_burn_rate"`
		ShortBurnRate *float64 `json:"short_burn_rate"`
		Firing        bool
	} `json:"burn_rates"`
}

// waitSLO polls the SLO until it has counted total events.
func waitSLO(t *testing.T, v *vigilServer, total uint64) sloResponse {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var r sloResponse
		v.getJSON(t, "/api/v1/slos/chat-availability", &r)
		if r.Total == total {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SLO counted %d events, want %d", r.Total, total)
		}
	}
}

// TestSLOEndToEnd sends spans with a known error ratio through OTLP and
// reads the SLI and burn rates back from the API as the analyzer rolls
// them up.
func TestSLOEndToEnd(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte(`slos:
  - name: chat-availability
    service: chat-gateway
    availability: true
    objective: 99%
`), 0o644)
	am := startAlertmanager(t)
	// A signed webhook receiver, as a user's endpoint would check it.
	hooks := make(chan alert.WebhookMessage, 100)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := alert.Verify("s3cret", r.Header, body, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook signature: %v", err)
			http.Error(w, err.Error(), 401)
			return
		}
		var m alert.WebhookMessage
		json.Unmarshal(body, &m)
		hooks <- m
	}))
	defer hook.Close()
	v := startServe(t, "", "--config-dir", dir, "--analyzer.interval", "1s", "--alertmanager.url", "http://"+am,
		"--alert.webhook-url", hook.URL, "--alert.webhook-secret", "s3cret")

	// 10% errors: burn rate 10 on every window. Above the 6x page rule, below
	// the 14.4x one.
	sendChat(t, v, 0, 100, 10)
	r := waitSLO(t, v, 100)
	if r.SLI == nil || *r.SLI != 0.9 || r.State != "page" {
		t.Fatalf("after 10%% errors: %+v", r)
	}
	firing := map[string]bool{}
	for _, b := range r.BurnRates {
		if b.LongBurnRate == nil || *b.LongBurnRate < 9.999999 || *b.LongBurnRate > 10.000001 || *b.ShortBurnRate < 9.999999 {
			t.Errorf("%s %s: burn rates %v %v, want 10", b.Severity, b.LongWindow, b.LongBurnRate, b.ShortBurnRate)
		}
		firing[b.Severity+" "+b.LongWindow] = b.Firing
	}
	if firing["page 1h0m0s"] || !firing["page 6h0m0s"] || !firing["ticket 24h0m0s"] {
		t.Errorf("firing: %v", firing)
	}
	// The real Alertmanager shows the page alert of the 6h/30m rule.
	waitAlerts(t, am, func(as []amAlert) bool {
		for _, a := range as {
			if a.Labels["severity"] == "page" && a.Labels["long_window"] == "6h" && a.Labels["slo"] == "chat-availability" {
				return true
			}
		}
		return false
	})

	// 100 good spans more: 5% errors, burn 5, under the 6x page rule and
	// over the 3x ticket rule.
	sendChat(t, v, 100, 100, 0)
	r = waitSLO(t, v, 200)
	if *r.SLI != 0.95 || r.State != "ticket" {
		t.Errorf("after 5%% errors: %+v", r)
	}
	// The signed webhook got an Alertmanager-format payload with it.
	select {
	case m := <-hooks:
		if m.Version != "4" || m.Status != "firing" || m.CommonLabels["slo"] != "chat-availability" {
			t.Errorf("webhook payload: %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Error("no webhook arrived")
	}
	// Vigil's own alert list has the page alert firing.
	var alerts []struct {
		State  string
		Labels map[string]string
	}
	v.getJSON(t, "/api/v1/alerts", &alerts)
	if len(alerts) == 0 || alerts[0].State != "firing" {
		t.Errorf("alerts: %+v", alerts)
	}
	// A silence on the SLO's ticket alerts is listed.
	resp, err := http.Post("http://"+v.web+"/api/v1/silences", "application/json",
		strings.NewReader(`{"matchers": {"slo": "chat-availability", "severity": "ticket"}, "duration": "1h", "created_by": "test", "comment": "known"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("silence: %v %v", resp, err)
	}
	resp.Body.Close()
	var silences []map[string]any
	v.getJSON(t, "/api/v1/silences", &silences)
	if len(silences) != 1 || silences[0]["comment"] != "known" {
		t.Errorf("silences: %v", silences)
	}
	// The page alert resolves in Alertmanager; the ticket alerts stay.
	waitAlerts(t, am, func(as []amAlert) bool {
		tickets := 0
		for _, a := range as {
			if a.Labels["severity"] == "page" {
				return false
			}
			tickets++
		}
		return tickets == 2
	})
	v.getJSON(t, "/api/v1/alerts", &alerts)
	states := map[string]string{}
	for _, a := range alerts {
		states[a.Labels["severity"]+" "+a.Labels["long_window"]] = a.State
	}
	if states["page 6h"] != "resolved" || states["ticket 1d"] != "firing" {
		t.Errorf("alert states: %v", states)
	}
	v.stop(t)
}

// startAlertmanager runs Debian's prometheus-alertmanager on a free port
// with a route to nowhere, and returns its address.
func startAlertmanager(t *testing.T) string {
	t.Helper()
	bin := needTool(t, "prometheus-alertmanager")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	os.WriteFile(cfg, []byte("route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n"), 0o644)
	addr := freeAddr(t)
	p := startProgram(t, bin, nil, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--cluster.listen-address=")
	if code, _ := get(t, p, "http://"+addr+"/-/ready"); code != 200 {
		t.Fatalf("alertmanager not ready; stderr:\n%s", p.stderr)
	}
	return addr
}

type amAlert struct {
	Labels map[string]string
	Status struct{ State string }
}

// waitAlerts polls Alertmanager's active alerts until ok accepts them.
func waitAlerts(t *testing.T, am string, ok func([]amAlert) bool) {
	t.Helper()
	var as []amAlert
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		resp, err := http.Get("http://" + am + "/api/v2/alerts?active=true&silenced=false&inhibited=false")
		if err != nil {
			t.Fatal(err)
		}
		as = nil
		json.NewDecoder(resp.Body).Decode(&as)
		resp.Body.Close()
		if ok(as) {
			return
		}
	}
	t.Fatalf("alertmanager's alerts never matched: %+v", as)
}

// TestSLOExport runs `vigil slo export` on an OpenSLO file and checks that
// promtool accepts what it writes.
func TestSLOExport(t *testing.T) {
	dir := t.TempDir()
	spec := `apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-availability
spec:
  service: api
  indicator:
    metadata:
      name: api-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{job="api",code=~"5.."}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{job="api"}
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
`
	os.WriteFile(filepath.Join(dir, "api.yaml"), []byte(spec), 0o644)
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if out, err := exec.Command(binary, "slo", "export", "--format", "prometheus", "-o", rules, dir).CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(rules)
	// The 28-day period scales the workbook's page factor to 13.44.
	if !strings.Contains(string(data), `slo:sli_error:ratio_rate1h{slo="api-availability", tenant="default"} > (13.44 * 0.001)`) {
		t.Errorf("rules:\n%s", data)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		if out, err := exec.Command(promtool, "check", "rules", rules).CombinedOutput(); err != nil {
			t.Errorf("promtool check rules: %v\n%s", err, out)
		}
	} else if os.Getenv("VIGIL_TEST_STRICT") != "" {
		t.Error("promtool not found")
	}
	if out, err := exec.Command(binary, "slo", "export", "--format", "sloth", dir).CombinedOutput(); err == nil || !strings.Contains(string(out), `the only format is prometheus`) {
		t.Errorf("unknown format: %v\n%s", err, out)
	}
}

// TestSlothPyrraCLI: Sloth's and Pyrra's files (slo's testdata, cases of
// our own covering their public examples) lint clean but for warnings;
// vigil slo export writes rules promtool accepts; vigil slo convert writes
// OpenSLO that lints clean, with a note on stderr for what OpenSLO cannot
// carry; a wrong --to is a usage error.
func TestSlothPyrraCLI(t *testing.T) {
	src := []string{filepath.Join("..", "..", "slo", "testdata", "sloth"), filepath.Join("..", "..", "slo", "testdata", "pyrra")}
	if code, out := lint(t, src...); code != 0 || !strings.Contains(out, "warning: spec.sloPlugins.chain[0].id: sloth.dev/contrib/rule_intervals/v1") {
		t.Fatalf("lint: exit %d\n%s", code, out)
	}
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if out, err := exec.Command(binary, append([]string{"slo", "export", "-o", rules}, src...)...).CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(rules)
	for _, want := range []string{"alert: ChatHighErrorRate", "alert: GatewaySlow", `sum(rate(http_requests_total{code=~"5..",job="gateway"}[4d]))`, "routing_key: genai"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("rules lack %q:\n%s", want, data)
		}
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		if out, err := exec.Command(promtool, "check", "rules", rules).CombinedOutput(); err != nil {
			t.Errorf("promtool check rules: %v\n%s", err, out)
		}
	} else if os.Getenv("VIGIL_TEST_STRICT") != "" {
		t.Error("promtool not found")
	}
	dir := t.TempDir()
	cmd := exec.Command(binary, append([]string{"slo", "convert", "--to", "openslo", "-o", filepath.Join(dir, "openslo.yaml")}, src...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("convert: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "note: gateway-errors (") || !strings.Contains(stderr.String(), "the ticket rule over 4d pairs it with 6h") {
		t.Errorf("convert's notes:\n%s", stderr.String())
	}
	if code, out := lint(t, dir); code != 0 || out != "" {
		t.Errorf("the converted OpenSLO: lint exit %d\n%s", code, out)
	}
	if out, err := exec.Command(binary, "slo", "convert", "--to", "sloth", dir).CombinedOutput(); err == nil || !strings.Contains(string(out), `--to "sloth": the only format is openslo`) {
		t.Errorf("unknown format: %v\n%s", err, out)
	}
}
