package prom

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/querier"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// setup serves the API over an embedded store holding, for the default
// tenant, two counters sampled every 30 s for 10 minutes and a gauge with
// NaN and infinities; and, for tenant acme, one secret series.
func setup(t *testing.T, o querier.Options) http.Handler {
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := store.NewSeries("default", "tokens_total", store.MetricCounter, store.Attributes{{Key: "model", Value: "llama"}, {Key: "job", Value: "vllm"}})
	b := store.NewSeries("default", "tokens_total", store.MetricCounter, store.Attributes{{Key: "model", Value: "mistral"}, {Key: "job", Value: "vllm"}})
	g := store.NewSeries("default", "odd_gauge", store.MetricGauge, store.Attributes{{Key: "note", Value: `<"quoted">`}})
	h := store.NewSeries("default", "latency_seconds_bucket", store.MetricHistogram, store.Attributes{{Key: "le", Value: "+Inf"}})
	secret := store.NewSeries("acme", "secret_total", store.MetricCounter, store.Attributes{{Key: "team", Value: "red"}})
	var samples []store.Sample
	for i := 0; i <= 20; i++ {
		ts := t0.Add(time.Duration(i) * 30 * time.Second).UnixMilli()
		samples = append(samples,
			store.Sample{Tenant: "default", Fingerprint: a.Fingerprint, TimestampMsec: ts, Value: float64(i * 30)},
			store.Sample{Tenant: "default", Fingerprint: b.Fingerprint, TimestampMsec: ts, Value: float64(i * 60)},
			store.Sample{Tenant: "default", Fingerprint: h.Fingerprint, TimestampMsec: ts, Value: float64(i)},
			store.Sample{Tenant: "acme", Fingerprint: secret.Fingerprint, TimestampMsec: ts, Value: 1})
	}
	for i, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e-7, 0.25} {
		samples = append(samples, store.Sample{Tenant: "default", Fingerprint: g.Fingerprint, TimestampMsec: t0.Add(time.Duration(i) * time.Minute).UnixMilli(), Value: v})
	}
	if err := st.WriteMetrics(context.Background(), []store.Series{a, b, g, h, secret}, samples); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&API{Engine: querier.NewEngine(st, o), Store: st, Now: func() time.Time { return t0.Add(5 * time.Minute) }}).Register(mux)
	return mux
}

