package embedded_test

import (
	"context"
	"fmt"
	"os"
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

// BenchmarkLogSearch writes VIGIL_BENCH_LOG_LINES log lines (default
// 1,000,000) of storetest.WriteLogSearchLines, as the ClickHouse
// benchmark of the same name does, reports lines written per second and
// bytes per line of the database directory after Close (which
// checkpoints), then times one page (100 lines, newest first) of the
// store's search for each of storetest.LogSearchWords: the embedded store
// has no token index and reads every row's tokens.
func BenchmarkLogSearch(b *testing.B) {
	lines := storetest.LogSearchLines(b, 1_000_000)
	ctx := context.Background()
	dir := b.TempDir()
	s, err := embedded.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	perSec := storetest.WriteLogSearchLines(b, s, lines)
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	var bytes int64
	files, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range files {
		info, err := f.Info()
		if err != nil {
			b.Fatal(err)
		}
		bytes += info.Size()
	}
	if s, err = embedded.Open(ctx, dir); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for _, w := range storetest.LogSearchWords {
		b.Run(w.Name, func(b *testing.B) {
			storetest.SearchLogPage(b, s, w)
			b.ReportMetric(perSec, "lines-written/s")
			b.ReportMetric(float64(bytes)/float64(lines), "B/line-on-disk")
		})
	}
}
