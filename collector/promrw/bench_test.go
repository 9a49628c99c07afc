package promrw

import (
	"fmt"
	"testing"
)

// BenchmarkDecode measures protobuf decoding and mapping per sample of a
// request like Prometheus sends: 500 series of 6 labels, 2 samples each.
func BenchmarkDecode(b *testing.B) {
	var series [][]label
	var samples [][]sample
	for i := 0; i < 500; i++ {
		series = append(series, []label{{"__name__", "http_requests_total"}, {"code", "200"}, {"instance", fmt.Sprintf("pod-%d:8080", i)}, {"job", "api"}, {"method", "GET"}, {"path", "/v1/chat"}})
		samples = append(samples, []sample{{float64(i), 1000}, {float64(i + 1), 16000}})
	}
	body := encode(series, samples, map[string]int32{"http_requests_total": typeCounter}, false)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req, err := decodeWriteRequest(body)
		if err != nil {
			b.Fatal(err)
		}
		if rs := toRows("acme", req); len(rs.samples) != 1000 {
			b.Fatal(len(rs.samples))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/sample")
}
