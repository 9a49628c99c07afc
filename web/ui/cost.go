package ui

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/analyzer"
	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
)

// The cost page explores spend as OpenCost's allocation page does: pick
// what to aggregate by, click a row to drill into it (a breadcrumb of
// filters, all in the URL), see it over the whole window or day by day,
// download any table as CSV. Two sources: the imported bills (FOCUS
// lines, by their columns and tags: team, app and model through the
// attribution's tag keys, any other tag as label:KEY) and the model
// calls Vigil priced at ingest (spans, by service, model, provider,
// deployment or operation).

// costSources are the sources and the dimensions each aggregates by, the
// first the default.
var costSources = map[string][]string{
	"bills": {"provider", "service", "team", "app", "model", "namespace", "region", "service_category", "sub_account", "billing_account", "charge_category", "resource", "sku"},
	"calls": {"service", "model", "provider", "deployment", "operation", "model_version", "operation_type"},
}

// drillNext is what a drill into a dimension aggregates by next.
var drillNext = map[string]string{
	"provider": "service", "service": "region", "region": "resource", "team": "app", "app": "service", "model": "resource",
	"namespace": "app", "service_category": "service", "sub_account": "service", "billing_account": "sub_account", "charge_category": "service", "sku": "resource",
}

// callsDrillNext is the same for model calls.
var callsDrillNext = map[string]string{
	"service": "model", "model": "deployment", "provider": "model", "deployment": "operation", "operation": "model_version", "operation_type": "model",
}

// maxCostRange bounds the cost page's range: bills are daily lines, and a
// year of them is what a finance review reads.
const maxCostRange = 366 * 24 * time.Hour

// crumb is one step of the drill-down: the view with the filters up to
// it.
type crumb struct {
	Label, URL string
}

// costRow is one group of the allocation table.
type costRow struct {
	Key, Currency         string
	Billed, Effective     decimal.Decimal
	List                  decimal.Decimal
	Lines                 uint64
	Share                 float64 // of the currency's effective total, in percent
	Drill                 string  // the drill-down's URL, "" at the bottom
	Calls, Errors         uint64  // model calls
	InputTokens, OutputTo int64
}

type dailyRow struct {
	Day       time.Time
	Key       string
	Currency  string
	Effective decimal.Decimal
}

type budgetRow struct {
	cost.BudgetStatus
	Bar bar
}

type costData struct {
	Source, By, View string
	Sources          []string
	Dims             []string
	Filters          [][2]string // drill filters, in order
	Crumbs           []crumb
	Rows             []costRow
	Totals           []costRow // per currency
	Daily            []dailyRow
	Chart            *chart
	Budgets          []budgetRow
	Anomalies        []analyzer.SpendAnomaly
	Problem          string
	DailyProblem     string
	BudgetProblem    string
	AnomalyProblem   string
}

