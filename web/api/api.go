// Package api serves Vigil's own JSON API under /api/v1: billing, cost,
// budgets, SLOs, actions and the config directory's status. One function
// writes every response and maps errors to status codes.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/analyzer"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/collector/billing"
	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

// Store is every capability of the store the API uses.
type Store interface {
	store.CostWriter
	store.CostReader
	store.UsageReader
	store.MetricReader
	store.DurationReader       // canary analysis
	rightsize.ThroughputReader // replica recommendations
	store.RollupReader         // SLO standings and history
	store.EventReader          // alerts, deliveries, silences
	store.EventWriter          // silences
	store.Credentials          // API tokens
	store.SpanRepricer         // repricing
	LogReader                  // logs
}

// API serves /api/v1.
type API struct {
	Store Store
	// MaxUploadBytes bounds one billing upload.
	MaxUploadBytes int64
	Budgets        []*cost.Budget
	Now            func() time.Time // nil means time.Now
	// Instances prices nodes by instance type (nil: the built-in table).
	Instances cost.InstanceTable
	// Attribution names the bill tags that team, app and model resolve
	// to (zero: the default keys team, service and model).
	Attribution cost.Attribution
	// SLOs are judged from their rollups.
	SLOs []*slo.SLO
	// Current, when set, returns the SLOs, budgets and attribution as the
	// config directory defines them now; it is called at every request
	// instead of reading SLOs, Budgets and Attribution.
	Current func() Config
	// ConfigStatus reports the last reading of the config directory, for
	// GET /api/v1/config/status.
	ConfigStatus func() config.Status
	// Actions is the actions engine the /api/v1/actions routes ask; nil
	// answers them 503.
	Actions Actions
}

// Config is what the API reads from the config directory.
type Config struct {
	SLOs        []*slo.SLO
	Budgets     []*cost.Budget
	Attribution cost.Attribution // zero: the default keys
}

// config is the config in force for this request.
func (a *API) config() Config {
	if a.Current != nil {
		return a.Current()
	}
	return Config{SLOs: a.SLOs, Budgets: a.Budgets, Attribution: a.Attribution}
}

// Register adds the routes to mux, each with the role it needs: reads
// need viewer, changes editor, decisions on actions operator, the audit
// log admin. The config directory's status is server-wide (its files
// serve every tenant), so it needs viewer in every tenant, and the actions'
// kill switch, which stops every tenant's actions, admin in every tenant;
// the OpenAPI document is the same for everyone and open.
func (a *API) Register(mux *auth.Mux) {
	route := func(method, pattern string, role auth.Role, h http.HandlerFunc) auth.Route {
		return auth.Route{Method: method, Pattern: pattern, Role: role, Handler: h}
	}
	mux.Handle(
		route("POST", "/api/v1/billing/import", auth.Editor, a.handle(a.importBilling)),
		route("GET", "/api/v1/cost", auth.Viewer, a.handle(a.cost)),
		route("GET", "/api/v1/budgets", auth.Viewer, a.handle(a.budgets)),
		route("GET", "/api/v1/cost/unit", auth.Viewer, a.handle(a.unitCost)),
		route("GET", "/api/v1/cost/export", auth.Viewer, a.exportFOCUS),
		route("GET", "/api/v1/cost/allocation", auth.Viewer, a.handle(a.allocation)),
		route("GET", "/api/v1/cost/self-hosted", auth.Viewer, a.handle(a.selfHosted)),
		route("GET", "/api/v1/slos", auth.Viewer, a.handle(a.slos)),
		route("GET", "/api/v1/slos/{name}", auth.Viewer, a.handle(a.sloOne)),
		route("GET", "/api/v1/slos/{name}/history", auth.Viewer, a.handle(a.sloHistory)),
		route("GET", "/api/v1/alerts", auth.Viewer, a.handle(a.alerts)),
		route("GET", "/api/v1/alerts/deliveries", auth.Viewer, a.handle(a.deliveries)),
		route("GET", "/api/v1/silences", auth.Viewer, a.handle(a.silences)),
		route("POST", "/api/v1/silences", auth.Editor, a.handle(a.createSilence)),
		route("GET", "/api/v1/recommendations", auth.Viewer, a.handle(a.recommendations)),
		route("GET", "/api/v1/canary", auth.Viewer, a.handle(a.canaryAnalysis)),
		route("GET", "/api/v1/audit", auth.Admin, a.handle(a.audit)),
		route("GET", "/api/v1/logs", auth.Viewer, a.handle(a.logs)),
		route("GET", "/api/v1/openapi.json", auth.Public, serveOpenAPI),
	)
	// Repricing every tenant's spans holds in every tenant.
	repriceAll := route("POST", "/api/v1/admin/cost/reprice", auth.Admin, a.handle(a.reprice(true)))
	repriceAll.Scope = auth.ServerScope
	mux.Handle(route("POST", "/api/v1/cost/reprice", auth.Editor, a.handle(a.reprice(false))), repriceAll)
	status := route("GET", "/api/v1/config/status", auth.Viewer, a.handle(a.configStatus))
	status.Scope = auth.ServerScope
	mux.Handle(status)
	mux.Handle(a.actionRoutes()...)
	mux.Handle(a.tokenRoutes()...)
}

