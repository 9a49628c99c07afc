package embedded_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigil-dev/vigil/store/embedded"
	"github.com/vigil-dev/vigil/store/storetest"
)

// BenchmarkWriteSpans writes batches of spans into a new DuckDB store per
// batch size.
func BenchmarkWriteSpans(b *testing.B) {
	for _, batch := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, err := embedded.Open(context.Background(), b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			storetest.BenchmarkWriteSpans(b, s, batch)
		})
	}
}

// BenchmarkLogSLICounts counts a log SLI's minutes, beside the span SLI
// it stands in for, over a day of 1,000,000 rows each.
func BenchmarkLogSLICounts(b *testing.B) {
	s, err := embedded.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	storetest.BenchmarkLogSLICounts(b, s, 1_000_000)
}
