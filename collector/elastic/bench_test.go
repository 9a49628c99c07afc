package elastic

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkBulk parses a bulk request of 1,000 Filebeat-shaped lines into
// log records (decode, flatten, map, tokenize nothing: the store does),
// and reports lines per second on one core.
func BenchmarkBulk(b *testing.B) {
	var sb strings.Builder
	for i := range 1000 {
		sb.WriteString(`{"create":{"_index":"filebeat-8.19.0"}}` + "\n")
		fmt.Fprintf(&sb, `{"@timestamp":"2026-12-01T09:59:%02d.123Z","message":"GET /v1/chat/completions 200 in %dms for tenant-%d","log":{"level":"info","file":{"path":"/var/log/app.log"}},"service":{"name":"chat-gateway"},"host":{"name":"node-1"},"agent":{"type":"filebeat","version":"8.19.0"},"ecs":{"version":"8.0.0"}}`+"\n", i%60, i, i%50)
	}
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if items := parseBulk("acme", "", body, now); len(items) != 1000 || items[999].rec == nil {
			b.Fatal("bad parse")
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "lines/s")
}
