package analyzer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
)

// CostStore is what the cost watch reads and writes.
type CostStore interface {
	store.CostReader
	store.EventWriter
}

// BudgetFinding is a budget's threshold crossed, or its overrun
// forecast, in one period: the record of cost.budget events.
type BudgetFinding struct {
	Budget      string          `json:"budget"`
	Period      cost.Period     `json:"period"`
	PeriodStart time.Time       `json:"period_start"`
	Amount      decimal.Decimal `json:"amount"`
	Currency    string          `json:"currency"`
	// ThresholdPercent is the share of Amount crossed; 0 for a forecast.
	ThresholdPercent int `json:"threshold_percent,omitempty"`
	// Forecast: the spend so far is forecast to overrun Amount by the end
	// of the period.
	Forecast bool `json:"forecast,omitempty"`
}

// BudgetFindings is the codec of budget findings.
var BudgetFindings = store.Codec[BudgetFinding]{Kind: store.KindFinding, Type: "cost.budget", Version: 1}

// SpendAnomaly is a day whose spend in one group stands out from the days
// before: the record of cost.spend_anomaly events.
type SpendAnomaly struct {
	Detector string            `json:"detector"`
	Day      time.Time         `json:"day"`
	Group    map[string]string `json:"group"` // the detector's group_by dimensions and their values
	Currency string            `json:"currency"`
	Spend    float64           `json:"spend"`
	Median   float64           `json:"median"` // of the Window days before
	MAD      float64           `json:"mad"`    // their median absolute deviation
	Window   int               `json:"window_days"`
}

// SpendAnomalies is the codec of spend anomaly findings.
var SpendAnomalies = store.Codec[SpendAnomaly]{Kind: store.KindFinding, Type: "cost.spend_anomaly", Version: 1}

// CostWatch judges budgets and daily spend each tick and records what it
// finds as events: a budget threshold crossed, a forecast overrun, a day of
// anomalous spend. Event ids derive from the budget or detector, its period
// or day and what was found, so every tick and every replica writes the
// same event once.
type CostWatch struct {
	Store  CostStore
	Config *cost.CostConfig
	// Current, when set, returns the budgets and detectors as the config
	// directory defines them now; it is called at every tick instead of
	// reading Config.
	Current func() *cost.CostConfig
	// Publisher, when set, is handed the findings once recorded: the
	// dispatcher, which delivers them to the actions that act on them.
	Publisher Publisher
	// Gauges, when set, export each budget's spend, limit and forecast at
	// every tick (NewBudgetGauges).
	Gauges *BudgetGauges
}

// Publisher hands events that must leave a job to the dispatcher.
type Publisher interface {
	Publish(events ...store.Event)
}

// Name implements Job.
func (w *CostWatch) Name() string { return "cost" }

// Run implements Job.
func (w *CostWatch) Run(ctx context.Context, tick time.Time) error {
	cfg := w.Config
	if w.Current != nil {
		cfg = w.Current()
	}
	if cfg == nil {
		return nil
	}
	var events []store.Event
	var errs []error
	var judged []cost.BudgetStatus
	var unread []*cost.Budget
	for _, b := range cfg.Budgets {
		if !Owns(ctx, "budget/"+b.Name) {
			continue
		}
		st, evs, err := w.budget(ctx, b, tick)
		if err != nil {
			errs = append(errs, fmt.Errorf("budget %s: %w", b.Name, err))
			unread = append(unread, b)
		} else {
			judged = append(judged, st)
		}
		events = append(events, evs...)
	}
	w.Gauges.update(judged, unread)
	for _, a := range cfg.Anomalies {
		if !Owns(ctx, "cost-anomaly/"+a.Name) {
			continue
		}
		evs, err := w.anomaly(ctx, a, tick)
		if err != nil {
			errs = append(errs, fmt.Errorf("cost anomaly %s: %w", a.Name, err))
		}
		events = append(events, evs...)
	}
	if len(events) > 0 {
		if err := w.Store.WriteEvents(ctx, events); err != nil {
			errs = append(errs, err)
		} else if w.Publisher != nil {
			w.Publisher.Publish(events...)
		}
	}
	return errors.Join(errs...)
}

func tenantOr(t string) string {
	if t == "" {
		return store.DefaultTenant
	}
	return t
}

func filter(f map[string]string) map[store.CostDimension]string {
	out := make(map[store.CostDimension]string, len(f))
	for k, v := range f {
		out[store.CostDimension(k)] = v
	}
	return out
}

// BudgetSpend sums a budget's spend in the period containing at.
func BudgetSpend(ctx context.Context, r store.CostReader, b *cost.Budget, at time.Time) (decimal.Decimal, error) {
	start, end := b.PeriodAt(at)
	groups, err := r.CostTotals(ctx, store.CostQuery{Tenant: tenantOr(b.Tenant), Start: start, End: end, Filter: filter(b.Filter)}, nil)
	if err != nil {
		return decimal.Zero, err
	}
	spent := decimal.Zero
	for _, g := range groups {
		if g.Currency == b.Currency {
			spent = spent.Add(b.Cost.Of(g))
		}
	}
	return spent, nil
}

