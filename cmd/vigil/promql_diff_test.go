package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// TestPromQLMatchesPrometheus is the differential test of issue 11: Debian's
// Prometheus scrapes an exporter of the test's own every 500 ms (counters,
// one with a reset, gauges, NaN and infinities, classic histograms, a
// series that disappears and one that appears late), stores the samples and
// remote-writes them into `vigil serve` on each backend; then every query
// of testdata/promql_corpus.txt is asked of Prometheus and of each Vigil as
// an instant query at three times and as a range query, and the answers
// must match: the same series, values to 1e-9 relative, and the order where
// PromQL defines one (sort, sort_desc).
func TestPromQLMatchesPrometheus(t *testing.T) {
	// Parallel: mostly waits on Prometheus's scrapes and remote writes.
	t.Parallel()
	prom := needTool(t, "prometheus")
	corpus := readCorpus(t)
	vigils := map[string]*vigilServer{"embedded": startServe(t, "")}
	if ch := clickHouseFor(t); ch != "" {
		db := fmt.Sprintf("vigil_promql_%d", time.Now().UnixNano())
		t.Cleanup(func() { dropDatabase(ch, db) })
		vigils["clickhouse"] = startServe(t, "clickhouse://"+ch+"/"+db)
	}
	exp := newExporter()
	srv := httptest.NewServer(exp)
	defer srv.Close()
	promAddr := startPrometheusFor(t, prom, srv.Listener.Addr().String(), vigils)

	// 240 scrapes, two minutes: the window starts after 76 s, so that
	// every range of the corpus (70 s at most) begins after the first
	// scrape, and it holds the late series (from the 160th scrape), the
	// reset (170th), the new counter (175th) and the disappearance (190th).
	for deadline := time.Now().Add(4 * time.Minute); exp.scrapes.Load() < 240; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus scraped the exporter %d times in 4 minutes", exp.scrapes.Load())
		}
	}
	promAPI := "http://" + promAddr + "/api/v1"
	w := evalWindow(t, promAPI)
	t.Logf("evaluating from %s to %s (milliseconds %03d past the second: no sample is there)", w.start.Format(time.RFC3339Nano), w.end.Format(time.RFC3339Nano), w.start.Nanosecond()/1e6)
	for name, v := range vigils {
		waitForParity(t, promAPI, "http://"+v.web+"/prometheus/api/v1", w.synced, name)
	}

	matched, asked := 0, 0
	for _, c := range corpus {
		if c.skip != "" {
			t.Logf("skipped (deliberate difference): %s — %s", c.query, c.skip)
			continue
		}
		if reason := w.skipReason(c.query); reason != "" {
			t.Logf("skipped in this run: %s — %s", c.query, reason)
			continue
		}
		asked++
		ok := true
		for name, v := range vigils {
			for _, req := range w.requests(t, c.query) {
				want := ask(t, promAPI, req)
				got := ask(t, "http://"+v.web+"/prometheus/api/v1", req)
				if diff := compareAnswers(want, got, ordered(c.query)); diff != "" {
					ok = false
					t.Errorf("%s: %s %s: %s\nprometheus: %s\nvigil:      %s", name, req.Get("query"), describe(req), diff, want.raw, got.raw)
				}
			}
		}
		if ok {
			matched++
		}
	}
	t.Logf("%d of %d queries matched Prometheus on %d backends (%d skipped as deliberate differences)", matched, asked, len(vigils), len(corpus)-asked)
}

// clickHouseFor is the ClickHouse server of VIGIL_TEST_CLICKHOUSE, or ""
// (failing under VIGIL_TEST_STRICT).
func clickHouseFor(t *testing.T) string {
	addr := os.Getenv("VIGIL_TEST_CLICKHOUSE")
	if addr == "" && os.Getenv("VIGIL_TEST_STRICT") != "" {
		t.Fatal("VIGIL_TEST_STRICT is set but VIGIL_TEST_CLICKHOUSE names no server")
	}
	return addr
}

type corpusLine struct{ query, skip string }

