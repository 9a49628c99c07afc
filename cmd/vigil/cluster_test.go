package main

import (
	"bytes"
	"context"
	be "encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// chCluster is a ClickHouse cluster of the test's own: two shards of two
// replicas and a ZooKeeper (scripts/clickhouse-cluster), on ports and in
// a directory nobody else uses, so the test may kill its members.
type chCluster struct {
	env  []string
	url  string // store URL without a database
	base int    // s1r1's native port; the script's layout gives the rest
}

// clusterMembers are the script's names for the ClickHouse servers.
var clusterMembers = []string{"s1r1", "s1r2", "s2r1", "s2r2"}

func newCluster(t *testing.T) *chCluster {
	t.Helper()
	needTool(t, "clickhouse-server")
	needTool(t, "java")
	if _, err := os.Stat("/usr/share/java/zookeeper.jar"); err != nil {
		if os.Getenv("VIGIL_TEST_STRICT") != "" {
			t.Fatal("ZooKeeper is not installed (scripts/deps installs zookeeperd) and VIGIL_TEST_STRICT is set")
		}
		t.Skip("ZooKeeper is not installed")
	}
	dir := t.TempDir()
	// Run as root, the script hands the directory to the clickhouse and
	// zookeeper users, who must be able to reach it.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := &chCluster{base: freePortBlock(t)}
	c.env = []string{"VIGIL_CLICKHOUSE_CLUSTER_DIR=" + dir, fmt.Sprintf("VIGIL_CLICKHOUSE_CLUSTER_PORT=%d", c.base)}
	c.url = c.run(t, "start")
	t.Cleanup(func() { c.run(t, "stop") })
	return c
}

// clusterPorts are the offsets from the base port the script uses: each
// member's native, HTTP and replication ports, and ZooKeeper's.
var clusterPorts = []int{0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32, 90}

// freePortBlock finds a base port whose cluster ports are all free.
func freePortBlock(t *testing.T) int {
	t.Helper()
	for range 50 {
		base := 20000 + 100*rand.IntN(300)
		free := true
		for _, off := range clusterPorts {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+off))
			if err != nil {
				free = false
				break
			}
			ln.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free block of ports for a ClickHouse cluster")
	return 0
}

func (c *chCluster) run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join("..", "..", "scripts", "clickhouse-cluster"), args...)
	cmd.Env = append(os.Environ(), c.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/clickhouse-cluster %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// query runs SQL with clickhouse-client on the first member that answers.
func (c *chCluster) query(t *testing.T, sql string) string {
	t.Helper()
	var last []byte
	for i := range clusterMembers {
		port := c.base + 20*(i/2) + 10*(i%2)
		out, err := exec.Command("clickhouse-client", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--query", sql).CombinedOutput()
		if err == nil {
			return strings.TrimSpace(string(out))
		}
		last = out
	}
	t.Fatalf("no member of the cluster answered %q: %s", sql, last)
	return ""
}

// storeURL is the cluster's store URL for database db.
func (c *chCluster) storeURL(db string) string {
	hosts, query, _ := strings.Cut(c.url, "?")
	return hosts + "/" + db + "?" + query
}

// roleProc is one running vigil role with its web port, and the
// arguments it was started with, so that it can be started again on the
// same ports and data directory (whose spool it then replays).
type roleProc struct {
	*proc
	name            string
	web, http, grpc string
	args            []string
}

// startRole runs `vigil <name>` against storeURL with a data directory
// and ports of its own.
func startRole(t *testing.T, name, storeURL, token string, extra ...string) *roleProc {
	t.Helper()
	r := &roleProc{name: name, web: freeAddr(t)}
	args := []string{name, "--store", storeURL, "--data-dir", t.TempDir(), "--web.listen-address", r.web}
	if name == "collector" {
		r.http, r.grpc = freeAddr(t), freeAddr(t)
		args = append(args, "--collector.otlp-grpc-address", r.grpc, "--collector.http-address", r.http,
			"--collector.jaeger-agent-address", freeUDPAddr(t))
		tokens.Store(r.http, token)
		tokens.Store(r.grpc, token)
	}
	tokens.Store(r.web, token)
	r.args = append(args, extra...)
	r.restart(t)
	return r
}

// restart starts the role (again) with its arguments and waits until it
// is ready.
func (r *roleProc) restart(t *testing.T) {
	t.Helper()
	r.launch(t)
	r.awaitReady(t)
}

// launch starts the role with its arguments, without waiting for it.
func (r *roleProc) launch(t *testing.T) { r.proc = start(t, nil, r.args...) }

// awaitReady waits until the role answers /readyz.
func (r *roleProc) awaitReady(t *testing.T) {
	t.Helper()
	if code, _ := get(t, r.proc, "http://"+r.web+"/readyz"); code != 200 {
		t.Fatalf("vigil %s is not ready; stderr:\n%s", r.name, r.stderr)
	}
}

// kill ends the role with SIGKILL, as a crash would, and waits until it
// has exited.
func (r *roleProc) kill() {
	r.cmd.Process.Kill()
	<-r.done
}

// metric is the value of a sample of the role's /metrics, 0 when absent.
func (r *roleProc) metric(t *testing.T, sample string) float64 {
	t.Helper()
	_, body := get(t, r.proc, "http://"+r.web+"/metrics")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// spanLoad sends spans with ids of its own to a collector through the
// OpenTelemetry SDK's OTLP exporter until stopped, and remembers which ones
// were acknowledged.
type spanLoad struct {
	exporter sdktrace.SpanExporter
	mu       sync.Mutex
	next     int             // guarded by mu
	acked    map[uint64]bool // guarded by mu
	refused  int             // guarded by mu
	stop     chan struct{}
	done     chan struct{}
}

// spansPerRequest is large and the collectors batch for a second (their
// default), so the cluster makes few parts: each is dozens of files on
// four replicas, and tens of thousands of files take minutes to remove
// on a busy machine.
const spansPerRequest = 200

// startLoad exports to the collector's OTLP/gRPC port when grpc is set and
// to its OTLP/HTTP port otherwise, with the SDK's own retries off: a
// refused export is counted, and the next one carries new spans.
func startLoad(t *testing.T, collector *roleProc, grpc bool, first int) *spanLoad {
	t.Helper()
	ctx := context.Background()
	var exp sdktrace.SpanExporter
	var err error
	if grpc {
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(collector.grpc), otlptracegrpc.WithInsecure(),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}), otlptracegrpc.WithTimeout(30*time.Second),
			otlptracegrpc.WithHeaders(headers(collector.grpc, "X-Scope-OrgID", "acme")))
	} else {
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(collector.http), otlptracehttp.WithInsecure(),
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}), otlptracehttp.WithTimeout(30*time.Second),
			otlptracehttp.WithHeaders(headers(collector.http, "X-Scope-OrgID", "acme")))
	}
	if err != nil {
		t.Fatal(err)
	}
	l := &spanLoad{exporter: exp, next: first, acked: map[uint64]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	// A collector answers once a batch is durable (its batching and the
	// insert), so several senders keep it busy.
	var senders sync.WaitGroup
	for range 4 {
		senders.Go(l.send)
	}
	go func() {
		senders.Wait()
		exp.Shutdown(ctx)
		close(l.done)
	}()
	return l
}

