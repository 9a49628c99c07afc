package demo

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
)

// Mode says who approves the rollback the story leads to.
type Mode string

const (
	// ByPerson: a person approves it, in the browser or with vigil actions.
	ByPerson Mode = "approve"
	// Auto: the demo approves it itself, through the API as an operator,
	// once nobody has for AutoApproveAfter (scaled by the speed).
	Auto Mode = "auto"
)

// ParseMode reads a --demo value.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case ByPerson, Auto:
		return Mode(s), nil
	}
	return "", fmt.Errorf("--demo=%s: want approve (a person approves the rollback, the default) or auto (the demo approves it after %s)", s, AutoApproveAfter)
}

// RollbackPolicy is the policy of the demo's config directory that rolls
// the canary back.
const RollbackPolicy = "rollback-chat-canary"

// AutoApproveAfter is how long --demo=auto waits for a person before
// approving the rollback itself, at speed 1.
const AutoApproveAfter = 2 * time.Minute

// Listeners are the fleet's own ports, bound before Vigil starts so that
// its scrape configuration and the webhook URLs can name them.
type Listeners struct {
	Control net.Listener // the control endpoint
	Gateway net.Listener // the gateway's /metrics
	GPU     net.Listener // the GPU model server's /metrics
}

// Listen binds the fleet's ports: the control endpoint at controlAddr,
// the metrics on free loopback ports (Vigil in the same process is told
// where).
func Listen(controlAddr string) (*Listeners, error) {
	return ListenOn(controlAddr, "127.0.0.1:0", "127.0.0.1:0")
}

// ListenOn binds the fleet's ports at the addresses given: a Vigil of its
// own scrapes the metrics where its scrape configuration says.
func ListenOn(controlAddr, gatewayAddr, gpuAddr string) (*Listeners, error) {
	var l Listeners
	var err error
	if l.Control, err = net.Listen("tcp", controlAddr); err != nil {
		return nil, fmt.Errorf("the demo's control endpoint cannot listen on %s: %w", controlAddr, err)
	}
	if l.Gateway, err = net.Listen("tcp", gatewayAddr); err != nil {
		l.Close()
		return nil, fmt.Errorf("the demo gateway's /metrics cannot listen on %s: %w", gatewayAddr, err)
	}
	if l.GPU, err = net.Listen("tcp", gpuAddr); err != nil {
		l.Close()
		return nil, fmt.Errorf("the demo GPU model server's /metrics cannot listen on %s: %w", gpuAddr, err)
	}
	return &l, nil
}

// Close closes the listeners that are open.
func (l *Listeners) Close() {
	for _, ln := range []net.Listener{l.Control, l.Gateway, l.GPU} {
		if ln != nil {
			ln.Close()
		}
	}
}

// Options configure a run of the demo.
type Options struct {
	Endpoints Endpoints
	Vigil     *Vigil
	Listeners *Listeners
	Secret    string // the control endpoint's webhook secret
	Speed     float64
	Mode      Mode
	// BaseRate is the live traffic's mean requests per second before the
	// daily cycle (default 4).
	BaseRate float64
	// History is how far back the backfill reaches (default 7 days);
	// HistorySampling keeps one request in that many of the history
	// older than RecentHistory (default 100 and 15 minutes), so a week
	// loads in seconds while the last quarter of an hour is as dense as live.
	History         time.Duration
	HistorySampling int
	RecentHistory   time.Duration
	// UI is the URL people open, for the log.
	UI     string
	Logger *slog.Logger
	// HistoryDone, when set, is called once the history is stored: the
	// analyzer starts then, so its first run rolls up the whole week.
	HistoryDone func()
	Seed        uint64
}

