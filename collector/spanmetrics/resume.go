package spanmetrics

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Resume seeds the counters with the last values this instance wrote
// within the expiry, so that a restart continues its counters where they
// were instead of resetting them (a reset that PromQL cannot see when the
// new count soon passes the old). A label set whose last sample is a
// staleness marker had ended and starts again from zero. Call it before
// the first Add.
func (g *Generator) Resume(ctx context.Context, q store.MetricQuerier) error {
	now := g.opts.Now()
	minT, maxT := now.Add(-g.opts.Expiry).UnixMilli(), now.UnixMilli()
	inst, err := store.NewMatcher(store.MatchEqual, InstanceLabel, g.opts.Instance)
	if err != nil {
		return err
	}
	names, err := store.NewMatcher(store.MatchRegexp, store.MetricNameLabel, CallsName+"|"+DurationName+"_(bucket|sum|count)|"+TokensName+"|"+CostName)
	if err != nil {
		return err
	}
	series, err := q.SelectSeries(ctx, store.SeriesQuery{AllTenants: true, Matchers: []*store.Matcher{inst, names}, Active: true, MinT: minT, MaxT: maxT})
	if err != nil {
		return fmt.Errorf("cannot resume span metrics: %w", err)
	}
	byTenant := map[string][]store.Series{}
	for _, s := range series {
		byTenant[s.Tenant] = append(byTenant[s.Tenant], s)
	}
	for tenant, ss := range byTenant {
		if err := g.resumeTenant(ctx, q, tenant, ss, minT, maxT); err != nil {
			return err
		}
	}
	return nil
}

// resumeTenant reads the last sample of each of a tenant's series and
// sets the counts of their label sets from them.
func (g *Generator) resumeTenant(ctx context.Context, q store.MetricQuerier, tenant string, series []store.Series, minT, maxT int64) error {
	type slot struct {
		k   key
		idx int
	}
	slots := map[uint64]slot{}
	sets := map[key]*seriesSet{}
	fps := make([]uint64, 0, len(series))
	for i := range series {
		k := keyOfSeries(&series[i])
		if sets[k] == nil {
			sets[k] = newSeriesSet(tenant, g.opts.Instance, k)
		}
		for idx, s := range sets[k].series {
			if s.Fingerprint == series[i].Fingerprint {
				slots[s.Fingerprint] = slot{k, idx}
				fps = append(fps, s.Fingerprint)
			}
		}
	}
	last := map[uint64]float64{}
	lastT := map[key]int64{}
	err := q.ScanSamples(ctx, tenant, fps, minT, maxT, func(fp uint64, t int64, v float64) {
		last[fp] = v
		lastT[slots[fp].k] = max(lastT[slots[fp].k], t)
	})
	if err != nil {
		return fmt.Errorf("cannot resume span metrics of tenant %s: %w", tenant, err)
	}
	values := map[key]*[seriesLen]float64{}
	genai := map[key]bool{}
	ended := map[key]bool{}
	for fp, v := range last {
		sl := slots[fp]
		if values[sl.k] == nil {
			values[sl.k] = &[seriesLen]float64{}
		}
		values[sl.k][sl.idx] = v
		genai[sl.k] = genai[sl.k] || sl.idx >= genaiFrom
		ended[sl.k] = ended[sl.k] || math.IsNaN(v)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, v := range values {
		if ended[k] {
			continue
		}
		c := g.setFor(tenant, k, g.opts.Now())
		c.setValues(v, genai[k])
		c.series = sets[k]
		c.series.written = true
		c.last = time.UnixMilli(lastT[k])
	}
	return nil
}

// keyOfSeries is the label set a series counts.
func keyOfSeries(s *store.Series) key {
	get := func(n string) string { v, _ := s.Labels.Get(n); return v }
	return key{get("service"), get("operation"), get("model"), get("deployment"), get("status")}
}
