// Package ui serves Vigil's web pages: services, traces, LLM usage, cost,
// SLOs, drift, canaries, recommendations, alerts, actions and settings,
// server-rendered from html/template with htmx for partial updates and a
// few plain ES-module islands (charts over uPlot, the trace waterfall, the
// keyboard and theme helpers), all embedded, with no build step.
//
// One handler per page. A normal GET answers the whole page, readable
// before any script runs; a request from htmx (HX-Request) gets only the
// page's part of the document (#app), and ?panel=NAME only that panel, for
// the heavy parts a page loads lazily. Every filter, sort, time range and
// selection lives in the URL, so a link reproduces the view and Back and
// Forward work. Each store read runs in parallel with the others under
// the request's context and a timeout of its own; a read that fails says
// so in its panel while the rest of the page works. A bad parameter
// renders the page with a message beside its control and status 400 (404
// for something that does not exist), never a 500.
//
// Routes declare their roles (viewer for pages, editor for creating a
// silence, operator for deciding on an action, as /api/v1/actions asks);
// the auth guard decides before any handler runs. Browser wraps
// the web port's handler so that a page's ?tenant= selects the tenant, as
// X-Scope-OrgID does for API clients.
package ui

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
)

// Store is what the pages read, and the silences they write.
type Store interface {
	store.SpanReader
	store.SpanStatsReader
	store.TraceSummaryReader
	store.UsageReader
	store.RollupReader
	store.EventReader
	store.EventWriter
	store.CostReader
	store.SpanValueReader // the drift report's histograms
	store.MetricReader    // the same for a metric watch
	store.LogReader       // the trace page's logs
	// Tokens lists the API tokens, for the settings page of an admin.
	Tokens(ctx context.Context) ([]store.APIToken, error)
}

// Actions is the actions engine as the actions pages use it
// (*actions.Engine): the pages read actions and record people's
// decisions through it, so a decision made here is the one the API
// makes.
type Actions interface {
	List(ctx context.Context, f actions.Filter) ([]*actions.Action, error)
	Get(ctx context.Context, tenant, id string) (*actions.Action, error)
	Approve(ctx context.Context, tenant, id string, d actions.Decision) (*actions.Action, error)
	Reject(ctx context.Context, tenant, id string, d actions.Decision) (*actions.Action, error)
}

// Build is what the settings page says of the running binary.
type Build struct {
	Version, GoVersion, Platform string
}

// Options configure the pages.
type Options struct {
	Store Store
	// SLOs returns the SLOs the config directory defines now; nil: none.
	SLOs func() []*slo.SLO
	// Actions is the actions engine; nil: this process runs none, and the
	// actions pages say so.
	Actions Actions
	// Budgets, Attribution and DriftMonitors are the config directory's
	// as it is now; nil: none (the default attribution).
	Budgets       func() []*cost.Budget
	Attribution   func() cost.Attribution
	DriftMonitors func() []*drift.Monitor
	// Prices is the LLM price table the collector prices spans with;
	// nil: the built-in table.
	Prices *cost.PriceTable
	// ConfigStatus reports the last reading of the config directory.
	ConfigStatus func() config.Status
	Build        Build
	// SignIn says the guard checks credentials: a page without an
	// identity then sends the browser to /login.
	SignIn bool
	// PanelTimeout bounds each store read of a page; 0 is
	// DefaultPanelTimeout.
	PanelTimeout time.Duration
	Now          func() time.Time // nil: time.Now
	Logger       *slog.Logger
}

// DefaultPanelTimeout bounds one panel's reads: past it the panel says it
// timed out and the rest of the page is shown.
const DefaultPanelTimeout = 10 * time.Second

// UI serves the pages.
type UI struct {
	opts   Options
	pages  map[string]*template.Template
	assets *assets
	log    *slog.Logger
}

// New builds the pages; it panics if a template does not parse, which
// the first test run finds.
func New(opts Options) *UI {
	if opts.PanelTimeout <= 0 {
		opts.PanelTimeout = DefaultPanelTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	u := &UI{opts: opts, assets: loadAssets(), log: opts.Logger}
	u.pages = parsePages(u.assets)
	return u
}

// Routes are the pages and their static files, each with the role it
// needs: viewer for every page, editor to create a silence. The root and
// the static files are open: the root sends a visitor to sign in or to a
// page, and the static files are the same for everyone.
func (u *UI) Routes() []auth.Route {
	page := func(pattern string, h http.HandlerFunc) auth.Route {
		return auth.Route{Method: "GET", Pattern: pattern, Role: auth.Viewer, Handler: h}
	}
	return []auth.Route{
		{Method: "GET", Pattern: "/{$}", Role: auth.Public, Handler: http.HandlerFunc(u.home)},
		{Method: "GET", Pattern: staticPrefix + "{file}", Role: auth.Public, Handler: u.assets},
		{Method: "GET", Pattern: "/favicon.ico", Role: auth.Public, Handler: http.HandlerFunc(u.favicon)},
		page("/services", u.services),
		page("/services/{service}", u.service),
		page("/traces", u.traces),
		page("/traces/{id}", u.trace),
		page("/slos", u.slos),
		page("/slos/{name}", u.sloPage),
		page("/alerts", u.alerts),
		{Method: "POST", Pattern: "/alerts/silences", Role: auth.Editor, Handler: http.HandlerFunc(u.createSilence)},
		page("/actions", u.actionsPage),
		page("/actions/audit", u.auditPage),
		page("/actions/{id}", u.actionPage),
		// The live timeline needs what the page needs.
		page("/actions/{id}/events", u.actionEvents),
		// Deciding needs operator, as POST /api/v1/actions/{id}/approve does.
		{Method: "POST", Pattern: "/actions/{id}/{verb}", Role: auth.Operator, Handler: http.HandlerFunc(u.decide)},
		page("/cost", u.costPage),
		page("/llm", u.llmPage),
		page("/drift", u.driftPage),
		page("/drift/{monitor}", u.driftReport),
		page("/canaries", u.canariesPage),
		page("/recommendations", u.recommendationsPage),
		page("/settings", u.settingsPage),
	}
}

// LoginLook is the pages' look for the sign-in page: their stylesheet
// (content-hashed, cached forever) and icon.
func (u *UI) LoginLook() auth.LoginLook {
	return auth.LoginLook{Stylesheet: u.assets.url("app.css"), Icon: u.assets.url("favicon.svg")}
}

// favicon answers the request browsers make on pages that name no icon,
// such as the sign-in page, which the auth package renders without the
// UI's assets.
func (u *UI) favicon(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, u.assets.url("favicon.svg"), http.StatusMovedPermanently)
}

func (u *UI) slosDefined() []*slo.SLO {
	if u.opts.SLOs == nil {
		return nil
	}
	return u.opts.SLOs()
}
