package main

import (
	"context"
	be "encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestKafkaBothWays runs vigil serve against a Kafka cluster that asks
// for SASL: chat-gateway's spans come in on otlp_spans, as the
// OpenTelemetry collector's Kafka exporter writes them; the SLO they
// burn fires; and its alert transitions go out on a Kafka stream as
// CloudEvents, keyed with their state. No Kafka broker can run here: kfake, franz-go's Kafka
// protocol implementation, is the cluster, in the test's process; vigil
// talks to it over TCP as to a real one. The SASL password is in no log.
func TestKafkaBothWays(t *testing.T) {
	const user, password = "vigil", "kafka-secret-8f3e1"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "otlp_spans", "vigil.events"), kfake.EnableSASL(),
		kfake.Superuser("SCRAM-SHA-512", user, password))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha512Mechanism()),
		kgo.ConsumeTopics("vigil.events"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte(`slos:
  - name: chat-availability
    service: chat-gateway
    availability: true
    objective: 99%
`), 0o644)
	os.WriteFile(filepath.Join(dir, "kafka-password"), []byte(password+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "streams.yaml"), []byte(`streams:
  - name: data-bus
    kafka:
      brokers: [`+c.ListenAddrs()[0]+`]
      topic: vigil.events
      key: '{{.Tenant}}/{{.Subject}}/{{or .State "none"}}'
      sasl: {mechanism: SCRAM-SHA-512, user: `+user+`, password_file: kafka-password}
    events: [slo.alert]
`), 0o644)
	v := startServe(t, "", "--config-dir", dir, "--analyzer.interval", "1s",
		"--collector.kafka-brokers", c.ListenAddrs()[0], "--collector.kafka-sasl-mechanism", "SCRAM-SHA-512",
		"--collector.kafka-sasl-user", user, "--collector.kafka-sasl-password-file", filepath.Join(dir, "kafka-password"),
		"--collector.kafka-metrics-topic", "", "--collector.kafka-logs-topic", "")

	// 100 requests, half of them failed: every burn-rate rule fires.
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "chat-gateway")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	now := time.Now()
	for i := range 100 {
		s := spans.AppendEmpty()
		var tid pcommon.TraceID
		var sid pcommon.SpanID
		be.BigEndian.PutUint64(tid[8:], uint64(i+1))
		be.BigEndian.PutUint64(sid[:], uint64(i+1))
		s.SetTraceID(tid)
		s.SetSpanID(sid)
		s.SetName("POST /chat")
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
		if i < 50 {
			s.Status().SetCode(ptrace.StatusCodeError)
		}
	}
	body, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "otlp_spans", Value: body}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if slo := waitSLO(t, v, 100); slo.Total != 100 {
		t.Fatalf("the SLO counted %d requests, want the 100 sent through Kafka", slo.Total)
	}

	firing := ""
	for deadline := time.Now().Add(60 * time.Second); firing == "" && time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		for _, r := range fs.Records() {
			var ce struct {
				ID, Type, Subject string
				Data              struct{ Data struct{ State, SLO string } }
			}
			if err := json.Unmarshal(r.Value, &ce); err != nil {
				t.Fatalf("record %q: %v", r.Value, err)
			}
			if ce.Type != "dev.vigil.slo.alert" || ce.Data.Data.SLO != "chat-availability" || !strings.HasPrefix(string(r.Key), "default/") ||
				!strings.HasSuffix(string(r.Key), "/"+ce.Data.Data.State) {
				t.Fatalf("record key %q: %s", r.Key, r.Value)
			}
			if ce.Data.Data.State == "firing" {
				firing = ce.ID
			}
		}
	}
	if firing == "" {
		t.Fatal("no firing alert reached the Kafka stream within 60s")
	}
	var log []struct{ Receiver, Outcome, URL string }
	for deadline := time.Now().Add(10 * time.Second); len(log) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		v.getJSON(t, "/api/v1/alerts/deliveries?receiver=stream:data-bus", &log)
	}
	if len(log) == 0 || log[0].Outcome != "delivered" || !strings.Contains(log[0].URL, "topic vigil.events") || strings.Contains(log[0].URL, password) {
		t.Errorf("delivery log %+v", log)
	}
	v.stop(t)
	if strings.Contains(v.stderr.String(), password) {
		t.Error("Vigil's log shows the SASL password")
	}
}

