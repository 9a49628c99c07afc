package main

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// needTool finds an external program a test drives, skipping without it
// unless VIGIL_TEST_STRICT is set (scripts/test and CI set it, so a missing
// install fails instead of silently testing less).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("VIGIL_TEST_STRICT") != "" {
			t.Fatalf("%s is not installed and VIGIL_TEST_STRICT is set", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// needClickHouse returns VIGIL_TEST_CLICKHOUSE's server, skipping without
// one unless VIGIL_TEST_STRICT is set.
func needClickHouse(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("VIGIL_TEST_CLICKHOUSE")
	if addr == "" {
		if os.Getenv("VIGIL_TEST_STRICT") != "" {
			t.Fatal("VIGIL_TEST_STRICT is set but VIGIL_TEST_CLICKHOUSE names no server")
		}
		t.Skip("VIGIL_TEST_CLICKHOUSE is not set")
	}
	return addr
}

// TestPrometheusRemoteWrite runs a real Prometheus (Debian's package) that
// scrapes Vigil's own /metrics and remote-writes the samples to Vigil, then
// reads them back through Vigil's Prometheus API. (Debian's Prometheus 2.42
// was seen not to send remote_write "headers", so this writes to the default
// tenant; tenancy of remote write is tested in collector/promrw.)
func TestPrometheusRemoteWrite(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { testPrometheusRemoteWrite(t, "") })
	t.Run("clickhouse", func(t *testing.T) {
		ch := needClickHouse(t)
		db := fmt.Sprintf("vigil_promrw_%d", time.Now().UnixNano())
		defer dropDatabase(ch, db)
		testPrometheusRemoteWrite(t, "clickhouse://"+ch+"/"+db)
	})
}

func testPrometheusRemoteWrite(t *testing.T, storeURL string) {
	prom := needTool(t, "prometheus")
	v := startServe(t, storeURL)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: vigil-self
    authorization:
      credentials: %q
    static_configs:
      - targets: [%q]
remote_write:
  - url: http://%s/api/v1/write
    authorization:
      credentials: %q
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
`, v.token, v.web, v.http, v.token)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProgram(t, prom, nil, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+freeAddr(t))

	deadline := time.Now().Add(90 * time.Second)
	for {
		var q struct {
			Data struct {
				Result []struct {
					Metric map[string]string
					Value  [2]any
				}
			}
		}
		v.getJSON(t, "/prometheus/api/v1/query?query="+url.QueryEscape(`vigil_build_info{job="vigil-self"}`), &q)
		build := len(q.Data.Result) == 1 && q.Data.Result[0].Value[1] == "1" && q.Data.Result[0].Metric["instance"] == v.web
		// up is appended after the scrape and may come in a later batch.
		v.getJSON(t, "/prometheus/api/v1/query?query="+url.QueryEscape(`up{job="vigil-self"}`), &q)
		if build && len(q.Data.Result) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus' remote write did not arrive in 90s; vigil_build_info result %+v\nprometheus stderr:\n%s", q.Data.Result, p.stderr)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Every scrape arrives: a range query sees up at more than one step.
	time.Sleep(2 * time.Second)
	var r struct {
		Data struct {
			Result []struct {
				Values [][2]any
			}
		}
	}
	now := time.Now()
	v.getJSON(t, fmt.Sprintf("/prometheus/api/v1/query_range?query=%s&start=%d&end=%d&step=1", url.QueryEscape(`up{job="vigil-self"}`), now.Add(-time.Minute).Unix(), now.Unix()), &r)
	if len(r.Data.Result) != 1 || len(r.Data.Result[0].Values) < 2 {
		t.Errorf("up over the last minute: %+v", r.Data.Result)
	}
	p.cmd.Process.Kill()
	v.stop(t)
}

// TestScrape has `vigil serve` scrape a second Vigil's client_golang
// /metrics and reads the samples back.
func TestScrape(t *testing.T) {
	target := startServe(t, "", "--web.public-metrics") // scrape configs carry no credentials
	cfg := filepath.Join(t.TempDir(), "scrape.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("scrape_configs:\n  - job_name: other-vigil\n    scrape_interval: 1s\n    tenant: ops\n    static_configs:\n      - targets: [%q]\n", target.web)), 0o644)
	v := startServe(t, "", "--collector.scrape-config", cfg)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var q struct {
			Data struct {
				Result []struct{ Metric map[string]string }
			}
		}
		v.getJSONTenant(t, "ops", "/prometheus/api/v1/query?query="+url.QueryEscape(`vigil_build_info{job="other-vigil"}`), &q)
		if len(q.Data.Result) == 1 && q.Data.Result[0].Metric["instance"] == target.web {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scraped samples did not arrive; stderr:\n%s", v.stderr)
		}
	}
	v.stop(t)
	target.stop(t)
}
