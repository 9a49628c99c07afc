// Package web serves Vigil's HTTP port: health and readiness, Vigil's own
// metrics, Vigil's own /api/v1, the Jaeger query API and the Prometheus
// HTTP API under /prometheus/api/v1, sign-in, and the web UI's pages
// (web/ui). Every route is in one table (Routes) with the role it needs,
// behind the guard.
package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/querier"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/web/api"
	"github.com/vigil-dev/vigil/web/jaeger"
	"github.com/vigil-dev/vigil/web/prom"
	"github.com/vigil-dev/vigil/web/ui"
)

// Store is what the web port reads and writes.
type Store interface {
	// Ping is what readiness checks.
	Ping(ctx context.Context) error
	store.SpanReader         // the Jaeger query API
	store.MetricQuerier      // the Prometheus API's metadata
	store.SpanExemplarReader // the Prometheus API's exemplars
	api.Store
	ui.Store // the web UI's pages
}

// Options configure the server.
type Options struct {
	ListenAddr string
	Store      Store
	Gatherer   prometheus.Gatherer
	// Engine answers PromQL over Store; nil builds one with Prometheus's
	// default limits.
	Engine *querier.Engine
	Logger *slog.Logger
	// Config returns the SLOs, budgets and attribution (the bill tags the
	// cost API groups team, app and model by) as the config directory
	// defines them now; the API calls it at every request. Nil: none.
	Config func() api.Config
	// ConfigStatus reports the last reading of the config directory.
	ConfigStatus func() config.Status
	// Guard decides every request (auth.Disabled() lets all through).
	Guard *auth.Guard
	// PublicMetrics opens /metrics and /debug/pprof to anyone, as a
	// Prometheus scraping without credentials expects; otherwise they
	// need viewer and admin in every tenant.
	PublicMetrics bool
	// TLS, when set, serves the port over TLS (auth.TLSFiles.Config).
	TLS *tls.Config
	// Actions is the actions engine /api/v1/actions and the actions pages
	// ask.
	Actions api.Actions
	// Drift returns the drift monitors the config directory defines now,
	// for the drift page; nil: none.
	Drift func() []*drift.Monitor
	// Prices is the LLM price table spans are priced with, for the LLM
	// usage page; nil: the built-in table.
	Prices *cost.PriceTable
	// Build says what binary this is, for the settings page.
	Build ui.Build
}

// Server is the web role.
type Server struct {
	opts Options
	srv  *http.Server
	ln   net.Listener
}

// New listens on the address; Serve starts answering.
func New(opts Options) (*Server, error) {
	if opts.Guard == nil {
		return nil, errors.New("web: no auth guard (auth.Disabled() to let every request through)")
	}
	ln, err := net.Listen("tcp", opts.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", opts.ListenAddr, err)
	}
	if opts.TLS != nil {
		ln = tls.NewListener(ln, opts.TLS)
	}
	if opts.Engine == nil {
		opts.Engine = querier.NewEngine(opts.Store, querier.DefaultOptions)
	}
	s := &Server{opts: opts, ln: ln}
	s.srv = &http.Server{Handler: ui.Browser(s.Handler()), ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Handler routes every path the web port serves.
func (s *Server) Handler() *auth.Mux {
	mux := auth.NewMux(s.opts.Guard)
	metrics, profiles := auth.Viewer, auth.Admin
	if s.opts.PublicMetrics {
		metrics, profiles = auth.Public, auth.Public
	}
	own := func(pattern string, role auth.Role, h http.HandlerFunc) auth.Route {
		return auth.Route{Method: "GET", Pattern: pattern, Role: role, Scope: auth.ServerScope, Handler: h}
	}
	mux.Handle(
		own("/healthz", auth.Public, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "ok")
		}),
		own("/readyz", auth.Public, s.ready),
		own("/metrics", metrics, promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{}).ServeHTTP),
		// Profiles, as Prometheus serves them, for measuring Vigil in place.
		own("/debug/pprof/", profiles, pprof.Index),
		own("/debug/pprof/profile", profiles, pprof.Profile),
		own("/debug/pprof/symbol", profiles, pprof.Symbol),
		own("/debug/pprof/trace", profiles, pprof.Trace),
	)
	pages := ui.Options{Store: s.opts.Store, SLOs: s.slos, SignIn: s.opts.Guard.Enabled(), Logger: s.opts.Logger,
		Budgets: s.budgets, Attribution: s.attribution, DriftMonitors: s.opts.Drift, Prices: s.opts.Prices,
		ConfigStatus: s.opts.ConfigStatus, Build: s.opts.Build}
	if s.opts.Actions != nil {
		pages.Actions = s.opts.Actions
	}
	u := ui.New(pages)
	mux.Handle(u.Routes()...)
	// Signing in looks like the pages it leads to.
	s.opts.Guard.SetLoginLook(u.LoginLook())
	mux.Handle(s.opts.Guard.Routes()...)
	(&jaeger.API{Spans: s.opts.Store}).Register(mux)
	(&prom.API{Engine: s.opts.Engine, Store: s.opts.Store, Spans: s.opts.Store, Events: s.opts.Store, SLOs: s.slos}).Register(mux.Declaring(auth.Viewer))
	(&api.API{Store: s.opts.Store, MaxUploadBytes: 1 << 30, Current: s.opts.Config, ConfigStatus: s.opts.ConfigStatus, Actions: s.opts.Actions}).Register(mux)
	return mux
}

// slos are the configured SLOs, for the Prometheus rules API.
func (s *Server) slos() []*slo.SLO {
	if s.opts.Config == nil {
		return nil
	}
	return s.opts.Config().SLOs
}

// budgets are the configured budgets, for the cost page.
func (s *Server) budgets() []*cost.Budget {
	if s.opts.Config == nil {
		return nil
	}
	return s.opts.Config().Budgets
}

// attribution names the bill tags team, app and model resolve to.
func (s *Server) attribution() cost.Attribution {
	if s.opts.Config == nil {
		return cost.Attribution{}
	}
	return s.opts.Config().Attribution
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.opts.Store.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "store not ready: %v\n", err)
		return
	}
	fmt.Fprintln(w, "ready")
}

// Serve answers requests until Shutdown.
func (s *Server) Serve() error {
	s.opts.Logger.Info("web listening", "addr", s.ln.Addr().String())
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting requests and waits for those in flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