// TestStreamsFollowReload: a stream's topic changed in the config
// directory while vigil serve runs is taken up without a restart: the
// alerts of an SLO added after the change go to the new topic, and none
// to the old.
func TestStreamsFollowReload(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "first", "second"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	slos := func(names ...string) {
		y := "slos:\n"
		for _, n := range names {
			y += "  - {name: " + n + ", service: chat-gateway, availability: true, objective: 99%}\n"
		}
		if err := os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	streamTo := func(topic string) {
		if err := os.WriteFile(filepath.Join(dir, "streams.yaml"), []byte("streams:\n  - name: bus\n    kafka: {brokers: ["+c.ListenAddrs()[0]+"], topic: "+topic+"}\n    events: [slo.alert]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	slos("chat-availability")
	streamTo("first")
	v := startServe(t, "", "--config-dir", dir, "--analyzer.interval", "1s", "--config.poll-interval", "500ms")
	sendChat(t, v, 0, 100, 50)

	read := func(topic string, slo string, within time.Duration) map[string]int {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		bySLO := map[string]int{}
		for deadline := time.Now().Add(within); time.Now().Before(deadline) && (slo == "" || bySLO[slo] == 0); {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			fs := cl.PollFetches(ctx)
			cancel()
			for _, r := range fs.Records() {
				var ce struct {
					Data struct{ Data struct{ State, SLO string } }
				}
				if err := json.Unmarshal(r.Value, &ce); err != nil {
					t.Fatal(err)
				}
				if ce.Data.Data.State == "firing" {
					bySLO[ce.Data.Data.SLO]++
				}
			}
		}
		return bySLO
	}
	if got := read("first", "chat-availability", 60*time.Second); got["chat-availability"] == 0 {
		t.Fatalf("no firing alert on the first topic: %v", got)
	}

	streamTo("second")
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(v.stderr.String(), "streams reconfigured"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the stream change was not taken up; log:\n%s", v.stderr.String())
		}
	}
	slos("chat-availability", "chat-availability-2")
	if got := read("second", "chat-availability-2", 60*time.Second); got["chat-availability-2"] == 0 {
		t.Fatalf("no firing alert of the new SLO on the second topic: %v", got)
	}
	if got := read("first", "", 2*time.Second); got["chat-availability-2"] != 0 {
		t.Errorf("the new SLO's alert went to the old topic too: %v", got)
	}
	v.stop(t)
}

// TestKafkaFlagErrors: a wrong --collector.kafka-* flag stops the start
// with one line naming it.
func TestKafkaFlagErrors(t *testing.T) {
	for _, c := range []struct {
		want  string
		flags []string
	}{
		{`broker "nohost": want host:port`, []string{"--collector.kafka-brokers", "nohost"}},
		{`--collector.kafka-sasl-mechanism: unknown SASL mechanism "GSSAPI"`, []string{"--collector.kafka-brokers", "k:9092", "--collector.kafka-sasl-mechanism", "GSSAPI"}},
		{`--collector.kafka-logs-topic: topic "otlp" already carries another signal`, []string{"--collector.kafka-brokers", "k:9092", "--collector.kafka-traces-topic", "otlp",
			"--collector.kafka-logs-topic", "otlp"}},
		{`unknown encoding "avro"`, []string{"--collector.kafka-brokers", "k:9092", "--collector.kafka-encoding", "avro"}},
	} {
		args := append([]string{"serve", "--web.listen-address=" + freeAddr(t), "--data-dir", t.TempDir()}, collectorPorts(t)...)
		oneLineError(t, nil, c.want, append(args, c.flags...)...)
	}
}
