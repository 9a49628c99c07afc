package stream

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/config"
)

func load(t *testing.T, yaml string) ([]Stream, []config.Problem, string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "streams.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	sec := Section([]string{"slo.alert", "actions.transition"})
	reg, err := config.NewRegistry(sec)
	if err != nil {
		t.Fatal(err)
	}
	cfg, problems, err := reg.Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	return sec.Of(cfg), problems, dir
}

func TestSectionReads(t *testing.T) {
	streams, problems, dir := load(t, `streams:
  - name: ops
    amqp: {url_file: secrets/rabbit, exchange: vigil.events, routing_key: "{{.Type}}.{{.Severity}}"}
    events: [slo.alert, actions.transition]
`)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if len(streams) != 1 {
		t.Fatalf("%d streams", len(streams))
	}
	s := streams[0]
	if s.Name != "ops" || s.AMQP.Exchange != "vigil.events" || s.AMQP.URLFile != filepath.Join(dir, "secrets/rabbit") || len(s.Events) != 2 {
		t.Errorf("%+v %+v", s, s.AMQP)
	}
	var key strings.Builder
	if err := s.AMQP.RoutingKey.Execute(&key, RoutingFields{Type: "slo.alert", Severity: "page"}); err != nil || key.String() != "slo.alert.page" {
		t.Errorf("routing key %q, %v", key.String(), err)
	}
	if sub := s.Subscriber(nil); sub.Name() != "stream:ops" || len(sub.Types()) != 2 {
		t.Errorf("subscriber %s %v", sub.Name(), sub.Types())
	}
}

// TestSectionProblems: each mistake at its file and line.
func TestSectionProblems(t *testing.T) {
	_, problems, _ := load(t, `streams:
  - name: ops
    amqp: {exchange: vigil.events, routing_key: "{{.Queue}}"}
    events: [slo.alert, slo.silence]
  - name: ops
    amqp: {url_file: u, exchange: x}
    events: [slo.alert]
  - name: nowhere
    events: [slo.alert]
`)
	want := []string{
		"streams.yaml:3: streams[0].amqp: needs url_file",
		"streams.yaml:3: streams[0].amqp.routing_key:",
		`streams.yaml:4: streams[0].events[1]: "slo.silence" is not an event type a stream carries`,
		"streams.yaml:8: streams[2].amqp: is required",
	}
	var got []string
	for _, p := range problems {
		got = append(got, filepath.Base(p.File)+":"+itoa(p.Line)+": "+p.Field+": "+p.Message)
	}
	all := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("want a problem %q; got:\n%s", w, all)
		}
	}
	// The second "ops" is not reported as a duplicate: the first had
	// errors and was not defined. A clean duplicate is:
	_, problems, _ = load(t, `streams:
  - {name: ops, amqp: {url_file: u, exchange: x}, events: [slo.alert]}
  - {name: ops, amqp: {url_file: u, exchange: x}, events: [slo.alert]}
`)
	if len(problems) != 1 || problems[0].Line != 3 || !strings.Contains(problems[0].Message, "also defined at") {
		t.Errorf("%v", problems)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSectionReadsKafka(t *testing.T) {
	streams, problems, dir := load(t, `streams:
  - name: data
    kafka:
      brokers: [k1:9092, k2:9092]
      topic: vigil.events
      sasl: {mechanism: scram-sha-512, user: vigil, password_file: secrets/kafka}
      tls: {ca_file: ca.pem}
    events: [slo.alert]
    backlog: 500
`)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	s := streams[0]
	k := s.Kafka
	if s.AMQP != nil || k == nil || k.Topic != "vigil.events" || len(k.Conn.Brokers) != 2 || s.Backlog != 500 {
		t.Fatalf("%+v %+v", s, k)
	}
	if k.Conn.SASL.Mechanism != "SCRAM-SHA-512" || k.Conn.SASL.PasswordFile != filepath.Join(dir, "secrets/kafka") || k.Conn.TLS.CAFile != filepath.Join(dir, "ca.pem") {
		t.Errorf("%+v %+v", k.Conn.SASL, k.Conn.TLS)
	}
	var key strings.Builder
	if err := k.Key.Execute(&key, RoutingFields{Tenant: "acme", Subject: "chat-availability"}); err != nil || key.String() != "acme/chat-availability" {
		t.Errorf("key %q, %v", key.String(), err)
	}
	sub := s.Subscriber(nil)
	if kp, ok := sub.(*Kafka); !ok || kp.QueueLimit() != 500 || sub.Name() != "stream:data" {
		t.Errorf("subscriber %T %s", sub, sub.Name())
	}
	if d := k.Conn.Describe(); d != "kafka://k1:9092,k2:9092 (SASL SCRAM-SHA-512 as vigil) (TLS)" {
		t.Errorf("describe %q", d)
	}
}

func TestSectionKafkaProblems(t *testing.T) {
	_, problems, _ := load(t, `streams:
  - name: both
    amqp: {url_file: u, exchange: x}
    kafka: {brokers: [k:9092], topic: t}
    events: [slo.alert]
  - name: bad
    kafka:
      brokers: [k]
      sasl: {mechanism: GSSAPI, password_file: p}
      tls: {cert_file: c.pem}
      key: "{{.Partition}}"
    events: [slo.alert]
    backlog: -1
`)
	want := []string{
		"streams.yaml:4: streams[0].kafka: and amqp are both set",
		"streams.yaml:8: streams[1].kafka: needs topic",
		`streams.yaml:8: streams[1].kafka: broker "k": want host:port`,
		`streams.yaml:8: streams[1].kafka: unknown SASL mechanism "GSSAPI"`,
		"streams.yaml:8: streams[1].kafka: sasl: user is required",
		"streams.yaml:8: streams[1].kafka: tls: cert_file and key_file go together",
		"streams.yaml:11: streams[1].kafka.key:",
		"streams.yaml:13: streams[1].backlog: must be positive",
	}
	var got []string
	for _, p := range problems {
		got = append(got, filepath.Base(p.File)+":"+itoa(p.Line)+": "+p.Field+": "+p.Message)
	}
	all := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("want a problem %q; got:\n%s", w, all)
		}
	}
}

// TestSectionSame: a stream read again unchanged is the same (its
// publisher is kept across a reload); a changed one is not.
func TestSectionSame(t *testing.T) {
	dir := t.TempDir()
	read := func(topic string) Stream {
		t.Helper()
		body := "streams:\n  - {name: data, kafka: {brokers: [k:9092], topic: " + topic + "}, events: [slo.alert]}\n"
		if err := os.WriteFile(filepath.Join(dir, "streams.yaml"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		sec := Section([]string{"slo.alert"})
		reg, err := config.NewRegistry(sec)
		if err != nil {
			t.Fatal(err)
		}
		cfg, problems, err := reg.Load([]string{dir})
		if err != nil || len(problems) > 0 {
			t.Fatal(err, problems)
		}
		return sec.Of(cfg)[0]
	}
	a, b, c := read("one"), read("one"), read("two")
	if !a.Same(b) || a.Same(c) || (Stream{}).Same(Stream{}) {
		t.Errorf("same(a, b) %v, same(a, c) %v", a.Same(b), a.Same(c))
	}
}
