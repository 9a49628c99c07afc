package clickhouse

import (
	"context"
	"time"

	"github.com/vigil-dev/vigil/store"
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