func readCorpus(t *testing.T) []corpusLine {
	f, err := os.Open(filepath.Join("testdata", "promql_corpus.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "skip:"):
			reason, q, ok := strings.Cut(strings.TrimPrefix(line, "skip:"), "=>")
			if !ok {
				t.Fatalf("corpus: %q has no =>", line)
			}
			out = append(out, corpusLine{query: strings.TrimSpace(q), skip: strings.TrimSpace(reason)})
		default:
			out = append(out, corpusLine{query: line})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// exporter serves the demo_* metrics; every scrape advances them by one
// step, so Prometheus and Vigil see the same, changing data.
type exporter struct{ scrapes atomic.Int64 }

func newExporter() *exporter { return &exporter{} }

func (e *exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := e.scrapes.Add(1)
	f := float64(n)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# TYPE demo_requests_total counter\n")
	fmt.Fprintf(w, "demo_requests_total{service=\"chat\",code=\"200\"} %g\n", 3*f)
	fmt.Fprintf(w, "demo_requests_total{service=\"chat\",code=\"500\"} %d\n", n/4)
	fmt.Fprintf(w, "demo_requests_total{service=\"embed\",code=\"200\"} %g\n", 5.5*f+100)
	restarts := 2 * f
	if n >= 170 { // the counter resets at the 170th scrape
		restarts = 2 * float64(n-170)
	}
	fmt.Fprintf(w, "# TYPE demo_restarts_total counter\n")
	fmt.Fprintf(w, "demo_restarts_total{service=\"chat\"} %g\ndemo_restarts_total{service=\"embed\"} %g\n", restarts, f)
	fmt.Fprintf(w, "# TYPE demo_temperature_celsius gauge\n")
	fmt.Fprintf(w, "demo_temperature_celsius{room=\"a\"} %g\ndemo_temperature_celsius{room=\"b\"} %d\n", 20+5*math.Sin(f/7), -3+n%11)
	fmt.Fprintf(w, "# TYPE demo_queue_length gauge\ndemo_queue_length %d\n", n%17)
	fmt.Fprintf(w, "# TYPE demo_special gauge\n")
	fmt.Fprintf(w, "demo_special{kind=\"nan\"} NaN\ndemo_special{kind=\"inf\"} +Inf\ndemo_special{kind=\"minus_inf\"} -Inf\ndemo_special{kind=\"zero\"} 0\ndemo_special{kind=\"neg\"} -2.5\n")
	fmt.Fprintf(w, "# TYPE demo_request_duration_seconds histogram\n")
	for _, svc := range []struct {
		name  string
		scale float64
	}{{"chat", 1}, {"embed", 3}} {
		counts := []float64{f * svc.scale, 2 * f * svc.scale, 4 * f * svc.scale, 5 * f * svc.scale, 6 * f * svc.scale, 6*f*svc.scale + float64(n/3)}
		for i, le := range []string{"0.05", "0.1", "0.25", "0.5", "1", "+Inf"} {
			fmt.Fprintf(w, "demo_request_duration_seconds_bucket{service=%q,le=%q} %g\n", svc.name, le, counts[i])
		}
		fmt.Fprintf(w, "demo_request_duration_seconds_sum{service=%q} %g\n", svc.name, 0.123*f*svc.scale)
		fmt.Fprintf(w, "demo_request_duration_seconds_count{service=%q} %g\n", svc.name, counts[5])
	}
	if n < 190 { // it disappears at the 190th scrape: Prometheus marks it stale
		fmt.Fprintf(w, "# TYPE demo_ephemeral gauge\ndemo_ephemeral{id=\"x\"} %d\n", n)
	}
	if n >= 160 {
		fmt.Fprintf(w, "# TYPE demo_late gauge\ndemo_late{id=\"y\"} %g\n", 1.5*f)
	}
	if n >= 175 { // a counter born inside the window, at 4 and 4 a scrape
		fmt.Fprintf(w, "# TYPE demo_born_total counter\ndemo_born_total %d\n", 4*(n-174))
	}
	fmt.Fprintf(w, "# TYPE demo_info gauge\ndemo_info{service=\"chat\",version=\"1.2.3\"} 1\ndemo_info{service=\"embed\",version=\"2.0.0\"} 1\n")
}

// startPrometheusFor runs Prometheus scraping the exporter and
// remote-writing to every Vigil (one shard each, so samples arrive in the
// order they were scraped); it returns Prometheus's address.
func startPrometheusFor(t *testing.T, prom, target string, vigils map[string]*vigilServer) string {
	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 500ms\n  scrape_timeout: 400ms\nscrape_configs:\n  - job_name: demo\n    static_configs:\n      - targets: [%q]\nremote_write:\n", target)
	for _, v := range vigils {
		cfg += fmt.Sprintf("  - url: http://%s/api/v1/write\n    authorization:\n      credentials: %q\n    queue_config:\n      min_shards: 1\n      max_shards: 1\n      batch_send_deadline: 500ms\n      min_backoff: 100ms\n", v.http, v.token)
	}
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := startProgram(t, prom, nil, "--config.file="+path, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("prometheus stderr:\n%s", p.stderr)
		}
	})
	return addr
}

// window is where the corpus is evaluated: from 76 s into the data to 12 s
// before its end, at a millisecond past the second where no sample lies,
// so that neither Prometheus 2's closed range and lookback starts nor
// Prometheus 3's open ones meet a sample (see BENCHMARKS.md). Vigil must
// hold the data up to synced, for negative offsets and @ end().
type window struct {
	start, end, synced time.Time
	// alignedSamples is whether some sample lies on a whole second, where
	// a subquery's steps fall.
	alignedSamples bool
}

func evalWindow(t *testing.T, promAPI string) window {
	now := time.Now()
	var raw struct {
		Data struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	getInto(t, promAPI+"/query?"+url.Values{"query": {`{job="demo"}[5m]`}, "time": {strconv.FormatInt(now.Unix(), 10)}}.Encode(), &raw)
	used := map[int64]bool{}
	first, last := int64(math.MaxInt64), int64(0)
	for _, s := range raw.Data.Result {
		for _, v := range s.Values {
			ms := int64(math.Round(v[0].(float64) * 1000))
			used[ms%1000] = true
			first, last = min(first, ms), max(last, ms)
		}
	}
	if len(used) == 0 {
		t.Fatal("Prometheus holds no samples of the exporter")
	}
	offset := int64(1)
	for used[offset] {
		offset++
	}
	at := func(ms int64) time.Time { return time.UnixMilli(ms/1000*1000 + offset).UTC() }
	return window{start: at(first + 76_000), end: at(last - 12_000), synced: time.UnixMilli(last).UTC(), alignedSamples: used[0]}
}

// skipReason says why a query cannot be compared in this run: a subquery
// evaluates at whole seconds, where Prometheus 3 leaves out a sample that
// Prometheus 2 counts if one lies exactly there.
func (w window) skipReason(q string) string {
	if w.alignedSamples && strings.Contains(q, ":") && strings.Contains(q, "]") {
		return "a sample lies on a whole second, where this subquery's range starts; Prometheus 3's ranges are open there"
	}
	return ""
}

// requests are the evaluations of a query: instant at the start, the
// middle and the end of the window, and over the window every second when
// the query yields a vector or a scalar.
func (w window) requests(t *testing.T, q string) []url.Values {
	third := w.end.Sub(w.start) / 3 / time.Second * time.Second
	var out []url.Values
	for _, at := range []time.Time{w.start, w.start.Add(third), w.end} {
		out = append(out, url.Values{"query": {q}, "time": {seconds(at)}})
	}
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	if err == nil && (expr.Type() == parser.ValueTypeVector || expr.Type() == parser.ValueTypeScalar) {
		out = append(out, url.Values{"query": {q}, "start": {seconds(w.start)}, "end": {seconds(w.end)}, "step": {"1"}})
	}
	return out
}

func seconds(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }

func describe(req url.Values) string {
	if req.Has("step") {
		return "range " + req.Get("start") + ".." + req.Get("end")
	}
	return "at " + req.Get("time")
}

// ordered is whether PromQL defines the order of the query's result: a
// sort or sort_desc at the top.
func ordered(q string) bool {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	for err == nil {
		switch e := expr.(type) {
		case *parser.ParenExpr:
			expr = e.Expr
			continue
		case *parser.Call:
			return e.Func.Name == "sort" || e.Func.Name == "sort_desc"
		}
		return false
	}
	return false
}

// waitForParity waits until Vigil holds every sample Prometheus holds up to
// end: remote write trails the scrapes.
func waitForParity(t *testing.T, promAPI, vigilAPI string, end time.Time, name string) {
	req := url.Values{"query": {`count_over_time({__name__=~".+"}[10m])`}, "time": {seconds(end)}}
	want := ask(t, promAPI, req)
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		got := ask(t, vigilAPI, req)
		diff := compareAnswers(want, got, false)
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not receive Prometheus's samples in 90 s: %s", name, diff)
		}
	}
}

