package codec

import (
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Rows is what both drivers' result sets offer (database/sql's and
// clickhouse-go's), so the backends share the scanning of the results
// whose columns they produce alike.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// MinuteCounts scans (minute number since the epoch, good, total) rows.
func MinuteCounts(rows Rows) ([]store.MinuteCounts, error) {
	var out []store.MinuteCounts
	for rows.Next() {
		var m int64
		var c store.MinuteCounts
		if err := rows.Scan(&m, &c.Good, &c.Total); err != nil {
			return nil, err
		}
		c.Minute = time.Unix(m*60, 0).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// WindowSums scans (slo, good_1, total_1, ..., good_n, total_n) rows.
func WindowSums(rows Rows, windows int) (map[string][]store.GoodTotal, error) {
	out := map[string][]store.GoodTotal{}
	for rows.Next() {
		var name string
		vals := make([]uint64, 2*windows)
		dest := []any{&name}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		sums := make([]store.GoodTotal, windows)
		for i := range sums {
			sums[i] = store.GoodTotal{Good: vals[2*i], Total: vals[2*i+1]}
		}
		out[name] = sums
	}
	return out, rows.Err()
}

// Samples scans (fingerprint, ts_ms, value) rows, leaving staleness
// markers out (MetricReader.Samples promises values).
func Samples(rows Rows, tenant string) ([]store.Sample, error) {
	var out []store.Sample
	for rows.Next() {
		sm := store.Sample{Tenant: tenant}
		if err := rows.Scan(&sm.Fingerprint, &sm.TimestampMsec, &sm.Value); err != nil {
			return nil, err
		}
		if !store.IsStaleNaN(sm.Value) {
			out = append(out, sm)
		}
	}
	return out, rows.Err()
}

// Strings scans one-column string rows.
func Strings(rows Rows) ([]string, error) {
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Operations scans (name, kind) rows.
func Operations(rows Rows) ([]store.Operation, error) {
	var out []store.Operation
	for rows.Next() {
		var op store.Operation
		var kind int8
		if err := rows.Scan(&op.Name, &kind); err != nil {
			return nil, err
		}
		op.Kind = store.SpanKind(kind)
		out = append(out, op)
	}
	return out, rows.Err()
}
