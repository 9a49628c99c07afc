package sqlq

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Series returns the tenant's series matching every matcher. The store
// narrows by name when a matcher pins it; store.MatchSeries decides the
// rest, so matching is the same on both backends.
func (r *Reader) Series(ctx context.Context, tenant string, matchers []*store.Matcher) ([]store.Series, error) {
	if len(matchers) == 0 {
		return nil, fmt.Errorf("series selection needs at least one matcher")
	}
	var c conds
	c.add("tenant = ?", tenant)
	if name, ok := store.MetricNameFilter(matchers); ok {
		c.add("name = ?", name)
	}
	q := Query{SQL: "SELECT fingerprint, name, type, label_keys, label_values FROM " + r.d.final("metric_series") + " WHERE " + c.String(), Args: c.args}
	var out []store.Series
	sr := store.Series{Tenant: tenant}
	var typ int8
	var k, v []string
	err := r.each(ctx, "read series", q, []any{&sr.Fingerprint, &sr.Name, &typ, r.conn.Strings(&k), r.conn.Strings(&v)}, func() error {
		sr.Type, sr.Labels = store.MetricType(typ), store.JoinAttributes(k, v)
		if store.MatchSeries(&sr, matchers) {
			out = append(out, sr)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	store.SortSeries(out)
	return out, nil
}

// Samples returns samples of the series in [start, end).
func (r *Reader) Samples(ctx context.Context, tenant string, fingerprints []uint64, start, end time.Time) ([]store.Sample, error) {
	if len(fingerprints) == 0 {
		return nil, nil
	}
	// Fingerprints are written into the query as literals: database/sql
	// refuses uint64 arguments with the high bit set.
	fps := make([]string, len(fingerprints))
	for i, fp := range fingerprints {
		fps[i] = strconv.FormatUint(fp, 10)
	}
	var c conds
	c.add("tenant = ?", tenant)
	c.during(r.d, "timestamp", "ts_ms", time.Time.UnixMilli, start, end)
	c.add("fingerprint IN (" + strings.Join(fps, ",") + ")")
	q := Query{SQL: "SELECT fingerprint, ts_ms, value FROM metric_samples WHERE " + c.String() + " ORDER BY fingerprint, ts_ms", Args: c.args}
	// Staleness markers end a series for PromQL (which reads them through
	// MetricQuerier); to every other reader they are not values.
	sm := store.Sample{Tenant: tenant}
	var out []store.Sample
	err := r.each(ctx, "read samples", q, []any{&sm.Fingerprint, &sm.TimestampMsec, &sm.Value}, func() error {
		if !store.IsStaleNaN(sm.Value) {
			out = append(out, sm)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
