package jaeger

import (
	"context"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/jaegertracing/jaeger-idl/thrift-gen/jaeger"

	"github.com/vigil-dev/vigil/collector"
)

// BenchmarkDecodeBatch measures binary Thrift decoding and mapping per span
// of a 1000-span batch.
func BenchmarkDecodeBatch(b *testing.B) {
	const n = 1000
	src := testBatch()
	batch := &jaeger.Batch{Process: src.Process}
	for i := 0; i < n; i++ {
		s := *src.Spans[0]
		s.SpanId = int64(i + 1)
		batch.Spans = append(batch.Spans, &s)
	}
	body, err := thrift.NewTSerializer().Write(context.Background(), batch)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		got, err := decodeBatch(body, false)
		if err != nil {
			b.Fatal(err)
		}
		spans, _, _ := Spans("acme", got, collector.Mapping{})
		if len(spans) != n {
			b.Fatal(len(spans))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/span")
}
