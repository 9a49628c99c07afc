package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/codec"
)

// WriteMetrics writes series (ReplacingMergeTree folds repeats) and samples.
func (s *Store) WriteMetrics(ctx context.Context, series []store.Series, samples []store.Sample) error {
	err := s.insert(ctx, "metric_series", "tenant, name, fingerprint, type, label_keys, label_values", len(series), func(i int) ([]any, error) {
		sr := &series[i]
		k, v := sr.Labels.Split()
		return []any{sr.Tenant, sr.Name, sr.Fingerprint, int8(sr.Type), k, v}, nil
	})
	if err != nil {
		return err
	}
	return s.insert(ctx, "metric_samples", "tenant, timestamp, fingerprint, ts_ms, value", len(samples), func(i int) ([]any, error) {
		sm := &samples[i]
		return []any{sm.Tenant, dateTime(time.UnixMilli(sm.TimestampMsec)), sm.Fingerprint, sm.TimestampMsec, sm.Value}, nil
	})
}

// Series returns matching series.
func (s *Store) Series(ctx context.Context, tenant string, matchers []*store.Matcher) ([]store.Series, error) {
	if len(matchers) == 0 {
		return nil, fmt.Errorf("series selection needs at least one matcher")
	}
	query := `SELECT fingerprint, name, type, label_keys, label_values FROM metric_series FINAL WHERE tenant = ?`
	args := []any{tenant}
	if name, ok := store.MetricNameFilter(matchers); ok {
		query += ` AND name = ?`
		args = append(args, name)
	}
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read series: %w", err)
	}
	defer rows.Close()
	var out []store.Series
	for rows.Next() {
		sr := store.Series{Tenant: tenant}
		var typ int8
		var k, v []string
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
	fps := make([]string, len(fingerprints))
	for i, fp := range fingerprints {
		fps[i] = strconv.FormatUint(fp, 10)
	}
	from, to := secondsRange(start, end)
	rows, err := s.conn.Query(ctx, `SELECT fingerprint, ts_ms, value FROM metric_samples
		WHERE tenant = ? AND timestamp >= ? AND timestamp <= ? AND ts_ms >= ? AND ts_ms < ?
		AND fingerprint IN (`+strings.Join(fps, ",")+`)
		ORDER BY fingerprint, ts_ms`, tenant, from, to, start.UnixMilli(), end.UnixMilli())
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
