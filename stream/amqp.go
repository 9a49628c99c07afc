package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/store"
)

// AMQP publishes events to a RabbitMQ topic exchange, one persistent
// message per event, and counts an attempt delivered only once the broker
// has confirmed every message of it. It is the dispatcher's subscriber for
// one stream; the dispatcher calls Deliver from one goroutine, but Close
// may come from another.
type AMQP struct {
	// StreamName names the stream in the delivery log and metrics.
	StreamName string
	// URLFile holds the broker's URL, password included: it is read at
	// every connection, so a rotated password is taken up without a
	// restart, and the URL is never in the config itself.
	URLFile string
	// Exchange is the topic exchange published to, declared durable when
	// missing.
	Exchange string
	// RoutingKey makes each message's routing key from RoutingFields.
	RoutingKey *template.Template
	// EventTypes are the event types published, e.g. "slo.alert".
	EventTypes []string
	// States gives the routing key its .State.
	States States
	// Backlog bounds the events waiting for this stream; 0 keeps the
	// dispatcher's default.
	Backlog int
	// DialTimeout bounds connecting; default 10s.
	DialTimeout time.Duration

	mu   sync.Mutex
	conn *amqp.Connection // guarded by mu; nil until connected, and after a failure
	ch   *amqp.Channel    // guarded by mu; in confirm mode
}

var (
	_ dispatch.Subscriber = (*AMQP)(nil)
	_ dispatch.Bounded    = (*AMQP)(nil)
)

// QueueLimit implements dispatch.Bounded.
func (a *AMQP) QueueLimit() int { return a.Backlog }

// Name implements dispatch.Subscriber.
func (a *AMQP) Name() string { return "stream:" + a.StreamName }

// Types implements dispatch.Subscriber.
func (a *AMQP) Types() []string { return a.EventTypes }

// Accepts implements dispatch.Subscriber: a stream carries every event of
// its types, pending alerts and proposals included; consumers filter by
// routing key.
func (a *AMQP) Accepts(store.Event) bool { return true }

// Deliver implements dispatch.Subscriber: it publishes the batch and
// waits for the broker's confirms. A nack, a timeout or a lost connection
// fails the attempt, which the dispatcher retries (the messages already
// confirmed go again, with the same ids); an event that cannot be made a
// message is given up.
func (a *AMQP) Deliver(ctx context.Context, tenant string, events []store.Event) (dispatch.Report, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	report := dispatch.Report{Target: a.targetLocked()}
	type outgoing struct {
		key string
		msg amqp.Publishing
	}
	out := make([]outgoing, 0, len(events))
	for _, ev := range events {
		m, body, err := Encode(ev)
		if err != nil {
			return report, dispatch.Permanent(err)
		}
		var key bytes.Buffer
		if err := a.RoutingKey.Execute(&key, routingFields(ev, a.States)); err != nil {
			return report, dispatch.Permanent(fmt.Errorf("cannot make the routing key of event %s: %w", ev.ID, err))
		}
		out = append(out, outgoing{key.String(), amqp.Publishing{
			ContentType: ContentType, MessageId: ev.ID, Type: m.Type, Timestamp: ev.Time, AppId: "vigil",
			DeliveryMode: amqp.Persistent, Body: body,
		}})
		report.Keys = append(report.Keys, key.String())
	}
	ch, err := a.channelLocked(ctx)
	if err != nil {
		return report, err
	}
	confirms := make([]*amqp.DeferredConfirmation, 0, len(out))
	for _, o := range out {
		c, err := ch.PublishWithDeferredConfirmWithContext(ctx, a.Exchange, o.key, false, false, o.msg)
		if err != nil {
			a.closeLocked()
			return report, fmt.Errorf("cannot publish to %s: %w", report.Target, err)
		}
		confirms = append(confirms, c)
	}
	nacked := 0
	for _, c := range confirms {
		ok, err := c.WaitContext(ctx)
		if err != nil {
			// The confirms still owed would arrive on a channel whose
			// next attempt does not expect them: start afresh.
			a.closeLocked()
			return report, fmt.Errorf("%s did not confirm %d message(s): %w", report.Target, len(confirms), err)
		}
		if !ok {
			nacked++
		}
	}
	if nacked > 0 {
		return report, fmt.Errorf("%s refused (nack) %d of %d message(s)", report.Target, nacked, len(confirms))
	}
	return report, nil
}

