package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/alert"
	"github.com/vigil-dev/vigil/analyzer"
	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/dashboards"
	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/querier"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/backend"
	"github.com/vigil-dev/vigil/web"
	"github.com/vigil-dev/vigil/web/keda"
	"github.com/vigil-dev/vigil/web/ui"
)

type role int

const (
	roleCollector role = 1 << iota
	roleAnalyzer
	roleWeb
)

// roleOptions are the flags of the role commands.
type roleOptions struct {
	webListen        string
	webTLS           auth.TLSFiles
	kedaListen       string
	kedaTLS          auth.TLSFiles
	analyzerInterval time.Duration
	analyzerReplica  string
	retention        map[store.Signal]*time.Duration
	shutdownTimeout  time.Duration
	collector        collectorOptions
	alertmanagerURL  string
	webhookURL       string
	webhookSecret    string
	slackURL         string
	webhookFile      string // --alert.webhook-secret-file
	slackFile        string // --alert.slack-url-file
	alertTimeout     time.Duration
	grafana          grafanaOptions
	configPoll       time.Duration
	query            querier.Options
	auth             authOptions
	actions          actionsOptions
	demo             demoOptions
	// analyzerGate, when set, holds the analyzer back until it is closed:
	// the demo's history must be stored before the first SLO rollup.
	analyzerGate <-chan struct{}
}

func newRoleCmd(g *globalOptions, name, short string, roles role) *cobra.Command {
	o := &roleOptions{retention: map[store.Signal]*time.Duration{}, query: querier.DefaultOptions}
	cmd := &cobra.Command{
		Use:   name,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			defer o.demo.cleanup()
			if err := o.demo.prepare(cmd, g, o); err != nil {
				return err
			}
			return runRoles(cmd.Context(), g, o, roles)
		},
	}
	f := cmd.Flags()
	// Every role serves health and metrics on the web port; only the web
	// role adds the API and UI there.
	f.StringVar(&o.webListen, "web.listen-address", ":8080", "address of the web port: API, UI, /metrics, /healthz, /readyz")
	registerTLS(f, &o.webTLS, "web", "the web port", false)
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long a clean shutdown may take to drain and flush")
	o.auth.register(f)
	f.DurationVar(&o.configPoll, "config.poll-interval", 10*time.Second, "how often the config directory's files are compared with those last read, besides change notifications; a change is read once the directory is quiet for half a second, and a reading with errors leaves the last good config in force")
	if roles&roleCollector != 0 {
		o.collector.register(f)
	}
	if roles&roleWeb != 0 {
		// Off by default: it is a gRPC port for KEDA's operator inside the
		// cluster, and most installs run no KEDA.
		f.StringVar(&o.kedaListen, "keda.listen-address", "", "address of the KEDA external scaler (gRPC externalscaler.ExternalScaler; TLS and mutual TLS with --keda.tls-*), e.g. :6000; empty serves none")
		registerTLS(f, &o.kedaTLS, "keda", "the KEDA external scaler", true)
		registerQueryFlags(f, &o.query)
	}
	if roles&roleAnalyzer != 0 {
		f.DurationVar(&o.analyzerInterval, "analyzer.interval", time.Minute, "evaluation interval; ticks are aligned to multiples of it")
		host, _ := os.Hostname()
		f.StringVar(&o.analyzerReplica, "analyzer.replica", host, "this analyzer's name among the replicas sharing one store (each evaluates its share of the monitors); stable across restarts")
		f.StringVar(&o.alertmanagerURL, "alertmanager.url", "", "Alertmanager to push SLO burn-rate alerts to (its API v2), e.g. http://127.0.0.1:9093; empty sends none")
		f.StringVar(&o.webhookURL, "alert.webhook-url", "", "URL to post alerts to as Alertmanager-format (version 4) webhooks")
		f.StringVar(&o.webhookSecret, "alert.webhook-secret", "", "secret to sign webhooks with (HMAC-SHA256 of timestamp.body in X-Vigil-Signature, timestamp in X-Vigil-Timestamp)")
		f.StringVar(&o.slackURL, "alert.slack-url", "", "Slack incoming-webhook URL to post alerts to")
		f.StringVar(&o.webhookFile, "alert.webhook-secret-file", "", "file holding --alert.webhook-secret, kept out of the process list")
		f.StringVar(&o.slackFile, "alert.slack-url-file", "", "file holding --alert.slack-url, whose path is its secret")
		o.actions.register(f)
		o.grafana.register(f)
		f.DurationVar(&o.alertTimeout, "alert.timeout", 10*time.Second, "how long one attempt to notify a receiver may take; a receiver that does not answer in time is retried with backoff, on a queue of its own")
		defaults := map[store.Signal]time.Duration{
			store.SignalSpans:   7 * 24 * time.Hour,
			store.SignalSamples: 30 * 24 * time.Hour,
			store.SignalRollups: 90 * 24 * time.Hour,
			store.SignalEvents:  0,
		}
		for _, sig := range store.Signals {
			d := new(time.Duration)
			o.retention[sig] = d
			f.DurationVar(d, "retention."+string(sig), defaults[sig], fmt.Sprintf("keep %s this long (whole days are dropped); 0 keeps them forever", sig))
		}
	}
	if roles == roleCollector|roleAnalyzer|roleWeb {
		o.demo.register(f)
	}
	withEnvHelp(cmd)
	return cmd
}

