package main

import (
	"bytes"
	be "encoding/binary"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// clickhouseServer runs scripts/clickhouse on a port and directory of the
// test's own, so the test can stop and restart it.
type clickhouseServer struct {
	env  []string
	addr string
}

func newClickHouse(t *testing.T) *clickhouseServer {
	needTool(t, "clickhouse-server")
	// The server takes port and port+1 (HTTP): two free ports in a row.
	var port int
	for port == 0 {
		a, b := freeAddr(t), freeAddr(t)
		pa, _ := strconv.Atoi(a[strings.LastIndex(a, ":")+1:])
		if pb, _ := strconv.Atoi(b[strings.LastIndex(b, ":")+1:]); pb == pa+1 {
			port = pa
		}
	}
	c := &clickhouseServer{env: []string{"VIGIL_CLICKHOUSE_DIR=" + t.TempDir(), fmt.Sprintf("VIGIL_CLICKHOUSE_PORT=%d", port)}}
	c.addr = c.run(t, "start")
	t.Cleanup(func() { c.run(t, "stop") })
	return c
}

func (c *clickhouseServer) run(t *testing.T, verb string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join("..", "..", "scripts", "clickhouse"), verb)
	cmd.Env = append(os.Environ(), c.env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/clickhouse %s: %v", verb, err)
	}
	return strings.TrimSpace(string(out))
}

// stop stops the server and waits until its port refuses connections.
func (c *clickhouseServer) stop(t *testing.T) {
	c.run(t, "stop")
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		conn, err := net.Dial("tcp", c.addr)
		if err != nil {
			return
		}
		conn.Close()
	}
	t.Fatal("ClickHouse did not stop")
}

// otlpRequest is one OTLP/HTTP protobuf export of n spans with ids from
// first on.
func otlpRequest(first, n int) []byte {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "fault-test")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	now := time.Now()
	for i := first; i < first+n; i++ {
		s := spans.AppendEmpty()
		var tid pcommon.TraceID
		var sid pcommon.SpanID
		be.BigEndian.PutUint64(tid[8:], uint64(i/10+1))
		be.BigEndian.PutUint64(sid[:], uint64(i+1))
		s.SetTraceID(tid)
		s.SetSpanID(sid)
		s.SetName("op")
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
	}
	b, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	return b
}

// TestStoreOutage stops ClickHouse while spans stream in and starts it
// again: every span Vigil acknowledged must be in ClickHouse afterwards.
func TestStoreOutage(t *testing.T) {
	ch := newClickHouse(t)
	db := fmt.Sprintf("vigil_fault_%d", time.Now().UnixNano())
	v := startServe(t, "clickhouse://"+ch.addr+"/"+db, "--collector.max-batch-age", "50ms")

	const perRequest = 50
	acked := map[uint64]bool{}
	refused := 0
	next := 0
	send := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); {
			resp, err := http.Post("http://"+v.http+"/v1/traces", "application/x-protobuf", bytes.NewReader(otlpRequest(next, perRequest)))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == 200 {
				for i := next; i < next+perRequest; i++ {
					acked[uint64(i+1)] = true
				}
			} else {
				refused++
			}
			next += perRequest
		}
	}
	send(time.Second)
	ch.stop(t)
	send(2 * time.Second) // acknowledged from the spool
	ch.run(t, "start")
	send(time.Second)

	// Wait until the spool has drained into ClickHouse.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		_, m := get(t, v.proc, "http://"+v.web+"/metrics")
		if strings.Contains(m, `vigil_collector_spool_bytes{signal="spans"} 0`) && strings.Contains(m, `vigil_collector_replayed_items_total{signal="spans"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spool did not drain; stderr:\n%s", v.stderr)
		}
	}
	host, port, _ := strings.Cut(ch.addr, ":")
	out, err := exec.Command("clickhouse-client", "--host", host, "--port", port, "--query",
		"SELECT reinterpretAsUInt64(reverse(span_id)) FROM "+db+".spans").Output()
	if err != nil {
		t.Fatal(err)
	}
	stored := map[uint64]bool{}
	for _, line := range strings.Fields(string(out)) {
		var id uint64
		fmt.Sscan(line, &id)
		stored[id] = true
	}
	missing := 0
	for id := range acked {
		if !stored[id] {
			missing++
		}
	}
	t.Logf("sent %d spans, %d acknowledged, %d requests refused, %d stored", next, len(acked), refused, len(stored))
	if missing > 0 || len(acked) == 0 {
		t.Errorf("%d of %d acknowledged spans are not in ClickHouse", missing, len(acked))
	}
	v.stop(t)
}
