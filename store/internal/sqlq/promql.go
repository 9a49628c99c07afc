package sqlq

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// The reads behind PromQL (store.MetricQuerier): label matchers and time
// ranges become WHERE conditions, so a selector reads only the series and
// samples it names.

// seriesWhere selects q's series in metric_series.
func (r *Reader) seriesWhere(q store.SeriesQuery) conds {
	var c conds
	if !q.AllTenants {
		c.add("tenant = ?", q.Tenant)
	}
	for _, m := range q.Matchers {
		r.matcher(&c, m)
	}
	if q.Active {
		var w conds
		if !q.AllTenants {
			w.add("tenant = ?", q.Tenant)
		}
		r.window(&w, q.MinT, q.MaxT)
		// A series and its samples share a shard (both are sharded by
		// fingerprint).
		c.add("fingerprint IN (SELECT fingerprint FROM "+r.d.colocated("metric_samples")+" WHERE "+w.String()+")", w.args...)
	}
	return c
}

// matcher adds one label matcher. A series without the label has the value
// "" (as in Prometheus), which lookup gives.
func (r *Reader) matcher(c *conds, m *store.Matcher) {
	value, args := "name", []any(nil)
	if m.Name != store.MetricNameLabel {
		value, args = r.d.lookup("label_keys", "label_values", "?"), []any{m.Name}
	}
	switch m.Type {
	case store.MatchEqual:
		c.add(value+" = ?", append(args, m.Value)...)
	case store.MatchNotEqual:
		c.add(value+" != ?", append(args, m.Value)...)
	case store.MatchRegexp:
		c.add(r.d.match(value, "?"), append(args, anchored(m.Value))...)
	default: // store.MatchNotRegexp
		c.add("NOT "+r.d.match(value, "?"), append(args, anchored(m.Value))...)
	}
}

// anchored is the pattern Prometheus matches a label against: the whole
// value, with . matching newlines too. Both backends use RE2, the syntax
// and semantics of Go's regexp and so of Prometheus.
func anchored(re string) string { return "^(?s:" + re + ")$" }

// sampleWindow selects a tenant's samples in [minT, maxT], Unix
// milliseconds, both inclusive as PromQL asks.
func (r *Reader) sampleWindow(tenant string, minT, maxT int64) conds {
	var c conds
	c.add("tenant = ?", tenant)
	r.window(&c, minT, maxT)
	return c
}

// window adds the conditions of samples in [minT, maxT].
func (r *Reader) window(c *conds, minT, maxT int64) {
	c.during(r.d, "timestamp", "ts_ms", time.Time.UnixMilli, time.UnixMilli(minT), time.UnixMilli(maxT).Add(time.Millisecond))
}

// SelectSeries implements store.MetricQuerier.
func (r *Reader) SelectSeries(ctx context.Context, q store.SeriesQuery) ([]store.Series, error) {
	c := r.seriesWhere(q)
	query := Query{SQL: "SELECT tenant, fingerprint, name, type, label_keys, label_values FROM " + r.d.final("metric_series") + " WHERE " + c.String(), Args: c.args}
	var sr store.Series
	var typ int8
	var k, v []string
	out, err := collect(ctx, r, "read series", query, []any{&sr.Tenant, &sr.Fingerprint, &sr.Name, &typ, r.conn.Strings(&k), r.conn.Strings(&v)},
		func() (store.Series, error) {
			return store.Series{Tenant: sr.Tenant, Name: sr.Name, Type: store.MetricType(typ), Labels: store.JoinAttributes(k, v), Fingerprint: sr.Fingerprint}, nil
		})
	store.SortSeries(out)
	return out, err
}

// LabelNames implements store.MetricQuerier.
func (r *Reader) LabelNames(ctx context.Context, q store.SeriesQuery) ([]string, error) {
	c := r.seriesWhere(q)
	return r.sortedStrings(ctx, "read label names", Query{SQL: "SELECT DISTINCT " + r.d.namesOf("label_keys") + " AS k FROM metric_series WHERE " + c.String(), Args: c.args})
}

// LabelValues implements store.MetricQuerier.
func (r *Reader) LabelValues(ctx context.Context, q store.SeriesQuery, name string) ([]string, error) {
	c := r.seriesWhere(q)
	if name == store.MetricNameLabel {
		return r.sortedStrings(ctx, "read metric names", Query{SQL: "SELECT DISTINCT name FROM metric_series WHERE " + c.String(), Args: c.args})
	}
	c.add(r.d.has("label_keys", "?"), name)
	// The lookup's argument comes first: it is in the SELECT list.
	query := Query{SQL: "SELECT DISTINCT " + r.d.lookup("label_keys", "label_values", "?") + " AS v FROM metric_series WHERE " + c.String(), Args: append([]any{name}, c.args...)}
	vals, err := r.sortedStrings(ctx, "read label values", query)
	return slices.DeleteFunc(vals, func(v string) bool { return v == "" }), err
}

// MetricFamilies implements store.MetricQuerier.
func (r *Reader) MetricFamilies(ctx context.Context, q store.SeriesQuery) ([]store.MetricFamily, error) {
	c := r.seriesWhere(q)
	var f store.MetricFamily
	var typ int8
	out, err := collect(ctx, r, "read metric families", Query{SQL: "SELECT DISTINCT name, type FROM " + r.d.final("metric_series") + " WHERE " + c.String(), Args: c.args},
		[]any{&f.Name, &typ}, func() (store.MetricFamily, error) {
			return store.MetricFamily{Name: f.Name, Type: store.MetricType(typ)}, nil
		})
	slices.SortFunc(out, func(a, b store.MetricFamily) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return int(a.Type) - int(b.Type)
	})
	return out, err
}

// ScanSamples implements store.MetricQuerier.
func (r *Reader) ScanSamples(ctx context.Context, tenant string, fingerprints []uint64, minT, maxT int64, fn func(uint64, int64, float64)) error {
	if len(fingerprints) == 0 || minT > maxT {
		return nil
	}
	// Fingerprints are written into the query as literals: database/sql
	// refuses uint64 arguments with the high bit set.
	fps := make([]string, len(fingerprints))
	for i, fp := range fingerprints {
		fps[i] = strconv.FormatUint(fp, 10)
	}
	c := r.sampleWindow(tenant, minT, maxT)
	c.add("fingerprint IN (" + strings.Join(fps, ",") + ")")
	var fp uint64
	var t int64
	var v float64
	return r.each(ctx, "read samples", Query{SQL: "SELECT fingerprint, ts_ms, value FROM metric_samples WHERE " + c.String() + " ORDER BY fingerprint, ts_ms", Args: c.args},
		[]any{&fp, &t, &v}, func() error { fn(fp, t, v); return nil })
}

// sortedStrings runs a one-column query and returns its values sorted:
// sorting here, not in SQL, keeps the order bytewise on both backends.
func (r *Reader) sortedStrings(ctx context.Context, what string, q Query) ([]string, error) {
	var s string
	out, err := collect(ctx, r, what, q, []any{&s}, func() (string, error) { return s, nil })
	slices.Sort(out)
	return out, err
}
