package scrape

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

// acceptHeader asks for OpenMetrics first, then the text format, as
// Prometheus does.
const acceptHeader = "application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// Manager scrapes every target of a configuration.
type Manager struct {
	Config   *Config
	Metrics  store.MetricWriter
	Stats    *collector.Metrics
	Logger   *slog.Logger
	MaxBytes int64 // largest exposition accepted from a target
	Client   *http.Client
}

type target struct {
	job    *Job
	addr   string
	labels store.Attributes // job, instance and static labels
}

// Run scrapes until ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	if m.Client == nil {
		m.Client = &http.Client{}
	}
	var wg sync.WaitGroup
	for i := range m.Config.ScrapeConfigs {
		job := &m.Config.ScrapeConfigs[i]
		for _, sc := range job.StaticConfigs {
			for _, addr := range sc.Targets {
				t := &target{job: job, addr: addr, labels: store.Attributes{{Key: "job", Value: job.JobName}, {Key: "instance", Value: addr}}}
				for k, v := range sc.Labels {
					if k != "job" && k != "instance" {
						t.labels = append(t.labels, store.KeyValue{Key: k, Value: v})
					}
				}
				wg.Add(1)
				go func() { defer wg.Done(); m.loop(ctx, t) }()
			}
		}
	}
	wg.Wait()
	return nil
}

// loop scrapes a target every interval, at an offset derived from the
// target, so targets spread over the interval (as Prometheus spreads them).
func (m *Manager) loop(ctx context.Context, t *target) {
	interval := time.Duration(t.job.ScrapeInterval)
	h := fnv.New64a()
	h.Write([]byte(t.job.JobName + "/" + t.addr))
	offset := time.Duration(h.Sum64() % uint64(interval))
	next := time.Now().Truncate(interval).Add(offset)
	if next.Before(time.Now()) {
		next = next.Add(interval)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		m.scrapeOnce(ctx, t, next)
		for next = next.Add(interval); next.Before(time.Now()); next = next.Add(interval) {
		}
	}
}

// scrapeOnce scrapes and writes, adding up, scrape_duration_seconds and
// scrape_samples_scraped as Prometheus does.
func (m *Manager) scrapeOnce(ctx context.Context, t *target, at time.Time) {
	start := time.Now()
	series, samples, err := m.scrape(ctx, t, at)
	if err != nil && ctx.Err() != nil {
		return // cut short by shutdown: the target did not fail, record nothing
	}
	up := 1.0
	if err != nil {
		up = 0
		m.Logger.Warn("scrape failed", "job", t.job.JobName, "target", t.addr, "err", err)
	}
	org := t.job.Tenant
	n := len(samples)
	for _, s := range []struct {
		name string
		v    float64
	}{{"up", up}, {"scrape_duration_seconds", time.Since(start).Seconds()}, {"scrape_samples_scraped", float64(n)}} {
		sr := store.NewSeries(org, s.name, store.MetricGauge, t.labels)
		series = append(series, sr)
		samples = append(samples, store.Sample{Tenant: org, Fingerprint: sr.Fingerprint, TimestampMsec: at.UnixMilli(), Value: s.v})
	}
	m.Stats.Received.WithLabelValues(collector.SignalSamples, org).Add(float64(len(samples)))
	wctx, cancel := context.WithTimeout(ctx, time.Duration(t.job.ScrapeInterval))
	defer cancel()
	if err := m.Metrics.WriteMetrics(wctx, series, samples); err != nil {
		m.Logger.Warn("cannot write scraped samples", "job", t.job.JobName, "target", t.addr, "err", err)
	}
}

