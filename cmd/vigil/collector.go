package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/collector/elastic"
	"github.com/vigil-dev/vigil/collector/jaeger"
	"github.com/vigil-dev/vigil/collector/kafka"
	"github.com/vigil-dev/vigil/collector/otlp"
	"github.com/vigil-dev/vigil/collector/promrw"
	"github.com/vigil-dev/vigil/collector/scrape"
	"github.com/vigil-dev/vigil/collector/spanmetrics"
	"github.com/vigil-dev/vigil/collector/splunk"
	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/stream/kafkaconn"
)

// collectorOptions are the collector role's flags.
type collectorOptions struct {
	otlpGRPC        string
	otlpHTTP        string
	tls             auth.TLSFiles
	maxBatchItems   int
	maxBatchAge     time.Duration
	maxPending      int
	maxRequestBytes int64
	maxDecodedBytes int64
	tenantRate      float64
	tenantBurst     int
	spoolMaxBytes   int64
	deploymentAttr  string
	jaegerAgent     string
	jaegerHTTP      string
	scrapeConfig    string
	priceFiles      []string
	instance        string
	spanMetrics     spanMetricsOptions
	kafka           kafkaInOptions
}

// kafkaInOptions are the flags of the Kafka consumer of OTLP.
type kafkaInOptions struct {
	brokers                            []string
	group                              string
	tracesTopic, metricsTopic, logsTop string
	encoding                           string
	tenant, tenantHeader               string
	saslMechanism, saslUser, saslFile  string
	tls                                bool
	tlsCA, tlsCert, tlsKey             string
}

func (o *kafkaInOptions) register(f *pflag.FlagSet) {
	f.StringSliceVar(&o.brokers, "collector.kafka-brokers", nil, "Kafka brokers (host:port, comma-separated) to read OTLP from, as the OpenTelemetry collector's Kafka exporter writes it; empty reads none")
	f.StringVar(&o.group, "collector.kafka-group", "vigil-collector", "the Kafka consumer group: collectors sharing it share the partitions, and its committed offsets are where a restart resumes")
	f.StringVar(&o.tracesTopic, "collector.kafka-traces-topic", "otlp_spans", "topic of OTLP traces (the exporter's default); empty reads no traces")
	f.StringVar(&o.metricsTopic, "collector.kafka-metrics-topic", "otlp_metrics", "topic of OTLP metrics; empty reads no metrics")
	f.StringVar(&o.logsTop, "collector.kafka-logs-topic", "otlp_logs", "topic of OTLP logs; empty reads no logs")
	f.StringVar(&o.encoding, "collector.kafka-encoding", string(kafka.OTLPProto), "how the records are encoded: otlp_proto or otlp_json (the exporter's encoding setting)")
	f.StringVar(&o.tenant, "collector.kafka-tenant", "", "the tenant the records are stored in; empty is the default tenant")
	f.StringVar(&o.tenantHeader, "collector.kafka-tenant-header", "", "a record header naming the tenant instead, e.g. X-Scope-OrgID (the exporter's include_metadata_keys); whoever writes to the topics then picks the tenant, so name one only when they are trusted to")
	f.StringVar(&o.saslMechanism, "collector.kafka-sasl-mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty authenticates not at all")
	f.StringVar(&o.saslUser, "collector.kafka-sasl-user", "", "SASL user")
	f.StringVar(&o.saslFile, "collector.kafka-sasl-password-file", "", "file holding the SASL password, read at every connection")
	f.BoolVar(&o.tls, "collector.kafka-tls", false, "connect to the brokers with TLS (verified with the system's roots, or --collector.kafka-tls-ca-file)")
	f.StringVar(&o.tlsCA, "collector.kafka-tls-ca-file", "", "CA certificates (PEM) that verify the brokers; implies --collector.kafka-tls")
	f.StringVar(&o.tlsCert, "collector.kafka-tls-cert-file", "", "client certificate (PEM) for brokers that ask for one; implies --collector.kafka-tls")
	f.StringVar(&o.tlsKey, "collector.kafka-tls-key-file", "", "the client certificate's key (PEM)")
}

