package analyzer

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// failingCosts is a real store whose cost reads fail while fail is set,
// as when the store is unreachable.
type failingCosts struct {
	CostStore
	fail bool
}

func (f *failingCosts) CostTotals(ctx context.Context, q store.CostQuery, by []store.CostDimension) ([]store.CostGroup, error) {
	if f.fail {
		return nil, errors.New("store unreachable")
	}
	return f.CostStore.CostTotals(ctx, q, by)
}

// TestBudgetGauges: the gauges hold each budget's spend, limit and
// forecast after a tick; a budget removed from the config loses its
// series at the next tick; one whose spend cannot be read keeps its last.
func TestBudgetGauges(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var lines []store.CostLine
	for day := 1; day <= 25; day++ {
		at := time.Date(2026, 11, day, 0, 0, 0, 0, time.UTC)
		lines = append(lines, line("s3-"+at.Format("02"), at, "Storage", "10"))
	}
	if err := s.WriteCostLines(ctx, lines); err != nil {
		t.Fatal(err)
	}
	storage := &cost.Budget{Name: "storage", Period: cost.Month, Amount: decimal.RequireFromString("1000"), Currency: "USD", Cost: cost.Billed,
		Filter: map[string]string{"service": "Storage"}}
	gpu := &cost.Budget{Name: "gpu", Tenant: "acme", Period: cost.Day, Amount: decimal.RequireFromString("50"), Currency: "EUR", Cost: cost.Effective}
	cfg := &cost.CostConfig{Budgets: []*cost.Budget{storage, gpu}}
	reg := prometheus.NewRegistry()
	costs := &failingCosts{CostStore: s}
	w := &CostWatch{Store: costs, Current: func() *cost.CostConfig { return cfg }, Gauges: NewBudgetGauges(reg)}
	if err := w.Run(ctx, tick); err != nil {
		t.Fatal(err)
	}
	g := w.Gauges
	st := []string{"default", "storage", "USD", "month"}
	// 250 spent in 25.5 of November's 30 days: 250 × 30 / 25.5 by the end.
	for name, c := range map[string]struct {
		v    *prometheus.GaugeVec
		want float64
	}{"spend": {g.spend, 250}, "limit": {g.limit, 1000}, "forecast": {g.forecast, 250 * 30 / 25.5}} {
		if got := testutil.ToFloat64(c.v.WithLabelValues(st...)); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("storage %s = %v, want %v", name, got, c.want)
		}
	}
	// Another tenant's budget with no lines: spent nothing yet, in its currency.
	if got := testutil.ToFloat64(g.limit.WithLabelValues("acme", "gpu", "EUR", "day")); got != 50 {
		t.Errorf("gpu limit = %v", got)
	}
	if n := testutil.CollectAndCount(reg, "vigil_budget_spend"); n != 2 {
		t.Errorf("%d spend series, want 2", n)
	}

	// The store fails: the standing stays as last read.
	costs.fail = true
	if err := w.Run(ctx, tick.Add(time.Minute)); err == nil || !strings.Contains(err.Error(), "budget storage: store unreachable") {
		t.Errorf("run with a failing store: %v", err)
	}
	if got := testutil.ToFloat64(g.spend.WithLabelValues(st...)); got != 250 {
		t.Errorf("storage spend after a failed read = %v, want the last, 250", got)
	}

	// A reload drops the storage budget: its series go, gpu's stay.
	costs.fail = false
	cfg = &cost.CostConfig{Budgets: []*cost.Budget{gpu}}
	if err := w.Run(ctx, tick.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"vigil_budget_spend", "vigil_budget_limit", "vigil_budget_forecast"} {
		if n := testutil.CollectAndCount(reg, name); n != 1 {
			t.Errorf("%d %s series after the reload, want gpu's alone", n, name)
		}
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`# HELP vigil_budget_limit A budget's amount for one period, in its currency.
# TYPE vigil_budget_limit gauge
vigil_budget_limit{budget="gpu",currency="EUR",period="day",tenant="acme"} 50
`), "vigil_budget_limit"); err != nil {
		t.Error(err)
	}
}
