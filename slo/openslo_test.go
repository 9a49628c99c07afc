package slo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

func TestOpenSLO(t *testing.T) {
	slos, problems, err := Load([]string{"testdata/openslo/ok"}, time.Minute)
	if err != nil || len(problems) > 0 {
		t.Fatalf("Load: %v %v", err, problems)
	}
	got := map[string]*SLO{}
	for _, s := range slos {
		got[s.Name] = s
	}
	if len(got) != 5 {
		t.Fatalf("got %d SLOs, want 5", len(got))
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, tc := range []struct {
		name, service, file string
		method              BudgetingMethod
		objective           float64
		window              string
		sli                 SLI
		sliceTarget         float64
		slice               time.Duration
		alerts              string
	}{
		// References across three files: SLI → DataSource, AlertPolicy →
		// AlertCondition and AlertNotificationTarget.
		{name: "api-availability", service: "api", method: "Occurrences", file: "slo-availability.yaml:17", objective: 0.999, window: "a rolling 28d",
			sli:    MetricRatio{Bad: `http_requests_total{job="api",code=~"5.."}`, Total: `http_requests_total{job="api"}`},
			alerts: "page: burn rate >= 14.4 over 1h and 5m (2% of the budget when it fires), for 5m"},
		// Two objectives of one SLO become two SLOs named by displayName.
		{name: "chat-latency-most-requests", service: "chat", method: "Timeslices", file: "chat-latency.yaml:27", objective: 0.95,
			window: "calendar 1M periods from 2026-01-01 00:00 Europe/Paris", sli: SpanLatency{SpanFilter: SpanFilter{Operation: "chat gpt-4o", Model: "gpt-4o"}, Latency: 800 * time.Millisecond},
			sliceTarget: 0.9, slice: 5 * time.Minute},
		{name: "chat-latency-nearly-all-requests", service: "chat", method: "Timeslices", file: "chat-latency.yaml:33", objective: 0.99,
			window: "calendar 1M periods from 2026-01-01 00:00 Europe/Paris", sli: SpanLatency{SpanFilter: SpanFilter{Operation: "chat gpt-4o", Model: "gpt-4o"}, Latency: 2 * time.Second},
			sliceTarget: 0.99, slice: 5 * time.Minute},
		{name: "search-availability", service: "search", method: "Occurrences", file: "v1alpha.yaml:14", objective: 0.99, window: "a rolling 28d",
			sli: MetricRatio{Good: `search_requests_total{status="ok"}`, Total: "search_requests_total"}},
		{name: "embed-ttft", service: "embed", method: "RatioTimeslices", file: "v2alpha.yaml:13", objective: 0.9, window: "a rolling 7d",
			sli: SpanAttribute{SpanFilter: SpanFilter{Service: "embedder"}, Attribute: "gen_ai.server.time_to_first_token", Op: LessThan, Threshold: 0.5}, slice: time.Hour},
	} {
		s := got[tc.name]
		if s == nil {
			t.Errorf("no SLO %s", tc.name)
			continue
		}
		if s.Service != tc.service || s.Method != tc.method || s.File != "testdata/openslo/ok/"+tc.file || s.Objective != tc.objective ||
			s.Window.String() != tc.window || s.SliceTarget != tc.sliceTarget || s.SliceWindow != tc.slice {
			t.Errorf("%s: got service %s, method %s, file %s, objective %v, window %s, slices %v of %s", tc.name, s.Service, s.Method, s.File, s.Objective, s.Window, s.SliceTarget, s.SliceWindow)
		}
		if fmtSLI(s.SLI) != fmtSLI(tc.sli) {
			t.Errorf("%s: SLI\n got %s\nwant %s", tc.name, fmtSLI(s.SLI), fmtSLI(tc.sli))
		}
		if tc.alerts != "" && (len(s.Alerts) != 1 || s.Alerts[0].String() != tc.alerts) {
			t.Errorf("%s: alerts %v, want [%s]", tc.name, s.Alerts, tc.alerts)
		}
		if tc.alerts == "" && len(s.Alerts) != 4 {
			t.Errorf("%s: %d alert rules, want the workbook's four", tc.name, len(s.Alerts))
		}
	}
	if w := got["chat-latency-most-requests"].Window; w.Location.String() != paris.String() {
		t.Errorf("calendar zone %v", w.Location)
	}
	// The OpenSLO Service groups the SLO; its spans are the data source's
	// service's.
	if e, a := got["embed-ttft"], got["api-availability"]; e.Service != "embed" || e.TelemetryService() != "embedder" || a.TelemetryService() != "" {
		t.Errorf("services: %s/%s, %q", e.Service, e.TelemetryService(), a.TelemetryService())
	}
	if p := got["api-availability"].Policy; p == nil || !p.Breaching || !p.Resolved || p.NoData || len(p.Targets) != 1 || p.Targets[0] != "oncall" {
		t.Errorf("policy %+v", p)
	}
}

func fmtSLI(s SLI) string {
	return fmt.Sprintf("%#v", s)
}

func TestOpenSLOProblems(t *testing.T) {
	_, problems, err := Load([]string{"testdata/openslo/bad"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`calendar.yaml:4: metadata.name: "Calendar" must be a lower-case RFC 1123 label`,
		`calendar.yaml:61: kind: "Widget" is not one of SLO, SLI, DataSource`,
		`calendar.yaml:33: spec.thresholdMetric: data source type "datadog" is not supported`,
		`calendar.yaml:56: spec.condition.op: "lt" would fire while the budget burns slower than 2, that is while the service is healthy`,
		`calendar.yaml:46: spec.notificationTargets: want at least one notification target`,
		`calendar.yaml:44: spec.conditions: want exactly one condition, found 2`,
		`calendar.yaml:19: spec.timeWindow[0].calendar: time zone "Mars/Olympus"`,
		`calendar.yaml:21: spec.budgetingMethod: "Ocurrences" is not Occurrences, Timeslices or RatioTimeslices`,
		`calendar.yaml:23: spec.objectives[0].op: a threshold metric needs op`,
		`calendar.yaml:23: spec.objectives[0].value: a threshold metric needs the value`,
		// Lint's trap: at 90% a total outage burns at 10, below the page's 14.4.
		`page-at-90.yaml:28: warning: spec.objectives[0].objective: the page rule (burn rate 14.4 over 1h) can never fire: at 90% a total outage burns at 10`,
		`ratio-op.yaml:7: spec.indicatorRef: no SLI named "missing-sli" (defined: latency)`,
		`ratio-op.yaml:14: spec.objectives[0].op: op without a value`,
		`target.yaml:24: spec.timeWindow[0].duration: duration "1 month"`,
		`target.yaml:28: spec.objectives[0].target: 1.2 is out of range [0,1)`,
		`target.yaml:28: spec.objectives[0].timeSliceTarget: Timeslices needs a timeSliceTarget in (0,1]`,
		`target.yaml:28: spec.objectives[0].timeSliceWindow: Timeslices needs a timeSliceWindow`,
		`target.yaml:22: spec.indicator.spec.ratioMetric.total.metricSource.spec.query: cannot parse "sum(rate(all_total[5m])) by": 1:28: parse error:`,
	}
	if len(problems) != len(want) {
		var all []string
		for _, p := range problems {
			all = append(all, p.String())
		}
		t.Fatalf("got %d problems, want %d:\n%s", len(problems), len(want), strings.Join(all, "\n"))
	}
	for i, w := range want {
		if got := strings.TrimPrefix(problems[i].String(), "testdata/openslo/bad/"); !strings.HasPrefix(got, w) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i, got, w)
		}
	}
}

