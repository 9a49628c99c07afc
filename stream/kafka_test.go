package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/stream/kafkaconn"
)

// No Kafka broker can run on the machines these tests run on; kfake, a
// Kafka protocol implementation in Go from franz-go's authors, stands in.
// The publisher speaks the same protocol to it, through the same client
// code, as to a real broker.
func kafkaCluster(t *testing.T, topic string) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func kafkaPublisher(c *kfake.Cluster, topic string, backlog int) *Kafka {
	return &Kafka{StreamName: "test", Conn: kafkaconn.Conn{Brokers: c.ListenAddrs()}, Topic: topic,
		Key: template.Must(template.New("").Parse(DefaultKafkaKey)), EventTypes: []string{notes.Type}, Backlog: backlog,
		DeliveryTimeout: time.Second, Opts: []kgo.Opt{kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }), kgo.MetadataMinAge(100 * time.Millisecond)}}
}

// readTopic reads the topic from its start until it has want records or
// the deadline passes, then a little longer to see any extra.
func readTopic(t *testing.T, c *kfake.Cluster, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	deadline := time.Now().Add(30 * time.Second)
	extra := time.Time{}
	for time.Now().Before(deadline) && (extra.IsZero() || time.Now().Before(extra)) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, context.DeadlineExceeded) {
				t.Fatalf("reading %s: %v", topic, e.Err)
			}
		}
		out = append(out, fs.Records()...)
		if len(out) >= want && extra.IsZero() {
			extra = time.Now().Add(time.Second)
		}
	}
	return out
}

// TestKafkaDeliversEachEventOnce: through the dispatcher, each event is
// one record whose value is byte for byte the CloudEvent the RabbitMQ
// publisher sends, keyed by tenant and subject, once.
func TestKafkaDeliversEachEventOnce(t *testing.T) {
	const topic = "vigil.events"
	c := kafkaCluster(t, topic)
	pub := kafkaPublisher(c, topic, 0)
	defer pub.Close()
	d, _, reg := newDispatcher(t, pub, nil)

	const n = 50
	want := map[string]store.Event{}
	for i := range n {
		ev := noteEvent(t, []string{"acme", "globex"}[i%2], i)
		want[ev.ID] = ev
		d.Publish(ev)
	}
	got := map[string]int{}
	for _, r := range readTopic(t, c, topic, n) {
		var ce Message
		m, err := decodeMessage(r.Value, &ce)
		if err != nil {
			t.Fatal(err)
		}
		ev, ok := want[ce.ID]
		if !ok {
			t.Errorf("record %s is no event's", m)
			continue
		}
		got[ce.ID]++
		_, body, _ := Encode(ev)
		if !bytes.Equal(r.Value, body) {
			t.Errorf("event %s: record\n%s\nwant\n%s", ev.ID, r.Value, body)
		}
		if string(r.Key) != ev.Tenant+"/"+ev.Subject {
			t.Errorf("event %s: key %q", ev.ID, r.Key)
		}
		if len(r.Headers) != 1 || r.Headers[0].Key != "content-type" || string(r.Headers[0].Value) != ContentType {
			t.Errorf("event %s: headers %v", ev.ID, r.Headers)
		}
	}
	if len(got) != n {
		t.Errorf("%d of %d events in the topic", len(got), n)
	}
	for id, k := range got {
		if k != 1 {
			t.Errorf("event %s in the topic %d times", id, k)
		}
	}
	if a := attempts(t, reg, "delivered"); a < 2 {
		t.Errorf("%v delivered attempts, want one per tenant at least", a)
	}
}

func decodeMessage(b []byte, m *Message) (string, error) {
	if err := json.Unmarshal(b, m); err != nil {
		return "", fmt.Errorf("record %q is not a CloudEvent: %w", b, err)
	}
	return m.ID, nil
}