// options are the Kafka consumer's options the flags configure, checked;
// on is false when they name no brokers.
func (o *kafkaInOptions) options() (opts kafka.Options, on bool, err error) {
	if len(o.brokers) == 0 {
		return kafka.Options{}, false, nil
	}
	conn := kafkaconn.Conn{Brokers: o.brokers}
	if o.saslMechanism != "" || o.saslUser != "" || o.saslFile != "" {
		m, err := kafkaconn.ParseMechanism(o.saslMechanism)
		if err != nil {
			return kafka.Options{}, false, fmt.Errorf("--collector.kafka-sasl-mechanism: %w", err)
		}
		conn.SASL = &kafkaconn.SASL{Mechanism: m, User: o.saslUser, PasswordFile: o.saslFile}
	}
	if o.tls || o.tlsCA != "" || o.tlsCert != "" || o.tlsKey != "" {
		conn.TLS = &kafkaconn.TLS{CAFile: o.tlsCA, CertFile: o.tlsCert, KeyFile: o.tlsKey}
	}
	topics := map[string]string{}
	for _, t := range []struct{ flag, topic, signal string }{
		{"traces", o.tracesTopic, collector.SignalSpans}, {"metrics", o.metricsTopic, collector.SignalSamples}, {"logs", o.logsTop, collector.SignalLogs},
	} {
		if t.topic == "" {
			continue
		}
		if _, dup := topics[t.topic]; dup {
			return kafka.Options{}, false, fmt.Errorf("--collector.kafka-%s-topic: topic %q already carries another signal; each needs a topic of its own", t.flag, t.topic)
		}
		topics[t.topic] = t.signal
	}
	opts = kafka.Options{Conn: conn, Group: o.group, Topics: topics, Encoding: kafka.Encoding(o.encoding), Tenant: o.tenant, TenantHeader: o.tenantHeader}
	if err := opts.Check(); err != nil {
		return kafka.Options{}, false, fmt.Errorf("--collector.kafka-*: %w", err)
	}
	return opts, true, nil
}

// consumer is the Kafka consumer the flags configure, nil when they name
// no brokers.
func (o *kafkaInOptions) consumer(exp kafka.Exporter, reg prometheus.Registerer, logger *slog.Logger) (*kafka.Consumer, error) {
	opts, on, err := o.options()
	if !on || err != nil {
		return nil, err
	}
	opts.Exporter, opts.Registerer, opts.Logger = exp, reg, logger
	return kafka.New(opts)
}

// spanMetricsOptions are the flags of the series counted from spans.
type spanMetricsOptions struct {
	enabled      bool
	interval     time.Duration
	maxLabelSets int
	expiry       time.Duration
}