func call(t *testing.T, h http.Handler, method, path string, params url.Values, org string) (int, string) {
	t.Helper()
	var req *http.Request
	if method == "POST" {
		req = httptest.NewRequest("POST", path, strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path+"?"+params.Encode(), nil)
	}
	if org != "" {
		req.Header.Set("X-Scope-OrgID", org)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func unix(d time.Duration) string { return t0.Add(d).Format(time.RFC3339Nano) }

// TestResponses checks responses byte for byte against what Prometheus
// writes for the same data.
func TestResponses(t *testing.T) {
	h := setup(t, querier.DefaultOptions)
	p := "/prometheus/api/v1"
	cases := []struct {
		method, path string
		params       url.Values
		code         int
		want         string
	}{
		{"GET", p + "/query", url.Values{"query": {`sum by (job) (rate(tokens_total[2m]))`}, "time": {unix(4*time.Minute + 500*time.Millisecond)}}, 200,
			`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"vllm"},"value":[1795169040.500,"2.9999999999999996"]}]}}`},
		{"POST", p + "/query", url.Values{"query": {`odd_gauge`}, "time": {unix(30 * time.Second)}}, 200,
			`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"odd_gauge","note":"<\"quoted\">"},"value":[1795168830,"NaN"]}]}}`},
		{"GET", p + "/query_range", url.Values{"query": {`odd_gauge`}, "start": {unix(time.Minute)}, "end": {unix(4 * time.Minute)}, "step": {"60"}}, 200,
			`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"odd_gauge","note":"<\"quoted\">"},"values":[[1795168860,"+Inf"],[1795168920,"-Inf"],[1795168980,"1e-07"],[1795169040,"0.25"]]}]}}`},
		{"GET", p + "/query", url.Values{"query": {`1.5`}, "time": {"1795212000.001"}}, 200,
			`{"status":"success","data":{"resultType":"scalar","result":[1795212000.001,"1.5"]}}`},
		{"GET", p + "/query", url.Values{"query": {`"a<b"`}, "time": {"1795212000"}}, 200,
			`{"status":"success","data":{"resultType":"string","result":[1795212000,"a\u003cb"]}}`},
		{"GET", p + "/query", url.Values{"query": {`rate(odd_gauge[5m])`}, "time": {unix(5 * time.Minute)}}, 200,
			`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"note":"<\"quoted\">"},"value":[1795169100,"NaN"]}]},"infos":["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"odd_gauge\" (1:6)"]}`},
		{"GET", p + "/query", url.Values{"query": {`sum(`}}, 400,
			`{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"}`},
		{"GET", p + "/query_range", url.Values{"query": {`up`}, "start": {"10"}, "end": {"5"}, "step": {"1"}}, 400,
			`{"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": end timestamp must not be before start time"}`},
		{"GET", p + "/query_range", url.Values{"query": {`up`}, "start": {"0"}, "end": {"100000"}, "step": {"1"}}, 400,
			`{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"}`},
		{"GET", p + "/series", url.Values{"match[]": {`tokens_total{model=~"ll.*"}`, `odd_gauge`}}, 200,
			`{"status":"success","data":[{"__name__":"odd_gauge","note":"<\"quoted\">"},{"__name__":"tokens_total","job":"vllm","model":"llama"}]}`},
		{"GET", p + "/series", url.Values{"match[]": {`tokens_total`}, "start": {unix(11 * time.Minute)}}, 200, `{"status":"success","data":[]}`},
		{"GET", p + "/series", nil, 400, `{"status":"error","errorType":"bad_data","error":"no match[] parameter provided"}`},
		{"GET", p + "/labels", nil, 200, `{"status":"success","data":["__name__","job","le","model","note"]}`},
		{"POST", p + "/labels", url.Values{"match[]": {`odd_gauge`}}, 200, `{"status":"success","data":["__name__","note"]}`},
		{"GET", p + "/label/model/values", url.Values{"limit": {"1"}}, 200, `{"status":"success","data":["llama"],"warnings":["results truncated due to limit"]}`},
		{"GET", p + "/label/__name__/values", nil, 200, `{"status":"success","data":["latency_seconds_bucket","odd_gauge","tokens_total"]}`},
		{"GET", p + "/metadata", nil, 200, `{"status":"success","data":{"latency_seconds":[{"type":"histogram","help":"","unit":""}],"odd_gauge":[{"type":"gauge","help":"","unit":""}],"tokens_total":[{"type":"counter","help":"","unit":""}]}}`},
		{"GET", p + "/metadata", url.Values{"metric": {"latency_seconds"}}, 200, `{"status":"success","data":{"latency_seconds":[{"type":"histogram","help":"","unit":""}]}}`},
		{"GET", p + "/format_query", url.Values{"query": {`sum(rate(x[5m]))by(job)`}}, 200, `{"status":"success","data":"sum by (job) (rate(x[5m]))"}`},
		{"GET", p + "/query_exemplars", url.Values{"query": {`tokens_total`}}, 200, `{"status":"success","data":[]}`},
		{"GET", p + "/query_exemplars", url.Values{"query": {`vector(1)`}}, 204, ``},
		{"GET", p + "/rules", nil, 200, `{"status":"success","data":{"groups":[]}}`},
		{"GET", p + "/alerts", nil, 200, `{"status":"success","data":{"alerts":[]}}`},
	}
	for _, c := range cases {
		code, got := call(t, h, c.method, c.path, c.params, "")
		if code != c.code || got != c.want {
			t.Errorf("%s %s %v:\n got %d %s\nwant %d %s", c.method, c.path, c.params, code, got, c.code, c.want)
		}
	}
}

func TestBuildInfo(t *testing.T) {
	_, got := call(t, setup(t, querier.DefaultOptions), "GET", "/prometheus/api/v1/status/buildinfo", nil, "")
	// A test binary carries no module versions: the version is checked
	// end to end, on the built binary.
	if !strings.HasPrefix(got, `{"status":"success","data":{"version":"`) || !strings.Contains(got, `"goVersion":"go1.`) {
		t.Errorf("buildinfo %s", got)
	}
	if releaseOf("v0.316.0") != "3.16.0" || releaseOf("v0.300.1") != "3.0.1" {
		t.Errorf("releaseOf: %s, %s", releaseOf("v0.316.0"), releaseOf("v0.300.1"))
	}
}

// TestLimits: a query over a limit is refused with Prometheus's error
// type, status and message.
func TestLimits(t *testing.T) {
	o := querier.DefaultOptions
	o.MaxSamples = 5
	h := setup(t, o)
	code, got := call(t, h, "GET", "/prometheus/api/v1/query", url.Values{"query": {`tokens_total[10m]`}, "time": {unix(10 * time.Minute)}}, "")
	if want := `{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}`; code != 422 || got != want {
		t.Errorf("max samples: %d %s", code, got)
	}
	code, got = call(t, h, "GET", "/prometheus/api/v1/query", url.Values{"query": {`tokens_total`}, "timeout": {"0.000001"}}, "")
	if code != 503 || !strings.Contains(got, `"errorType":"timeout","error":"query timed out in `) {
		t.Errorf("timeout: %d %s", code, got)
	}
}

// TestTenantIsolation: acme's series is visible to acme and to no other
// tenant, through every route.
func TestTenantIsolation(t *testing.T) {
	h := setup(t, querier.DefaultOptions)
	p := "/prometheus/api/v1"
	routes := []struct {
		path   string
		params url.Values
	}{
		{p + "/query", url.Values{"query": {`{__name__=~".+"}`}, "time": {unix(5 * time.Minute)}}},
		{p + "/query", url.Values{"query": {`count({team="red"})`}, "time": {unix(5 * time.Minute)}}},
		{p + "/query_range", url.Values{"query": {`{__name__=~"secret.*"}`}, "start": {unix(0)}, "end": {unix(10 * time.Minute)}, "step": {"60"}}},
		{p + "/series", url.Values{"match[]": {`{__name__=~".+"}`}}},
		{p + "/labels", nil},
		{p + "/label/__name__/values", nil},
		{p + "/label/team/values", nil},
		{p + "/metadata", nil},
		{p + "/query_exemplars", url.Values{"query": {`secret_total`}}},
	}
	for _, r := range routes {
		_, acme := call(t, h, "GET", r.path, r.params, "acme")
		var others []string
		for _, org := range []string{"", "globex"} {
			code, got := call(t, h, "GET", r.path, r.params, org)
			if code != 200 || strings.Contains(got, "secret") || strings.Contains(got, "team") || strings.Contains(got, "red") {
				t.Errorf("tenant %q sees acme's series through %s %v: %d %s", org, r.path, r.params, code, got)
			}
			others = append(others, got)
		}
		// acme itself does see it (exemplars are always empty).
		if r.path != p+"/query_exemplars" && (acme == others[0] || acme == others[1]) {
			t.Errorf("acme gets what other tenants get through %s: %s", r.path, acme)
		}
	}
	if code, got := call(t, h, "GET", p+"/labels", nil, "no/slash"); code != 400 || !strings.Contains(got, `"errorType":"bad_data"`) {
		t.Errorf("invalid tenant: %d %s", code, got)
	}
}