// TestKafkaBrokerFailuresLoseNothing: a broker that appends and then
// answers with an error makes the client retry, and idempotence writes
// each record once; a broker that drops every produce request for a few
// seconds fails attempts, which the dispatcher retries until every event
// is in the topic, any duplicate with its event's id.
func TestKafkaBrokerFailuresLoseNothing(t *testing.T) {
	const topic = "vigil.faults"
	c := kafkaCluster(t, topic)
	pub := kafkaPublisher(c, topic, 0)
	defer pub.Close()
	d, _, reg := newDispatcher(t, pub, nil)

	// Phase 1: the work happens, the answer is an error, 4 times.
	fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotEnoughReplicasAfterAppend, Count: 4})
	const first = 20
	want := map[string]bool{}
	for i := range first {
		ev := noteEvent(t, "acme", i)
		want[ev.ID] = true
		d.Publish(ev)
	}
	counts := func(records []*kgo.Record) (map[string]int, int) {
		got, dups := map[string]int{}, 0
		for _, r := range records {
			var ce Message
			if _, err := decodeMessage(r.Value, &ce); err != nil {
				t.Fatal(err)
			}
			if !want[ce.ID] {
				t.Errorf("record id %s is no event's", ce.ID)
			}
			got[ce.ID]++
			if got[ce.ID] > 1 {
				dups++
			}
		}
		return got, dups
	}
	got, dups := counts(readTopic(t, c, topic, first))
	if h := fault.Hits(); h != 4 {
		t.Errorf("the fault answered %d produce requests, want 4", h)
	}
	if len(got) != first || dups != 0 {
		t.Fatalf("after errors answered to appended batches: %d of %d events, %d duplicate(s); idempotence writes each once", len(got), first, dups)
	}

	// Phase 2: every produce request's connection is dropped for 7s,
	// longer than an attempt may take (5s), while more events are
	// published.
	var dropping atomic.Bool
	var dropped atomic.Int32
	dropping.Store(true)
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		if dropping.Load() {
			c.KeepControl()
			dropped.Add(1)
			return nil, errors.New("broker drops the connection"), true
		}
		c.DropControl()
		return nil, nil, false
	})
	const more = 40
	for i := first; i < first+more; i++ {
		ev := noteEvent(t, "acme", i)
		want[ev.ID] = true
		d.Publish(ev)
		time.Sleep(25 * time.Millisecond)
	}
	time.Sleep(6 * time.Second)
	dropping.Store(false)
	got, dups = counts(readTopic(t, c, topic, first+more))
	t.Logf("%d produce requests dropped; %d distinct events of %d, %d duplicate(s); %v attempts retried",
		dropped.Load(), len(got), first+more, dups, attempts(t, reg, "retrying"))
	if len(got) != first+more {
		t.Fatalf("%d of %d events reached the topic", len(got), first+more)
	}
	if dropped.Load() == 0 || attempts(t, reg, "retrying") == 0 {
		t.Error("no attempt failed while the broker dropped requests: the fault was not exercised")
	}
}

