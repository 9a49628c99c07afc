package otlp

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/vigil-dev/vigil/collector"
)

// benchTraces is one export of n GenAI client spans, each with the
// attributes of genAITraces' span.
func benchTraces(n int) []byte {
	src := genAITraces()
	td := ptrace.NewTraces()
	src.ResourceSpans().At(0).Resource().CopyTo(td.ResourceSpans().AppendEmpty().Resource())
	ss := td.ResourceSpans().At(0).ScopeSpans().AppendEmpty()
	proto := src.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	for i := 0; i < n; i++ {
		s := ss.Spans().AppendEmpty()
		proto.CopyTo(s)
		s.SetSpanID(pcommon.SpanID{byte(i >> 8), byte(i), 1, 1, 1, 1, 1, 1})
	}
	b, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	return b
}

// BenchmarkDecodeTraces measures the receiver's work per span, protobuf
// decoding and mapping to store rows: through pdata and Spans, and
// through DecodeTraces, side by side in one run.
func BenchmarkDecodeTraces(b *testing.B) {
	const n = 1000
	body := benchTraces(n)
	b.Run("pdata", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			req := ptraceotlp.NewExportRequest()
			if err := req.UnmarshalProto(body); err != nil {
				b.Fatal(err)
			}
			spans, _, _ := Spans("acme", req.Traces(), collector.Mapping{})
			if len(spans) != n {
				b.Fatal(len(spans))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/span")
	})
	b.Run("easyproto", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			rows, err := DecodeTraces("acme", body, collector.Mapping{})
			if err != nil {
				b.Fatal(err)
			}
			if len(rows.Spans) != n {
				b.Fatal(len(rows.Spans))
			}
			rows.Release()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/span")
	})
}

// BenchmarkDecodeMetrics measures decoding and mapping per sample of a
// gauge-heavy export (1000 points over 100 series).
func BenchmarkDecodeMetrics(b *testing.B) {
	md, ms := newMetrics()
	for m := 0; m < 10; m++ {
		g := ms.AppendEmpty()
		g.SetName("gpu.utilization")
		dps := g.SetEmptyGauge().DataPoints()
		for i := 0; i < 100; i++ {
			p := dps.AppendEmpty()
			p.SetTimestamp(pcommon.Timestamp(ts + uint64(m)*1e9))
			p.SetDoubleValue(float64(i))
			p.Attributes().PutInt("gpu", int64(i))
			p.Attributes().PutStr("node", "node-1")
		}
	}
	body, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := pmetricotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			b.Fatal(err)
		}
		_, samples, _, _ := Metrics("acme", req.Metrics(), &Deltas{})
		if len(samples) != 1000 {
			b.Fatal(len(samples))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/sample")
}