func (o *Options) defaults() {
	if o.Speed <= 0 {
		o.Speed = 1
	}
	if o.BaseRate <= 0 {
		o.BaseRate = 4
	}
	if o.History <= 0 {
		o.History = 7 * 24 * time.Hour
	}
	if o.HistorySampling <= 0 {
		o.HistorySampling = 100
	}
	if o.RecentHistory <= 0 {
		o.RecentHistory = 15 * time.Minute
	}
	if o.Mode == "" {
		o.Mode = ByPerson
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
}

// Run plays the demo until ctx ends: the fleet's ports, live traffic,
// the bill, the week of history, then the story.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	log := o.Logger
	// The SDK reports failed exports through its global handler, which
	// prints to the standard logger; they belong in the demo's log.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Debug("the fleet's exporter failed", "err", err) }))
	fleet, err := NewFleet(ctx, o.Endpoints, o.Seed)
	if err != nil {
		return err
	}
	control := &Control{Fleet: fleet, Secret: o.Secret, Logger: log}
	var wg sync.WaitGroup
	var servers []*http.Server
	serve := func(ln net.Listener, h http.Handler) {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		wg.Add(1)
		go func() { defer wg.Done(); srv.Serve(ln) }()
	}
	serve(o.Listeners.Control, control.Handler())
	serve(o.Listeners.Gateway, promhttp.HandlerFor(fleet.Metrics.Gateway, promhttp.HandlerOpts{}))
	serve(o.Listeners.GPU, promhttp.HandlerFor(fleet.Metrics.GPU, promhttp.HandlerOpts{}))
	runCtx, stop := context.WithCancel(ctx)
	defer func() {
		stop()
		// Vigil's receivers stop beside the demo, so the last spans may
		// find nobody to take them: do not wait long.
		shut, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		for _, s := range servers {
			s.Shutdown(shut)
		}
		wg.Wait()
		if err := fleet.Close(shut); err != nil {
			log.Warn("the fleet's last spans were not all sent", "err", err)
		}
	}()

	// Live traffic from the first second, so the first pages have
	// something live while the history loads.
	wg.Add(2)
	go func() { defer wg.Done(); live(runCtx, fleet, o) }()
	go func() { defer wg.Done(); refreshMetrics(runCtx, fleet, o) }()

	if err := o.Vigil.WaitReady(runCtx, time.Minute); err != nil {
		return err
	}
	began := time.Now()
	if err := importBill(runCtx, o, began, false); err != nil {
		return err
	}
	spans, samples, err := backfill(runCtx, fleet, o, began)
	if err != nil {
		return err
	}
	msg := "the week of history is in: the analyzer starts now and rolls it up"
	if o.HistoryDone == nil {
		// A Vigil of its own (vigil demo --target) rolled its SLOs' windows
		// up before the history came, and recomputes only recent minutes.
		msg = "the week of history is in: restart the Vigil, if it ran before the history came, for its SLO budgets to count the week"
	}
	log.Info(msg, "spans", spans, "samples", samples, "took", time.Since(began).Round(time.Millisecond))
	if o.HistoryDone != nil {
		o.HistoryDone()
	}
	return story(runCtx, fleet, o)
}

// importBill imports the fleet's FOCUS bill: at start the 30 days up to
// the day before yesterday; later, yesterday's, as a cloud's daily export
// arrives a day behind.
func importBill(ctx context.Context, o Options, now time.Time, yesterday bool) error {
	today := now.UTC().Truncate(24 * time.Hour)
	from, to, name := today.AddDate(0, 0, -30), today.AddDate(0, 0, -1), "focus-last-30-days.csv"
	if yesterday {
		from, to, name = today.AddDate(0, 0, -1), today, "focus-"+today.AddDate(0, 0, -1).Format(time.DateOnly)+".csv"
	}
	if err := o.Vigil.ImportBill(ctx, name, Bill(from, to, today.AddDate(0, 0, -1))); err != nil {
		return fmt.Errorf("demo: cannot import the fleet's bill: %w", err)
	}
	o.Logger.Info("imported the fleet's cloud bill", "file", name, "from", from.Format(time.DateOnly), "to", to.Format(time.DateOnly))
	return nil
}

// live sends the live traffic: each request as it completes, at the
// rate of the daily cycle, until ctx ends.
func live(ctx context.Context, fleet *Fleet, o Options) {
	r := rand.New(rand.NewPCG(o.Seed+1, 7))
	const step = 200 * time.Millisecond
	t := time.NewTicker(step)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n := poisson(r, RatePerSecond(now, o.BaseRate)*step.Seconds())
			for range n {
				q := fleet.Request(now)
				q.Start = now.Add(-q.Duration())
				fleet.Emit(q, true)
			}
		}
	}
}

// refreshMetrics sets the GPU model server's gauges every 15 seconds.
func refreshMetrics(ctx context.Context, fleet *Fleet, o Options) {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for now := time.Now(); ; {
		rt := fleet.Routing()
		selfHosted := RatePerSecond(now, o.BaseRate) * 0.75
		fleet.Metrics.Refresh(now, selfHosted*(1-rt.CanaryWeight), selfHosted*rt.CanaryWeight)
		select {
		case <-ctx.Done():
			return
		case now = <-t.C:
		}
	}
}