// answer is one API response, decoded for comparison.
type answer struct {
	raw       string
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

func ask(t *testing.T, api string, req url.Values) answer {
	t.Helper()
	path := "/query"
	if req.Has("step") {
		path = "/query_range"
	}
	resp, err := http.PostForm(api+path, req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := answer{raw: string(body)}
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("%s%s: %v: %s", api, path, err, body)
	}
	return a
}

func getInto(t *testing.T, u string, out any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("%s: %v: %s", u, err, body)
	}
}

// compareAnswers returns what differs between Prometheus's answer and
// Vigil's, or "".
func compareAnswers(want, got answer, ordered bool) string {
	switch {
	case want.Status != got.Status:
		return fmt.Sprintf("status %s, want %s", got.Status, want.Status)
	case want.Status != "success":
		if want.ErrorType != got.ErrorType {
			return fmt.Sprintf("error type %s, want %s", got.ErrorType, want.ErrorType)
		}
		return ""
	case want.Data.ResultType != got.Data.ResultType:
		return fmt.Sprintf("result type %s, want %s", got.Data.ResultType, want.Data.ResultType)
	}
	switch want.Data.ResultType {
	case "vector", "matrix":
		w, err1 := decodeSeries(want.Data.Result)
		g, err2 := decodeSeries(got.Data.Result)
		if err1 != nil || err2 != nil {
			return fmt.Sprintf("cannot decode: %v %v", err1, err2)
		}
		return compareSeries(w, g, ordered)
	case "scalar":
		var w, g [2]any
		json.Unmarshal(want.Data.Result, &w)
		json.Unmarshal(got.Data.Result, &g)
		return comparePoints([][2]any{w}, [][2]any{g})
	}
	if string(want.Data.Result) != string(got.Data.Result) {
		return "different strings"
	}
	return ""
}

