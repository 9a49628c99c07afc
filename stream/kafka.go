package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"text/template"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/stream/kafkaconn"
)

// Kafka publishes events to a Kafka topic, one record per event with the
// same CloudEvent body the AMQP publisher sends (Encode), and counts an
// attempt delivered only once the brokers have acknowledged every record
// (acks from all in-sync replicas). The producer is idempotent, franz-go's
// default: the retries the client makes within an attempt are written
// once. The dispatcher's retries of a failed attempt may write a record
// again, always with the same CloudEvent id. The dispatcher calls Deliver
// from one goroutine; Close may come from another.
type Kafka struct {
	// StreamName names the stream in the delivery log and metrics.
	StreamName string
	Conn       kafkaconn.Conn
	Topic      string
	// Key makes each record's key from RoutingFields. Kafka keeps the
	// records of one key in one partition, in order: the default, tenant
	// and subject, keeps an alert's or an action's transitions in order.
	Key *template.Template
	// EventTypes are the event types published, e.g. "slo.alert".
	EventTypes []string
	// States gives the key its .State.
	States States
	// Backlog bounds the events waiting for this stream; 0 keeps the
	// dispatcher's default.
	Backlog int
	// DeliveryTimeout bounds how long the client keeps retrying a record
	// (franz-go's RecordDeliveryTimeout); past it the attempt fails and
	// the dispatcher retries it later. Default 20s, under the
	// dispatcher's 30s attempt timeout so an attempt ends with the
	// client's error rather than a bare deadline.
	DeliveryTimeout time.Duration
	// Opts are extra client options, for tests (a shorter retry backoff).
	Opts []kgo.Opt

	mu     sync.Mutex
	client *kgo.Client // guarded by mu; nil until the first attempt
}

var (
	_ dispatch.Subscriber = (*Kafka)(nil)
	_ dispatch.Bounded    = (*Kafka)(nil)
)

// DefaultKafkaKey is the record key template of a stream that names none.
const DefaultKafkaKey = "{{.Tenant}}/{{.Subject}}"

// Name implements dispatch.Subscriber.
func (k *Kafka) Name() string { return "stream:" + k.StreamName }

// Types implements dispatch.Subscriber.
func (k *Kafka) Types() []string { return k.EventTypes }

// Accepts implements dispatch.Subscriber: a stream carries every event of
// its types; consumers filter on the CloudEvent's type.
func (k *Kafka) Accepts(store.Event) bool { return true }

// QueueLimit implements dispatch.Bounded.
func (k *Kafka) QueueLimit() int { return k.Backlog }

// target is where the stream goes, safe to show.
func (k *Kafka) target() string { return k.Conn.Describe() + " topic " + k.Topic }

// Deliver implements dispatch.Subscriber: it produces the batch and
// waits until every record is acknowledged. A record the brokers refuse
// for good (too large) gives the batch up; any other failure is retried
// by the dispatcher, the acknowledged records again with them.
func (k *Kafka) Deliver(ctx context.Context, tenant string, events []store.Event) (dispatch.Report, error) {
	report := dispatch.Report{Target: k.target()}
	records := make([]*kgo.Record, 0, len(events))
	for _, ev := range events {
		_, body, err := Encode(ev)
		if err != nil {
			return report, dispatch.Permanent(err)
		}
		var key bytes.Buffer
		if err := k.Key.Execute(&key, routingFields(ev, k.States)); err != nil {
			return report, dispatch.Permanent(fmt.Errorf("cannot make the record key of event %s: %w", ev.ID, err))
		}
		records = append(records, &kgo.Record{Topic: k.Topic, Key: key.Bytes(), Value: body,
			// The CloudEvents Kafka binding's structured mode: the
			// content type says the value is a whole CloudEvent.
			Headers: []kgo.RecordHeader{{Key: "content-type", Value: []byte(ContentType)}}})
		report.Keys = append(report.Keys, key.String())
	}
	client, err := k.clientFor()
	if err != nil {
		return report, err
	}
	errs := make([]error, len(records))
	var acked sync.WaitGroup
	acked.Add(len(records))
	for i, r := range records {
		client.Produce(ctx, r, func(_ *kgo.Record, err error) { errs[i] = err; acked.Done() })
	}
	done := make(chan struct{})
	go func() { acked.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		// An idempotent producer keeps retrying a request the broker
		// never answered, past any deadline, as failing it could
		// reorder the partition. The attempt gives the client up
		// instead: the next has a new one (a new producer id), and
		// what this one still writes is a duplicate with its event's id.
		k.abandon(client)
		return report, fmt.Errorf("%s did not acknowledge the %d record(s) in time: %w", report.Target, len(records), ctx.Err())
	}
	failed, permanent := 0, false
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		failed++
		if first == nil {
			first = err
		}
		permanent = permanent || refusedForGood(err)
	}
	if failed == 0 {
		return report, nil
	}
	err = fmt.Errorf("%s did not acknowledge %d of %d record(s): %w", report.Target, failed, len(records), first)
	if permanent {
		return report, dispatch.Permanent(err)
	}
	return report, err
}

// refusedForGood: errors no retry mends.
func refusedForGood(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge) || errors.Is(err, kerr.InvalidRecord)
}

// clientFor is the producing client, made at the first attempt. franz-go
// reconnects by itself, reading the SASL password again at each
// connection, so one client serves the stream's lifetime.
func (k *Kafka) clientFor() (*kgo.Client, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.client != nil {
		return k.client, nil
	}
	opts, err := k.Conn.Options()
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", k.StreamName, err)
	}
	timeout := k.DeliveryTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	opts = append(opts,
		kgo.ClientID("vigil-"+k.Name()),
		kgo.DefaultProduceTopic(k.Topic),
		// Idempotent writes need acks from all in-sync replicas; both
		// are franz-go's defaults, said here because delivery rests on them.
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordDeliveryTimeout(timeout),
		// The dispatcher's batch is all a client ever holds.
		kgo.MaxBufferedRecords(1000),
	)
	opts = append(opts, k.Opts...)
	client, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("stream %s: cannot make a Kafka client for %s: %w", k.StreamName, k.target(), err)
	}
	k.client = client
	return client, nil
}

// abandon closes a client that an attempt gave up on, unless a newer one
// replaced it already. Closing fails what it still buffers, which may
// take a while: it is not waited for.
func (k *Kafka) abandon(c *kgo.Client) {
	k.mu.Lock()
	if k.client == c {
		k.client = nil
	}
	k.mu.Unlock()
	go c.Close()
}

// Close closes the client, if any.
func (k *Kafka) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.client != nil {
		k.client.Close()
		k.client = nil
	}
	return nil
}
