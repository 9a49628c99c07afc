package slo

import (
	"context"
	"fmt"
	"time"
)

// minutes counts a ratio SLI over [from, to), each query as promql.go
// says. Good never exceeds total: the two come from different series,
// scraped at different moments.
func (m MetricRatio) minutes(ctx context.Context, src sources, tenant, _ string, from, to time.Time) ([]minute, error) {
	count := func(q string) (map[int64]float64, error) {
		c, err := compileQuery(q, m.Rates)
		if err != nil {
			return nil, err
		}
		return src.events(ctx, tenant, c, from, to)
	}
	total, err := count(m.Total)
	if err != nil {
		return nil, err
	}
	var good map[int64]float64
	if m.Bad != "" {
		bad, err := count(m.Bad)
		if err != nil {
			return nil, err
		}
		good = map[int64]float64{}
		for minute, t := range total {
			good[minute] = t - bad[minute]
		}
	} else if good, err = count(m.Good); err != nil {
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

// minutes counts a gauge SLI over [from, to): a minute with values is one
// event, good when their mean passes the threshold. A plain selector's
// values are its samples in the minute; any other query's, its series at
// the minute's start.
func (m MetricThreshold) minutes(ctx context.Context, src sources, tenant, _ string, from, to time.Time) ([]minute, error) {
	q, err := compileQuery(m.Gauge, false)
	if err != nil {
		return nil, err
	}
	var means map[int64]float64
	if q.kind == selectorQuery {
		means, err = src.minuteSums(ctx, tenant, pooledMean(m.Gauge), from, to)
	} else {
		means, err = src.meanPerMinute(ctx, tenant, q, from, to)
	}
	if err != nil {
		return nil, err
	}
	byMinute := map[int64]*minute{}
	for at, mean := range means {
		byMinute[at] = &minute{at: time.Unix(at*60, 0).UTC(), total: 1, good: b2f(m.Op.Holds(mean, m.Threshold))}
	}
	return sortedMinutes(byMinute), nil
}

// minutes counts a raw ratio over [from, to): one event a minute with a
// value, as good as its share of successes (clamped to [0, 1]).
func (r RawRatio) minutes(ctx context.Context, src sources, tenant, _ string, from, to time.Time) ([]minute, error) {
	q, err := compileQuery(r.Query, true)
	if err != nil {
		return nil, err
	}
	ratios, err := src.meanPerMinute(ctx, tenant, q, from, to)
	if err != nil {
		return nil, err
	}
	byMinute := map[int64]*minute{}
	for at, ratio := range ratios {
		ratio = min(max(ratio, 0), 1)
		if r.Failure {
			ratio = 1 - ratio
		}
		byMinute[at] = &minute{at: time.Unix(at*60, 0).UTC(), total: 1, good: ratio}
	}
	return sortedMinutes(byMinute), nil
}

// pooledMean is the mean of every sample of a selector's series in the
// minute before the query's time.
func pooledMean(selector string) string {
	return fmt.Sprintf("sum(sum_over_time(%s[1m])) / sum(count_over_time(%s[1m]))", selector, selector)
}

// b2f is 1 for true, 0 for false: a minute that passes is one good event.
func b2f(ok bool) float64 {
	if ok {
		return 1
	}
	return 0
}