// loadResource names the load's service, as an SDK user's resource does.
var loadResource = resource.NewSchemaless(attribute.String("service.name", "fault-test"))

// loadSpans are n finished spans with ids from first on, ten to a trace.
func loadSpans(first, n int) []sdktrace.ReadOnlySpan {
	now := time.Now()
	stubs := make(tracetest.SpanStubs, 0, n)
	for i := first; i < first+n; i++ {
		var tid trace.TraceID
		var sid trace.SpanID
		be.BigEndian.PutUint64(tid[8:], uint64(i/10+1))
		be.BigEndian.PutUint64(sid[:], uint64(i+1))
		stubs = append(stubs, tracetest.SpanStub{
			Name:        "op",
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}),
			StartTime:   now,
			EndTime:     now.Add(time.Millisecond),
			Resource:    loadResource,
		})
	}
	return stubs.Snapshots()
}

// send exports batches until the load stops.
func (l *spanLoad) send() {
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		l.mu.Lock()
		first := l.next
		l.next += spansPerRequest
		l.mu.Unlock()
		err := l.exporter.ExportSpans(context.Background(), loadSpans(first, spansPerRequest))
		l.mu.Lock()
		if err == nil {
			for i := first; i < first+spansPerRequest; i++ {
				l.acked[uint64(i+1)] = true
			}
		} else {
			l.refused++
		}
		l.mu.Unlock()
	}
}

