// Package promsql owns the SQL of store.MetricQuerier, the reads behind
// PromQL, for both backends: label matchers and time ranges become WHERE
// conditions, so a selector reads only the series and samples it names.
// The few expressions that differ between ClickHouse and DuckDB come from a
// Dialect; a backend gives a Conn and gets the five methods.
package promsql

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/store"
)

// Rows is a result set as both drivers return it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Conn is what the reads need of a backend's driver.
type Conn interface {
	// Query runs a query with ? placeholders.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// Strings returns the scan destination that stores an Array(String)
	// (VARCHAR[]) column's value in *p.
	Strings(p *[]string) any
}

// Reader implements store.MetricQuerier on one backend.
type Reader struct {
	d    Dialect
	conn Conn
}

// NewReader returns the reads of a backend that speaks d through conn.
func NewReader(d Dialect, conn Conn) *Reader { return &Reader{d: d, conn: conn} }

// where is the condition selecting q's series in metric_series, with its
// arguments.
func (r *Reader) where(q store.SeriesQuery) (string, []any) {
	conds, args := []string{"tenant = ?"}, []any{q.Tenant}
	for _, m := range q.Matchers {
		c, a := r.matcher(m)
		conds, args = append(conds, c), append(args, a...)
	}
	if q.Active {
		w, a := r.d.window(q.MinT, q.MaxT)
		conds = append(conds, "fingerprint IN (SELECT fingerprint FROM metric_samples WHERE tenant = ? AND "+w+")")
		args = append(append(args, q.Tenant), a...)
	}
	return strings.Join(conds, " AND "), args
}

// matcher is one label matcher as a condition. A series without the label
// has the value ” (as in Prometheus), which lookup gives.
func (r *Reader) matcher(m *store.Matcher) (string, []any) {
	value, args := "name", []any(nil)
	if m.Name != store.MetricNameLabel {
		value, args = r.d.lookup(), []any{m.Name}
	}
	switch m.Type {
	case store.MatchEqual:
		return value + " = ?", append(args, m.Value)
	case store.MatchNotEqual:
		return value + " != ?", append(args, m.Value)
	case store.MatchRegexp:
		return r.d.match(value), append(args, anchored(m.Value))
	default: // store.MatchNotRegexp
		return "NOT " + r.d.match(value), append(args, anchored(m.Value))
	}
}

// anchored is the pattern Prometheus matches a label against: the whole
// value, with . matching newlines too.
func anchored(re string) string { return "^(?s:" + re + ")$" }

// SelectSeries implements store.MetricQuerier.
func (r *Reader) SelectSeries(ctx context.Context, q store.SeriesQuery) ([]store.Series, error) {
	where, args := r.where(q)
	var out []store.Series
	var sr store.Series
	var typ int8
	var k, v []string
	err := r.each(ctx, "read series", "SELECT fingerprint, name, type, label_keys, label_values FROM "+r.d.seriesTable()+" WHERE "+where, args,
		[]any{&sr.Fingerprint, &sr.Name, &typ, r.conn.Strings(&k), r.conn.Strings(&v)}, func() {
			out = append(out, store.Series{Tenant: q.Tenant, Name: sr.Name, Type: store.MetricType(typ), Labels: store.JoinAttributes(k, v), Fingerprint: sr.Fingerprint})
		})
	store.SortSeries(out)
	return out, err
}

// LabelNames implements store.MetricQuerier.
func (r *Reader) LabelNames(ctx context.Context, q store.SeriesQuery) ([]string, error) {
	where, args := r.where(q)
	return r.strings(ctx, "read label names", "SELECT DISTINCT "+r.d.allKeys()+" AS k FROM metric_series WHERE "+where, args)
}

// LabelValues implements store.MetricQuerier.
func (r *Reader) LabelValues(ctx context.Context, q store.SeriesQuery, name string) ([]string, error) {
	where, args := r.where(q)
	if name == store.MetricNameLabel {
		return r.strings(ctx, "read metric names", "SELECT DISTINCT name FROM metric_series WHERE "+where, args)
	}
	// The lookup's argument comes first: it is in the SELECT list.
	args = append([]any{name}, append(args, name)...)
	vals, err := r.strings(ctx, "read label values", "SELECT DISTINCT "+r.d.lookup()+" AS v FROM metric_series WHERE "+where+" AND "+r.d.has(), args)
	return slices.DeleteFunc(vals, func(v string) bool { return v == "" }), err
}

// MetricFamilies implements store.MetricQuerier.
func (r *Reader) MetricFamilies(ctx context.Context, q store.SeriesQuery) ([]store.MetricFamily, error) {
	where, args := r.where(q)
	var out []store.MetricFamily
	var f store.MetricFamily
	var typ int8
	err := r.each(ctx, "read metric families", "SELECT DISTINCT name, type FROM "+r.d.seriesTable()+" WHERE "+where, args,
		[]any{&f.Name, &typ}, func() { out = append(out, store.MetricFamily{Name: f.Name, Type: store.MetricType(typ)}) })
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
	w, args := r.d.window(minT, maxT)
	var fp uint64
	var t int64
	var v float64
	return r.each(ctx, "read samples", "SELECT fingerprint, ts_ms, value FROM metric_samples WHERE tenant = ? AND "+w+
		" AND fingerprint IN ("+strings.Join(fps, ",")+") ORDER BY fingerprint, ts_ms", append([]any{tenant}, args...),
		[]any{&fp, &t, &v}, func() { fn(fp, t, v) })
}

// strings runs a one-column query and returns its values sorted: sorting
// here, not in SQL, keeps the order bytewise on both backends.
func (r *Reader) strings(ctx context.Context, what, query string, args []any) ([]string, error) {
	var out []string
	var s string
	err := r.each(ctx, what, query, args, []any{&s}, func() { out = append(out, s) })
	slices.Sort(out)
	return out, err
}

// each runs a query and calls row after scanning each row into dest.
func (r *Reader) each(ctx context.Context, what, query string, args, dest []any, row func()) error {
	rows, err := r.conn.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("cannot %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("cannot %s: %w", what, err)
		}
		row()
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot %s: %w", what, err)
	}
	return nil
}