type series struct {
	Metric map[string]string `json:"metric"`
	Value  *[2]any           `json:"value"`
	Values [][2]any          `json:"values"`
}

func (s series) key() string {
	keys := make([]string, 0, len(s.Metric))
	for k, v := range s.Metric {
		keys = append(keys, k+"="+strconv.Quote(v))
	}
	slices.Sort(keys)
	return "{" + strings.Join(keys, ",") + "}"
}

func (s series) points() [][2]any {
	if s.Value != nil {
		return [][2]any{*s.Value}
	}
	return s.Values
}

func decodeSeries(raw json.RawMessage) ([]series, error) {
	var out []series
	return out, json.Unmarshal(raw, &out)
}

func compareSeries(want, got []series, ordered bool) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d series, want %d", len(got), len(want))
	}
	byKey := map[string]series{}
	for _, s := range got {
		byKey[s.key()] = s
	}
	for i, w := range want {
		g, ok := byKey[w.key()]
		if !ok {
			return "no series " + w.key()
		}
		if d := comparePoints(w.points(), g.points()); d != "" {
			return w.key() + ": " + d
		}
		// sort and sort_desc order by value; series of equal value may
		// come in any order.
		if ordered && comparePoints(w.points(), got[i].points()) != "" {
			return fmt.Sprintf("series %d is %s, want %s", i, got[i].key(), w.key())
		}
	}
	return ""
}

func comparePoints(want, got [][2]any) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d points, want %d", len(got), len(want))
	}
	for i := range want {
		if want[i][0] != got[i][0] {
			return fmt.Sprintf("point %d at %v, want %v", i, got[i][0], want[i][0])
		}
		w, _ := strconv.ParseFloat(want[i][1].(string), 64)
		g, _ := strconv.ParseFloat(got[i][1].(string), 64)
		if !sameValue(w, g) {
			return fmt.Sprintf("value at %v is %s, want %s", want[i][0], got[i][1], want[i][1])
		}
	}
	return ""
}

// sameValue: equal to 1e-9 relative (both engines sum in different
// orders), with an absolute floor of 1e-12 for values that should be 0;
// NaN equals NaN, and infinities their sign.
func sameValue(a, b float64) bool {
	switch {
	case math.IsNaN(a) || math.IsNaN(b):
		return math.IsNaN(a) && math.IsNaN(b)
	case math.IsInf(a, 0) || math.IsInf(b, 0):
		return a == b
	}
	d := math.Abs(a - b)
	return d <= 1e-12 || d <= 1e-9*max(math.Abs(a), math.Abs(b))
}
