// Package kafka consumes OTLP from Kafka topics, for teams that buffer
// their telemetry there: records as the OpenTelemetry collector's Kafka
// exporter writes them (otlp_proto, or otlp_json), fed through the same
// path as OTLP/HTTP (mapping, validation, rate limits, the pipeline), and
// offsets committed only once the rows are durable, in the store or in
// the spool. Delivery is at least once: after a crash, the records read
// since the last commit are read again.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/stream/kafkaconn"
	"github.com/vigil-dev/vigil/tenant"
)

// Exporter stores one OTLP export of a signal in a tenant and returns once
// it is durable (otlp.Receiver.Export). An error that is a
// collector.BadRequestError or a tenant.InvalidError says the record can
// never be stored; any other is worth retrying.
type Exporter interface {
	Export(ctx context.Context, signal, tenant string, body []byte, json bool) (rejected int, msg string, err error)
}

// Encoding is how the exporter wrote the records.
type Encoding string

const (
	OTLPProto Encoding = "otlp_proto" // the Kafka exporter's default
	OTLPJSON  Encoding = "otlp_json"
)

// Options configure a Consumer.
type Options struct {
	Conn kafkaconn.Conn
	// Group is the consumer group: the collectors that share it share the
	// topics' partitions, and its committed offsets are where a restart
	// resumes.
	Group string
	// Topics maps each topic to the signal its records carry
	// (collector.SignalSpans, SignalSamples, SignalLogs): the Kafka
	// exporter writes one signal per topic (otlp_spans, otlp_metrics,
	// otlp_logs by default).
	Topics   map[string]string
	Encoding Encoding
	// Tenant is the tenant of every record, unless TenantHeader names a
	// record header that carries one (the exporter's
	// include_metadata_keys: [X-Scope-OrgID] writes the tenant its
	// senders gave). Whoever may write to the topics then chooses the
	// tenant: name a header only when they are trusted to.
	Tenant       string
	TenantHeader string
	Exporter     Exporter
	// Concurrency bounds the records being stored at once; default 64.
	// Each waits for its batch in the pipeline to be durable, so this is
	// what lets one consumer fill the pipeline's batches.
	Concurrency int
	// RetryBackoff is the wait before storing a record again after the
	// pipeline was busy or the store and spool unavailable; default 1s.
	RetryBackoff time.Duration
	Logger       *slog.Logger
	Registerer   prometheus.Registerer
	// ClientOpts are extra franz-go options, for tests.
	ClientOpts []kgo.Opt
}

// Consumer reads the topics as a member of the group until Shutdown. It
// is a collector.Receiver.
type Consumer struct {
	opts   Options
	client *kgo.Client

	stopping chan struct{}      // closed by Shutdown: read no more
	hard     context.Context    // the stores' context; cancelled when Shutdown's ctx ends
	cutOff   context.CancelFunc // cancels hard
	done     chan struct{}      // closed when Serve has returned
	stopOnce sync.Once

	records *prometheus.CounterVec
	retries *prometheus.CounterVec
	commits *prometheus.CounterVec
}

var _ collector.Receiver = (*Consumer)(nil)

// Check reports what is wrong with the options, without the network, so
// that a bad flag stops Vigil before it starts anything.
func (opts Options) Check() error {
	if opts.Group == "" {
		return errors.New("kafka consumer: a group is required")
	}
	if len(opts.Topics) == 0 {
		return errors.New("kafka consumer: no topic to read")
	}
	for topic, sig := range opts.Topics {
		if sig != collector.SignalSpans && sig != collector.SignalSamples && sig != collector.SignalLogs {
			return fmt.Errorf("kafka consumer: topic %s: unknown signal %q", topic, sig)
		}
	}
	switch opts.Encoding {
	case "", OTLPProto, OTLPJSON:
	default:
		return fmt.Errorf("kafka consumer: unknown encoding %q: otlp_proto or otlp_json", opts.Encoding)
	}
	if err := tenant.Validate(opts.Tenant); err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	if err := opts.Conn.Check(); err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	return nil
}

// New checks the options and makes the client; it connects once Serve
// runs.
func New(opts Options) (*Consumer, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	if opts.Encoding == "" {
		opts.Encoding = OTLPProto
	}
	if opts.Tenant == "" {
		opts.Tenant = tenantOrDefault("")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 64
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	kopts, err := opts.Conn.Options()
	if err != nil {
		return nil, fmt.Errorf("kafka consumer: %w", err)
	}
	topics := make([]string, 0, len(opts.Topics))
	for t := range opts.Topics {
		topics = append(topics, t)
	}
	kopts = append(kopts,
		kgo.ClientID("vigil-collector"),
		kgo.ConsumerGroup(opts.Group),
		kgo.ConsumeTopics(topics...),
		// A group new to the topics reads what they buffer.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// Offsets are committed by hand, after the rows are durable;
		// and no rebalance takes a partition away between a poll and
		// that commit.
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
	)
	kopts = append(kopts, opts.ClientOpts...)
	client, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, fmt.Errorf("kafka consumer for %s: %w", opts.Conn.Describe(), err)
	}
	c := &Consumer{opts: opts, client: client, stopping: make(chan struct{}), done: make(chan struct{}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_kafka_records_total", Help: "Kafka records of OTLP read, by topic and outcome (stored, invalid: undecodable or a bad tenant, skipped).",
		}, []string{"topic", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_kafka_store_retries_total", Help: "Kafka records stored again after the pipeline was busy or unavailable, by topic.",
		}, []string{"topic"}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_kafka_commits_total", Help: "Offset commits of the Kafka consumer group, by outcome (ok, failed).",
		}, []string{"outcome"}),
	}
	c.hard, c.cutOff = context.WithCancel(context.Background())
	if r := opts.Registerer; r != nil {
		for _, m := range []prometheus.Collector{c.records, c.retries, c.commits} {
			if err := r.Register(m); err != nil {
				client.Close()
				return nil, err
			}
		}
	}
	return c, nil
}