// costPage is the allocation explorer, the budgets with their forecasts
// and the spend anomalies of the range.
func (u *UI) costPage(w http.ResponseWriter, r *http.Request) {
	v := u.newView(w, r, "Cost", "cost")
	tr := v.timeRangeFrom("now-30d", maxCostRange)
	d := &costData{Source: cmp.Or(v.query.Get("source"), "bills"), View: cmp.Or(v.query.Get("view"), "window"), Sources: []string{"bills", "calls"}}
	v.Data = d
	dims, ok := costSources[d.Source]
	if !ok {
		v.problem(&fieldError{"source", fmt.Sprintf("source %q: bills (imported bill lines) or calls (model calls priced at ingest)", d.Source)}, http.StatusBadRequest)
		dims = costSources["bills"]
	}
	d.Dims = dims
	d.By = cmp.Or(v.query.Get("by"), dims[0])
	if !validCostDim(d.Source, d.By) {
		v.problem(&fieldError{"by", fmt.Sprintf("cannot aggregate %s by %q: pick one of %s%s", d.Source, d.By, strings.Join(dims, ", "), map[bool]string{true: " or label:KEY", false: ""}[d.Source == "bills"])}, http.StatusBadRequest)
	}
	for _, f := range v.query["f"] {
		k, val, ok := strings.Cut(f, ":")
		if !ok || !validCostDim(d.Source, k) {
			v.problem(&fieldError{"f", fmt.Sprintf("filter %q is not dimension:value with a dimension of %s", f, d.Source)}, http.StatusBadRequest)
			continue
		}
		d.Filters = append(d.Filters, [2]string{k, val})
	}
	if d.View != "window" && d.View != "daily" {
		v.problem(&fieldError{"view", "view is window (one row per group) or daily"}, http.StatusBadRequest)
	}
	format := v.query.Get("format")
	table := cmp.Or(v.query.Get("table"), "allocation")
	if format != "" && (format != "csv" || !slices.Contains([]string{"allocation", "daily", "budgets", "anomalies"}, table)) {
		v.problem(&fieldError{"format", "download with format=csv and table=allocation, daily, budgets or anomalies"}, http.StatusBadRequest)
	}
	d.Crumbs = u.costCrumbs(v, d)
	if !v.OK() {
		u.render(w, r, "cost", v)
		return
	}
	rs := u.reads(r)
	rs.do(&d.Problem, "The allocation", func(ctx context.Context) error { return u.loadAllocation(ctx, v, d, tr) })
	if d.View == "daily" || table == "daily" {
		rs.do(&d.DailyProblem, "The daily spend", func(ctx context.Context) error { return u.loadDaily(ctx, v, d, tr) })
	}
	rs.do(&d.BudgetProblem, "The budgets", func(ctx context.Context) error { return u.loadBudgets(ctx, v, d) })
	rs.do(&d.AnomalyProblem, "The spend anomalies", func(ctx context.Context) error {
		recs, err := analyzer.SpendAnomalies.Read(ctx, u.opts.Store, store.EventQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, Limit: 200})
		for _, rec := range recs {
			d.Anomalies = append(d.Anomalies, rec.Value)
		}
		return err
	})
	rs.wait()
	if format == "csv" {
		if p := map[string]string{"allocation": d.Problem, "daily": d.DailyProblem, "budgets": d.BudgetProblem, "anomalies": d.AnomalyProblem}[table]; p != "" {
			v.problem(&fieldError{"format", p}, http.StatusServiceUnavailable)
		} else {
			writeCostCSV(w, d, table)
			return
		}
	}
	u.render(w, r, "cost", v)
}

func validCostDim(source, dim string) bool {
	if source == "bills" && strings.HasPrefix(dim, "label:") && len(dim) > len("label:") {
		return true
	}
	return slices.Contains(costSources[source], dim)
}

// costCrumbs are "All cost" and one crumb per drill filter.
func (u *UI) costCrumbs(v *view, d *costData) []crumb {
	keep := func(n int, by string) string {
		kv := []string{"by", by, "f", "", "format", "", "table", ""}
		url := v.Here(kv...)
		for _, f := range d.Filters[:n] {
			url += "&f=" + queryEscape(f[0]+":"+f[1])
		}
		return url
	}
	first := d.By
	if len(d.Filters) > 0 {
		first = d.Filters[0][0]
	}
	out := []crumb{{Label: "All " + map[string]string{"bills": "billed cost", "calls": "model calls"}[d.Source], URL: keep(0, first)}}
	for i, f := range d.Filters {
		next := d.By
		if i+1 < len(d.Filters) {
			next = d.Filters[i+1][0]
		}
		out = append(out, crumb{Label: f[0] + " = " + f[1], URL: keep(i+1, next)})
	}
	return out
}

// drillURL is a row's drill-down: its value as a filter, aggregated by
// what comes next; "" when nothing does.
func (d *costData) drillURL(v *view, key string) string {
	nexts := drillNext
	if d.Source == "calls" {
		nexts = callsDrillNext
	}
	filtered := map[string]bool{d.By: true}
	for _, f := range d.Filters {
		filtered[f[0]] = true
	}
	next := nexts[d.By]
	if strings.HasPrefix(d.By, "label:") {
		next = "service"
	}
	for next != "" && filtered[next] {
		next = nexts[next]
	}
	if next == "" {
		return ""
	}
	url := v.Here("by", next, "format", "", "table", "")
	return url + "&f=" + queryEscape(d.By+":"+key)
}

// attribution is the config's attribution, or the default one.
func (u *UI) attribution() cost.Attribution {
	if u.opts.Attribution != nil {
		if a := u.opts.Attribution(); a.Team != "" || a.Service != "" || a.Model != "" {
			return a
		}
	}
	return cost.DefaultAttribution()
}

// costDimension is a bill dimension as the store names it: team, app
// and model through the attribution's tag keys, namespace and label:KEY
// as tags.
func (u *UI) costDimension(dim string) store.CostDimension {
	if key, ok := u.attribution().TagKey(dim); ok {
		return store.CostDimension(store.TagPrefix + key)
	}
	if dim == "namespace" {
		return store.CostDimension(store.TagPrefix + "namespace")
	}
	if tag, ok := strings.CutPrefix(dim, "label:"); ok {
		return store.CostDimension(store.TagPrefix + tag)
	}
	return store.CostDimension(dim)
}