// statusError carries an HTTP status.
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func badRequest(format string, args ...any) error {
	return &statusError{http.StatusBadRequest, fmt.Errorf(format, args...)}
}

func (a *API) handle(fn func(r *http.Request, org string) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		org, err := tenant.FromHTTP(r)
		var data any
		if err == nil {
			data, err = fn(r, org)
		}
		if err != nil {
			code := http.StatusInternalServerError
			var se *statusError
			var bt *tenant.InvalidError
			var fe *billing.FileError
			var mb *http.MaxBytesError
			switch {
			case errors.As(err, &mb): // first: a cut-off upload may surface as a bad file
				code = http.StatusRequestEntityTooLarge
			case errors.As(err, &se):
				code = se.code
			case errors.As(err, &bt), errors.As(err, &fe):
				code = http.StatusBadRequest
			}
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		if t, ok := data.(tagged); ok {
			w.Header().Set("ETag", t.etag)
			data = t.body
		}
		json.NewEncoder(w).Encode(data)
	}
}

// importBilling takes a CSV or Parquet bill (told apart by its bytes) as
// the raw body (?name= names it) or as the files of a multipart form, and
// answers one summary per file.
func (a *API) importBilling(r *http.Request, org string) (any, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, a.MaxUploadBytes)
	opts := billing.Options{Tenant: org, Format: r.URL.Query().Get("format")}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "upload.csv"
		}
		sum, err := billing.ImportStream(r.Context(), a.Store, name, r.Body, opts)
		if err != nil {
			return nil, err
		}
		return []billing.Summary{sum}, nil
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var out []billing.Summary
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, importedBefore(badRequest("cannot read the multipart body: %w", err), out)
		}
		if part.FileName() == "" {
			continue
		}
		sum, err := billing.ImportStream(r.Context(), a.Store, part.FileName(), part, opts)
		if err != nil {
			return nil, importedBefore(err, out)
		}
		out = append(out, sum)
	}
	if len(out) == 0 {
		return nil, badRequest("the form has no file")
	}
	return out, nil
}

// importedBefore says which files of a form were imported before one
// failed: they stay imported, and the answer must not hide it.
func importedBefore(err error, done []billing.Summary) error {
	if len(done) == 0 {
		return err
	}
	var names []string
	for _, s := range done {
		names = append(names, fmt.Sprintf("%s (%d rows)", s.File, s.Accepted))
	}
	return fmt.Errorf("%w; imported before it, and kept: %s", err, strings.Join(names, ", "))
}

// costGroup is one row of /api/v1/cost.
type costGroup struct {
	Time          *time.Time        `json:"time,omitempty"` // the bucket's start, with a step
	Group         map[string]string `json:"group"`
	Currency      string            `json:"currency"`
	BilledCost    string            `json:"billed_cost"`
	EffectiveCost string            `json:"effective_cost"`
	ListCost      string            `json:"list_cost"`
	Lines         uint64            `json:"lines"`
}

