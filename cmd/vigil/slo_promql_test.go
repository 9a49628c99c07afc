package main

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

const promqlSLOBad, promqlSLOTotal = `sum(rate(http_requests_total{code=~"5.."}[5m]))`, `sum(rate(http_requests_total[5m]))`

// promqlSLO is issue 11's OpenSLO file: the SLI is a ratio of two PromQL
// rates. counter: false says what the queries are (rates); Vigil reads any
// query over a range as one either way.
var promqlSLO = fmt.Sprintf(`apiVersion: openslo/v1
kind: SLO
metadata:
  name: http-errors
spec:
  service: web
  indicator:
    metadata:
      name: http-error-ratio
    spec:
      ratioMetric:
        counter: false
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: %s
        total:
          metricSource:
            type: Prometheus
            spec:
              query: %s
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
`, promqlSLOBad, promqlSLOTotal)

// slothSLO is the same SLI as Sloth writes it (its getting-started
// example's shape): Vigil names it <service>-<name>, as Sloth's sloth_id,
// and samples its {{.window}} queries over five minutes, so its burn rates
// are the OpenSLO file's.
const slothSLO = `version: "prometheus/v1"
service: "web"
labels:
  owner: "web-team"
slos:
  - name: "requests-availability"
    objective: 99
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting:
      name: WebHighErrorRate
      page_alert:
        labels:
          routing_key: web
      ticket_alert:
        disable: true
`

// pyrraSLO is the same counters as Pyrra's ratio indicator reads them:
// plain selectors, whose increases Vigil counts minute by minute.
const pyrraSLO = `apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: web-errors
  namespace: web
  labels:
    pyrra.dev/team: web-team
spec:
  target: "99"
  window: 4w
  indicator:
    ratio:
      errors:
        metric: http_requests_total{code=~"5.."}
      total:
        metric: http_requests_total
`

// requestsExporter serves http_requests_total for codes 200 and 500,
// advancing them by uneven steps at every scrape, so the error ratio
// changes from minute to minute, and failing three times as often from the
// 360th scrape (three minutes in), so short windows differ from long ones.
// The counters start far from zero, as a long-running service's do:
// Prometheus 3 changed how rate() extrapolates towards a counter's zero
// near the start of a series (it clamps after choosing how far to
// extrapolate, 2.42 before), and the test compares Prometheus 2.42 with
// Vigil's engine, which is Prometheus 3's.
type requestsExporter struct{ scrapes atomic.Int64 }