// A 1h window of 5-minute slices: ten slices of 10/10 a minute, one of
// 8/10 (ratio 0.8) and one of 9/10 (0.9).
func TestTimeslicesFromRollups(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	end := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var rollups []store.Rollup
	for m := 0; m < 60; m++ {
		good := 10.0
		switch {
		case m >= 50 && m < 55:
			good = 8
		case m >= 55:
			good = 9
		}
		for _, name := range []string{"slices", "ratio-slices"} {
			rollups = append(rollups, store.Rollup{Tenant: store.DefaultTenant, SLO: name, Minute: end.Add(time.Duration(m-60) * time.Minute), Good: good, Total: 10})
		}
	}
	if err := st.WriteRollups(ctx, rollups); err != nil {
		t.Fatal(err)
	}
	window := TimeWindow{Duration: time.Hour, Rolling: true}
	for _, tc := range []struct {
		s         *SLO
		sli, left float64
	}{
		// 11 of 12 slices reach 0.9: SLI 11/12; budget 5%: consumed (1/12)/0.05.
		{&SLO{Name: "slices", Objective: 0.95, Window: window, Method: "Timeslices", SliceTarget: 0.9, SliceWindow: 5 * time.Minute}, 11.0 / 12, 1 - (1.0/12)/0.05},
		// The mean of the slice ratios: (10 + 0.8 + 0.9) / 12 = 0.975.
		{&SLO{Name: "ratio-slices", Objective: 0.95, Window: window, Method: "RatioTimeslices", SliceWindow: 5 * time.Minute}, 0.975, 1 - 0.025/0.05},
	} {
		status, err := Compute(ctx, st, tc.s, end.Add(-time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if !near(status.Budget.SLI, tc.sli) || !near(status.Budget.Remaining, tc.left) {
			t.Errorf("%s: SLI %v remaining %v, want %v and %v", tc.s.Name, status.Budget.SLI, status.Budget.Remaining, tc.sli, tc.left)
		}
		if status.Counts.Good != 585 || status.Counts.Total != 600 {
			t.Errorf("%s: events %g/%g, want 585/600", tc.s.Name, status.Counts.Good, status.Counts.Total)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// TestOpenSLOReadsAsTheSDK checks the problems of the OpenSLO documents the
// reference implementation reads differently than Vigil once did: each is
// reported at its own field, a decoding error beside the others.
func TestOpenSLOReadsAsTheSDK(t *testing.T) {
	const ratio = `
apiVersion: openslo/v1alpha
kind: SLO
metadata:
  name: search
spec:
  service: search
  budgetingMethod: Occurrences
  timeWindows:
    - unit: Day
      count: 28
      isRolling: true
  objectives:
    - target: 0.99
      value: 1
      ratioMetrics:
        incremental: true
        good: {source: prometheus, queryType: promql, query: 'req_total{ok="1"}'}
        total: {source: prometheus, queryType: promql, query: req_total}
`
	const v1ratio = `
apiVersion: openslo/v1
kind: SLO
metadata:
  name: web
spec:
  service: web
  owner: team-a
  indicator:
    metadata:
      name: web
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource: {type: Prometheus, spec: {query: 'req_total{ok="1"}'}}
        total:
          metricSource: {type: Prometheus, spec: {query: req_total}}
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 1.5
      value: 1
`
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"v1alpha ratio with value", ratio, []string{
			`:14: warning: spec.objectives[0].value: is ignored: a ratio objective counts good events`}},
		// An unknown field no longer hides the objective's problems; a
		// ratio's value is named as value.
		{"v1 ratio with value and an unknown field", v1ratio, []string{
			`:7: spec: field owner not found`,
			`:23: spec.objectives[0].target: 1.5 is out of range [0,1)`,
			`:24: spec.objectives[0].value: a ratio objective has no value`}},
		{"v2alpha with both service and serviceRef", `
apiVersion: openslo.com/v2alpha
kind: SLO
metadata:
  name: web
spec:
  service: web
  serviceRef: web
  sliRef: web
  budgetingMethod: Occurrences
  timeWindow: [{duration: 4w, isRolling: true}]
  objectives: [{target: 0.99}]
`, []string{`:7: spec.serviceRef: give serviceRef or service, not both`, `:8: spec.sliRef: no SLI named "web"`}},
		// A metadata field v2alpha does not have and a key no version has
		// are reported once each, beside the spec's problem.
		{"v2alpha metadata and an unknown key", `
apiVersion: openslo.com/v2alpha
kind: Service
metadata:
  name: web
  displayName: Web
owner: team-a
spec:
  description: 7
  tier: 1
`, []string{`:6: field owner not found`, `:5: metadata.displayName: openslo.com/v2alpha metadata has name, labels, annotations, not displayName`,
			`:9: spec: field tier not found`}},
		{"connectionDetails of any shape, a Service without spec", `
apiVersion: openslo/v1
kind: DataSource
metadata:
  name: prom
spec:
  type: Prometheus
  connectionDetails:
    - url: http://prometheus:9090
    - timeout: 30s
---
apiVersion: openslo/v1
kind: Service
metadata:
  name: web
`, nil},
	} {
		file := filepath.Join(t.TempDir(), "slo.yaml")
		if err := os.WriteFile(file, []byte(strings.TrimPrefix(tc.yaml, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		_, problems, err := Load([]string{file}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range problems {
			got = append(got, strings.TrimPrefix(p.String(), file))
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %d problems, want %d:\n%s", tc.name, len(got), len(tc.want), strings.Join(got, "\n"))
			continue
		}
		for i, w := range tc.want {
			if !strings.HasPrefix(got[i], w) {
				t.Errorf("%s: problem %d:\n got %s\nwant %s...", tc.name, i, got[i], w)
			}
		}
	}
}