// poisson draws a Poisson count of mean m (Knuth's method; m is small).
func poisson(r *rand.Rand, m float64) int {
	l, k, p := math.Exp(-m), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// backfill sends the history through Vigil's ingest ports with past
// timestamps, newest first so the recent past fills in first: requests
// through every service's exporter as live ones go, and the GPU pods'
// series by remote write at two-minute steps.
func backfill(ctx context.Context, fleet *Fleet, o Options, now time.Time) (spans, samples int, err error) {
	start := now.Add(-o.History)
	// The history's routing: the stable version only, prompts as usual.
	hist := Routing{StableVersion: StableVersion, CanaryVersion: CanaryVersion, StableReplicas: 2}
	r := rand.New(rand.NewPCG(o.Seed+2, 11))
	const chunk = 6 * time.Hour
	for end := now; end.After(start); end = end.Add(-chunk) {
		from := end.Add(-chunk)
		if from.Before(start) {
			from = start
		}
		// Spans.
		for t := from; t.Before(end); {
			rate := RatePerSecond(t, o.BaseRate)
			if now.Sub(t) > o.RecentHistory {
				rate /= float64(o.HistorySampling)
			}
			t = t.Add(time.Duration(r.ExpFloat64() / rate * float64(time.Second)))
			if !t.Before(end) {
				break
			}
			q := NewRequest(r, t, hist)
			fleet.Emit(q, false)
			spans += 7
			if q.Deployment == "" {
				spans--
			}
		}
		// Samples.
		var batch []Sample
		for t := from.Truncate(2 * time.Minute); t.Before(end); t = t.Add(2 * time.Minute) {
			if t.Before(from) {
				continue
			}
			batch = append(batch, GPUSamples(t)...)
		}
		if err := o.Vigil.RemoteWrite(ctx, batch); err != nil {
			return spans, samples, fmt.Errorf("demo: cannot remote-write the GPU pods' history: %w", err)
		}
		samples += len(batch)
		if err := ctx.Err(); err != nil {
			return spans, samples, err
		}
	}
	if err := fleet.Flush(ctx); err != nil {
		return spans, samples, fmt.Errorf("demo: cannot send the history's spans: %w", err)
	}
	return spans, samples, nil
}

// step is one moment of the story.
type step struct {
	at   time.Duration // after the history is in, at speed 1
	what string
	do   func(context.Context) error
}

// story plays the timeline, scaled by the speed, and watches for the
// rollback's proposal.
func story(ctx context.Context, fleet *Fleet, o Options) error {
	log := o.Logger.With("story", true)
	steps := []step{
		{0, "live traffic: the gateway, embedding, vector search, ranker and chat model serve requests; the GPU model server's metrics are scraped", nil},
		{2 * time.Minute, "canary v2 of the chat model ships to 25% of the self-hosted traffic, with a regression: four times the time to first token, and out-of-memory errors on long prompts",
			func(context.Context) error {
				fleet.SetRouting(func(rt *Routing) { rt.CanaryWeight, rt.CanaryRegressed = 0.25, true })
				return nil
			}},
		{6 * time.Minute, "a new client pastes whole documents: the prompts the embedding service sees are four times longer (the prompt-length drift monitor should notice)",
			func(context.Context) error {
				fleet.SetRouting(func(rt *Routing) { rt.PromptShift = true })
				return nil
			}},
		{8 * time.Minute, "yesterday's cloud bill arrives: a runaway batch job re-embedded the knowledge base through the hosted model API (the daily spend anomaly detector should notice)",
			func(ctx context.Context) error { return importBill(ctx, o, time.Now(), true) }},
	}
	t0 := time.Now()
	done := make(chan error, 1)
	go func() { done <- watchRollback(ctx, o, log) }()
	for _, s := range steps {
		wait := time.Until(t0.Add(time.Duration(float64(s.at) / o.Speed)))
		select {
		case <-ctx.Done():
			return nil
		case err := <-done:
			if err != nil {
				return err
			}
			done = nil
		case <-time.After(wait):
		}
		log.Info("demo: "+s.what, "minute", s.at.Minutes())
		if s.do != nil {
			if err := s.do(ctx); err != nil {
				return err
			}
		}
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-done:
		if err != nil {
			return err
		}
	}
	<-ctx.Done()
	return nil
}

// watchRollback waits for the rollback's proposal, says where to approve
// it, and with --demo=auto approves it when nobody has in time.
func watchRollback(ctx context.Context, o Options, log *slog.Logger) error {
	tick := time.NewTicker(time.Duration(float64(2*time.Second) / math.Max(1, o.Speed/2)))
	defer tick.Stop()
	// The failing verdicts that follow keep the one open proposal (the
	// engine supersedes it only for a different change): it is
	// announced once, and the autopilot approves the newest open one once
	// the first has waited long enough.
	var first time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		proposed, err := o.Vigil.Actions(ctx, RollbackPolicy, "proposed")
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("demo: cannot read the actions", "err", err)
			continue
		}
		if len(proposed) == 0 {
			continue
		}
		a := proposed[0] // the newest
		if first.IsZero() {
			first = time.Now()
			msg := "demo: Vigil proposes to roll the canary back: approve it on the Actions page, or run `vigil actions approve " + a.ID + "` with an operator's token"
			if o.Mode == Auto {
				msg += fmt.Sprintf("; --demo=auto approves it in %s", scaled(AutoApproveAfter, o.Speed))
			}
			log.Info(msg, "action", a.ID, "url", o.UI)
		}
		if o.Mode != Auto || time.Since(first) < scaled(AutoApproveAfter, o.Speed) {
			continue
		}
		if err := o.Vigil.Approve(ctx, a, "approved by the demo's autopilot (--demo=auto): nobody decided within "+scaled(AutoApproveAfter, o.Speed).String()); err != nil {
			if ctx.Err() == nil {
				log.Warn("demo: cannot approve the rollback", "action", a.ID, "err", err)
			}
			continue
		}
		log.Info("demo: approved the rollback as the autopilot", "action", a.ID)
		return nil
	}
}

func scaled(d time.Duration, speed float64) time.Duration {
	return time.Duration(float64(d) / speed).Round(time.Second)
}
