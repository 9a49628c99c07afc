package analyzer

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/cost"
)

// BudgetGauges export each budget's standing at the cost watch's last
// tick as Vigil's own metrics, so a Prometheus scraping Vigil (and
// Vigil's Prometheus API, when that Prometheus remote-writes back) can
// draw spend against limit and forecast: vigil_budget_spend,
// vigil_budget_limit and vigil_budget_forecast, in the budget's currency,
// labelled with its tenant, name, currency and period. A replica exports
// only the budgets it owns, and drops a budget's series once it no
// longer evaluates it (removed, renamed, or owned by another replica), so
// no stale standing lingers after a reload.
type BudgetGauges struct {
	spend, limit, forecast *prometheus.GaugeVec

	mu       sync.Mutex
	exported map[budgetLabels]bool // guarded by mu: the label sets set at the last tick
}

// budgetLabels are one budget's label values, in budgetLabelNames' order.
type budgetLabels [4]string

var budgetLabelNames = []string{"tenant", "budget", "currency", "period"}

// NewBudgetGauges registers the budget gauges with reg (none when nil).
func NewBudgetGauges(reg prometheus.Registerer) *BudgetGauges {
	g := &BudgetGauges{
		spend: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_budget_spend",
			Help: "A budget's spend so far in its current period (day, week or month, UTC), in its currency, on its cost basis."}, budgetLabelNames),
		limit: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_budget_limit",
			Help: "A budget's amount for one period, in its currency."}, budgetLabelNames),
		forecast: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_budget_forecast",
			Help: "A budget's spend forecast for the end of its current period at the run rate so far (the spend itself in the period's first hour)."}, budgetLabelNames),
		exported: map[budgetLabels]bool{},
	}
	if reg != nil {
		reg.MustRegister(g.spend, g.limit, g.forecast)
	}
	return g
}

func labelsOf(b *cost.Budget) budgetLabels {
	period := b.Period
	if period == "" {
		period = cost.Month
	}
	return budgetLabels{tenantOr(b.Tenant), b.Name, b.Currency, string(period)}
}

// update sets the gauges of the budgets judged at a tick and drops the
// series of every budget not in kept: those judged, and those whose
// spend could not be read this tick, which keep their last standing
// rather than vanish for one failed read.
func (g *BudgetGauges) update(judged []cost.BudgetStatus, kept []*cost.Budget) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := map[budgetLabels]bool{}
	for _, b := range kept {
		now[labelsOf(b)] = true
	}
	for _, st := range judged {
		l := labelsOf(st.Budget)
		now[l] = true
		g.spend.WithLabelValues(l[:]...).Set(st.Spent.InexactFloat64())
		g.limit.WithLabelValues(l[:]...).Set(st.Budget.Amount.InexactFloat64())
		g.forecast.WithLabelValues(l[:]...).Set(st.Forecast.InexactFloat64())
	}
	for l := range g.exported {
		if !now[l] {
			g.spend.DeleteLabelValues(l[:]...)
			g.limit.DeleteLabelValues(l[:]...)
			g.forecast.DeleteLabelValues(l[:]...)
		}
	}
	g.exported = now
}