func (o *collectorOptions) register(f *pflag.FlagSet) {
	f.StringVar(&o.otlpGRPC, "collector.otlp-grpc-address", ":4317", "OTLP/gRPC listen address; empty disables")
	f.StringVar(&o.otlpHTTP, "collector.http-address", ":4318", "ingest HTTP listen address (OTLP /v1/traces, /v1/metrics and /v1/logs, Prometheus remote write /api/v1/write, Jaeger Thrift /api/traces, the Elasticsearch bulk API /_bulk, Splunk HEC /services/collector); empty disables")
	registerTLS(f, &o.tls, "collector", "the collector's OTLP gRPC and ingest HTTP ports (and --collector.jaeger-http-address)", true)
	f.IntVar(&o.maxBatchItems, "collector.max-batch-items", 10000, "write a batch to the store when it holds this many spans or samples")
	f.DurationVar(&o.maxBatchAge, "collector.max-batch-age", time.Second, "write a batch when its oldest item waited this long")
	f.IntVar(&o.maxPending, "collector.max-pending-items", 200000, "items per signal accepted but not yet written; beyond it requests get 429 / RESOURCE_EXHAUSTED")
	f.Int64Var(&o.maxRequestBytes, "collector.max-request-bytes", 16<<20, "largest request body as sent; larger gets 413")
	f.Int64Var(&o.maxDecodedBytes, "collector.max-decoded-bytes", 64<<20, "largest request body after decompression; larger gets 413")
	f.Float64Var(&o.tenantRate, "collector.tenant-rate", 0, "items per second each tenant may send; 0 means no limit")
	f.IntVar(&o.tenantBurst, "collector.tenant-burst", 0, "items a tenant may send at once above its rate; 0 means one second's worth")
	f.Int64Var(&o.spoolMaxBytes, "collector.spool-max-bytes", 1<<30, "disk spool size per signal while the store is down; beyond it requests get 503")
	f.StringVar(&o.jaegerAgent, "collector.jaeger-agent-address", ":6831", "Jaeger agent UDP address (compact Thrift, what jaeger-client-go sends); empty disables")
	f.StringVar(&o.jaegerHTTP, "collector.jaeger-http-address", "", "an extra address for Jaeger Thrift over HTTP, e.g. :14268 (/api/traces is always served on the ingest HTTP address)")
	f.StringVar(&o.scrapeConfig, "collector.scrape-config", "", "file of Prometheus-style scrape_configs (static targets) to scrape; empty scrapes nothing")
	f.StringSliceVar(&o.priceFiles, "cost.price-file", nil, "LLM price files (Vigil YAML, or LiteLLM, Langfuse or OpenLIT JSON) loaded over the built-in table, later files winning; repeat or separate with commas")
	f.StringVar(&o.deploymentAttr, "collector.deployment-attribute", collector.DefaultDeploymentAttribute, "span or resource attribute holding the deployment or canary label")
	host, _ := os.Hostname()
	f.StringVar(&o.instance, "collector.instance", host, "this collector's name among the replicas sharing one store: the collector_instance label of the series it counts from spans; stable across restarts, so it resumes its counters")
	f.BoolVar(&o.spanMetrics.enabled, "collector.span-metrics", true, "count every span into vigil_span_calls_total, vigil_span_duration_seconds, vigil_genai_tokens_total and vigil_genai_cost_total")
	f.DurationVar(&o.spanMetrics.interval, "collector.span-metrics-interval", 15*time.Second, "how often the span metrics' cumulative values are written")
	f.IntVar(&o.spanMetrics.maxLabelSets, "collector.span-metrics-max-label-sets", 2000, "label sets (service, operation, model, deployment, status) per tenant; spans of further ones are counted in the __overflow__ series")
	f.DurationVar(&o.spanMetrics.expiry, "collector.span-metrics-expiry", 10*time.Minute, "a label set with no span for this long is ended with a staleness marker")
	o.kafka.register(f)
}