// Serve reads, stores and commits until Shutdown.
func (c *Consumer) Serve() error {
	defer close(c.done)
	defer c.client.Close() // leaves the group: its partitions go to the others at once
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	c.opts.Logger.Info("reading OTLP from Kafka", "brokers", c.opts.Conn.Describe(), "group", c.opts.Group, "topics", fmt.Sprint(c.opts.Topics))
	for ctx.Err() == nil {
		fetches := c.client.PollRecords(ctx, 10000)
		if fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			if !errors.Is(err, context.Canceled) {
				// franz-go retries by itself; say what it hit.
				c.opts.Logger.Warn("cannot fetch from Kafka", "topic", topic, "partition", partition, "err", err)
			}
		})
		records := fetches.Records()
		if len(records) > 0 {
			c.commit(records, c.store(records))
		}
		c.client.AllowRebalance()
	}
	return nil
}

// store stores the records, each until it is durable, refused for good,
// or the consumer stops; and returns which are done with.
func (c *Consumer) store(records []*kgo.Record) []bool {
	done := make([]bool, len(records))
	sem := make(chan struct{}, c.opts.Concurrency)
	var wg sync.WaitGroup
	for i, r := range records {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			done[i] = c.storeOne(r)
		}()
	}
	wg.Wait()
	return done
}

func (c *Consumer) storeOne(r *kgo.Record) bool {
	signal := c.opts.Topics[r.Topic]
	org, err := c.tenantOf(r)
	if err == nil {
		for try := 0; ; try++ {
			_, _, err = c.opts.Exporter.Export(c.hard, signal, org, r.Value, c.opts.Encoding == OTLPJSON)
			if err == nil || never(err) || errors.Is(err, collector.ErrClosed) {
				break
			}
			c.retries.WithLabelValues(r.Topic).Inc()
			if try == 0 {
				c.opts.Logger.Warn("cannot store a Kafka record yet; retrying", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
			}
			select {
			case <-c.stopping:
				return false // read again by whoever holds the partition next
			case <-c.hard.Done():
				return false
			case <-time.After(c.opts.RetryBackoff):
			}
		}
	}
	switch {
	case err == nil:
		c.records.WithLabelValues(r.Topic, "stored").Inc()
		return true
	case never(err):
		// A bad record does not hold up its partition: it is skipped,
		// counted and logged, and its neighbours are stored.
		c.records.WithLabelValues(r.Topic, "invalid").Inc()
		c.opts.Logger.Warn("skipping a Kafka record that cannot be stored", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		return true
	}
	return false
}

// never reports whether no retry can store a record.
func never(err error) bool {
	var bad *collector.BadRequestError
	var badTenant *tenant.InvalidError
	return errors.As(err, &bad) || errors.As(err, &badTenant)
}

func (c *Consumer) tenantOf(r *kgo.Record) (string, error) {
	if c.opts.TenantHeader != "" {
		for _, h := range r.Headers {
			if strings.EqualFold(h.Key, c.opts.TenantHeader) {
				t := string(h.Value)
				if err := tenant.Validate(t); err != nil {
					return "", fmt.Errorf("header %s: %w", h.Key, err)
				}
				return tenantOrDefault(t), nil
			}
		}
	}
	return c.opts.Tenant, nil
}

// commit commits, per partition, the offset after the last record of
// the run of done records that starts the poll: a record not done (the
// consumer stopped while it waited) and everything after it are read
// again by the next owner of the partition.
func (c *Consumer) commit(records []*kgo.Record, done []bool) {
	type tp struct {
		topic     string
		partition int32
	}
	blocked := map[tp]bool{}
	var commit []*kgo.Record
	// Records come in offset order within each partition.
	for i, r := range records {
		k := tp{r.Topic, r.Partition}
		if blocked[k] {
			continue
		}
		if !done[i] {
			blocked[k] = true
			continue
		}
		commit = append(commit, r)
	}
	if len(commit) == 0 {
		return
	}
	// Not the consumer's context: a commit of rows already durable is
	// worth finishing while Vigil stops.
	ctx, cancel := context.WithTimeout(c.hard, 30*time.Second)
	defer cancel()
	if err := c.client.CommitRecords(ctx, commit...); err != nil {
		// The rows are durable: a restart before the next commit reads
		// them again, which is the at-least-once the package promises.
		c.commits.WithLabelValues("failed").Inc()
		c.opts.Logger.Warn("cannot commit Kafka offsets", "group", c.opts.Group, "err", err)
		return
	}
	c.commits.WithLabelValues("ok").Inc()
}

func tenantOrDefault(t string) string {
	if t == "" {
		return store.DefaultTenant
	}
	return t
}

// Shutdown stops reading, lets the records being stored finish (the
// pipeline is still running), commits them and leaves the group; when ctx
// ends first, what is still being stored is cancelled, and read again
// after the restart.
func (c *Consumer) Shutdown(ctx context.Context) error {
	c.stopOnce.Do(func() { close(c.stopping) })
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		c.cutOff()
		<-c.done
		return fmt.Errorf("kafka consumer: %w", ctx.Err())
	}
}
