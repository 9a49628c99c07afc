package kafka_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/collector/kafka"
	"github.com/vigil-dev/vigil/collector/otlp"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
	"github.com/vigil-dev/vigil/stream/kafkaconn"
)

// No Kafka broker can run where these tests run: kfake, a Kafka protocol
// implementation in Go from franz-go's authors, stands in. The consumer
// speaks the same protocol to it, group membership and offset commits
// included, through the same client code as to a real broker.

const spansTopic, metricsTopic, logsTopic = "otlp_spans", "otlp_metrics", "otlp_logs"

// rig is a kfake cluster, and Vigil's real ingest path behind the
// consumer: the OTLP receiver, the batching pipeline with its spool, the
// embedded store.
type rig struct {
	cluster *kfake.Cluster
	store   *embedded.Store
	rcv     *otlp.Receiver
}

func newRig(t testing.TB) *rig {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, spansTopic, metricsTopic, logsTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	dir := t.TempDir()
	st, err := embedded.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	pipe, err := collector.NewPipeline(st, collector.PipelineOptions{MaxBatchAge: 50 * time.Millisecond, SpoolDir: filepath.Join(dir, "spool")})
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan struct{})
	go func() { pipe.Run(context.Background()); close(ran) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		pipe.Shutdown(ctx)
		<-ran
		st.Close()
	})
	return &rig{cluster: c, store: st, rcv: &otlp.Receiver{Spans: pipe, Metrics: pipe, Logs: pipe, Stats: collector.NewMetrics(nil)}}
}

// consumer starts a member of group; stop shuts it down within d (a
// zero d cuts it off at once).
func (r *rig) consumer(t *testing.T, group string, reg prometheus.Registerer) (stop func(d time.Duration) error) {
	t.Helper()
	c, err := kafka.New(kafka.Options{Conn: kafkaconn.Conn{Brokers: r.cluster.ListenAddrs()}, Group: group,
		Topics: map[string]string{spansTopic: collector.SignalSpans, metricsTopic: collector.SignalSamples, logsTopic: collector.SignalLogs},
		Tenant: "ops", TenantHeader: "X-Scope-OrgID", Exporter: r.rcv, RetryBackoff: 100 * time.Millisecond, Registerer: reg,
		ClientOpts: []kgo.Opt{kgo.FetchMaxWait(200 * time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- c.Serve() }()
	return func(d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		err := c.Shutdown(ctx)
		if serr := <-served; serr != nil {
			t.Errorf("Serve: %v", serr)
		}
		return err
	}
}

func traceID(i int) pcommon.TraceID {
	var id pcommon.TraceID
	binary.BigEndian.PutUint64(id[8:], uint64(i+1))
	id[0] = 0x7a
	return id
}

// tracesRecord is message i as the collector's Kafka exporter writes it
// with otlp_proto: ptrace's protobuf marshaler over one trace of three
// spans, the sender's tenant in a header (include_metadata_keys).
func tracesRecord(t *testing.T, i int, tenant string) *kgo.Record {
	t.Helper()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "chat-gateway")
	ss := rs.ScopeSpans().AppendEmpty()
	start := time.Now().Add(-time.Minute)
	for j := range 3 {
		sp := ss.Spans().AppendEmpty()
		sp.SetTraceID(traceID(i))
		sp.SetSpanID(pcommon.SpanID{byte(i >> 8), byte(i), 0, 0, 0, 0, 0, byte(j + 1)})
		sp.SetName(fmt.Sprintf("step-%d", j))
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(j+1) * time.Millisecond)))
	}
	b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	rec := &kgo.Record{Topic: spansTopic, Value: b}
	if tenant != "" {
		rec.Headers = []kgo.RecordHeader{{Key: "X-Scope-OrgID", Value: []byte(tenant)}}
	}
	return rec
}

func produce(t *testing.T, c *kfake.Cluster, records ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), records...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func tenantOf(i int) string { return []string{"acme", "globex", ""}[i%3] }

