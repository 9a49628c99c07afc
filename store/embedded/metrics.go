package embedded

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/codec"
)

// WriteMetrics writes new series and appends samples.
func (s *Store) WriteMetrics(ctx context.Context, series []store.Series, samples []store.Sample) error {
	series = uniqueSeries(series)
	err := s.appendRows(ctx, "metric_series", "INSERT OR IGNORE INTO metric_series SELECT * FROM appended_data", len(series), func(i int) []driver.Value {
		sr := &series[i]
		k, v := sr.Labels.Split()
		return []driver.Value{sr.Tenant, sr.Fingerprint, sr.Name, int8(sr.Type), k, v}
	})
	if err != nil {
		return err
	}
	return s.appendRows(ctx, "metric_samples", "", len(samples), func(i int) []driver.Value {
		sm := &samples[i]
		return []driver.Value{sm.Tenant, dayOf(time.UnixMilli(sm.TimestampMsec)), sm.Fingerprint, sm.TimestampMsec, sm.Value}
	})
}

// uniqueSeries drops repeated series from a batch: one statement may not
// insert the same key twice.
func uniqueSeries(series []store.Series) []store.Series {
	type key struct {
		tenant string
		fp     uint64
	}
	seen := make(map[key]bool, len(series))
	out := series[:0:0]
	for _, sr := range series {
		k := key{sr.Tenant, sr.Fingerprint}
		if !seen[k] {
			seen[k] = true
			out = append(out, sr)
		}
	}
	return out
}

// Series returns matching series.
func (s *Store) Series(ctx context.Context, tenant string, matchers []*store.Matcher) ([]store.Series, error) {
	if len(matchers) == 0 {
		return nil, fmt.Errorf("series selection needs at least one matcher")
	}
	query := `SELECT fingerprint, name, type, label_keys, label_values FROM metric_series WHERE tenant = ?`
	args := []any{tenant}
	if name, ok := store.MetricNameFilter(matchers); ok {
		query += ` AND name = ?`
		args = append(args, name)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read series: %w", err)
	}
	defer rows.Close()
	var out []store.Series
	for rows.Next() {
		sr := store.Series{Tenant: tenant}
		var typ int8
		var k, v stringList
		if err := rows.Scan(&sr.Fingerprint, &sr.Name, &typ, &k, &v); err != nil {
			return nil, fmt.Errorf("cannot read series: %w", err)
		}
		sr.Type, sr.Labels = store.MetricType(typ), store.JoinAttributes(k, v)
		if store.MatchSeries(&sr, matchers) {
			out = append(out, sr)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read series: %w", err)
	}
	store.SortSeries(out)
	return out, nil
}

// Samples returns samples of the series in [start, end).
func (s *Store) Samples(ctx context.Context, tenant string, fingerprints []uint64, start, end time.Time) ([]store.Sample, error) {
	if len(fingerprints) == 0 {
		return nil, nil
	}
	// Fingerprints are written into the query as literals: database/sql
	// refuses uint64 arguments with the high bit set.
	args := []any{tenant, start.UnixMilli(), end.UnixMilli()}
	marks := make([]string, len(fingerprints))
	for i, fp := range fingerprints {
		marks[i] = strconv.FormatUint(fp, 10)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT fingerprint, ts_ms, value FROM metric_samples
		WHERE tenant = ? AND ts_ms >= ? AND ts_ms < ? AND fingerprint IN (`+strings.Join(marks, ",")+`)
		ORDER BY fingerprint, ts_ms`, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read samples: %w", err)
	}
	defer rows.Close()
	out, err := codec.Samples(rows, tenant)
	if err != nil {
		return nil, fmt.Errorf("cannot read samples: %w", err)
	}
	return out, nil
}