// TestKafkaBacklogBound: while the broker takes nothing, a stream's
// backlog holds at most its bound, the newest events, and the gauges
// and the drop counter say so; once the broker is back, what was kept
// arrives.
func TestKafkaBacklogBound(t *testing.T) {
	const topic = "vigil.backlog"
	c := kafkaCluster(t, topic)
	var down atomic.Bool
	down.Store(true)
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		if down.Load() {
			c.KeepControl()
			return nil, errors.New("broker down"), true
		}
		c.DropControl()
		return nil, nil, false
	})
	const bound, n = 5, 12
	pub := kafkaPublisher(c, topic, bound)
	defer pub.Close()
	// All n wait before the dispatcher serves: an attempt that took the
	// first events while the rest were published would deliver them
	// once the broker is back, though the bound dropped them from the
	// queue meanwhile.
	d, _, reg, serve := newIdleDispatcher(t, pub, nil)
	var events []store.Event
	for i := range n {
		ev := noteEvent(t, "acme", i)
		events = append(events, ev)
		d.Publish(ev)
	}
	serve()
	if q := gauge(t, reg, "vigil_dispatch_queued", pub.Name()); q != bound {
		t.Errorf("vigil_dispatch_queued = %v, want the bound %d", q, bound)
	}
	if l := gauge(t, reg, "vigil_dispatch_queue_limit", pub.Name()); l != bound {
		t.Errorf("vigil_dispatch_queue_limit = %v, want %d", l, bound)
	}
	if dr := counter(t, reg, "vigil_dispatch_dropped_total", pub.Name()); dr != n-bound {
		t.Errorf("vigil_dispatch_dropped_total = %v, want %d", dr, n-bound)
	}
	time.Sleep(1500 * time.Millisecond) // an attempt or two fail
	down.Store(false)
	records := readTopic(t, c, topic, bound)
	got := map[string]bool{}
	for _, r := range records {
		var ce Message
		if _, err := decodeMessage(r.Value, &ce); err != nil {
			t.Fatal(err)
		}
		got[ce.ID] = true
	}
	for i, ev := range events {
		if kept := i >= n-bound; got[ev.ID] != kept {
			t.Errorf("event %d: in the topic %v, want %v (the newest %d are kept)", i, got[ev.ID], kept, bound)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for gauge(t, reg, "vigil_dispatch_queued", pub.Name()) != 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if q := gauge(t, reg, "vigil_dispatch_queued", pub.Name()); q != 0 {
		t.Errorf("vigil_dispatch_queued = %v once delivered", q)
	}
}

// TestKafkaSASLWrongPassword: a refused login fails the attempt with an
// error that does not show the password.
func TestKafkaSASLWrongPassword(t *testing.T) {
	const topic = "vigil.sasl"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic), kfake.EnableSASL(),
		kfake.Superuser("SCRAM-SHA-512", "vigil", "the-right-one"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const secret = "not-the-password-5c2a"
	pub := kafkaPublisher(c, topic, 0)
	pub.Conn.SASL = &kafkaconn.SASL{Mechanism: kafkaconn.ScramSHA512, User: "vigil", PasswordFile: secretFile(t, secret)}
	defer pub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	report, err := pub.Deliver(ctx, "acme", []store.Event{noteEvent(t, "acme", 1)})
	if err == nil {
		t.Fatal("a wrong password delivered")
	}
	t.Logf("error: %v", err)
	if strings.Contains(err.Error(), secret) || strings.Contains(report.Target, secret) || !strings.Contains(report.Target, "SASL SCRAM-SHA-512 as vigil") {
		t.Errorf("error %q, target %q", err, report.Target)
	}

	right := kafkaPublisher(c, topic, 0)
	right.Conn.SASL = &kafkaconn.SASL{Mechanism: kafkaconn.ScramSHA512, User: "vigil", PasswordFile: secretFile(t, "the-right-one")}
	defer right.Close()
	if _, err := right.Deliver(ctx, "acme", []store.Event{noteEvent(t, "acme", 1)}); err != nil {
		t.Fatalf("the right password: %v", err)
	}
}

func secretFile(t *testing.T, s string) string {
	t.Helper()
	return urlFile(t, s)
}

func gauge(t *testing.T, reg *prometheus.Registry, name, subscriber string) float64 {
	return metricValue(t, reg, name, subscriber, func(m *dto.Metric) float64 { return m.GetGauge().GetValue() })
}

func counter(t *testing.T, reg *prometheus.Registry, name, subscriber string) float64 {
	return metricValue(t, reg, name, subscriber, func(m *dto.Metric) float64 { return m.GetCounter().GetValue() })
}

func metricValue(t *testing.T, reg *prometheus.Registry, name, subscriber string, value func(*dto.Metric) float64) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "subscriber" && l.GetValue() == subscriber {
					return value(m)
				}
			}
		}
	}
	return 0
}
