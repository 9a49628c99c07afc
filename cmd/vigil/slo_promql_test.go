package main

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
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
	prom := needTool(t, "prometheus")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "http.yaml"), []byte(promqlSLO), 0o644); err != nil {
		t.Fatal(err)
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
		var r struct {
			SLI       *float64  `json:"sli"`
			At        time.Time `json:"evaluated_at"`
			BurnRates []struct {
				LongWindow    string   `json:"long_window"`
				ShortWindow   string   `json:"short_window"`
				LongBurnRate  *float64 `json:"long_burn_rate"`
				ShortBurnRate *float64 `json:"short_burn_rate"`
			} `json:"burn_rates"`
		}
		v.getJSON(t, "/api/v1/slos/http-errors", &r)
		if !r.At.Equal(at.Add(time.Minute)) {
			t.Fatalf("%s: evaluated at %s, not in the minute from %s: the comparison took too long", name, r.At, at)
		}
		for _, b := range r.BurnRates {
			for _, w := range []struct {
				window string
				got    *float64
			}{{b.LongWindow, b.LongBurnRate}, {b.ShortWindow, b.ShortBurnRate}} {
				d, err := time.ParseDuration(w.window)
				if err != nil || w.got == nil {
					t.Fatalf("%s: burn rate over %q: %v %v", name, w.window, w.got, err)
				}
				want := errorRatioAt(t, promAPI, at, d, started) / (1 - 0.99)
				if !sameValue(*w.got, want) {
					t.Errorf("%s: burn rate over %s is %.17g, Prometheus %.17g", name, w.window, *w.got, want)
				}
				compared++
			}
		}
		// The SLI over 28 days: every minute start since the data began.
		if want := 1 - errorRatioAt(t, promAPI, at, 28*24*time.Hour, started); r.SLI == nil {
			t.Errorf("%s: no SLI, Prometheus %.17g", name, want)
		} else if !sameValue(*r.SLI, want) {
			t.Errorf("%s: SLI %.17g, Prometheus %.17g", name, *r.SLI, want)
		}
	}
	t.Logf("%d burn rates matched Prometheus to 1e-9 at %s", compared, at.Format(time.RFC3339))
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