// spansOf counts the stored spans of trace i in its tenant ("" sends no
// header: the configured tenant, ops).
func (r *rig) spansOf(t *testing.T, i int) int {
	t.Helper()
	org := tenantOf(i)
	if org == "" {
		org = "ops"
	}
	spans, err := r.store.Trace(context.Background(), org, store.TraceID(traceID(i)))
	if errors.Is(err, store.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(spans)
}

// waitAll waits until traces [0, n) have at least three spans each.
func (r *rig) waitAll(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; i < n; {
		if r.spansOf(t, i) >= 3 {
			i++
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %d has %d spans stored after 60s", i, r.spansOf(t, i))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConsumeOTLP: every message's spans are stored, each once, in the
// tenant of its header or the configured one; an undecodable record is
// skipped and counted, its neighbours stored; logs and metrics on their
// topics too.
func TestConsumeOTLP(t *testing.T) {
	r := newRig(t)
	const n = 60
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, tracesRecord(t, i, tenantOf(i)))
		if i == n/2 {
			recs = append(recs, &kgo.Record{Topic: spansTopic, Value: []byte("not protobuf \xff\xff")},
				&kgo.Record{Topic: spansTopic, Value: recs[0].Value, Headers: []kgo.RecordHeader{{Key: "x-scope-orgid", Value: []byte("bad tenant/")}}})
		}
	}
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty()
	lr.Resource().Attributes().PutStr("service.name", "chat-gateway")
	l := lr.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	l.Body().SetStr("kafka-borne log line")
	l.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	lb, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err != nil {
		t.Fatal(err)
	}
	recs = append(recs, &kgo.Record{Topic: logsTopic, Value: lb})
	md := pmetric.NewMetrics()
	mr := md.ResourceMetrics().AppendEmpty()
	mr.Resource().Attributes().PutStr("service.name", "chat-gateway")
	g := mr.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	g.SetName("kafka_queue_depth")
	dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	dp.SetIntValue(42)
	mb, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(md)
	if err != nil {
		t.Fatal(err)
	}
	recs = append(recs, &kgo.Record{Topic: metricsTopic, Value: mb})
	produce(t, r.cluster, recs...)

	reg := prometheus.NewRegistry()
	stop := r.consumer(t, "vigil-all", reg)
	r.waitAll(t, n)
	for i := range n {
		if got := r.spansOf(t, i); got != 3 {
			t.Errorf("trace %d: %d spans stored, want 3", i, got)
		}
	}
	var logs []store.LogRecord
	for deadline := time.Now().Add(20 * time.Second); len(logs) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		logs, err = r.store.Logs(context.Background(), store.LogQuery{Tenant: "ops", Text: "kafka-borne", Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(logs) != 1 {
		t.Errorf("%d log records stored, want 1", len(logs))
	}
	var samples []store.Sample
	for deadline := time.Now().Add(20 * time.Second); len(samples) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		samples, err = store.SelectSamples(context.Background(), r.store, "ops", "kafka_queue_depth", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(samples) != 1 || samples[0].Value != 42 {
		t.Errorf("samples %+v, want the gauge's 42", samples)
	}
	if err := stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if v := counterValue(t, reg, "vigil_kafka_records_total", "topic", spansTopic, "outcome", "invalid"); v != 2 {
		t.Errorf("%v records counted invalid, want 2 (the undecodable one, the bad tenant)", v)
	}
	if v := counterValue(t, reg, "vigil_kafka_records_total", "topic", spansTopic, "outcome", "stored"); v != n {
		t.Errorf("%v records counted stored, want %d", v, n)
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for i := 0; i < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestConsumerRestart: messages arrive while one consumer is stopped
// mid-way and another of its group takes over; every message's spans are
// stored, and since the first committed what it stored before leaving,
// none twice.
func TestConsumerRestart(t *testing.T) {
	r := newRig(t)
	const n = 60
	var produced atomic.Int32
	go func() {
		for i := range n {
			produce(t, r.cluster, tracesRecord(t, i, tenantOf(i)))
			produced.Add(1)
			time.Sleep(40 * time.Millisecond)
		}
	}()
	stop := r.consumer(t, "vigil-restart", nil)
	for produced.Load() < n/3 {
		time.Sleep(20 * time.Millisecond)
	}
	r.waitAll(t, 10) // the first consumer has stored some
	if err := stop(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("first consumer stopped with %d of %d messages produced", produced.Load(), n)
	stop = r.consumer(t, "vigil-restart", nil)
	defer stop(20 * time.Second)
	for produced.Load() < n {
		time.Sleep(20 * time.Millisecond)
	}
	r.waitAll(t, n)
	time.Sleep(500 * time.Millisecond) // any duplicate would land by now
	for i := range n {
		if got := r.spansOf(t, i); got != 3 {
			t.Errorf("trace %d: %d spans stored, want 3", i, got)
		}
	}
}

// TestConsumerCrash: the broker refuses every offset commit, and the
// consumer is then cut off: the next member of the group reads again
// everything since the last commit, so nothing stored is lost, and the
// spans read twice are stored twice (spans are not deduplicated: a
// crash between the store and the commit duplicates up to one poll's
// records; a clean stop duplicates none).
func TestConsumerCrash(t *testing.T) {
	r := newRig(t)
	const n = 30
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, tracesRecord(t, i, tenantOf(i)))
	}
	produce(t, r.cluster, recs[:n/2]...)
	var refusing atomic.Bool
	refusing.Store(true)
	var refused atomic.Int32
	r.cluster.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if !refusing.Load() {
			r.cluster.DropControl()
			return nil, nil, false
		}
		r.cluster.KeepControl()
		refused.Add(1)
		return nil, errors.New("commit dropped"), true
	})
	reg := prometheus.NewRegistry()
	stop := r.consumer(t, "vigil-crash", reg)
	r.waitAll(t, n/2)
	for deadline := time.Now().Add(30 * time.Second); counterValue(t, reg, "vigil_kafka_commits_total", "outcome", "failed") == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no commit failed")
		}
	}
	stop(time.Nanosecond) // cut off at once, its commits refused
	refusing.Store(false)
	produce(t, r.cluster, recs[n/2:]...)
	stop = r.consumer(t, "vigil-crash", nil)
	defer stop(20 * time.Second)
	r.waitAll(t, n)
	time.Sleep(500 * time.Millisecond)
	twice := 0
	for i := range n {
		switch got := r.spansOf(t, i); {
		case i < n/2 && got == 6:
			twice++
		case got != 3:
			t.Errorf("trace %d: %d spans stored", i, got)
		}
	}
	t.Logf("%d commits refused; %d of the first %d messages stored twice", refused.Load(), twice, n/2)
	if twice == 0 {
		t.Error("nothing was read again after the commits were refused: the crash was not exercised")
	}
}

// busyFirst answers the first n exports with the pipeline's ErrBusy, as
// a full pipeline does, then stores through the receiver.
type busyFirst struct {
	next kafka.Exporter
	n    atomic.Int32
}

func (b *busyFirst) Export(ctx context.Context, signal, tenant string, body []byte, json bool) (int, string, error) {
	if b.n.Add(-1) >= 0 {
		return 0, "", collector.ErrBusy
	}
	return b.next.Export(ctx, signal, tenant, body, json)
}

// TestConsumerWaitsOutBusy: a pipeline that refuses for a while (429's
// ErrBusy) delays records, never skips them: each is stored once after
// its retries, and the retries are counted.
func TestConsumerWaitsOutBusy(t *testing.T) {
	r := newRig(t)
	const n = 12
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, tracesRecord(t, i, tenantOf(i)))
	}
	produce(t, r.cluster, recs...)
	exp := &busyFirst{next: r.rcv}
	exp.n.Store(20)
	reg := prometheus.NewRegistry()
	c, err := kafka.New(kafka.Options{Conn: kafkaconn.Conn{Brokers: r.cluster.ListenAddrs()}, Group: "vigil-busy",
		Topics: map[string]string{spansTopic: collector.SignalSpans}, Tenant: "ops", TenantHeader: "X-Scope-OrgID", Exporter: exp,
		RetryBackoff: 50 * time.Millisecond, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	go c.Serve()
	defer c.Shutdown(context.Background())
	r.waitAll(t, n)
	time.Sleep(300 * time.Millisecond)
	for i := range n {
		if got := r.spansOf(t, i); got != 3 {
			t.Errorf("trace %d: %d spans stored, want 3", i, got)
		}
	}
	if v := counterValue(t, reg, "vigil_kafka_store_retries_total", "topic", spansTopic); v < 20 {
		t.Errorf("%v retries counted, want the 20 refusals at least", v)
	}
	if v := counterValue(t, reg, "vigil_kafka_records_total", "topic", spansTopic, "outcome", "invalid"); v != 0 {
		t.Errorf("%v records skipped as invalid", v)
	}
}

// TestConsumeOTLPJSON: with encoding otlp_json, records are the JSON the
// exporter writes, stored the same way.
func TestConsumeOTLPJSON(t *testing.T) {
	r := newRig(t)
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(tracesRecord(t, 0, "acme").Value)
	if err != nil {
		t.Fatal(err)
	}
	body, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	produce(t, r.cluster, &kgo.Record{Topic: spansTopic, Value: body, Headers: []kgo.RecordHeader{{Key: "X-Scope-OrgID", Value: []byte("acme")}}})
	c, err := kafka.New(kafka.Options{Conn: kafkaconn.Conn{Brokers: r.cluster.ListenAddrs()}, Group: "vigil-json", Encoding: kafka.OTLPJSON,
		Topics: map[string]string{spansTopic: collector.SignalSpans}, TenantHeader: "X-Scope-OrgID", Exporter: r.rcv})
	if err != nil {
		t.Fatal(err)
	}
	go c.Serve()
	defer c.Shutdown(context.Background())
	r.waitAll(t, 1)
	if got := r.spansOf(t, 0); got != 3 {
		t.Errorf("%d spans stored, want 3", got)
	}
}
