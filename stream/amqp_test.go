package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

type note struct {
	N int `json:"n"`
}

var notes = store.Codec[note]{Kind: store.KindFinding, Type: "test.note", Version: 1}

func noteEvent(t *testing.T, tenant string, n int) store.Event {
	t.Helper()
	ev, err := notes.Event(store.Event{Tenant: tenant, ID: store.EventID(store.KindFinding, tenant, fmt.Sprint(n)), Subject: fmt.Sprintf("note-%d", n),
		Time: time.Now().Truncate(time.Millisecond).Add(time.Duration(n) * time.Millisecond), Summary: "a note"}, note{N: n})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// brokerURL is the broker scripts/rabbitmq started for the test run.
func brokerURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("VIGIL_TEST_RABBITMQ")
	if u == "" {
		if os.Getenv("VIGIL_TEST_STRICT") != "" {
			t.Fatal("VIGIL_TEST_STRICT is set but VIGIL_TEST_RABBITMQ names no broker")
		}
		t.Skip("VIGIL_TEST_RABBITMQ is not set (scripts/rabbitmq start prints it)")
	}
	return u
}

func urlFile(t *testing.T, u string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "url")
	if err := os.WriteFile(p, []byte(u+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// consumer declares a queue bound to every key of the exchange.
func consumer(t *testing.T, u, exchange, queue string, durable bool) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(exchange, amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, durable, !durable, !durable, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(queue, "#", exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	return ch
}

func newDispatcher(t *testing.T, sub dispatch.Subscriber, logs *bytes.Buffer) (*dispatch.Dispatcher, *embedded.Store, *prometheus.Registry) {
	t.Helper()
	d, st, reg, serve := newIdleDispatcher(t, sub, logs)
	serve()
	return d, st, reg
}

// newIdleDispatcher is newDispatcher before it serves: events published
// before serve is called wait in their queues, taken by no attempt yet.
func newIdleDispatcher(t *testing.T, sub dispatch.Subscriber, logs *bytes.Buffer) (d *dispatch.Dispatcher, st *embedded.Store, reg *prometheus.Registry, serve func()) {
	t.Helper()
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg = prometheus.NewRegistry()
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	d, err = dispatch.New(dispatch.Options{Store: st, Subscribers: []dispatch.Subscriber{sub}, Backoff: 200 * time.Millisecond, MaxBackoff: time.Second,
		Timeout: 5 * time.Second, Logger: logger, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	serve = func() {
		go d.Serve()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d.Shutdown(ctx)
		})
	}
	return d, st, reg, serve
}

func publisher(file, exchange string) *AMQP {
	return &AMQP{StreamName: "test", URLFile: file, Exchange: exchange, RoutingKey: template.Must(template.New("").Parse(DefaultRoutingKey)),
		EventTypes: []string{notes.Type}}
}

// TestAMQPDeliversEachEventOnce: through the dispatcher to a real broker,
// each event arrives once, as a persistent CloudEvent whose message id
// and CloudEvent id are the event's.
func TestAMQPDeliversEachEventOnce(t *testing.T) {
	u := brokerURL(t)
	exchange := fmt.Sprintf("vigil.test.%d", time.Now().UnixNano())
	ch := consumer(t, u, exchange, "", false)
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(q.Name, "#", exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	msgs, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := publisher(urlFile(t, u), exchange)
	defer pub.Close()
	d, _, reg := newDispatcher(t, pub, nil)

	const n = 50
	want := map[string]int{}
	for i := range n {
		tenant := []string{"acme", "globex"}[i%2]
		ev := noteEvent(t, tenant, i)
		want[ev.ID] = i
		d.Publish(ev)
	}
	got := map[string]int{}
	deadline := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case m := <-msgs:
			got[m.MessageId]++
			if m.ContentType != ContentType || m.DeliveryMode != amqp.Persistent {
				t.Errorf("message %s: content type %q, delivery mode %d", m.MessageId, m.ContentType, m.DeliveryMode)
			}
			var ce Message
			if err := json.Unmarshal(m.Body, &ce); err != nil {
				t.Fatal(err)
			}
			var data struct {
				Data note `json:"data"`
			}
			if err := json.Unmarshal(ce.Data, &data); err != nil {
				t.Fatal(err)
			}
			i, ok := want[m.MessageId]
			switch {
			case !ok:
				t.Errorf("message id %s is no event's", m.MessageId)
			case ce.ID != m.MessageId || ce.SpecVersion != "1.0" || ce.Type != "dev.vigil.test.note" || data.Data.N != i:
				t.Errorf("message %s carries %+v, data %+v", m.MessageId, ce, data)
			case m.RoutingKey != ce.Tenant+".test.note":
				t.Errorf("routing key %q for tenant %s", m.RoutingKey, ce.Tenant)
			}
		case <-deadline:
			t.Fatalf("received %d of %d events", len(got), n)
		}
	}
	// Nothing more comes: once each.
	select {
	case m := <-msgs:
		got[m.MessageId]++
	case <-time.After(time.Second):
	}
	for id, c := range got {
		if c != 1 {
			t.Errorf("event %s received %d times", id, c)
		}
	}
	if r := attempts(t, reg, "delivered"); r < 2 {
		t.Errorf("%v delivered attempts, want one per tenant at least", r)
	}
}

// attempts reads vigil_dispatch_attempts_total{outcome} from a registry;
// 0 when there is no such series.
func attempts(t *testing.T, reg *prometheus.Registry, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "vigil_dispatch_attempts_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

// TestAMQPBrokerRestartLosesNothing stops a broker of the test's own while
// events are being published and starts it again: every event is in the
// durable queue afterwards, through the dispatcher's retries, duplicates
// only under the same id.
func TestAMQPBrokerRestartLosesNothing(t *testing.T) {
	brokerURL(t) // the run has a broker: rabbitmq-server is installed
	script, err := filepath.Abs("../scripts/rabbitmq")
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "VIGIL_RABBITMQ_DIR="+t.TempDir(), "VIGIL_RABBITMQ_PORT=15690")
	broker := func(verb string) string {
		t.Helper()
		cmd := exec.Command(script, verb)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("scripts/rabbitmq %s: %v: %s", verb, err, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}
	u := broker("start")
	t.Cleanup(func() { broker("stop") })
	exchange, queue := "vigil.restart", "vigil.restart.all"
	ch := consumer(t, u, exchange, queue, true)
	ch.Close()

	pub := publisher(urlFile(t, u), exchange)
	defer pub.Close()
	d, _, reg := newDispatcher(t, pub, nil)

	const n = 60
	want := map[string]bool{}
	var wg sync.WaitGroup
	var published atomic.Int32
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			ev := noteEvent(t, "acme", i)
			want[ev.ID] = true
			d.Publish(ev)
			published.Add(1)
			time.Sleep(200 * time.Millisecond) // 12s: across the stop and the start
		}
	}()
	for published.Load() < 10 { // mid-stream
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	broker("stop")
	t.Logf("broker stopped in %v; %d events published by then", time.Since(start), published.Load())
	time.Sleep(time.Second)
	broker("start")
	t.Logf("broker back after %v; %d events published by then", time.Since(start), published.Load())
	wg.Wait()

	conn, err := amqp.Dial(u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		m, ok, err := cch.Get(queue, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if !want[m.MessageId] {
			t.Errorf("message id %s is no event's", m.MessageId)
		}
		got[m.MessageId]++
	}
	dups := 0
	for _, c := range got {
		dups += c - 1
	}
	t.Logf("%d distinct events of %d in the queue, %d duplicate(s); %v retried attempts", len(got), n, dups,
		attempts(t, reg, "retrying"))
	if len(got) != n {
		t.Fatalf("%d of %d events reached the queue across the restart", len(got), n)
	}
	if r := attempts(t, reg, "retrying"); r == 0 {
		t.Error("no attempt failed while the broker was down: the restart was not mid-stream")
	}
}

// TestAMQPBadPassword: a refused login is a clear error, and neither it,
// the delivery log nor Vigil's log shows the password.
func TestAMQPBadPassword(t *testing.T) {
	good, err := url.Parse(brokerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	const secret = "not-the-password-7d1e"
	good.User = url.UserPassword(good.User.Username(), secret)
	pub := publisher(urlFile(t, good.String()), "vigil.badpassword")
	defer pub.Close()

	report, err := pub.Deliver(context.Background(), "acme", []store.Event{noteEvent(t, "acme", 1)})
	if err == nil {
		t.Fatal("a wrong password delivered")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "refused the user or password") || strings.Contains(err.Error(), secret) {
		t.Errorf("error %q: want the refusal, without the password", err)
	}
	if strings.Contains(report.Target, secret) || !strings.Contains(report.Target, "vigil.badpassword") {
		t.Errorf("target %q", report.Target)
	}

	var logs bytes.Buffer
	d, st, _ := newDispatcher(t, pub, &logs)
	d.Publish(noteEvent(t, "acme", 2))
	var deliveries []store.Decoded[dispatch.Delivery]
	for deadline := time.Now().Add(20 * time.Second); len(deliveries) == 0 && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		deliveries, err = dispatch.Deliveries.Read(context.Background(), st, store.EventQuery{Tenant: "acme", Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(deliveries) == 0 {
		t.Fatal("no attempt in the delivery log")
	}
	for _, dl := range deliveries {
		if dl.Value.Outcome != dispatch.Retrying || !strings.Contains(dl.Value.Error, "refused") {
			t.Errorf("delivery %+v", dl.Value)
		}
		if strings.Contains(dl.Event.Payload, secret) || strings.Contains(dl.Event.Summary, secret) {
			t.Errorf("the delivery log shows the password: %s", dl.Event.Payload)
		}
	}
	if !strings.Contains(logs.String(), "refused") || strings.Contains(logs.String(), secret) {
		t.Errorf("Vigil's log: %s", logs.String())
	}
}

// TestAMQPNackFailsTheAttempt: a queue full under reject-publish makes
// the broker nack; the attempt fails (to be retried), and succeeds once
// the queue has room.
func TestAMQPNackFailsTheAttempt(t *testing.T) {
	u := brokerURL(t)
	exchange := fmt.Sprintf("vigil.nack.%d", time.Now().UnixNano())
	ch := consumer(t, u, exchange, "", false)
	q, err := ch.QueueDeclare("", false, true, true, false, amqp.Table{"x-max-length": int32(1), "x-overflow": "reject-publish"})
	if err == nil {
		err = ch.QueueBind(q.Name, "#", exchange, false, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	pub := publisher(urlFile(t, u), exchange)
	defer pub.Close()
	events := []store.Event{noteEvent(t, "acme", 1), noteEvent(t, "acme", 2), noteEvent(t, "acme", 3)}
	_, err = pub.Deliver(context.Background(), "acme", events)
	if err == nil || !strings.Contains(err.Error(), "refused (nack) 2 of 3") || dispatch.IsPermanent(err) {
		t.Fatalf("a full queue: %v, want 2 of 3 nacked, to be retried", err)
	}
	if _, err := ch.QueuePurge(q.Name, false); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Deliver(context.Background(), "acme", events[2:]); err != nil {
		t.Fatalf("with room again: %v", err)
	}
}

type change struct {
	State string `json:"state"`
}

var changes = store.Codec[change]{Kind: store.KindAlert, Type: "test.change", Version: 1}

var changeStates = States{changes.Type: func(ev store.Event) (string, error) {
	c, err := changes.Decode(ev)
	return c.State, err
}}

func changeEvent(t *testing.T, n int, state string) store.Event {
	t.Helper()
	ev, err := changes.Event(store.Event{Tenant: "acme", ID: store.EventID(store.KindAlert, "acme", fmt.Sprint(n), state), Subject: "chat-availability",
		Time: time.Now().Truncate(time.Millisecond).Add(time.Duration(n) * time.Millisecond)}, change{State: state})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestAMQPRoutingKeyByState: a routing key with the state lets a queue
// bind to firing alerts only; a type without states routes as "none".
func TestAMQPRoutingKeyByState(t *testing.T) {
	u := brokerURL(t)
	exchange := fmt.Sprintf("vigil.state.%d", time.Now().UnixNano())
	ch := consumer(t, u, exchange, "", false)
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err == nil {
		err = ch.QueueBind(q.Name, "*.test.change.firing", exchange, false, nil)
	}
	if err == nil {
		err = ch.QueueBind(q.Name, "*.*.*.none", exchange, false, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := publisher(urlFile(t, u), exchange)
	pub.RoutingKey = template.Must(template.New("").Parse(`{{.Tenant}}.{{.Type}}.{{or .State "none"}}`))
	pub.States = changeStates
	defer pub.Close()
	events := []store.Event{changeEvent(t, 1, "pending"), changeEvent(t, 2, "firing"), changeEvent(t, 3, "resolved"), noteEvent(t, "acme", 4)}
	report, err := pub.Deliver(context.Background(), "acme", events)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"acme.test.change.pending", "acme.test.change.firing", "acme.test.change.resolved", "acme.test.note.none"}
	if strings.Join(report.Keys, " ") != strings.Join(want, " ") {
		t.Errorf("keys %v, want %v", report.Keys, want)
	}
	got := map[string]string{}
	for deadline := time.After(10 * time.Second); len(got) < 2; {
		select {
		case m := <-msgs:
			got[m.RoutingKey] = m.MessageId
		case <-deadline:
			t.Fatalf("received %v", got)
		}
	}
	if got["acme.test.change.firing"] != events[1].ID || got["acme.test.note.none"] != events[3].ID {
		t.Errorf("received %v", got)
	}
	select {
	case m := <-msgs:
		t.Errorf("unbound key %s received", m.RoutingKey)
	case <-time.After(500 * time.Millisecond):
	}

	// A payload the state cannot be read from gives the batch up.
	bad := changeEvent(t, 5, "firing")
	bad.Payload = `{"version": 1, "data": {"state": 7}}`
	if _, err := pub.Deliver(context.Background(), "acme", []store.Event{bad}); !dispatch.IsPermanent(err) {
		t.Errorf("an unreadable state: %v, want a permanent error", err)
	}
}