// cost answers totals of imported billing over [from, to) (split into
// buckets of step, e.g. 1d or 1h, when given), grouped by the
// dimensions in group_by (provider, service, region, ..., tag:KEY, and
// team, app and model through the configured attribution tag keys) and
// filtered by filter=dim=value pairs. Money is a decimal string, never a
// float.
func (a *API) cost(r *http.Request, org string) (any, error) {
	q := r.URL.Query()
	step, err := apiStep(q.Get("step"))
	if err != nil {
		return nil, err
	}
	from, to, err := timeRange(q)
	if err != nil {
		return nil, err
	}
	// team, app and model are tags whose keys the attribution config names.
	dim := func(n string) store.CostDimension {
		if key, ok := a.attribution().TagKey(n); ok {
			return store.CostDimension(store.TagPrefix + key)
		}
		return store.CostDimension(n)
	}
	group, filter, err := dimensions(q, func(n string) error { _, _, err := dim(n).Column(); return err })
	if err != nil {
		return nil, err
	}
	cq := store.CostQuery{Tenant: org, Start: from, End: to, Step: step, Filter: map[store.CostDimension]string{}}
	groupBy := make([]store.CostDimension, len(group))
	for i, g := range group {
		groupBy[i] = dim(g)
	}
	for k, v := range filter {
		cq.Filter[dim(k)] = v
	}
	groups, err := a.Store.CostTotals(r.Context(), cq, groupBy)
	if err != nil {
		return nil, err
	}
	out := make([]costGroup, 0, len(groups))
	for _, g := range groups {
		cg := costGroup{Group: map[string]string{}, Currency: g.Currency, BilledCost: g.BilledCost.String(), EffectiveCost: g.EffectiveCost.String(), ListCost: g.ListCost.String(), Lines: g.Lines}
		for i, d := range group {
			cg.Group[d] = g.Keys[i]
		}
		if step > 0 {
			b := g.Bucket
			cg.Time = &b
		}
		out = append(out, cg)
	}
	return map[string]any{"from": from, "to": to, "step": q.Get("step"), "group_by": append([]string{}, group...), "groups": out}, nil
}

// attribution is the configured attribution, or the default tag keys.
func (a *API) attribution() cost.Attribution {
	attr := a.config().Attribution
	if attr.Team == "" && attr.Service == "" && attr.Model == "" {
		return cost.DefaultAttribution()
	}
	return attr
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// timeRange reads from and to; to must come after from.
func timeRange(q url.Values) (from, to time.Time, err error) {
	if from, err = apiTime(q.Get("from"), "from"); err != nil {
		return
	}
	if to, err = apiTime(q.Get("to"), "to"); err != nil {
		return
	}
	if !to.After(from) {
		err = badRequest("to must be after from")
	}
	return
}

// dimensions reads group_by=a,b and filter=dim=value (repeated or
// comma-separated), checking every name with valid.
func dimensions(q url.Values, valid func(string) error) (groupBy []string, filter map[string]string, err error) {
	for _, g := range splitList(q.Get("group_by")) {
		if err := valid(g); err != nil {
			return nil, nil, badRequest("group_by: %v", err)
		}
		groupBy = append(groupBy, g)
	}
	filter = map[string]string{}
	for _, f := range q["filter"] {
		for _, kv := range splitList(f) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, nil, badRequest("filter %q: want dimension=value", kv)
			}
			if err := valid(k); err != nil {
				return nil, nil, badRequest("filter: %v", err)
			}
			filter[k] = v
		}
	}
	return groupBy, filter, nil
}