// runRoles starts the roles together and stops them together: the first to
// return, or SIGINT/SIGTERM, interrupts the others; the store is closed
// last, after every writer has stopped.
func runRoles(ctx context.Context, g *globalOptions, o *roleOptions, roles role) error {
	logger, err := g.logger()
	if err != nil {
		return err
	}
	if err := checkQueryOptions(o.query); err != nil {
		return err
	}
	if roles&roleCollector != 0 {
		// The Kafka flags are checked before anything starts.
		if _, _, err := o.collector.kafka.options(); err != nil {
			return err
		}
	}
	if err := o.readSecretFiles(); err != nil {
		return err
	}
	if err := o.grafana.check(); err != nil {
		return err
	}
	reg := newRegistry()

	// The config directory: every section, read at start (errors stop
	// start-up) and again on every change (errors keep the last good
	// config in force, and say so in the config status and its metrics).
	sections, err := newConfigSections(o.analyzerInterval)
	if err != nil {
		return err
	}
	reloader, err := config.NewReloader(g.configDir, sections.registry, config.ReloadOptions{Poll: o.configPoll, Logger: logger.With("component", "config")})
	if err != nil {
		return err
	}
	reg.MustRegister(configMetrics(reloader)...)
	live := liveConfig{sections: sections, current: reloader.Current}

	openCtx, cancel := context.WithTimeout(ctx, time.Minute)
	st, err := backend.Open(openCtx, g.storeURL, g.dataDir)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			logger.Error("closing the store", "err", err)
		}
	}()
	logger.Info("store open", "component", "store", "store", backend.Describe(g.storeURL, g.dataDir))

	// Auth: one guard for every port. Its audit log is written until every
	// port has stopped, then flushed before the store closes.
	guard, err := newGuard(&o.auth, st, live.auth, reg, logger.With("component", "auth"))
	if err != nil {
		return err
	}
	if audit := guard.Audit(); audit != nil {
		actx, acancel := context.WithCancel(context.Background())
		flushed := make(chan struct{})
		go func() { audit.Run(actx); close(flushed) }()
		defer func() { acancel(); <-flushed }()
	}

	var group run.Group

	// Signals: SIGINT or SIGTERM starts a clean shutdown. Every component
	// drains within one --shutdown-timeout; the store closes after them.
	// The signals are caught from here on, before any port listens: the
	// group starts its actors concurrently, so run.SignalHandler's own
	// signal.Notify could come after /readyz already answered, and a
	// SIGTERM in between would kill the process uncleanly.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	sctx, scancel := context.WithCancel(ctx)
	group.Add(func() error {
		select {
		case sig := <-signals:
			return &run.SignalError{Signal: sig}
		case <-sctx.Done():
			return sctx.Err()
		}
	}, func(error) { scancel() })
	stop := newShutdown(o.shutdownTimeout, logger)
	defer stop.release()

	// Config: read the directory again whenever it changes.
	cctx, ccancel := context.WithCancel(context.Background())
	group.Add(func() error { return reloader.Run(cctx) }, func(error) { ccancel() })

	// PromQL: Prometheus's engine over the store, with the --query.* limits,
	// for the API and the SLO evaluator.
	queryOpts := o.query
	queryOpts.Logger, queryOpts.Registerer = logger.With("component", "query"), reg
	engine := querier.NewEngine(st, queryOpts)

	// Actions: one engine, which the API asks and the analyzer runs.
	owner := &targetOwner{}
	acts, err := o.actionsEngine(roles, st, live, reg, owner, logger.With("component", "actions"))
	if err != nil {
		return err
	}

	// Web port: health, readiness, metrics and the APIs, for every role.
	webTLS, err := serverTLS(o.webTLS, logger.With("component", "web"), "h2", "http/1.1")
	if err != nil {
		return err
	}
	// The LLM usage page shows the price table the collector prices with.
	prices, err := loadPrices(o.collector.priceFiles)
	if err != nil {
		return err
	}
	srv, err := web.New(web.Options{ListenAddr: o.webListen, Store: st, Engine: engine, Gatherer: reg, Logger: logger.With("component", "web"), Config: live.api,
		ConfigStatus: reloader.Status, Guard: guard, PublicMetrics: o.auth.publicMetrics, TLS: webTLS, Actions: acts,
		Drift: live.drift, Prices: prices, Build: ui.Build{Version: versionString(), GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}})
	if err != nil {
		return err
	}
	// Demo: the fleet and its story, with its tokens and the local admin
	// made before the sign-in is announced.
	if o.demo.on() {
		if err := o.demo.add(ctx, &group, st, guard, o, srv.Addr(), logger.With("component", "demo")); err != nil {
			return err
		}
	}
	if roles&roleWeb != 0 && guard.Enabled() {
		if err := announceSignIn(ctx, st, guard, &o.auth, srv.Addr(), webTLS != nil, logger.With("component", "auth")); err != nil {
			return err
		}
	}
	stop.add(&group, "web", srv.Serve, srv.Shutdown)
	// The embedded store is open in this process only: say where its
	// server answers, so a command that finds it locked can ask here.
	if roles&roleWeb != 0 && g.storeURL == "" {
		scheme := "http://"
		if webTLS != nil {
			scheme = "https://"
		}
		remove, err := writeServerFile(g.dataDir, scheme+loginHost(srv.Addr()))
		if err != nil {
			return err
		}
		defer remove()
	}

	// KEDA external scaler: replica recommendations on a port of its own.
	if roles&roleWeb != 0 && o.kedaListen != "" {
		kedaTLS, err := serverTLS(o.kedaTLS, logger.With("component", "keda"), "h2")
		if err != nil {
			return err
		}
		ks, err := keda.New(keda.Options{ListenAddr: o.kedaListen, Store: st, Logger: logger.With("component", "keda"), Guard: guard, TLS: kedaTLS})
		if err != nil {
			return err
		}
		stop.add(&group, "keda", ks.Serve, func(ctx context.Context) error { ks.Shutdown(ctx); return nil })
	}

	// Collector: receivers writing through the batching, spooling pipeline.
	if roles&roleCollector != 0 {
		if err := addCollector(&group, stop, &o.collector, g.dataDir, st, reg, guard, o.auth.anonymousIngest, logger.With("component", "collector")); err != nil {
			return err
		}
	}

	// Analyzer: evaluators on aligned ticks, and the dispatcher delivering
	// what they conclude.
	if roles&roleAnalyzer != 0 {
		if err := addAnalyzer(&group, stop, o, st, engine, live, reg, acts, owner, logger); err != nil {
			return err
		}
	}

	err = group.Run()
	var sig *run.SignalError
	if errors.As(err, &sig) {
		logger.Info("shutting down", "signal", sig.Signal.String())
		return nil
	}
	return err
}

