package analyzer

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
)

// spendReads is a cost store that records whose spend is read.
type spendReads struct{ services []string }

func (s *spendReads) CostLines(context.Context, store.CostQuery) ([]store.CostLine, error) {
	return nil, nil
}

func (s *spendReads) CostTotals(_ context.Context, q store.CostQuery, _ []store.CostDimension) ([]store.CostGroup, error) {
	s.services = append(s.services, q.Filter["service"])
	return nil, nil
}

func (s *spendReads) WriteEvents(context.Context, []store.Event) error { return nil }

// TestCostWatchReadsCurrentConfig: the watch judges the budgets the config
// holds at each tick, so a reload reaches the next tick.
func TestCostWatchReadsCurrentConfig(t *testing.T) {
	budget := func(name string) *cost.Budget {
		return &cost.Budget{Name: name, Period: "month", Amount: decimal.RequireFromString("100"), Currency: "USD", Cost: "effective",
			Filter: map[string]string{"service": name}, Thresholds: []int{50}}
	}
	cfg := &cost.CostConfig{Budgets: []*cost.Budget{budget("gpu")}}
	st := &spendReads{}
	w := &CostWatch{Store: st, Current: func() *cost.CostConfig { return cfg }}
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	if err := w.Run(context.Background(), tick); err != nil {
		t.Fatal(err)
	}
	cfg = &cost.CostConfig{Budgets: []*cost.Budget{budget("storage"), budget("network")}}
	if err := w.Run(context.Background(), tick.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"gpu", "storage", "network"}; !reflect.DeepEqual(st.services, want) {
		t.Errorf("budgets read %v, want %v", st.services, want)
	}
	if err := (&CostWatch{Store: st}).Run(context.Background(), tick); err != nil {
		t.Errorf("a watch without config: %v", err)
	}
}
