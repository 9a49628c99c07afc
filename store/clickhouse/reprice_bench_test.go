package clickhouse_test

import (
	"testing"

	"github.com/vigil-dev/vigil/store/storetest"
)

// BenchmarkReprice reprices 200,000 spans a run: one mutation, waited for.
func BenchmarkReprice(b *testing.B) {
	s, _ := openFresh(b, server(b))
	b.Cleanup(func() { s.Close() })
	storetest.BenchmarkReprice(b, s, 200000)
}
