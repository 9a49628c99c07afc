package slo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// TestLogSLI evaluates the same log SLI written natively and in OpenSLO
// over stored log lines, and compares its counts with the lines written.
func TestLogSLI(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	// Ten minutes of chat's lines, ten a minute: the n-th minute has n
	// errors, and one fatal line in minute 7; ranker's errors beside them.
	var recs []store.LogRecord
	bad, total := 0.0, 0.0
	for m := 0; m < 10; m++ {
		for i := 0; i < 10; i++ {
			sev := store.SeverityInfo
			if i < m {
				sev = store.SeverityError
				bad++
			}
			if m == 7 && i == 9 {
				sev = store.SeverityFatal
				bad++
			}
			total++
			recs = append(recs, store.LogRecord{Tenant: store.DefaultTenant, ID: uint64(len(recs) + 1), Service: "chat", Severity: sev, Body: "line",
				TimeUnixNano: tick.Add(time.Duration(m-10)*time.Minute + time.Duration(i)*time.Second).UnixNano()})
			recs = append(recs, store.LogRecord{Tenant: store.DefaultTenant, ID: uint64(len(recs) + 1), Service: "ranker", Severity: store.SeverityError, Body: "line",
				TimeUnixNano: tick.Add(time.Duration(m-10)*time.Minute + time.Duration(i)*time.Second).UnixNano()})
		}
	}
	if err := st.WriteLogs(ctx, recs); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(t, dir, "native.yaml", `slos:
  - name: chat-log-errors
    service: chat
    objective: 99%
    logs: {severity: error}
`)
	write(t, dir, "openslo.yaml", `apiVersion: openslo/v1
kind: SLO
metadata:
  name: chat-log-errors-openslo
spec:
  service: chat-app
  budgetingMethod: Occurrences
  timeWindow:
    - duration: 28d
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
`)
	slos, problems, err := Load([]string{dir}, time.Minute)
	if err != nil || len(problems) > 0 {
		t.Fatalf("Load: %v %v", err, problems)
	}
	e := &Evaluator{Store: st, SLOs: slos}
	if err := e.Run(ctx, tick.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"chat-log-errors", "chat-log-errors-openslo"} {
		s := findSLO(t, slos, name)
		status, err := Compute(ctx, st, s, tick.Add(-time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if status.Counts.Good != total-bad || status.Counts.Total != total {
			t.Errorf("%s: %g/%g good, want %g/%g", name, status.Counts.Good, status.Counts.Total, total-bad, total)
		}
		// The 5-minute window: minutes 5-9, 35 errors and a fatal line of 50.
		short := 0
		for _, b := range status.Burns {
			if b.Rule.Short != 5*time.Minute {
				continue
			}
			short++
			if b.Short.Good != 14 || b.Short.Total != 50 {
				t.Errorf("%s: 5m window %g/%g good, want 14/50", name, b.Short.Good, b.Short.Total)
			}
		}
		if short == 0 {
			t.Errorf("%s: no rule with a 5m window", name)
		}
		if plan := s.Plan(); !strings.Contains(plan, "bad: log lines of chat at severity error or above (number 17+); total: all log lines of chat") {
			t.Errorf("%s: plan:\n%s", name, plan)
		}
	}
}

func TestLogSLIErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bad.yaml", `slos:
  - name: a
    service: chat
    objective: 99%
    logs: {severity: loud}
  - name: b
    service: chat
    objective: 99%
    logs: {}
  - name: c
    service: chat
    objective: 99%
    availability: true
    logs: {severity: error}
`)
	write(t, dir, "openslo.yaml", `apiVersion: openslo/v1
kind: SLO
metadata:
  name: d
spec:
  service: chat
  budgetingMethod: Occurrences
  timeWindow:
    - duration: 28d
      isRolling: true
  objectives:
    - target: 0.99
  indicator:
    metadata:
      name: d
    spec:
      ratioMetric:
        good:
          metricSource:
            type: vigil-logs
            spec: {service: chat, severity: info}
        total:
          metricSource:
            type: vigil-logs
            spec: {service: chat}
`)
	_, problems, err := Load([]string{dir}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, strings.TrimPrefix(p.String(), dir+"/"))
	}
	want := []string{
		`bad.yaml:5: slos[0].logs.severity: "loud" is not a severity`,
		`bad.yaml:9: slos[1].logs.severity: is required`,
		`bad.yaml:10: slos[2].latency: say what a good event is in one way`,
		`openslo.yaml:19: spec.indicator.spec.ratioMetric.good: a Vigil log ratio counts bad lines`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}
}

// TestLogSLIConvert: a native log SLO written as OpenSLO reads back as the
// same SLI; a severity inside a range has no name to write.
func TestLogSLIConvert(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "native.yaml", `slos:
  - name: chat-log-errors
    service: chat
    objective: 99%
    logs: {severity: warning}
  - name: chat-log-notices
    service: chat
    objective: 99%
    logs: {service: chat-worker, severity: notice}
`)
	slos, problems, err := Load([]string{dir}, time.Minute)
	if err != nil || len(problems) > 0 {
		t.Fatalf("Load: %v %v", err, problems)
	}
	conv, err := ConvertToOpenSLO(slos)
	if err != nil || len(conv.Skipped) != 1 || !strings.Contains(conv.Skipped[0], "chat-log-notices") || !strings.Contains(conv.Skipped[0], "severity number 10") {
		t.Fatalf("%v, skipped %v", err, conv.Skipped)
	}
	back := t.TempDir()
	write(t, back, "openslo.yaml", string(conv.Documents))
	got, problems, err := Load([]string{back}, time.Minute)
	if err != nil || len(problems) > 0 || len(got) != 1 {
		t.Fatalf("reading back: %v %v\n%s", err, problems, conv.Documents)
	}
	l, ok := got[0].SLI.(LogSeverity)
	if !ok || l.service(got[0].Service) != "chat" || l.Severity != store.SeverityWarn {
		t.Errorf("read back as %+v\n%s", got[0].SLI, conv.Documents)
	}
}