func apiTime(s, name string) (time.Time, error) {
	if s == "" {
		return time.Time{}, badRequest("parameter %q is required (RFC 3339 or YYYY-MM-DD)", name)
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, badRequest("parameter %q: %q is not RFC 3339 or YYYY-MM-DD", name, s)
}

// apiStep reads a bucket width: a Go duration or whole days ("1d", "7d").
func apiStep(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err == nil && n > 0 && fmt.Sprint(n) == days {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute {
		return 0, badRequest("step %q: want a duration of a minute or more, e.g. 1h or 1d", s)
	}
	return d, nil
}

type budgetStatus struct {
	Name            string            `json:"name"`
	Period          cost.Period       `json:"period"`
	PeriodStart     string            `json:"period_start"`
	PeriodEnd       string            `json:"period_end"`
	Amount          string            `json:"amount"`
	Currency        string            `json:"currency"`
	Cost            cost.Basis        `json:"cost"`
	Spent           string            `json:"spent"`
	Percent         string            `json:"percent"`
	Forecast        string            `json:"forecast"`
	Crossed         []int             `json:"thresholds_crossed"`
	ForecastOverrun bool              `json:"forecast_overrun"`
	Filter          map[string]string `json:"filter,omitempty"`
	Defined         string            `json:"defined_in"`
}

// budgets answers each of the tenant's budgets with its spend so far in the
// current period, its forecast and the thresholds crossed.
func (a *API) budgets(r *http.Request, org string) (any, error) {
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	out := []budgetStatus{}
	for _, b := range a.config().Budgets {
		if bt := b.Tenant; bt != org && !(bt == "" && org == store.DefaultTenant) {
			continue
		}
		spent, err := analyzer.BudgetSpend(r.Context(), a.Store, b, now)
		if err != nil {
			return nil, err
		}
		st := b.Status(spent, now)
		out = append(out, budgetStatus{
			Name: b.Name, Period: b.Period, PeriodStart: st.PeriodStart.Format(time.DateOnly), PeriodEnd: st.PeriodEnd.Format(time.DateOnly),
			Amount: b.Amount.String(), Currency: b.Currency, Cost: b.Cost, Spent: st.Spent.String(), Percent: st.Percent.String(),
			Forecast: st.Forecast.String(), Crossed: append([]int{}, st.Crossed...), ForecastOverrun: st.ForecastOverrun, Filter: b.Filter, Defined: b.File,
		})
	}
	return out, nil
}

type unitGroup struct {
	Group             map[string]string `json:"group"`
	Calls             uint64            `json:"calls"`
	Errors            uint64            `json:"errors"`
	InputTokens       int64             `json:"input_tokens"`
	OutputTokens      int64             `json:"output_tokens"`
	CachedTokens      int64             `json:"cached_tokens"`
	Cost              string            `json:"cost"`
	PerThousandCalls  string            `json:"cost_per_1k_calls"`
	PerSuccessfulCall *string           `json:"cost_per_successful_call"`
	PerMillionTokens  *string           `json:"cost_per_1m_tokens"`
}

// unitCost answers the unit economics of model calls (spans with a model,
// priced at ingest) over [from, to), grouped by service, model,
// model_version, provider, deployment, operation or operation_type and
// filtered by dimension=value; amounts are USD decimal strings.
func (a *API) unitCost(r *http.Request, org string) (any, error) {
	q := r.URL.Query()
	from, to, err := timeRange(q)
	if err != nil {
		return nil, err
	}
	group, filter, err := dimensions(q, func(n string) error { _, err := store.UsageDimension(n).Column(); return err })
	if err != nil {
		return nil, err
	}
	uq := store.UsageQuery{Tenant: org, Start: from, End: to, Filter: map[store.UsageDimension]string{}}
	for _, g := range group {
		uq.GroupBy = append(uq.GroupBy, store.UsageDimension(g))
	}
	for k, v := range filter {
		uq.Filter[store.UsageDimension(k)] = v
	}
	groups, err := a.Store.Usage(r.Context(), uq)
	if err != nil {
		return nil, err
	}
	out := make([]unitGroup, 0, len(groups))
	for _, g := range groups {
		u := cost.Calls{Calls: g.Calls, Errors: g.Errors, InputTokens: g.InputTokens, OutputTokens: g.OutputTokens, Cost: g.Cost}.PerUnit()
		ug := unitGroup{Group: map[string]string{}, Calls: g.Calls, Errors: g.Errors, InputTokens: g.InputTokens, OutputTokens: g.OutputTokens,
			CachedTokens: g.CachedTokens, Cost: g.Cost.String(), PerThousandCalls: u.PerThousandCalls.String()}
		for i, d := range uq.GroupBy {
			ug.Group[string(d)] = g.Keys[i]
		}
		if u.PerSuccessfulCall != nil {
			s := u.PerSuccessfulCall.String()
			ug.PerSuccessfulCall = &s
		}
		if u.PerMillionTokens != nil {
			s := u.PerMillionTokens.String()
			ug.PerMillionTokens = &s
		}
		out = append(out, ug)
	}
	return map[string]any{"from": from, "to": to, "group_by": append([]store.UsageDimension{}, uq.GroupBy...), "groups": out}, nil
}