// addCollector adds the collector to the group: the pipeline and the
// receivers that write through it, started together and stopped in order
// (collector.Service) within the shutdown's deadline.
func addCollector(group *run.Group, stop *shutdown, o *collectorOptions, dataDir string, st store.Store, reg prometheus.Registerer, guard *auth.Guard, anonymousTenant string, logger *slog.Logger) error {
	stats := collector.NewMetrics(reg)
	prices, err := loadPrices(o.priceFiles)
	if err != nil {
		return err
	}
	collector.RegisterUnpriced(reg, prices)
	gen := newSpanMetrics(o, st, reg, logger)
	pipe, err := collector.NewPipeline(st, collector.PipelineOptions{
		MaxBatchItems:       o.maxBatchItems,
		MaxBatchAge:         o.maxBatchAge,
		MaxPendingItems:     o.maxPending,
		SpoolDir:            filepath.Join(dataDir, "spool"),
		MaxSpoolBytes:       o.spoolMaxBytes,
		Logger:              logger,
		Metrics:             stats,
		SpanMetrics:         gen,
		SpanMetricsInterval: o.spanMetrics.interval,
		Events:              st,
	})
	if err != nil {
		return err
	}
	rcv := &otlp.Receiver{
		Spans:   pipe,
		Metrics: pipe,
		Logs:    pipe,
		Mapping: collector.Mapping{DeploymentAttribute: o.deploymentAttr, Pricer: prices},
		Limits:  collector.BodyLimits{MaxBytes: o.maxRequestBytes, MaxDecodedBytes: o.maxDecodedBytes},
		Rate:    collector.NewTenantLimiter(o.tenantRate, o.tenantBurst),
		Stats:   stats,
	}

	jrcv := &jaeger.Receiver{Spans: pipe, Mapping: rcv.Mapping, Limits: rcv.Limits, Rate: rcv.Rate, Stats: stats, Logger: logger}

	// Pipeline: batches and spool; the receivers below write through it.
	svc := &collector.Service{Pipeline: pipe, Logger: logger}

	// TLS, one config for every port of the collector: h2 for gRPC, and
	// http/1.1 too for HTTP.
	tlsConfig, err := serverTLS(o.tls, logger, "h2", "http/1.1")
	if err != nil {
		return err
	}

	// Scraping of targets that only expose /metrics.
	if o.scrapeConfig != "" {
		cfg, err := scrape.LoadFile(o.scrapeConfig)
		if err != nil {
			return err
		}
		m := &scrape.Manager{Config: cfg, Metrics: pipe, Stats: stats, Logger: logger, MaxBytes: o.maxDecodedBytes}
		svc.Receivers = append(svc.Receivers, collector.RunUntil(m.Run))
	}

	// Ingest HTTP: OTLP, Prometheus remote write, Jaeger Thrift, and the
	// log shippers' Elasticsearch bulk API and Splunk HEC, each route
	// needing the ingest role (or admin), behind the guard; shippers'
	// ways of sending a token are read as bearer tokens.
	if o.otlpHTTP != "" {
		prw := &promrw.Receiver{Metrics: pipe, Limits: rcv.Limits, Rate: rcv.Rate, Stats: stats}
		es := &elastic.Receiver{Logs: pipe, Limits: rcv.Limits, Rate: rcv.Rate, Stats: stats}
		hec := &splunk.Receiver{Logs: pipe, Limits: rcv.Limits, Rate: rcv.Rate, Stats: stats}
		mux := collector.ShipperCredentials(ingestMux(guard, rcv, prw, jrcv, es, hec))
		r, err := httpReceiver(o.otlpHTTP, mux, "ingest HTTP", tlsConfig, logger)
		if err != nil {
			return err
		}
		svc.Receivers = append(svc.Receivers, r)
	}

	// Jaeger collector's own port, for clients configured with :14268.
	if o.jaegerHTTP != "" {
		mux := auth.NewMux(guard)
		mux.Handle(jrcv.Route())
		r, err := httpReceiver(o.jaegerHTTP, mux, "Jaeger HTTP", tlsConfig, logger)
		if err != nil {
			return err
		}
		svc.Receivers = append(svc.Receivers, r)
	}

	// Jaeger agent UDP: compact Thrift carries no credential, so with auth
	// on it is served only into the anonymous ingest tenant.
	if udpTenant, why := jaegerAgentTenant(guard, anonymousTenant); o.jaegerAgent != "" && why != "" {
		logger.Info("not listening for the Jaeger agent's UDP: "+why, "addr", o.jaegerAgent)
	} else if o.jaegerAgent != "" {
		udp, err := jaeger.ListenUDP(o.jaegerAgent, udpTenant, jrcv, 1024)
		if err != nil {
			return err
		}
		svc.Receivers = append(svc.Receivers, udp)
	}

	// OTLP/gRPC, behind the guard's interceptors.
	if o.otlpGRPC != "" {
		ln, err := net.Listen("tcp", o.otlpGRPC)
		if err != nil {
			return fmt.Errorf("cannot listen on %s: %w", o.otlpGRPC, err)
		}
		opts := append([]grpc.ServerOption{grpc.MaxRecvMsgSize(int(o.maxDecodedBytes)), grpc.ChainUnaryInterceptor(recoverPanics(logger))}, guard.GRPC(otlp.GRPCMethods())...)
		opts = append(opts, otlp.GRPCServerOptions()...)
		if tlsConfig != nil {
			opts = append(opts, grpc.Creds(credentials.NewTLS(tlsConfig)))
		}
		gs := grpc.NewServer(opts...)
		rcv.RegisterGRPC(gs)
		svc.Receivers = append(svc.Receivers, &collector.GRPCServer{Name: "OTLP gRPC", Listener: ln, Server: gs, Logger: logger})
	}

	// Kafka: OTLP that teams buffer in Kafka, through the same receiver
	// as OTLP/HTTP, offsets committed once the rows are durable. No
	// guard: the flags name the brokers and the tenant, not a caller.
	kc, err := o.kafka.consumer(rcv, reg, logger.With("receiver", "kafka"))
	if err != nil {
		return err
	}
	if kc != nil {
		svc.Receivers = append(svc.Receivers, kc)
	}

	stop.add(group, "collector", svc.Run, svc.Shutdown)
	return nil
}

