package embedded

import (
	"context"
	"database/sql/driver"
	"time"

	"github.com/vigil-dev/vigil/store"
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