func (l *spanLoad) finish() {
	close(l.stop)
	<-l.done
}

// ackedIDs is a copy of the span ids acknowledged so far.
func (l *spanLoad) ackedIDs() map[uint64]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make(map[uint64]bool, len(l.acked))
	for id := range l.acked {
		ids[id] = true
	}
	return ids
}

// storedSpans counts the spans of db through the Distributed table: every
// row, and every span id once.
func (c *chCluster) storedSpans(t *testing.T, db string) (rows, distinct int, ids map[uint64]bool) {
	t.Helper()
	out := c.query(t, "SELECT reinterpretAsUInt64(reverse(span_id)) FROM "+db+".spans")
	ids = map[uint64]bool{}
	for _, f := range strings.Fields(out) {
		id, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			t.Fatalf("span id %q: %v", f, err)
		}
		rows++
		ids[id] = true
	}
	return rows, len(ids), ids
}

// settle waits until every span the loads acknowledged is stored and the
// collectors' spools are empty, then fails on a lost or doubled span. It
// returns how long that took.
func settle(t *testing.T, c *chCluster, db string, collectors []*roleProc, loads []*spanLoad) time.Duration {
	t.Helper()
	began := time.Now()
	acked := map[uint64]bool{}
	for _, l := range loads {
		for id := range l.ackedIDs() {
			acked[id] = true
		}
	}
	var rows, distinct, missing int
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		spooled := 0.0
		for _, r := range collectors {
			spooled += r.metric(t, `vigil_collector_spool_bytes{signal="spans"}`)
		}
		var ids map[uint64]bool
		rows, distinct, ids = c.storedSpans(t, db)
		missing = 0
		for id := range acked {
			if !ids[id] {
				missing++
			}
		}
		if missing == 0 && spooled == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, r := range collectors {
				t.Logf("collector stderr:\n%s", r.stderr)
			}
			t.Fatalf("after 3 minutes %d of %d acknowledged spans are not stored, %v bytes spooled", missing, len(acked), spooled)
		}
	}
	if rows != distinct {
		t.Errorf("%d span rows for %d span ids: %d doubled", rows, distinct, rows-distinct)
	}
	t.Logf("%d spans acknowledged, %d stored once each, settled in %s", len(acked), distinct, time.Since(began).Round(100*time.Millisecond))
	return time.Since(began)
}

// readTrace reads a trace through the web role's Jaeger API and returns
// how many spans it has, or an error for any answer but 200.
func readTrace(w *roleProc, first int) (int, error) {
	id := fmt.Sprintf("%032x", first/10+1) // otlpRequest's trace id for span first
	req, _ := http.NewRequest("GET", "http://"+w.web+"/api/traces/"+id, nil)
	req.Header.Set("X-Scope-OrgID", "acme")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Data []struct {
			Spans []struct{} `json:"spans"`
		} `json:"data"`
	}
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("GET /api/traces/%s: %s", id, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Data) != 1 {
		return 0, fmt.Errorf("GET /api/traces/%s: %v, %d traces", id, err, len(body.Data))
	}
	return len(body.Data[0].Spans), nil
}