// ingestMux is the ingest HTTP port's route table: OTLP/HTTP, remote
// write, Jaeger Thrift and the log receivers, each needing the ingest
// role (or admin).
func ingestMux(guard *auth.Guard, rcv *otlp.Receiver, prw *promrw.Receiver, jrcv *jaeger.Receiver, logs ...routed) *auth.Mux {
	mux := auth.NewMux(guard)
	mux.Handle(rcv.Routes()...)
	mux.Handle(prw.Route(), jrcv.Route())
	for _, l := range logs {
		mux.Handle(l.Routes()...)
	}
	return mux
}

// routed is a receiver that serves several routes.
type routed interface{ Routes() []auth.Route }

// jaegerAgentTenant is the tenant the Jaeger agent's UDP spans go to, or
// why the port is not served: with auth on, only a trusted network named
// by --auth.anonymous-ingest-tenant may send without a credential.
func jaegerAgentTenant(guard *auth.Guard, anonymousTenant string) (tenant, why string) {
	switch {
	case !guard.Enabled():
		return store.DefaultTenant, ""
	case anonymousTenant != "":
		return anonymousTenant, ""
	}
	return "", "compact Thrift over UDP carries no credential, and ingest needs one; set --auth.anonymous-ingest-tenant to take it from a trusted network, or send Jaeger Thrift over HTTP (/api/traces) with a token"
}

// newSpanMetrics returns the generator of series from spans, resumed
// from what this instance last wrote, or nil when it is off. A store that
// does not answer in time is no reason not to start: the counters then
// start from zero, which PromQL reads as a counter reset.
func newSpanMetrics(o *collectorOptions, st store.MetricQuerier, reg prometheus.Registerer, logger *slog.Logger) *spanmetrics.Generator {
	if !o.spanMetrics.enabled {
		return nil
	}
	gen := spanmetrics.New(spanmetrics.Options{Instance: o.instance, MaxLabelSets: o.spanMetrics.maxLabelSets, Expiry: o.spanMetrics.expiry,
		Metrics: spanmetrics.NewMetrics(reg), Logger: logger})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := gen.Resume(ctx, st); err != nil {
		logger.Warn("span metrics start from zero", "err", err)
	}
	return gen
}

// loadPrices builds the price table: the built-in rows, then each file's.
func loadPrices(files []string) (*cost.PriceTable, error) {
	read, err := readPriceFiles(files)
	if err != nil {
		return nil, err
	}
	return cost.DefaultPriceTable(read...)
}

// readPriceFiles reads price files from disk, for the table built here or
// sent to a server that builds it.
func readPriceFiles(files []string) ([]cost.PriceFile, error) {
	out := make([]cost.PriceFile, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, cost.PriceFile{Name: f, Data: data})
	}
	return out, nil
}

// httpReceiver listens on addr for mux's requests, over TLS when
// tlsConfig is set.
func httpReceiver(addr string, mux http.Handler, name string, tlsConfig *tls.Config, logger *slog.Logger) (*collector.HTTPServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return &collector.HTTPServer{Name: name, Listener: ln, Server: srv, Logger: logger}, nil
}

// recoverPanics turns a panic in a gRPC handler into an Internal error, as
// net/http does for HTTP handlers, so one bad request cannot stop the
// collector.
func recoverPanics(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				logger.Error("panic in gRPC handler", "method", info.FullMethod, "panic", p, "stack", string(debug.Stack()))
				err = status.Errorf(codes.Internal, "internal error handling %s", info.FullMethod)
			}
		}()
		return handler(ctx, req)
	}
}
