package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// TestStreamToRabbitMQ runs vigil serve with a stream in its config
// directory: the SLO's alert transitions reach a real RabbitMQ as
// CloudEvents whose ids are the alerts' events in the API, and the
// password of the URL shows nowhere in Vigil's log.
func TestStreamToRabbitMQ(t *testing.T) {
	rawURL := os.Getenv("VIGIL_TEST_RABBITMQ")
	if rawURL == "" {
		if os.Getenv("VIGIL_TEST_STRICT") != "" {
			t.Fatal("VIGIL_TEST_STRICT is set but VIGIL_TEST_RABBITMQ names no broker")
		}
		t.Skip("VIGIL_TEST_RABBITMQ is not set (scripts/rabbitmq start prints it)")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	exchange := fmt.Sprintf("vigil.e2e.%d", time.Now().UnixNano())
	conn, err := amqp.Dial(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(exchange, amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err == nil {
		err = ch.QueueBind(q.Name, "*.slo.alert", exchange, false, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte(`slos:
  - name: chat-availability
    service: chat-gateway
    availability: true
    objective: 99%
`), 0o644)
	os.WriteFile(filepath.Join(dir, "rabbit-url"), []byte(rawURL), 0o600)
	os.WriteFile(filepath.Join(dir, "streams.yaml"), []byte(`streams:
  - name: bus
    amqp: {url_file: rabbit-url, exchange: `+exchange+`}
    events: [slo.alert, actions.transition]
`), 0o644)
	v := startServe(t, "", "--config-dir", dir, "--analyzer.interval", "1s")
	sendChat(t, v, 0, 100, 50) // 50% errors: every rule fires

	firing := map[string]bool{} // event ids
	for deadline := time.After(60 * time.Second); len(firing) == 0; {
		select {
		case m := <-msgs:
			var ce struct {
				ID, Type, Subject, VigilTenant string
				Data                           struct {
					Data struct{ State, SLO string }
				}
			}
			if err := json.Unmarshal(m.Body, &ce); err != nil {
				t.Fatal(err)
			}
			if ce.ID != m.MessageId || ce.Type != "dev.vigil.slo.alert" || ce.Data.Data.SLO != "chat-availability" || m.ContentType != "application/cloudevents+json" {
				t.Fatalf("message %s (%s): %s", m.MessageId, m.RoutingKey, m.Body)
			}
			if ce.Data.Data.State == "firing" {
				firing[ce.ID] = true
			}
		case <-deadline:
			t.Fatal("no firing alert reached RabbitMQ within 60s")
		}
	}
	// The delivery log names the stream, and the target without the
	// password; an attempt is logged once confirmed, after the consumer
	// may have the message.
	var log []struct{ Receiver, Outcome, URL string }
	for deadline := time.Now().Add(10 * time.Second); len(log) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		v.getJSON(t, "/api/v1/alerts/deliveries?receiver=stream:bus", &log)
	}
	delivered := false
	for _, d := range log {
		if d.Receiver == "stream:bus" && d.Outcome == "delivered" {
			delivered = true
			if strings.Contains(d.URL, password) || !strings.Contains(d.URL, exchange) {
				t.Errorf("delivery target %q", d.URL)
			}
		}
	}
	if !delivered {
		t.Errorf("no delivered attempt of stream:bus in %+v", log)
	}
	v.stop(t)
	if strings.Contains(v.stderr.String(), password) {
		t.Error("Vigil's log shows the broker's password")
	}
}
