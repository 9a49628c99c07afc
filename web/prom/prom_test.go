package prom

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T) http.Handler {
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := store.NewSeries("default", "tokens_total", store.MetricCounter, store.Attributes{{Key: "model", Value: "llama"}, {Key: "job", Value: "vllm"}})
	b := store.NewSeries("default", "tokens_total", store.MetricCounter, store.Attributes{{Key: "model", Value: "mistral"}, {Key: "job", Value: "vllm"}})
	g := store.NewSeries("default", "gpu_util", store.MetricGauge, store.Attributes{{Key: "gpu", Value: "0"}})
	other := store.NewSeries("acme", "tokens_total", store.MetricCounter, nil)
	var samples []store.Sample
	// a: every 30s for 10 minutes; b: one sample at t0; g: at t0+6m only.
	for i := 0; i <= 20; i++ {
		samples = append(samples, store.Sample{Tenant: "default", Fingerprint: a.Fingerprint, TimestampMsec: t0.Add(time.Duration(i) * 30 * time.Second).UnixMilli(), Value: float64(i * 10)})
	}
	samples = append(samples,
		store.Sample{Tenant: "default", Fingerprint: b.Fingerprint, TimestampMsec: t0.UnixMilli(), Value: 0.5},
		store.Sample{Tenant: "default", Fingerprint: g.Fingerprint, TimestampMsec: t0.Add(6 * time.Minute).UnixMilli(), Value: 0.9},
		store.Sample{Tenant: "acme", Fingerprint: other.Fingerprint, TimestampMsec: t0.UnixMilli(), Value: 1})
	if err := st.WriteMetrics(context.Background(), []store.Series{a, b, g, other}, samples); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&API{Metrics: st, Now: func() time.Time { return t0.Add(time.Minute) }}).Register(mux)
	return mux
}

func call(t *testing.T, h http.Handler, path string, params url.Values) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path+"?"+params.Encode(), nil))
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

func TestMetadataEndpoints(t *testing.T) {
	h := setup(t)
	cases := []struct {
		path   string
		params url.Values
		want   string
	}{
		{"/api/v1/labels", nil, `{"data":["__name__","gpu","job","model"],"status":"success"}`},
		{"/api/v1/labels", url.Values{"match[]": {"gpu_util"}}, `{"data":["__name__","gpu"],"status":"success"}`},
		{"/api/v1/label/model/values", nil, `{"data":["llama","mistral"],"status":"success"}`},
		{"/api/v1/label/__name__/values", nil, `{"data":["gpu_util","tokens_total"],"status":"success"}`},
		{"/api/v1/series", url.Values{"match[]": {`tokens_total{model=~"ll.*"}`, `gpu_util`}}, `{"data":[{"__name__":"gpu_util","gpu":"0"},{"__name__":"tokens_total","job":"vllm","model":"llama"}],"status":"success"}`},
		{"/api/v1/series", nil, `{"error":"no match[] parameter provided","errorType":"bad_data","status":"error"}`},
	}
	for _, c := range cases {
		if _, got := call(t, h, c.path, c.params); got != c.want {
			t.Errorf("%s %v:\n got %s\nwant %s", c.path, c.params, got, c.want)
		}
	}
}

func TestQueryRange(t *testing.T) {
	h := setup(t)
	p := url.Values{
		"query": {`tokens_total{job="vllm"}`},
		"start": {t0.Add(-time.Minute).Format(time.RFC3339)},
		"end":   {jsonNum(float64(t0.Add(8 * time.Minute).Unix()))},
		"step":  {"120"},
	}
	code, body := call(t, h, "/api/v1/query_range", p)
	var resp struct {
		Data struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil || code != 200 || resp.Data.ResultType != "matrix" || len(resp.Data.Result) != 2 {
		t.Fatalf("%d %s", code, body)
	}
	// Steps at -1m, +1m, +3m, +5m, +7m. llama: 20 at +1m, 60, 100, 140.
	// mistral's one sample at t0 is seen at +1m and +3m, not at +5m
	// (lookback is 5 minutes, exclusive).
	got := map[string]string{}
	for _, r := range resp.Data.Result {
		got[r.Metric["model"]] = jsonNum(r.Values)
	}
	s := func(m int) string { return jsonNum(float64(t0.Add(time.Duration(m) * time.Minute).Unix())) }
	if want := `[[` + s(1) + `,"20"],[` + s(3) + `,"60"],[` + s(5) + `,"100"],[` + s(7) + `,"140"]]`; got["llama"] != want {
		t.Errorf("llama: %s\nwant %s", got["llama"], want)
	}
	if want := `[[` + s(1) + `,"0.5"],[` + s(3) + `,"0.5"]]`; got["mistral"] != want {
		t.Errorf("mistral: %s\nwant %s", got["mistral"], want)
	}
}

func TestInstantQueryAndErrors(t *testing.T) {
	h := setup(t)
	code, body := call(t, h, "/api/v1/query", url.Values{"query": {"gpu_util"}, "time": {jsonNum(float64(t0.Add(7 * time.Minute).Unix()))}})
	if code != 200 || !strings.Contains(body, `"value":[`+jsonNum(float64(t0.Add(7*time.Minute).Unix()))+`,"0.9"]`) {
		t.Errorf("instant query: %d %s", code, body)
	}
	for _, c := range []url.Values{
		{"query": {"rate(tokens_total[5m])"}, "start": {"0"}, "end": {"60"}, "step": {"15"}},
		{"query": {"up"}, "start": {"0"}, "end": {"1000000"}, "step": {"1"}},
		{"query": {"up"}, "start": {"60"}, "end": {"0"}, "step": {"1"}},
		{"query": {"up"}, "start": {"yesterday"}, "end": {"0"}, "step": {"1"}},
		{"query": {"up"}, "start": {"0"}, "end": {"60"}, "step": {"0"}},
	} {
		if code, body := call(t, h, "/api/v1/query_range", c); code != 400 || !strings.Contains(body, `"errorType":"bad_data"`) {
			t.Errorf("%v: %d %s", c, code, body)
		}
	}
	if _, body := call(t, h, "/api/v1/query", url.Values{"query": {"sum(x)"}}); !strings.Contains(body, "only plain selectors") {
		t.Errorf("unsupported query: %s", body)
	}
}

func jsonNum(v any) string { b, _ := json.Marshal(v); return string(b) }