// Close closes the connection, if any.
func (a *AMQP) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closeLocked()
	return nil
}

func (a *AMQP) closeLocked() {
	if a.conn != nil {
		a.conn.Close()
	}
	a.conn, a.ch = nil, nil
}

// channelLocked is the confirm-mode channel, connecting first when there
// is none or the broker closed it (a restart): each attempt after one
// redials.
func (a *AMQP) channelLocked(ctx context.Context) (*amqp.Channel, error) {
	if a.ch != nil && !a.ch.IsClosed() && !a.conn.IsClosed() {
		return a.ch, nil
	}
	a.closeLocked()
	raw, err := a.readURL()
	if err != nil {
		return nil, err
	}
	target := redact(raw)
	timeout := a.DialTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	conn, err := amqp.DialConfig(raw, amqp.Config{
		Properties: amqp.Table{"connection_name": "vigil " + a.Name()},
		// The library's dialer bounds the AMQP handshake too: a broker
		// that accepts but does not answer (still booting) holds up no
		// attempt past its timeout.
		Dial: amqp.DefaultDial(timeout),
	})
	if err != nil {
		return nil, scrub(fmt.Errorf("cannot connect to %s: %w", target, explain(err)), raw)
	}
	ch, err := conn.Channel()
	if err == nil {
		err = ch.Confirm(false)
	}
	if err == nil {
		err = ch.ExchangeDeclare(a.Exchange, amqp.ExchangeTopic, true, false, false, false, nil)
	}
	if err != nil {
		conn.Close()
		return nil, scrub(fmt.Errorf("cannot open a confirm channel to exchange %q on %s: %w", a.Exchange, target, err), raw)
	}
	a.conn, a.ch = conn, ch
	return ch, nil
}

// targetLocked is where the stream goes, safe to show: the URL without
// its password (read again, as a rotation may change the user), and the
// exchange.
func (a *AMQP) targetLocked() string {
	raw, err := a.readURL()
	if err != nil {
		return "exchange " + a.Exchange
	}
	return redact(raw) + " exchange " + a.Exchange
}

func (a *AMQP) readURL() (string, error) {
	data, err := os.ReadFile(a.URLFile)
	if err != nil {
		return "", fmt.Errorf("cannot read the AMQP URL: %w", err)
	}
	raw := strings.TrimSpace(string(data))
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "amqp" && u.Scheme != "amqps") || u.Host == "" {
		// url.Parse's error quotes the URL: say only where it is.
		return "", fmt.Errorf("%s does not hold an amqp:// or amqps:// URL", a.URLFile)
	}
	return raw, nil
}

// redact is the URL without its password.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an AMQP URL that does not parse)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}

// scrub replaces the URL's password wherever an error quotes it: the
// client library's errors are not ours to trust with it.
func scrub(err error, raw string) error {
	u, perr := url.Parse(raw)
	if perr != nil || u.User == nil {
		return err
	}
	pass, ok := u.User.Password()
	if !ok || pass == "" || !strings.Contains(err.Error(), pass) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), pass, "xxxxx"))
}

// explain says what a refused login means in the terms of the config.
func explain(err error) error {
	var ae *amqp.Error
	if errors.As(err, &ae) && ae.Code == amqp.AccessRefused {
		return fmt.Errorf("the broker refused the user or password in the URL file (%w)", err)
	}
	return err
}

// validType reports whether t is among the event types a stream may carry.
func validType(known []string, t string) bool { return slices.Contains(known, t) }