// TestClusterFaults streams spans through two collectors into a 2x2
// ClickHouse cluster while a replica, a whole shard and ZooKeeper fail in
// turn; after each fault every acknowledged span is stored exactly once.
// A web role reads a trace by id while a replica is down.
func TestClusterFaults(t *testing.T) {
	c := newCluster(t)
	db := fmt.Sprintf("vigil_faults_%d", time.Now().UnixNano())
	storeURL := c.storeURL(db)
	token := createToken(t, t.TempDir(), storeURL, "*", "admin")
	collectors := []*roleProc{startRole(t, "collector", storeURL, token), startRole(t, "collector", storeURL, token)}
	web := startRole(t, "web", storeURL, token)
	loads := []*spanLoad{startLoad(t, collectors[0], true, 0), startLoad(t, collectors[1], false, 1<<32)}
	defer func() {
		for _, l := range loads {
			l.finish()
		}
	}()
	time.Sleep(2 * time.Second)
	settle(t, c, db, collectors, loads)

	// fault runs a fault for d while the load goes on, ends it, and
	// reports how many spans the collectors spooled meanwhile and how long
	// the cluster took to hold every acknowledged span again.
	fault := func(t *testing.T, name string, d time.Duration, begin, end func()) {
		spooled := 0.0
		for _, r := range collectors {
			spooled -= r.metric(t, `vigil_collector_spooled_items_total{signal="spans",tenant="acme"}`)
		}
		began := time.Now()
		begin()
		time.Sleep(d)
		end()
		ended := time.Now()
		caughtUp := settle(t, c, db, collectors, loads)
		for _, r := range collectors {
			spooled += r.metric(t, `vigil_collector_spooled_items_total{signal="spans",tenant="acme"}`)
		}
		t.Logf("%s: down %s, %.0f spans spooled, every acknowledged span stored %s after the end (%s after the start)",
			name, ended.Sub(began).Round(100*time.Millisecond), spooled, caughtUp.Round(100*time.Millisecond), time.Since(began).Round(100*time.Millisecond))
	}

	t.Run("analyzer", func(t *testing.T) {
		// Two analyzers find each other through the members table on the
		// cluster; when one dies the other counts itself alone within
		// two ticks (a heartbeat stays live for one interval), and so
		// owns every monitor. TestClusterAnalyzerFaults checks the
		// takeover with alerts and actions.
		a := startRole(t, "analyzer", storeURL, token, "--analyzer.interval", "1s", "--analyzer.replica", "a")
		b := startRole(t, "analyzer", storeURL, token, "--analyzer.interval", "1s", "--analyzer.replica", "b")
		waitMetric := func(r *roleProc, want float64, within time.Duration) time.Duration {
			began := time.Now()
			for deadline := began.Add(within); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				if r.metric(t, "vigil_analyzer_replicas") == want {
					return time.Since(began)
				}
			}
			t.Fatalf("vigil_analyzer_replicas is not %v after %s; stderr:\n%s", want, within, r.stderr)
			return 0
		}
		waitMetric(a, 2, 30*time.Second)
		waitMetric(b, 2, 30*time.Second)
		b.cmd.Process.Kill()
		took := waitMetric(a, 1, 10*time.Second)
		t.Logf("the surviving analyzer counted itself alone %s after the other was killed", took.Round(100*time.Millisecond))
		a.cmd.Process.Kill()
	})
	t.Run("replica", func(t *testing.T) {
		// Writes and reads go on on the other replica of shard 1.
		// s1r1 is the first replica of shard 1 and the first host of the
		// store URL: reads and writes move to s1r2.
		stored := loads[0].ackedIDs()
		fault(t, "one replica killed", 5*time.Second, func() { c.run(t, "kill", "s1r1") }, func() {
			read := 0
			for first := 0; read < 5 && stored[uint64(first+10)]; first += 200 {
				if n, err := readTrace(web, first); err != nil || n != 10 {
					t.Errorf("reading the trace of span %d with a replica down: %d spans, %v", first, n, err)
				}
				read++
			}
			if read == 0 {
				t.Error("no trace was stored before the fault to read during it")
			}
			c.run(t, "start")
		})
	})
	t.Run("shard", func(t *testing.T) {
		// Shard 2 gone: inserts fail, the collectors spool and replay.
		fault(t, "whole shard killed", 5*time.Second, func() { c.run(t, "kill", "s2r1", "s2r2") }, func() { c.run(t, "start") })
	})
	t.Run("zookeeper", func(t *testing.T) {
		// Without ZooKeeper the Replicated tables turn read-only once the
		// session expires (5 s in the script's config).
		fault(t, "ZooKeeper killed", 10*time.Second, func() { c.run(t, "kill", "zookeeper") }, func() { c.run(t, "start") })
	})
}
