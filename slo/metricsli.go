package slo

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// counterLookback is how far before a range metric rollups read, so the
// first minute's increase has a sample to start from (four scrapes at the
// common 15 s interval, and one at 1 m, fit in it).
const counterLookback = 5 * time.Minute

// metricCounts turns a metric SLI's samples into good and total per
// minute over [from, to).
//
// Counters: a minute's count is the sum over matching series of the
// increase between consecutive samples whose later sample lies in the
// minute, a drop read as a reset (the increase is the new value), rounded
// to a whole event. That is Prometheus's increase() without its
// extrapolation, so minutes add up exactly to longer windows. A series' very
// first sample has nothing before it and counts nothing, as in Prometheus.
// Good never exceeds total: the two come from different series, scraped at
// different moments.
//
// Gauges: a minute with samples is one event, good when the mean of the
// samples of every matching series in it passes the threshold.
func metricCounts(ctx context.Context, r store.MetricReader, tenant string, sli SLI, from, to time.Time) ([]store.MinuteCounts, error) {
	if sli.Good == "threshold" {
		return gaugeMinutes(ctx, r, tenant, sli, from, to)
	}
	total, err := counterMinutes(ctx, r, tenant, sli.TotalQuery, from, to)
	if err != nil {
		return nil, err
	}
	var good map[int64]float64
	if sli.BadQuery != "" {
		bad, err := counterMinutes(ctx, r, tenant, sli.BadQuery, from, to)
		if err != nil {
			return nil, err
		}
		good = map[int64]float64{}
		for m, t := range total {
			good[m] = t - bad[m]
		}
	} else if good, err = counterMinutes(ctx, r, tenant, sli.GoodQuery, from, to); err != nil {
		return nil, err
	}
	out := make([]store.MinuteCounts, 0, len(total))
	for m, t := range total {
		tc := uint64(math.Max(0, math.Round(t)))
		if tc == 0 {
			continue
		}
		gc := uint64(math.Max(0, math.Round(good[m])))
		out = append(out, store.MinuteCounts{Minute: time.Unix(m*60, 0).UTC(), Good: min(gc, tc), Total: tc})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Minute.Before(out[j].Minute) })
	return out, nil
}

func counterMinutes(ctx context.Context, r store.MetricReader, tenant, query string, from, to time.Time) (map[int64]float64, error) {
	samples, err := store.SelectSamples(ctx, r, tenant, query, from.Add(-counterLookback), to)
	if err != nil {
		return nil, err
	}
	out := map[int64]float64{}
	for i := 1; i < len(samples); i++ {
		prev, cur := samples[i-1], samples[i]
		if prev.Fingerprint != cur.Fingerprint || cur.TimestampMsec < from.UnixMilli() || math.IsNaN(cur.Value) || math.IsNaN(prev.Value) {
			continue
		}
		inc := cur.Value - prev.Value
		if inc < 0 {
			inc = cur.Value
		}
		out[cur.TimestampMsec/60000] += inc
	}
	return out, nil
}

func gaugeMinutes(ctx context.Context, r store.MetricReader, tenant string, sli SLI, from, to time.Time) ([]store.MinuteCounts, error) {
	samples, err := store.SelectSamples(ctx, r, tenant, sli.Query, from, to)
	if err != nil {
		return nil, err
	}
	type acc struct {
		sum float64
		n   int
	}
	minutes := map[int64]*acc{}
	for _, s := range samples {
		if math.IsNaN(s.Value) {
			continue
		}
		m := s.TimestampMsec / 60000
		if minutes[m] == nil {
			minutes[m] = &acc{}
		}
		minutes[m].sum += s.Value
		minutes[m].n++
	}
	out := make([]store.MinuteCounts, 0, len(minutes))
	for m, a := range minutes {
		c := store.MinuteCounts{Minute: time.Unix(m*60, 0).UTC(), Total: 1}
		if sli.Op.Holds(a.sum/float64(a.n), sli.Threshold) {
			c.Good = 1
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Minute.Before(out[j].Minute) })
	return out, nil
}