// newRegistry is the registry of Vigil's own metrics, with the Go runtime's
// and the process's.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigil_build_info", Help: "Vigil's version; always 1.", ConstLabels: prometheus.Labels{"version": versionString()},
		}, func() float64 { return 1 }),
	)
	return reg
}

// addAnalyzer adds the dispatcher and the scheduler of the evaluators
// (retention, cost watch, SLOs, drift, canaries, right-sizing advice,
// actions) to the group. promql evaluates the SLOs' PromQL SLIs.
func addAnalyzer(group *run.Group, stop *shutdown, o *roleOptions, st store.Store, promql *querier.Engine, live liveConfig, reg prometheus.Registerer,
	engine *actions.Engine, owner *targetOwner, logger *slog.Logger) error {
	// Dispatcher: delivers what the evaluators publish (alerts to each
	// receiver, findings to the actions, approved actions to their
	// executors, failures to the receivers again), each subscriber on a
	// queue of its own, after they have recorded it.
	notifiers := o.notifiers()
	subscribers := append(o.alertReceivers(st, notifiers), engine.Triggers(), engine.Executions())
	// Grafana: the SLO dashboards a reload changed, pushed by the
	// dispatcher as recorded by the sync job below.
	grafana := o.grafana.pusher(live.slos)
	if grafana != nil {
		subscribers = append(subscribers, grafana)
	}
	// Streams: findings and transitions to the brokers other services
	// consume from, each stream a subscriber with a queue of its own,
	// following the config directory's changes.
	streams := newStreamSet(live, logger.With("component", "dispatch"))
	initial, _, _ := streams.take()
	subscribers = append(subscribers, initial...)
	// Undelivered events are taken up by one replica (analyzer.Recovery),
	// not by every dispatcher as it starts.
	disp, err := dispatch.New(dispatch.Options{Store: st, Subscribers: append(subscribers, escalations(notifiers)...),
		RecoverWhenAsked: true, Logger: logger.With("component", "dispatch"), Registerer: reg})
	if err != nil {
		return err
	}
	engine.SetPublisher(disp)
	fctx, fcancel := context.WithCancel(context.Background())
	followed := make(chan struct{})
	serve := func() error {
		go func() { streams.follow(fctx, disp, time.Second); close(followed) }()
		return disp.Serve()
	}
	stop.add(group, "dispatch", serve, func(ctx context.Context) error {
		fcancel()
		<-followed
		err := disp.Shutdown(ctx)
		// The streams' connections close once no attempt can use them.
		streams.close()
		return err
	})

	period := map[store.Signal]time.Duration{}
	for sig, d := range o.retention {
		period[sig] = *d
	}
	alerter := &slo.Alerter{Events: st, Publisher: disp, Interval: o.analyzerInterval}
	jobs := []analyzer.Job{
		&analyzer.Retention{Store: st, Period: period},
		&analyzer.CostWatch{Store: st, Current: live.cost, Publisher: disp, Gauges: analyzer.NewBudgetGauges(reg)},
		&slo.Evaluator{Store: st, Current: live.slos, Alerter: alerter, Owns: analyzer.Owns, PromQL: promql},
		&drift.Job{Store: st, Current: live.drift, Owns: analyzer.Owns, Publisher: disp},
		&canary.Job{Store: st, Current: live.canaries, Owns: analyzer.Owns, Publisher: disp},
		&rightsize.Job{Store: st, Current: live.advise, Owns: analyzer.Owns, Publisher: disp},
		engine,
		&analyzer.Recovery{Recover: disp.Recover},
	}
	if grafana != nil {
		jobs = append(jobs, &dashboards.Sync{Store: st, Publisher: disp, Current: live.slos, Teams: grafana.Teams, Owns: analyzer.Owns})
	}
	sched := analyzer.NewScheduler(analyzer.Options{
		Interval:   o.analyzerInterval,
		Members:    st,
		Replica:    o.analyzerReplica,
		Logger:     logger.With("component", "analyzer"),
		Registerer: reg,
	}, jobs...)
	owner.sched = sched
	actx, cancel := context.WithCancel(context.Background())
	group.Add(func() error {
		if o.analyzerGate != nil {
			select {
			case <-o.analyzerGate:
			case <-actx.Done():
				return nil
			}
		}
		return sched.Run(actx)
	}, func(error) { cancel() })
	return nil
}

// notifiers are the alert receivers configured.
func (o *roleOptions) notifiers() []alert.Notifier {
	client := alert.Client{HTTP: &http.Client{Timeout: o.alertTimeout}}
	var notifiers []alert.Notifier
	if o.alertmanagerURL != "" {
		notifiers = append(notifiers, &alert.Alertmanager{URL: o.alertmanagerURL, Client: client})
	}
	if o.webhookURL != "" {
		notifiers = append(notifiers, &alert.Webhook{URL: o.webhookURL, Receiver: "vigil", Secret: o.webhookSecret, Client: client})
	}
	if o.slackURL != "" {
		notifiers = append(notifiers, &alert.Slack{URL: o.slackURL, Client: client})
	}
	return notifiers
}

// alertReceivers are the dispatcher's subscribers for the alert receivers.
func (o *roleOptions) alertReceivers(silences store.EventReader, notifiers []alert.Notifier) []dispatch.Subscriber {
	out := make([]dispatch.Subscriber, len(notifiers))
	for i, n := range notifiers {
		out[i] = &slo.Receiver{Notifier: n, Silences: silences, Interval: o.analyzerInterval}
	}
	return out
}
