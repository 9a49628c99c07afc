package embedded_test

import (
	"context"
	"testing"

	"github.com/vigil-dev/vigil/store/embedded"
	"github.com/vigil-dev/vigil/store/storetest"
)

// BenchmarkReprice reprices 200,000 spans a run.
func BenchmarkReprice(b *testing.B) {
	s, err := embedded.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	storetest.BenchmarkReprice(b, s, 200000)
}
