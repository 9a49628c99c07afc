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