func (u *UI) loadAllocation(ctx context.Context, v *view, d *costData, tr timeRange) error {
	if d.Source == "calls" {
		q := store.UsageQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, GroupBy: []store.UsageDimension{store.UsageDimension(d.By)}, Filter: map[store.UsageDimension]string{}}
		for _, f := range d.Filters {
			q.Filter[store.UsageDimension(f[0])] = f[1]
		}
		groups, err := u.opts.Store.Usage(ctx, q)
		if err != nil {
			return err
		}
		for _, g := range groups {
			d.Rows = append(d.Rows, costRow{Key: g.Keys[0], Currency: "USD", Effective: g.Cost, Billed: g.Cost, Calls: g.Calls, Errors: g.Errors,
				InputTokens: g.InputTokens, OutputTo: g.OutputTokens})
		}
	} else {
		q := store.CostQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, Filter: map[store.CostDimension]string{}}
		for _, f := range d.Filters {
			q.Filter[u.costDimension(f[0])] = f[1]
		}
		groups, err := u.opts.Store.CostTotals(ctx, q, []store.CostDimension{u.costDimension(d.By)})
		if err != nil {
			return err
		}
		for _, g := range groups {
			d.Rows = append(d.Rows, costRow{Key: g.Keys[0], Currency: g.Currency, Billed: g.BilledCost, Effective: g.EffectiveCost, List: g.ListCost, Lines: g.Lines})
		}
	}
	totals := map[string]*costRow{}
	for _, r := range d.Rows {
		t := totals[r.Currency]
		if t == nil {
			t = &costRow{Key: "Total", Currency: r.Currency}
			totals[r.Currency] = t
		}
		t.Billed, t.Effective, t.List = t.Billed.Add(r.Billed), t.Effective.Add(r.Effective), t.List.Add(r.List)
		t.Lines, t.Calls, t.Errors, t.InputTokens, t.OutputTo = t.Lines+r.Lines, t.Calls+r.Calls, t.Errors+r.Errors, t.InputTokens+r.InputTokens, t.OutputTo+r.OutputTo
	}
	for i := range d.Rows {
		if t := totals[d.Rows[i].Currency]; t.Effective.IsPositive() {
			d.Rows[i].Share, _ = d.Rows[i].Effective.Mul(decimal.NewFromInt(100)).Div(t.Effective).Float64()
		}
		d.Rows[i].Drill = d.drillURL(v, d.Rows[i].Key)
	}
	// The largest first, as OpenCost lists them.
	slices.SortStableFunc(d.Rows, func(a, b costRow) int { return cmp.Or(b.Effective.Cmp(a.Effective), strings.Compare(a.Key, b.Key)) })
	for _, c := range slicesSortedKeys(totals) {
		d.Totals = append(d.Totals, *totals[c])
	}
	return nil
}

// loadDaily reads the spend per UTC day of the groups, and charts the
// largest of them.
func (u *UI) loadDaily(ctx context.Context, v *view, d *costData, tr timeRange) error {
	day := 24 * time.Hour
	start := tr.Start.Truncate(day)
	if d.Source == "calls" {
		// Spans have no day step in the store: read each day's groups.
		for t := start; t.Before(tr.End); t = t.Add(day) {
			q := store.UsageQuery{Tenant: v.Tenant, Start: maxTime(t, tr.Start), End: minTime(t.Add(day), tr.End), GroupBy: []store.UsageDimension{store.UsageDimension(d.By)}, Filter: map[store.UsageDimension]string{}}
			for _, f := range d.Filters {
				q.Filter[store.UsageDimension(f[0])] = f[1]
			}
			groups, err := u.opts.Store.Usage(ctx, q)
			if err != nil {
				return err
			}
			for _, g := range groups {
				d.Daily = append(d.Daily, dailyRow{Day: t, Key: g.Keys[0], Currency: "USD", Effective: g.Cost})
			}
		}
	} else {
		q := store.CostQuery{Tenant: v.Tenant, Start: start, End: tr.End, Step: day, Filter: map[store.CostDimension]string{}}
		for _, f := range d.Filters {
			q.Filter[u.costDimension(f[0])] = f[1]
		}
		groups, err := u.opts.Store.CostTotals(ctx, q, []store.CostDimension{u.costDimension(d.By)})
		if err != nil {
			return err
		}
		for _, g := range groups {
			d.Daily = append(d.Daily, dailyRow{Day: g.Bucket, Key: g.Keys[0], Currency: g.Currency, Effective: g.EffectiveCost})
		}
	}
	days := steps(timeRange{Start: start, End: tr.End}, day)
	set := newSeriesSet(len(days))
	for _, r := range d.Daily {
		f, _ := r.Effective.Float64()
		label := r.Key
		if r.Currency != "USD" {
			label += " (" + r.Currency + ")"
		}
		set.set(label, int(r.Day.Sub(start)/day), f, f)
	}
	d.Chart = &chart{ID: "daily", Title: "Effective cost per day, by " + d.By, Unit: "per day", Kind: "line", X: days, Series: set.top(8), Step: int64(day / time.Second)}
	return nil
}