func (m *Manager) scrape(ctx context.Context, t *target, at time.Time) ([]store.Series, []store.Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(t.job.ScrapeTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", t.job.Scheme+"://"+t.addr+t.job.MetricsPath, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", acceptHeader)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(time.Duration(t.job.ScrapeTimeout).Seconds(), 'f', -1, 64))
	resp, err := m.Client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("server returned HTTP status %s", resp.Status)
	}
	body := io.LimitReader(resp.Body, m.MaxBytes+1)
	counted := &countingReader{r: body}
	series, samples, err := Parse(counted, expfmt.ResponseFormat(resp.Header), t.job.Tenant, t.labels, at)
	if counted.n > m.MaxBytes {
		return nil, nil, fmt.Errorf("exposition larger than %d bytes", m.MaxBytes)
	}
	return series, samples, err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Parse reads an exposition in the given format into series and samples.
// Target labels win over exposed labels of the same name, as Prometheus'
// honor_labels: false does. Samples without a timestamp get at.
func Parse(r io.Reader, format expfmt.Format, org string, targetLabels store.Attributes, at time.Time) ([]store.Series, []store.Sample, error) {
	dec := expfmt.NewDecoder(r, format)
	p := parsed{org: org, target: targetLabels, at: at.UnixMilli()}
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if errors.Is(err, io.EOF) {
			return p.series, p.samples, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("cannot parse exposition (%s): %w", format, err)
		}
		p.family(&mf)
	}
}

type parsed struct {
	org     string
	target  store.Attributes
	at      int64
	series  []store.Series
	samples []store.Sample
}

func (p *parsed) add(name string, typ store.MetricType, m *dto.Metric, extra []store.KeyValue, v float64) {
	labels := make(store.Attributes, 0, len(m.GetLabel())+len(p.target)+len(extra))
	for _, l := range m.GetLabel() {
		if _, overridden := p.target.Get(l.GetName()); !overridden && l.GetValue() != "" {
			labels = append(labels, store.KeyValue{Key: l.GetName(), Value: l.GetValue()})
		}
	}
	labels = append(append(labels, p.target...), extra...)
	s := store.NewSeries(p.org, name, typ, labels)
	ts := p.at
	if m.TimestampMs != nil {
		ts = m.GetTimestampMs()
	}
	p.series = append(p.series, s)
	p.samples = append(p.samples, store.Sample{Tenant: p.org, Fingerprint: s.Fingerprint, TimestampMsec: ts, Value: v})
}

func (p *parsed) family(mf *dto.MetricFamily) {
	name := mf.GetName()
	for _, m := range mf.GetMetric() {
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			p.add(name, store.MetricCounter, m, nil, m.GetCounter().GetValue())
		case dto.MetricType_GAUGE:
			p.add(name, store.MetricGauge, m, nil, m.GetGauge().GetValue())
		case dto.MetricType_UNTYPED:
			p.add(name, store.MetricUnknown, m, nil, m.GetUntyped().GetValue())
		case dto.MetricType_SUMMARY:
			s := m.GetSummary()
			for _, q := range s.GetQuantile() {
				p.add(name, store.MetricSummary, m, []store.KeyValue{{Key: "quantile", Value: formatFloat(q.GetQuantile())}}, q.GetValue())
			}
			p.add(name+"_sum", store.MetricSummary, m, nil, s.GetSampleSum())
			p.add(name+"_count", store.MetricSummary, m, nil, float64(s.GetSampleCount()))
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			h := m.GetHistogram()
			inf := false
			for _, b := range h.GetBucket() {
				inf = inf || math.IsInf(b.GetUpperBound(), 1)
				p.add(name+"_bucket", store.MetricHistogram, m, []store.KeyValue{{Key: "le", Value: formatFloat(b.GetUpperBound())}}, float64(b.GetCumulativeCount()))
			}
			if !inf {
				p.add(name+"_bucket", store.MetricHistogram, m, []store.KeyValue{{Key: "le", Value: "+Inf"}}, float64(h.GetSampleCount()))
			}
			p.add(name+"_sum", store.MetricHistogram, m, nil, h.GetSampleSum())
			p.add(name+"_count", store.MetricHistogram, m, nil, float64(h.GetSampleCount()))
		}
	}
}

func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
