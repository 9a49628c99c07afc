package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGrafanaPrometheusDataSource replays what Grafana's Prometheus data
// source asks when it is saved and when a panel loads (buildinfo, label
// names, metric names, then a range query posted as a form) against `vigil
// serve` holding scraped series of tenant ops, and checks the shapes
// Grafana reads. The same requests as another tenant see none of them.
func TestGrafanaPrometheusDataSource(t *testing.T) {
	target := startServe(t, "", "--web.public-metrics") // scrape configs carry no credentials
	cfg := filepath.Join(t.TempDir(), "scrape.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("scrape_configs:\n  - job_name: other-vigil\n    scrape_interval: 1s\n    tenant: ops\n    static_configs:\n      - targets: [%q]\n", target.web)), 0o644)
	v := startServe(t, "", "--collector.scrape-config", cfg)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var q struct{ Data struct{ Result []any } }
		v.getJSONTenant(t, "ops", "/prometheus/api/v1/query?query="+url.QueryEscape(`count_over_time(vigil_build_info[1m])`), &q)
		if len(q.Data.Result) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scraped samples did not arrive; stderr:\n%s", v.stderr)
		}
	}
	time.Sleep(2 * time.Second) // a few more scrapes, for the range query
	now := time.Now()
	start, end := strconv.FormatInt(now.Add(-5*time.Minute).Unix(), 10), strconv.FormatInt(now.Unix(), 10)
	grafana := func(org, method, path string, form url.Values) map[string]any {
		t.Helper()
		var req *http.Request
		if method == "POST" {
			req, _ = http.NewRequest("POST", "http://"+v.web+"/prometheus/api/v1"+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req, _ = http.NewRequest("GET", "http://"+v.web+"/prometheus/api/v1"+path+"?"+form.Encode(), nil)
		}
		req.Header.Set("X-Scope-OrgID", org)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &out) != nil || out["status"] != "success" {
			t.Fatalf("%s %s: %d %s %s", method, path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		return out
	}

	build := grafana("ops", "GET", "/status/buildinfo", nil)["data"].(map[string]any)
	if version, _ := build["version"].(string); !strings.HasPrefix(version, "3.") {
		t.Errorf("buildinfo version %q: Grafana needs a Prometheus version, the embedded engine's (3.x)", version)
	}
	for _, k := range []string{"revision", "branch", "buildUser", "buildDate", "goVersion"} {
		if _, ok := build[k].(string); !ok {
			t.Errorf("buildinfo has no string %s: %v", k, build)
		}
	}
	strs := func(v any) []string {
		var out []string
		for _, s := range v.([]any) {
			out = append(out, s.(string))
		}
		return out
	}
	window := url.Values{"start": {start}, "end": {end}}
	labels := strs(grafana("ops", "GET", "/labels", window)["data"])
	for _, want := range []string{"__name__", "instance", "job"} {
		if !slices.Contains(labels, want) {
			t.Errorf("labels %v lack %s", labels, want)
		}
	}
	names := strs(grafana("ops", "GET", "/label/__name__/values", window)["data"])
	if !slices.Contains(names, "vigil_build_info") || !slices.IsSorted(names) {
		t.Errorf("metric names %v: want vigil_build_info among them, sorted", names)
	}
	form := url.Values{"query": {`sum by (job) (rate(vigil_http_requests_total[1m])) or vigil_build_info`}, "start": {start}, "end": {end}, "step": {"15"}}
	data := grafana("ops", "POST", "/query_range", form)["data"].(map[string]any)
	result, _ := data["result"].([]any)
	if data["resultType"] != "matrix" || len(result) == 0 {
		t.Fatalf("query_range data %v", data)
	}
	for _, r := range result {
		s := r.(map[string]any)
		if _, ok := s["metric"].(map[string]any); !ok {
			t.Errorf("series without metric: %v", s)
		}
		for _, p := range s["values"].([]any) {
			pt := p.([]any)
			if _, ok := pt[0].(float64); !ok || len(pt) != 2 {
				t.Errorf("point %v: want [seconds, \"value\"]", pt)
			}
			if _, err := strconv.ParseFloat(pt[1].(string), 64); err != nil {
				t.Errorf("point %v: value is not a number in a string", pt)
			}
		}
	}

	// Another tenant asking the same sees nothing of ops's.
	if labels := strs(grafana("other", "GET", "/labels", window)["data"]); len(labels) != 0 {
		t.Errorf("tenant other sees labels %v", labels)
	}
	if names := strs(grafana("other", "GET", "/label/__name__/values", window)["data"]); len(names) != 0 {
		t.Errorf("tenant other sees metrics %v", names)
	}
	if r := grafana("other", "POST", "/query_range", form)["data"].(map[string]any)["result"].([]any); len(r) != 0 {
		t.Errorf("tenant other gets %v", r)
	}
	if s := grafana("other", "GET", "/series", url.Values{"match[]": {`{job="other-vigil"}`}})["data"].([]any); len(s) != 0 {
		t.Errorf("tenant other finds series %v", s)
	}
	v.stop(t)
	target.stop(t)
}
