package stream

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/vigil-dev/vigil/store"
)

// BenchmarkDeliver: one iteration is one attempt of 500 events, the
// dispatcher's batch, until the broker has confirmed (RabbitMQ) or
// acknowledged (Kafka, kfake in the process) every message. "encode" is
// the baseline: the CloudEvent bodies alone, which both publishers make.
func BenchmarkDeliver(b *testing.B) {
	const batch = 500
	events := make([]store.Event, batch)
	for i := range events {
		ev, err := notes.Event(store.Event{Tenant: "acme", ID: store.EventID(store.KindFinding, "acme", fmt.Sprint(i)), Subject: fmt.Sprintf("note-%d", i),
			Time: time.Now().Add(time.Duration(i) * time.Millisecond), Summary: "a note"}, note{N: i})
		if err != nil {
			b.Fatal(err)
		}
		events[i] = ev
	}
	report := func(b *testing.B, start time.Time) {
		b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "events/s")
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		for range b.N {
			for _, ev := range events {
				if _, _, err := Encode(ev); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b, start)
	})
	b.Run("kafka", func(b *testing.B) {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "bench"))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		pub := kafkaPublisher(c, "bench", 0)
		defer pub.Close()
		if _, err := pub.Deliver(context.Background(), "acme", events[:1]); err != nil { // connect first
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			if _, err := pub.Deliver(context.Background(), "acme", events); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		report(b, start)
	})
	b.Run("amqp", func(b *testing.B) {
		u := os.Getenv("VIGIL_TEST_RABBITMQ")
		if u == "" {
			b.Skip("VIGIL_TEST_RABBITMQ is not set")
		}
		exchange := fmt.Sprintf("vigil.bench.%d", time.Now().UnixNano())
		dir := b.TempDir()
		file := dir + "/url"
		if err := os.WriteFile(file, []byte(u), 0o600); err != nil {
			b.Fatal(err)
		}
		pub := publisher(file, exchange)
		defer pub.Close()
		if _, err := pub.Deliver(context.Background(), "acme", events[:1]); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			if _, err := pub.Deliver(context.Background(), "acme", events); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		report(b, start)
	})
}
