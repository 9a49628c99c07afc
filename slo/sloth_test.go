package slo

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/config"
)

// TestSlothFiles reads Sloth's two forms (testdata/sloth, cases of our own
// covering what Sloth's public examples use) into SLOs: named by Sloth's
// sloth_id, over its 30-day period, with its SLIs, labels and alerts.
func TestSlothFiles(t *testing.T) {
	slos, problems, err := Load([]string{"testdata/sloth"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Only warnings: plugins that shape Sloth's rules alone, and a label
	// Vigil sets itself.
	var got []string
	for _, p := range problems {
		if p.Severity != config.Warning {
			t.Errorf("error: %s", p)
		}
		got = append(got, p.String())
	}
	want := []string{
		`testdata/sloth/chat.yaml:13: warning: slo_plugins.chain[0].id: sloth.dev/core/debug/v1 shapes only the Prometheus rules Sloth writes; Vigil judges the SLO itself, so it changes nothing here`,
		`testdata/sloth/chat.yaml:34: warning: slos[0].alerting.page_alert.labels.severity: is left out: Vigil's alerts set severity to page or ticket; route on that, or give this label another name`,
		`testdata/sloth/chat.yaml:43: warning: slos[1].plugins.chain[0].id: sloth.dev/contrib/info_labels/v1 shapes only the Prometheus rules Sloth writes; Vigil judges the SLO itself, so it changes nothing here`,
		`testdata/sloth/crd.yaml:16: warning: spec.sloPlugins.chain[0].id: sloth.dev/contrib/rule_intervals/v1 shapes only the Prometheus rules Sloth writes; Vigil judges the SLO itself, so it changes nothing here`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	byName := map[string]*SLO{}
	for _, s := range slos {
		byName[s.Name] = s
	}
	names := make([]string, 0, len(slos))
	for _, s := range slos {
		names = append(names, s.Name)
	}
	if want := []string{"chat-requests-availability", "chat-requests-latency", "embed-requests-availability", "rerank-requests-availability", "rerank-quality"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("SLOs %q, want %q", names, want)
	}
	avail := byName["chat-requests-availability"]
	if avail.Service != "chat" || avail.Objective != 0.999 || avail.Window != (TimeWindow{Duration: 30 * day, Rolling: true}) || avail.Method != Occurrences ||
		avail.AlertName != "ChatHighErrorRate" || avail.File != "testdata/sloth/chat.yaml:17" || avail.Description != "Chat completions that do not fail." {
		t.Errorf("chat-requests-availability: %+v", avail)
	}
	if want := (MetricRatio{Bad: `sum(rate(llm_requests_total{job="chat",code=~"(5..|429)"}[{{.window}}]))`, Total: `sum(rate(llm_requests_total{job="chat"}[{{.window}}]))`}); avail.SLI != want {
		t.Errorf("SLI %+v", avail.SLI)
	}
	if want := map[string]string{"owner": "genai-team", "tier": "1", "category": "availability"}; !reflect.DeepEqual(avail.Labels, want) {
		t.Errorf("labels %v", avail.Labels)
	}
	// Sloth's google-30d windows, page then ticket, with the alert's
	// labels and annotations under each severity's.
	type rule struct {
		severity           string
		long, short        time.Duration
		factor             float64
		labels, annotation map[string]string
	}
	var rules []rule
	for _, w := range avail.Alerts {
		rules = append(rules, rule{w.Severity, w.Long, w.Short, w.Factor, w.Labels, w.Annotations})
	}
	page := map[string]string{"category": "availability", "routing_key": "genai"}
	ticket := map[string]string{"category": "availability", "slack_channel": "#genai-alerts"}
	summary := map[string]string{"summary": "High error rate on chat completions"}
	if want := []rule{
		{"page", time.Hour, 5 * time.Minute, 14.4, page, summary}, {"page", 6 * time.Hour, 30 * time.Minute, 6, page, summary},
		{"ticket", 24 * time.Hour, 2 * time.Hour, 3, ticket, summary}, {"ticket", 72 * time.Hour, 6 * time.Hour, 1, ticket, summary},
	}; !reflect.DeepEqual(rules, want) {
		t.Errorf("rules %+v\nwant %+v", rules, want)
	}
	if l := byName["chat-requests-latency"]; len(l.Alerts) != 2 || l.Alerts[0].Severity != "page" || l.Alerts[1].Severity != "page" || l.Objective != 0.99 {
		t.Errorf("chat-requests-latency: ticket off, page on: %+v", l.Alerts)
	}
	embed := byName["embed-requests-availability"]
	if raw, ok := embed.SLI.(RawRatio); !ok || !raw.Failure || !strings.Contains(raw.Query, "sum_over_time(embed_quality_ratio[{{.window}}])") || len(embed.Alerts) != 0 || embed.Objective != 0.9999 {
		t.Errorf("embed: %+v", embed)
	}
	rerank := byName["rerank-requests-availability"]
	if rerank.Service != "rerank" || rerank.Objective != 0.995 || rerank.AlertName != "RerankErrors" || !reflect.DeepEqual(rerank.Labels, map[string]string{"owner": "search"}) ||
		!reflect.DeepEqual(rerank.Alerts[0].Labels, map[string]string{"team": "search"}) ||
		!reflect.DeepEqual(rerank.Alerts[3].Annotations, map[string]string{"runbook": "https://runbooks.example/rerank", "summary": "Rerank is slowly burning its budget"}) {
		t.Errorf("rerank: %+v", rerank)
	}
}

// slothGenerated are the rules `sloth generate` writes for its
// getting-started example (examples/_gen/getting-started.yml in
// github.com/slok/sloth at 0e395d8): the windows of the recording rules,
// and each alert's pairs of windows and factors. Sloth writes the budget
// of 99.9 as 0.0009999999999999432 (100 - 99.9, over 100).
var slothGenerated = struct {
	windows []string
	alerts  map[string][][3]string // severity → {short, long, factor}
	budget  float64
}{
	windows: []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"},
	alerts: map[string][][3]string{
		"page":   {{"5m", "1h", "14.4"}, {"30m", "6h", "6"}},
		"ticket": {{"2h", "1d", "3"}, {"6h", "3d", "1"}},
	},
	budget: 0.0009999999999999432,
}

// TestSlothRules: a Sloth SLO exports the rules Sloth generates for it:
// recording rules of the same expressions over the same windows
// (slo:sli_error:ratio_rate<w>, the SLI's queries with the window
// written in), and burn-rate alerts over the same window pairs and
// thresholds, under the alert name the file gives. Sloth's 30-day
// recording rule and its meta rules (objective, budget remaining) have
// no alert reading them and are not exported.
func TestSlothRules(t *testing.T) {
	slos, _, err := Load([]string{"testdata/sloth/chat.yaml"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	file, skipped := PrometheusRules(slos[:1])
	if len(skipped) > 0 || len(file.Groups) != 2 {
		t.Fatalf("skipped %v, groups %+v", skipped, file.Groups)
	}
	space := regexp.MustCompile(`\s+`)
	var windows []string
	for _, r := range file.Groups[0].Rules {
		w := strings.TrimPrefix(r.Record, "slo:sli_error:ratio_rate")
		windows = append(windows, w)
		// Sloth: (error query)\n/\n(total query), the window written in.
		want := `(sum(rate(llm_requests_total{job="chat",code=~"(5..|429)"}[` + w + `]))) / (sum(rate(llm_requests_total{job="chat"}[` + w + `])))`
		if got := space.ReplaceAllString(r.Expr, " "); got != want {
			t.Errorf("ratio_rate%s: %s\nwant (as Sloth) %s", w, got, want)
		}
		if r.Labels["owner"] != "genai-team" || r.Labels["category"] != "availability" {
			t.Errorf("ratio_rate%s labels %v", w, r.Labels)
		}
	}
	if !reflect.DeepEqual(windows, slothGenerated.windows) {
		t.Errorf("recording windows %v, Sloth's %v", windows, slothGenerated.windows)
	}
	threshold := regexp.MustCompile(`^slo:sli_error:ratio_rate(\w+)\{[^}]*\} > \((\S+) \* (\S+)\)$`)
	got := map[string][][3]string{}
	for _, r := range file.Groups[1].Rules {
		if r.Alert != "ChatHighErrorRate" {
			t.Errorf("alert %q, want the file's ChatHighErrorRate", r.Alert)
		}
		parts := strings.Split(r.Expr, "\nand\n")
		long, short := threshold.FindStringSubmatch(parts[0]), threshold.FindStringSubmatch(parts[1])
		if long == nil || short == nil || long[2] != short[2] || long[3] != short[3] {
			t.Fatalf("alert expression %q", r.Expr)
		}
		if b := parseFloat(t, long[3]); !same(b, slothGenerated.budget) {
			t.Errorf("budget %s, Sloth's %g", long[3], slothGenerated.budget)
		}
		got[r.Labels["severity"]] = append(got[r.Labels["severity"]], [3]string{short[1], long[1], long[2]})
		if r.Labels["routing_key"] == "" && r.Labels["slack_channel"] == "" || r.Annotations["summary"] != "High error rate on chat completions" {
			t.Errorf("alert labels %v annotations %v", r.Labels, r.Annotations)
		}
	}
	if !reflect.DeepEqual(got, slothGenerated.alerts) {
		t.Errorf("alerts %v, Sloth's %v", got, slothGenerated.alerts)
	}
}

// TestSlothProblems: what Sloth's files may say that Vigil cannot judge,
// and what Sloth itself rejects, is an error at the field's line.
func TestSlothProblems(t *testing.T) {
	const head = "version: \"prometheus/v1\"\nservice: chat\nslos:\n  - name: avail\n    objective: 99.9\n"
	const events = "    sli:\n      events:\n        error_query: sum(rate(x{code=\"500\"}[{{.window}}]))\n        total_query: sum(rate(x[{{.window}}]))\n"
	const noAlerts = "    alerting:\n      page_alert: {disable: true}\n      ticket_alert: {disable: true}\n"
	for _, tc := range []struct{ name, src, want string }{
		{"plugin SLI", head + "    sli:\n      plugin:\n        id: sloth-common/kubernetes/apiserver/availability\n        options: {filter: x}\n" + noAlerts,
			`x.yaml:7: slos[0].sli.plugin: SLI plugin "sloth-common/kubernetes/apiserver/availability" is Go code that Sloth runs`},
		{"no window", head + "    sli:\n      events:\n        error_query: sum(rate(x{code=\"500\"}[5m]))\n        total_query: sum(rate(x[{{.window}}]))\n" + noAlerts,
			`x.yaml:8: slos[0].sli.events.error_query: must read {{.window}}, as Sloth requires`},
		{"bad query", head + "    sli:\n      events:\n        error_query: sum(rate(x{code=\"500\"[{{.window}}]))\n        total_query: sum(rate(x[{{.window}}]))\n" + noAlerts,
			`x.yaml:8: slos[0].sli.events.error_query: cannot parse`},
		{"alert name", head + events + "    alerting:\n      ticket_alert: {disable: true}\n",
			`x.yaml:10: slos[0].alerting.name: is required while the page alert is on, as Sloth requires`},
		{"no alerting", head + events,
			`x.yaml:4: slos[0].alerting.name: is required while the page alert is on`},
		{"objective 100", "version: \"prometheus/v1\"\nservice: chat\nslos:\n  - name: avail\n    objective: 100\n" + events + noAlerts,
			`x.yaml:5: slos[0].objective: 100% is out of range [0%,100%)`},
		{"denominator plugin", head + "    plugins:\n      chain:\n        - id: sloth.dev/contrib/denominator_corrected_rules/v1\n" + events + noAlerts,
			`x.yaml:8: slos[0].plugins.chain[0].id: sloth.dev/contrib/denominator_corrected_rules/v1 does not map to Vigil: it corrects`},
		{"unknown plugin", head + "    plugins:\n      chain:\n        - id: acme/custom/v1\n" + events + noAlerts,
			`x.yaml:8: slos[0].plugins.chain[0].id: "acme/custom/v1" is not a Sloth plugin Vigil knows`},
		{"unknown field", head + "    window: 28d\n" + events + noAlerts,
			`x.yaml:6: slos[0].window: unknown field; the fields here are name, description, objective, labels, plugins, sli, alerting`},
		{"camelCase in the spec", head + "    sli:\n      events:\n        errorQuery: sum(rate(x{code=\"500\"}[{{.window}}]))\n        total_query: sum(rate(x[{{.window}}]))\n" + noAlerts,
			`x.yaml:8: slos[0].sli.events.errorQuery: unknown field; the fields here are error_query, total_query`},
		{"snake_case in the CRD", "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata: {name: x}\nspec:\n  service: chat\n  slos:\n    - name: a\n      objective: 99\n      sli:\n        events:\n          error_query: sum(rate(x[{{.window}}]))\n          totalQuery: sum(rate(x[{{.window}}]))\n      alerting: {pageAlert: {disable: true}, ticketAlert: {disable: true}}\n",
			`x.yaml:11: spec.slos[0].sli.events.error_query: unknown field; the fields here are errorQuery, totalQuery`},
		{"two SLIs", head + "    sli:\n      raw: {error_ratio_query: \"x{w=\\\"{{.window}}\\\"}\"}\n      plugin: {id: p}\n" + noAlerts,
			`x.yaml:6: slos[0].sli: give one of events, raw or plugin`},
		{"no service", "version: \"prometheus/v1\"\nslos:\n  - name: avail\n    objective: 99.9\n" + events + noAlerts,
			`x.yaml:1: service: is required`},
		{"bad name", "version: \"prometheus/v1\"\nservice: Chat\nslos:\n  - name: avail\n    objective: 99.9\n" + events + noAlerts,
			`x.yaml:4: slos[0].name: the SLO's id "Chat-avail" (service-name, as Sloth's sloth_id) must be a lower-case RFC 1123 label`},
		{"same id twice", head + events + noAlerts + "  - name: avail\n    objective: 99\n" + events + noAlerts,
			`x.yaml:13: name: SLO "chat-avail" is also defined at x.yaml:4`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "x.yaml", tc.src)
			slos, problems, err := Load([]string{dir}, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			lines := problemStrings(dir, problems)
			found := false
			for _, l := range lines {
				found = found || strings.HasPrefix(l, tc.want)
			}
			if !found || !config.HasErrors(problems) {
				t.Errorf("problems %q\nwant %q...", lines, tc.want)
			}
			if tc.name != "same id twice" && len(slos) != 0 {
				t.Errorf("an SLO with errors is evaluated: %+v", slos)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// problemStrings are the problems as lint prints them, relative to dir.
func problemStrings(dir string, problems []config.Problem) []string {
	var out []string
	for _, p := range problems {
		out = append(out, strings.ReplaceAll(p.String(), dir+"/", ""))
	}
	return out
}

func parseFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSlothAlertLabels: a Sloth SLO's alerts carry its labels and its
// page alert's labels and annotations, under the labels that identify a
// Vigil alert; the file's summary replaces Vigil's.
func TestSlothAlertLabels(t *testing.T) {
	slos, _, err := Load([]string{"testdata/sloth/chat.yaml"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	s := slos[0]
	page := s.Alerts[0]
	firing := raised([]Status{{SLO: s, State: "page", Burns: []WindowBurn{{Rule: page, Firing: true, LongRate: 20, ShortRate: 30}}}})
	if len(firing) != 1 {
		t.Fatalf("%d alerts raised", len(firing))
	}
	for _, r := range firing {
		want := map[string]string{"alertname": AlertName, "slo": "chat-requests-availability", "service": "chat", "severity": "page", "long_window": "1h", "short_window": "5m",
			"tenant": "default", "owner": "genai-team", "tier": "1", "category": "availability", "routing_key": "genai"}
		if !reflect.DeepEqual(r.labels, want) {
			t.Errorf("labels %v\nwant %v", r.labels, want)
		}
		if r.annotations["summary"] != "High error rate on chat completions" || !strings.HasPrefix(r.annotations["description"], "Burn rate 20.00 over 1h") {
			t.Errorf("annotations %v", r.annotations)
		}
	}
}
