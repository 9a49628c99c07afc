package slo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadNative(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "chat.yaml", `slos:
  - name: chat-latency
    service: chat-gateway
    model: gpt-4o
    latency: 800ms
    objective: 99%
    window: 28d
  - name: chat-availability
    service: chat-gateway
    availability: true
    objective: "0.999"
    alerts: {ticket: false, min_events: 100}
`)
	slos, problems, err := Load([]string{dir}, time.Minute)
	if err != nil || len(problems) != 0 {
		t.Fatalf("%v %v", problems, err)
	}
	if len(slos) != 2 {
		t.Fatalf("%d slos", len(slos))
	}
	lat, avail := slos[0], slos[1]
	if sli, ok := lat.SLI.(SpanLatency); lat.Objective != 0.99 || lat.Window.Duration != 28*day || !ok || sli.Latency != 800*time.Millisecond || len(lat.Alerts) != 4 || lat.Alerts[0].Factor != 13.44 {
		t.Errorf("latency SLO: %+v", lat)
	}
	if avail.Window.Duration != 30*day || len(avail.Alerts) != 2 || avail.Alerts[1].Severity != "page" || avail.MinEvents != 100 {
		t.Errorf("availability SLO: %+v", avail)
	}
	plan := lat.Plan()
	for _, want := range []string{"objective: 99% of events good over a rolling 28d", `good: spans of chat-gateway, model "gpt-4o" faster than 800ms`, "alert page: burn rate > 13.44 over 1h and 5m"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
}

// An SLO at 90%: a total outage burns at 10, so the 14.4x page rule can
// never fire, and lint says so as a warning on the objective's line.
func TestLowObjectiveWarning(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "batch.yaml", "slos:\n  - name: batch\n    service: embedder\n    availability: true\n    objective: 90%\n")
	slos, problems, err := Load([]string{dir}, time.Minute)
	if err != nil || len(slos) != 1 {
		t.Fatal(err)
	}
	if len(problems) != 1 {
		t.Fatalf("problems: %v", problems)
	}
	p := problems[0]
	want := "batch.yaml:5: warning: slos[0].objective: the page rule (burn rate 14.4 over 1h) can never fire: at 90% a total outage burns at 10; lower the factor or raise the objective"
	if got := strings.TrimPrefix(p.String(), dir+"/"); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !strings.Contains(slos[0].Plan(), "14.4 over 1h and 5m (2% of the budget when it fires) — can never fire") {
		t.Errorf("plan: %s", slos[0].Plan())
	}
}

func TestSpecErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bad.yaml", `slos:
  - name: Chat_Latency
    service: chat
    latency: 800ms
    objective: 1.2
  - name: b
    objective: 99%
    availability: true
  - name: c
    service: chat
    objective: 99%
  - name: d
    service: chat
    availability: true
    objective: 99%
    window: 30 days
  - name: e
    service: chat
    availability: true
    objective: 99%
    alerts:
      windows: [{severity: page, long: 5m, short: 1h, factor: 14.4}]
  - name: f
    service: chat
    latency: fast
    objective: 99%
  - name: g
    service: chat
    availabilty: true
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
		`bad.yaml:2: slos[0].name: "Chat_Latency" must be a lower-case RFC 1123 label (a-z, 0-9, '-', at most 63)`,
		`bad.yaml:5: slos[0].objective: 1.2 is out of range [0,1) (write 1.2% for a percentage)`,
		`bad.yaml:6: slos[1].service: is required`,
		`bad.yaml:9: slos[2].latency: say what a good event is: latency: <threshold>, availability: true, threshold: {attribute, op, value}, metric: {good|bad, total}, drift: <monitor> or logs: {service, severity}`,
		`bad.yaml:16: slos[3].window: duration "30 days": want a positive whole number before the unit`,
		`bad.yaml:22: slos[4].alerts: alerts.windows[0]: the short window 1h must be shorter than the long window 5m`,
		`bad.yaml:25: slos[5].latency: "fast" is not a positive duration such as 800ms`,
		`bad.yaml:29: slos[6]: field availabilty not found`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseObjective(t *testing.T) {
	for s, want := range map[string]float64{"99.5%": 0.995, "0.995": 0.995, "0": 0, "90%": 0.9} {
		if got, err := ParseObjective(s); err != nil || got != want {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	for _, bad := range []string{"100%", "99.5", "-1", "lots", "1.0"} {
		if _, err := ParseObjective(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