func (u *UI) loadBudgets(ctx context.Context, v *view, d *costData) error {
	if u.opts.Budgets == nil {
		return nil
	}
	for _, b := range u.opts.Budgets() {
		if b.Tenant != v.Tenant && !(b.Tenant == "" && v.Tenant == store.DefaultTenant) {
			continue
		}
		spent, err := analyzer.BudgetSpend(ctx, u.opts.Store, b, v.Now)
		if err != nil {
			return fmt.Errorf("budget %s: %w", b.Name, err)
		}
		st := b.Status(spent, v.Now)
		amount, _ := b.Amount.Float64()
		s, _ := st.Spent.Float64()
		f, _ := st.Forecast.Float64()
		d.Budgets = append(d.Budgets, budgetRow{BudgetStatus: st, Bar: barOf(s, f, amount)})
	}
	return nil
}

// barOf draws spend and forecast against the amount in a 0–100 box
// whose right end is the largest of the three.
func barOf(spent, forecast, amount float64) bar {
	full := max(spent, forecast, amount)
	if full <= 0 {
		return bar{}
	}
	return bar{Rate: round1(spent / full * 100), Threshold: round1(amount / full * 100), Forecast: round1(forecast / full * 100)}
}

func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }

// writeCostCSV downloads one of the page's tables, as the page shows it.
func writeCostCSV(w http.ResponseWriter, d *costData, table string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="vigil-cost-`+table+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	switch table {
	case "allocation":
		if d.Source == "calls" {
			cw.Write([]string{d.By, "calls", "errors", "input_tokens", "output_tokens", "cost_usd", "share_percent"})
			for _, r := range d.Rows {
				cw.Write([]string{csvSafe(r.Key), u64(r.Calls), u64(r.Errors), i64(r.InputTokens), i64(r.OutputTo), r.Effective.String(), strconv.FormatFloat(r.Share, 'f', 2, 64)})
			}
			break
		}
		cw.Write([]string{d.By, "currency", "billed_cost", "effective_cost", "list_cost", "lines", "share_percent"})
		for _, r := range d.Rows {
			cw.Write([]string{csvSafe(r.Key), r.Currency, r.Billed.String(), r.Effective.String(), r.List.String(), u64(r.Lines), strconv.FormatFloat(r.Share, 'f', 2, 64)})
		}
	case "daily":
		cw.Write([]string{"day", d.By, "currency", "effective_cost"})
		for _, r := range d.Daily {
			cw.Write([]string{r.Day.Format(time.DateOnly), csvSafe(r.Key), r.Currency, r.Effective.String()})
		}
	case "budgets":
		cw.Write([]string{"budget", "period", "period_start", "amount", "currency", "spent", "percent", "forecast", "forecast_overrun"})
		for _, b := range d.Budgets {
			cw.Write([]string{b.Budget.Name, string(b.Budget.Period), b.PeriodStart.Format(time.DateOnly), b.Budget.Amount.String(), b.Budget.Currency,
				b.Spent.String(), b.Percent.String(), b.Forecast.String(), strconv.FormatBool(b.ForecastOverrun)})
		}
	case "anomalies":
		cw.Write([]string{"day", "detector", "group", "currency", "spend", "median", "mad", "window_days"})
		for _, a := range d.Anomalies {
			cw.Write([]string{a.Day.Format(time.DateOnly), a.Detector, csvSafe(groupText(a.Group)), a.Currency, ftoa(a.Spend), ftoa(a.Median), ftoa(a.MAD), strconv.Itoa(a.Window)})
		}
	}
	cw.Flush()
}

func groupText(g map[string]string) string {
	var parts []string
	for _, k := range slicesSortedKeys(g) {
		parts = append(parts, k+"="+g[k])
	}
	return strings.Join(parts, " ")
}

func u64(n uint64) string   { return strconv.FormatUint(n, 10) }
func i64(n int64) string    { return strconv.FormatInt(n, 10) }
func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