// budget judges a budget at a tick: its standing, and the findings to
// record.
func (w *CostWatch) budget(ctx context.Context, b *cost.Budget, tick time.Time) (cost.BudgetStatus, []store.Event, error) {
	spent, err := BudgetSpend(ctx, w.Store, b, tick)
	if err != nil {
		return cost.BudgetStatus{}, nil, err
	}
	st := b.Status(spent, tick)
	org := tenantOr(b.Tenant)
	period := st.PeriodStart.Format(time.DateOnly)
	// The spend stays out of the event: it grows every tick, and a
	// repeated event must be identical to the first.
	finding := BudgetFinding{Budget: b.Name, Period: b.Period, PeriodStart: st.PeriodStart, Amount: b.Amount, Currency: b.Currency}
	var events []store.Event
	record := func(id, severity, summary string, f BudgetFinding) error {
		ev, err := BudgetFindings.Event(store.Event{Tenant: org, ID: id, Subject: b.Name, Severity: severity, Time: st.PeriodStart, Summary: summary}, f)
		events = append(events, ev)
		return err
	}
	for _, t := range st.Crossed {
		sev := "warning"
		if t >= 100 {
			sev = "critical"
		}
		f := finding
		f.ThresholdPercent = t
		if err := record(store.EventID(store.KindFinding, org, "budget", b.Name, period, strconv.Itoa(t)), sev,
			fmt.Sprintf("budget %s reached %d%% of %s %s for the %s starting %s", b.Name, t, b.Amount, b.Currency, b.Period, period), f); err != nil {
			return st, nil, err
		}
	}
	if st.ForecastOverrun {
		f := finding
		f.Forecast = true
		if err := record(store.EventID(store.KindFinding, org, "budget-forecast", b.Name, period), "warning",
			fmt.Sprintf("budget %s is forecast to overrun %s %s in the %s starting %s", b.Name, b.Amount, b.Currency, b.Period, period), f); err != nil {
			return st, nil, err
		}
	}
	return st, events, nil
}

// anomaly scores the last complete UTC day against the window before it,
// per group.
func (w *CostWatch) anomaly(ctx context.Context, a *cost.Anomaly, tick time.Time) ([]store.Event, error) {
	y, m, d := tick.UTC().Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	from := day.AddDate(0, 0, -a.Window())
	dims := make([]store.CostDimension, len(a.GroupBy))
	for i, g := range a.GroupBy {
		dims[i] = store.CostDimension(g)
	}
	org := tenantOr(a.Tenant)
	groups, err := w.Store.CostTotals(ctx, store.CostQuery{Tenant: org, Start: from, End: day.AddDate(0, 0, 1), Filter: filter(a.Filter), Step: 24 * time.Hour}, dims)
	if err != nil {
		return nil, err
	}
	type series struct {
		keys []string
		days map[time.Time]float64
	}
	byKey := map[string]*series{}
	for _, g := range groups {
		k := strings.Join(g.Keys, "\x00") + "\x00" + g.Currency
		s := byKey[k]
		if s == nil {
			s = &series{keys: append(append([]string(nil), g.Keys...), g.Currency), days: map[time.Time]float64{}}
			byKey[k] = s
		}
		s.days[g.Bucket] += a.Cost.Of(g).InexactFloat64()
	}
	var events []store.Event
	for _, s := range byKey {
		value, ok := s.days[day]
		if !ok {
			continue
		}
		history := make([]float64, 0, a.Window())
		for t := from; t.Before(day); t = t.AddDate(0, 0, 1) {
			history = append(history, s.days[t])
		}
		score := a.Score(history, value)
		if !score.Anomalous {
			continue
		}
		group := strings.Join(s.keys[:len(s.keys)-1], ", ")
		currency := s.keys[len(s.keys)-1]
		f := SpendAnomaly{Detector: a.Name, Day: day, Group: map[string]string{}, Currency: currency,
			Spend: value, Median: score.Median, MAD: score.MAD, Window: a.Window()}
		for i, dim := range a.GroupBy {
			f.Group[dim] = s.keys[i]
		}
		ev, err := SpendAnomalies.Event(store.Event{
			Tenant: org, ID: store.EventID(store.KindFinding, append([]string{org, "cost-anomaly", a.Name, day.Format(time.DateOnly)}, s.keys...)...),
			Subject: a.Name, Severity: "warning", Time: day,
			Summary: fmt.Sprintf("spend of %.2f %s on %s for %q is unusual: the median of the %d days before is %.2f", value, currency, day.Format(time.DateOnly), group, a.Window(), score.Median),
		}, f)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}
