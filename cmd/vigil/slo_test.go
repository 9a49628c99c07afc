package main

import (
	"bytes"
	be "encoding/binary"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// sendChat posts n spans of chat-gateway over OTLP/HTTP, the first errors
// of them failed, with ids from first on.
func sendChat(t *testing.T, v *vigilServer, first, n, errors int) {
	t.Helper()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "chat-gateway")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	now := time.Now()
	for i := 0; i < n; i++ {
		s := spans.AppendEmpty()
		var tid pcommon.TraceID
		var sid pcommon.SpanID
		be.BigEndian.PutUint64(tid[8:], uint64(first+i+1))
		be.BigEndian.PutUint64(sid[:], uint64(first+i+1))
		s.SetTraceID(tid)
		s.SetSpanID(sid)
		s.SetName("POST /chat")
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
		if i < errors {
			s.Status().SetCode(ptrace.StatusCodeError)
		}
	}
	body, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	resp, err := http.Post("http://"+v.http+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("send: %v %v", resp, err)
	}
	resp.Body.Close()
}

type sloResponse struct {
	State     string
	SLI       *float64
	Total     uint64 `json:"total_events"`
	BurnRates []struct {
		Severity      string
		LongWindow    string   `json:"long_window"`
		LongBurnRate  *float64 `json:"long_burn_rate"`
		ShortBurnRate *float64 `json:"short_burn_rate"`
		Firing        bool
	} `json:"burn_rates"`
}

// waitSLO polls the SLO until it has counted total events.
func waitSLO(t *testing.T, v *vigilServer, total uint64) sloResponse {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var r sloResponse
		v.getJSON(t, "/api/v1/slos/chat-availability", &r)
		if r.Total == total {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SLO counted %d events, want %d", r.Total, total)
		}
	}
}

// TestSLOEndToEnd sends spans with a known error ratio through OTLP and
// reads the SLI and burn rates back from the API as the analyzer rolls
// them up.
func TestSLOEndToEnd(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte(`slos:
  - name: chat-availability
    service: chat-gateway
    availability: true
    objective: 99%
`), 0o644)
	v := startServe(t, "", "--config-dir", dir, "--analyzer.interval", "1s")

	// 10% errors: burn rate 10 on every window. Above the 6x page rule, below
	// the 14.4x one.
	sendChat(t, v, 0, 100, 10)
	r := waitSLO(t, v, 100)
	if r.SLI == nil || *r.SLI != 0.9 || r.State != "page" {
		t.Fatalf("after 10%% errors: %+v", r)
	}
	firing := map[string]bool{}
	for _, b := range r.BurnRates {
		if b.LongBurnRate == nil || *b.LongBurnRate < 9.999999 || *b.LongBurnRate > 10.000001 || *b.ShortBurnRate < 9.999999 {
			t.Errorf("%s %s: burn rates %v %v, want 10", b.Severity, b.LongWindow, b.LongBurnRate, b.ShortBurnRate)
		}
		firing[b.Severity+" "+b.LongWindow] = b.Firing
	}
	if firing["page 1h0m0s"] || !firing["page 6h0m0s"] || !firing["ticket 24h0m0s"] {
		t.Errorf("firing: %v", firing)
	}

	// 100 good spans more: 5% errors, burn 5, under the 6x page rule and
	// over the 3x ticket rule.
	sendChat(t, v, 100, 100, 0)
	r = waitSLO(t, v, 200)
	if *r.SLI != 0.95 || r.State != "ticket" {
		t.Errorf("after 5%% errors: %+v", r)
	}
	v.stop(t)
}
