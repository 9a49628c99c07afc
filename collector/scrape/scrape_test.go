package scrape

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

func flat(series []store.Series, samples []store.Sample) []string {
	by := map[uint64]store.Series{}
	for _, s := range series {
		by[s.Fingerprint] = s
	}
	var out []string
	for _, sm := range samples {
		s := by[sm.Fingerprint]
		var ls []string
		for _, l := range s.Labels {
			ls = append(ls, l.Key+"="+l.Value)
		}
		out = append(out, fmt.Sprintf("%s{%s} %g", s.Name, strings.Join(ls, ","), sm.Value))
	}
	sort.Strings(out)
	return out
}

const text = `# HELP vllm_requests_total Requests.
# TYPE vllm_requests_total counter
vllm_requests_total{model="llama",job="spoofed"} 42
# TYPE gpu_util gauge
gpu_util{gpu="0"} 0.5
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} 3
latency_seconds_bucket{le="1"} 5
latency_seconds_bucket{le="+Inf"} 6
latency_seconds_sum 2.5
latency_seconds_count 6
# TYPE rpc summary
rpc{quantile="0.5"} 0.2
rpc_sum 10
rpc_count 50
`

func TestParseText(t *testing.T) {
	target := store.Attributes{{Key: "job", Value: "vllm"}, {Key: "instance", Value: "pod:8000"}}
	series, samples, err := Parse(strings.NewReader(text), expfmt.NewFormat(expfmt.TypeTextPlain), "acme", target, time.UnixMilli(1000))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"gpu_util{gpu=0,instance=pod:8000,job=vllm} 0.5",
		"latency_seconds_bucket{instance=pod:8000,job=vllm,le=+Inf} 6",
		"latency_seconds_bucket{instance=pod:8000,job=vllm,le=0.1} 3",
		"latency_seconds_bucket{instance=pod:8000,job=vllm,le=1} 5",
		"latency_seconds_count{instance=pod:8000,job=vllm} 6",
		"latency_seconds_sum{instance=pod:8000,job=vllm} 2.5",
		"rpc_count{instance=pod:8000,job=vllm} 50",
		"rpc_sum{instance=pod:8000,job=vllm} 10",
		"rpc{instance=pod:8000,job=vllm,quantile=0.5} 0.2",
		"vllm_requests_total{instance=pod:8000,job=vllm,model=llama} 42",
	}
	if got := flat(series, samples); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if samples[0].TimestampMsec != 1000 {
		t.Errorf("timestamp %d", samples[0].TimestampMsec)
	}
	if _, _, err := Parse(strings.NewReader("bad line {"), expfmt.NewFormat(expfmt.TypeTextPlain), "acme", nil, time.Now()); err == nil {
		t.Error("malformed exposition parsed")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(text, false)
	f.Add("# TYPE a counter\na_total 1\n# EOF\n", true)
	f.Fuzz(func(t *testing.T, s string, om bool) {
		format := expfmt.NewFormat(expfmt.TypeTextPlain)
		if om {
			format = expfmt.NewFormat(expfmt.TypeOpenMetrics)
		}
		Parse(strings.NewReader(s), format, "acme", nil, time.Now())
	})
}

func TestParseConfig(t *testing.T) {
	good := "scrape_configs:\n  - job_name: vllm\n    scrape_interval: 5s\n    tenant: acme\n    static_configs:\n      - targets: [\"a:1\"]\n"
	cfg, err := ParseConfig([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	j := cfg.ScrapeConfigs[0]
	if time.Duration(j.ScrapeTimeout) != 5*time.Second || j.MetricsPath != "/metrics" || j.Tenant != "acme" {
		t.Errorf("defaults: %+v", j)
	}
	for src, want := range map[string]string{
		"scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n":                        "line 3: field scrape_intervall not found",
		"scrape_configs:\n  - job_name: a\n    scrape_interval: soon\n":                       "line 3: cannot parse duration",
		"scrape_configs:\n  - job_name: a\n  - job_name: a\n":                                 `scrape_configs[1].job_name: "a" is used twice`,
		"scrape_configs:\n  - job_name: a\n    scrape_interval: 1s\n    scrape_timeout: 2s\n": "scrape_timeout: 2s is longer than scrape_interval 1s",
		"scrape_configs:\n  - job_name: a\n    tenant: a/b\n":                                 "scrape_configs[0].tenant",
	} {
		if _, err := ParseConfig([]byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
}

type memWriter struct {
	mu      sync.Mutex
	series  []store.Series
	samples []store.Sample
}

func (m *memWriter) WriteMetrics(_ context.Context, se []store.Series, sa []store.Sample) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.series = append(m.series, se...)
	m.samples = append(m.samples, sa...)
	return nil
}

// TestScrapeClientGolang scrapes a real client_golang handler, as a
// service that only exposes /metrics would serve it, and a dead target.
func TestScrapeClientGolang(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tokens_total", Help: "Tokens."}, []string{"model"})
	reg.MustRegister(c)
	c.WithLabelValues("llama").Add(7)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()

	cfg, err := ParseConfig([]byte(fmt.Sprintf("scrape_configs:\n  - job_name: svc\n    scrape_interval: 100ms\n    static_configs:\n      - targets: [%q, %q]\n        labels: {team: ml}\n",
		strings.TrimPrefix(srv.URL, "http://"), strings.TrimPrefix(dead.URL, "http://"))))
	if err != nil {
		t.Fatal(err)
	}
	w := &memWriter{}
	m := &Manager{Config: cfg, Metrics: w, Stats: collector.NewMetrics(nil), Logger: slog.New(slog.DiscardHandler), MaxBytes: 1 << 20}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	var got []string
	for ; ctx.Err() == nil; time.Sleep(20 * time.Millisecond) {
		w.mu.Lock()
		got = flat(w.series, w.samples)
		w.mu.Unlock()
		if strings.Contains(strings.Join(got, "\n"), "tokens_total") && strings.Contains(strings.Join(got, "\n"), "} 0") {
			break
		}
	}
	cancel()
	<-done
	all := strings.Join(got, "\n")
	live, deadAddr := strings.TrimPrefix(srv.URL, "http://"), strings.TrimPrefix(dead.URL, "http://")
	for _, want := range []string{
		"tokens_total{instance=" + live + ",job=svc,model=llama,team=ml} 7",
		"up{instance=" + live + ",job=svc,team=ml} 1",
		"up{instance=" + deadAddr + ",job=svc,team=ml} 0",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %s in\n%s", want, all)
		}
	}
}

// TestShutdownDuringAScrape: a scrape cut short by shutdown records no
// up=0, since the target did not fail.
func TestShutdownDuringAScrape(t *testing.T) {
	asked := make(chan struct{}, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	defer slow.Close()
	cfg, err := ParseConfig([]byte(fmt.Sprintf("scrape_configs:\n  - job_name: svc\n    scrape_interval: 100ms\n    scrape_timeout: 100ms\n    static_configs:\n      - targets: [%q]\n", strings.TrimPrefix(slow.URL, "http://"))))
	if err != nil {
		t.Fatal(err)
	}
	w := &memWriter{}
	m := &Manager{Config: cfg, Metrics: w, Stats: collector.NewMetrics(nil), Logger: slog.New(slog.DiscardHandler), MaxBytes: 1 << 20}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	<-asked
	cancel()
	<-done
	w.mu.Lock()
	defer w.mu.Unlock()
	// The first scrape is the one cut short, before its own timeout.
	if len(w.samples) != 0 {
		t.Errorf("the scrape cut short by shutdown recorded %v", flat(w.series, w.samples))
	}
}