func (e *requestsExporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := e.scrapes.Add(1)
	ok, failed := int64(1_000_000), int64(50_000)
	for i := int64(1); i <= n; i++ {
		ok += 7 + i%5
		failed += i % 2
		if i%7 == 0 {
			failed += 3
		}
		if i >= 360 {
			failed += 2
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} %d\nhttp_requests_total{code=\"500\"} %d\n", ok, failed)
}

// TestPromQLSLOMatchesPrometheus is issue 11's done-when: the OpenSLO file
// above lints clean, and with Debian's Prometheus scraping such a counter
// and remote-writing it into vigil serve (each backend), the burn rates
// and SLI of GET /api/v1/slos/http-errors match what that Prometheus
// computes to 1e-9.
//
// What "the same ratio" is: Vigil rolls a rate query up per minute, the
// query's value at each minute's start standing for the minute (60 × the
// rate is its events). A window ending with the minute in progress, at
// minute start T, holds the minute starts T-w+1m ... T, and its error ratio
// is the sum of the bad query's values at those starts over the sum of the
// total query's. So Prometheus evaluates the same two expressions at the
// same minute starts (query_range with a step of a minute) and the test
// divides their sums: what sum_over_time(q[w:1m]) at T is in Prometheus 3,
// whose subquery ranges are open at the start (Prometheus 2's closed one
// would add T-w). The burn rate is that ratio over 1 - 0.99. Both engines
// are Prometheus's, 2.42 and Vigil's 3, which read the same samples unless
// one lies on the start of a rate's range, a whole second here: the test
// is skipped when a scrape does.
func TestPromQLSLOMatchesPrometheus(t *testing.T) {
	// Parallel: mostly waits on Prometheus's scrapes and remote writes.
	t.Parallel()
	prom := needTool(t, "prometheus")
	dir := t.TempDir()
	for name, body := range map[string]string{"http.yaml": promqlSLO, "sloth.yaml": slothSLO, "pyrra.yaml": pyrraSLO} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, out := lint(t, dir); code != 0 || out != "" {
		t.Fatalf("lint: exit %d\n%s", code, out)
	}
	vigils := map[string]*vigilServer{"embedded": startServe(t, "", "--config-dir", dir, "--analyzer.interval", "1s")}
	if ch := clickHouseFor(t); ch != "" {
		db := fmt.Sprintf("vigil_promql_slo_%d", time.Now().UnixNano())
		t.Cleanup(func() { dropDatabase(ch, db) })
		vigils["clickhouse"] = startServe(t, "clickhouse://"+ch+"/"+db, "--config-dir", dir, "--analyzer.interval", "1s")
	}
	exp := &requestsExporter{}
	srv := httptest.NewServer(exp)
	defer srv.Close()
	promAPI := "http://" + startPrometheusFor(t, prom, srv.Listener.Addr().String(), vigils) + "/api/v1"

	// Six minutes of data at least (the 5m window then differs from the
	// longer ones), and a minute of the clock not yet half gone, for the
	// comparison to fit in it.
	started := time.Now()
	var at time.Time
	for {
		now := time.Now()
		at = now.Truncate(time.Minute)
		if at.Sub(started) >= 6*time.Minute && now.Sub(at) < 30*time.Second {
			break
		}
		if now.Sub(started) > 9*time.Minute {
			t.Fatal("no minute to compare in 9 minutes")
		}
		time.Sleep(time.Second)
	}
	if sampleOnWholeSecond(t, promAPI, at) {
		t.Skip("a scrape lies on a whole second, where Prometheus 2's rate ranges are closed and 3's open: the two engines read different samples")
	}
	compared := 0
	for name, v := range vigils {
		// Vigil holds every sample up to at; a few ticks later it has
		// recomputed the minute that starts at at with all of them.
		waitForParity(t, promAPI, "http://"+v.web+"/prometheus/api/v1", at, name)
		time.Sleep(3 * time.Second)
		// The OpenSLO file's SLO, and Sloth's of the same queries over its
		// 30 days, page rules only.
		for _, sloName := range []string{"http-errors", "web-requests-availability"} {
			r := getSLOStatus(t, v, sloName)
			if !r.At.Equal(at.Add(time.Minute)) {
				t.Fatalf("%s: %s evaluated at %s, not in the minute from %s: the comparison took too long", name, sloName, r.At, at)
			}
			if sloName == "web-requests-availability" && (len(r.BurnRates) != 2 || !reflect.DeepEqual(r.Labels, map[string]string{"owner": "web-team"})) {
				t.Errorf("%s: Sloth's SLO: %d burn-rate rules (want its 2 page rules), labels %v", name, len(r.BurnRates), r.Labels)
			}
			for _, b := range r.BurnRates {
				for _, w := range []struct {
					window string
					got    *float64
				}{{b.LongWindow, b.LongBurnRate}, {b.ShortWindow, b.ShortBurnRate}} {
					d, err := time.ParseDuration(w.window)
					if err != nil || w.got == nil {
						t.Fatalf("%s: %s: burn rate over %q: %v %v", name, sloName, w.window, w.got, err)
					}
					want := errorRatioAt(t, promAPI, at, d, started) / (1 - 0.99)
					if !sameValue(*w.got, want) {
						t.Errorf("%s: %s: burn rate over %s is %.17g, Prometheus %.17g", name, sloName, w.window, *w.got, want)
					}
					compared++
				}
			}
			// The SLI over the SLO's window: every minute start since the
			// data began.
			window, _ := time.ParseDuration(r.Window)
			if want := 1 - errorRatioAt(t, promAPI, at, window, started); r.SLI == nil {
				t.Errorf("%s: %s: no SLI, Prometheus %.17g", name, sloName, want)
			} else if !sameValue(*r.SLI, want) {
				t.Errorf("%s: %s: SLI %.17g, Prometheus %.17g", name, sloName, *r.SLI, want)
			}
		}
		// Pyrra's SLO counts the counters' increases minute by minute, the
		// minute in progress up to the evaluation (slo's tests compare that
		// arithmetic with the engine exactly). Here, where the evaluation
		// and Prometheus's answer are seconds apart, its error ratio is
		// compared with the ratio of increase() to within 10%, and its
		// rules are Pyrra's for four weeks.
		p := getSLOStatus(t, v, "web-errors")
		var windows []string
		for _, b := range p.BurnRates {
			windows = append(windows, b.ShortWindow+"/"+b.LongWindow)
		}
		if want := []string{"5m0s/1h0m0s", "30m0s/6h0m0s", "2h0m0s/24h0m0s", "6h0m0s/96h0m0s"}; !reflect.DeepEqual(windows, want) || !reflect.DeepEqual(p.Labels, map[string]string{"team": "web-team"}) || p.Service != "web" {
			t.Errorf("%s: Pyrra's SLO: windows %v (want %v), labels %v, service %q", name, windows, want, p.Labels, p.Service)
		}
		increases := ask(t, promAPI, url.Values{"query": {`sum(increase(http_requests_total{code=~"5.."}[1h])) / sum(increase(http_requests_total[1h]))`}, "time": {seconds(at)}})
		iv, err := decodeSeries(increases.Data.Result)
		if err != nil || len(iv) != 1 || p.SLI == nil {
			t.Fatalf("%s: Pyrra's SLO: SLI %v; Prometheus %v %s", name, p.SLI, err, increases.raw)
		}
		want, _ := strconv.ParseFloat(iv[0].points()[0][1].(string), 64)
		if got := 1 - *p.SLI; !(math.Abs(got-want) <= 0.1*want) {
			t.Errorf("%s: Pyrra's SLO: error ratio %.6g, Prometheus's increase() ratio %.6g", name, got, want)
		}
	}
	t.Logf("%d burn rates matched Prometheus to 1e-9 at %s", compared, at.Format(time.RFC3339))
}

// sloStatus is what the test reads of GET /api/v1/slos/{name}.
type sloStatus struct {
	Service   string            `json:"service"`
	Window    string            `json:"window"`
	SLI       *float64          `json:"sli"`
	At        time.Time         `json:"evaluated_at"`
	Labels    map[string]string `json:"labels"`
	BurnRates []struct {
		LongWindow    string   `json:"long_window"`
		ShortWindow   string   `json:"short_window"`
		LongBurnRate  *float64 `json:"long_burn_rate"`
		ShortBurnRate *float64 `json:"short_burn_rate"`
	} `json:"burn_rates"`
}

func getSLOStatus(t *testing.T, v *vigilServer, name string) sloStatus {
	t.Helper()
	var r sloStatus
	v.getJSON(t, "/api/v1/slos/"+name, &r)
	return r
}

// errorRatioAt is the SLI's error ratio over the window w ending with the
// minute that starts at at, as Prometheus computes it from the SLI's own
// expressions at the window's minute starts; none has data before
// started, which keeps a 28-day range within Prometheus's 11,000 points.
func errorRatioAt(t *testing.T, promAPI string, at time.Time, w time.Duration, started time.Time) float64 {
	t.Helper()
	from := at.Add(-w + time.Minute)
	if first := started.Truncate(time.Minute); from.Before(first) {
		from = first
	}
	sum := func(q string) float64 {
		req := url.Values{"query": {q}, "start": {seconds(from)}, "end": {seconds(at)}, "step": {"60"}}
		a := ask(t, promAPI, req)
		s, err := decodeSeries(a.Data.Result)
		if err != nil || a.Status != "success" || len(s) != 1 {
			t.Fatalf("%s over %s: %v %s", q, w, err, a.raw)
		}
		total := 0.0
		for _, p := range s[0].Values {
			v, _ := strconv.ParseFloat(p[1].(string), 64)
			total += v
		}
		return total
	}
	return sum(promqlSLOBad) / sum(promqlSLOTotal)
}

// sampleOnWholeSecond reports whether any scrape of the five minutes
// before at lies on a whole second.
func sampleOnWholeSecond(t *testing.T, promAPI string, at time.Time) bool {
	var raw struct {
		Data struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	getInto(t, promAPI+"/query?"+url.Values{"query": {`http_requests_total[10m]`}, "time": {seconds(at)}}.Encode(), &raw)
	for _, s := range raw.Data.Result {
		for _, v := range s.Values {
			if int64(math.Round(v[0].(float64)*1000))%1000 == 0 {
				return true
			}
		}
	}
	return false
}
