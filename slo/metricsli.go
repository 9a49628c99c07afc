package slo

import (
	"context"
	"math"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// counterLookback is how far before a range metric rollups read, so the
// first minute's increase has a sample to start from (four scrapes at the
// common 15 s interval, and one at 1 m, fit in it).
const counterLookback = 5 * time.Minute

// minutes counts a counter SLI over [from, to): a minute's count is the
// sum over matching series of the increase between consecutive samples
// whose later sample lies in the minute, a drop read as a reset (the
// increase is the new value). That is Prometheus's increase() without its
// extrapolation, so minutes add up exactly to longer windows. A series'
// very first sample has nothing before it and counts nothing, as in
// Prometheus. Good never exceeds total: the two come from different
// series, scraped at different moments.
func (m MetricRatio) minutes(ctx context.Context, src sources, tenant, _ string, from, to time.Time) ([]minute, error) {
	total, err := counterMinutes(ctx, src.store, tenant, m.Total, from, to)
	if err != nil {
		return nil, err
	}
	var good map[int64]float64
	if m.Bad != "" {
		bad, err := counterMinutes(ctx, src.store, tenant, m.Bad, from, to)
		if err != nil {
			return nil, err
		}
		good = map[int64]float64{}
		for minute, t := range total {
			good[minute] = t - bad[minute]
		}
	} else if good, err = counterMinutes(ctx, src.store, tenant, m.Good, from, to); err != nil {
		return nil, err
	}
	byMinute := map[int64]*minute{}
	for at, t := range total {
		if t <= 0 {
			continue
		}
		byMinute[at] = &minute{at: time.Unix(at*60, 0).UTC(), good: min(max(good[at], 0), t), total: t}
	}
	return sortedMinutes(byMinute), nil
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

// minutes counts a gauge SLI over [from, to): a minute with samples is
// one event, good when the mean of the samples of every matching series
// in it passes the threshold.
func (m MetricThreshold) minutes(ctx context.Context, src sources, tenant, _ string, from, to time.Time) ([]minute, error) {
	samples, err := store.SelectSamples(ctx, src.store, tenant, m.Gauge, from, to)
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
		minute := s.TimestampMsec / 60000
		if minutes[minute] == nil {
			minutes[minute] = &acc{}
		}
		minutes[minute].sum += s.Value
		minutes[minute].n++
	}
	byMinute := map[int64]*minute{}
	for at, a := range minutes {
		byMinute[at] = &minute{at: time.Unix(at*60, 0).UTC(), total: 1, good: b2f(m.Op.Holds(a.sum/float64(a.n), m.Threshold))}
	}
	return sortedMinutes(byMinute), nil
}

// b2f is 1 for true, 0 for false: a minute that passes is one good event.
func b2f(ok bool) float64 {
	if ok {
		return 1
	}
	return 0
}
