package analyzer

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

func line(id string, day time.Time, service, amount string) store.CostLine {
	d := decimal.RequireFromString(amount)
	start, end := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC), time.Date(day.Year(), day.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	return store.CostLine{Tenant: store.DefaultTenant, LineID: id, BillingCurrency: "USD", BillingPeriodStart: start, BillingPeriodEnd: end,
		ChargePeriodStart: day, ChargePeriodEnd: day.Add(time.Hour), ChargeCategory: "Usage", BilledCost: d, EffectiveCost: d,
		ProviderName: "AWS", ServiceName: service}
}

func TestCostWatch(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var lines []store.CostLine
	// 28 days of about 100 a day on GPU VMs, then 400 yesterday (Nov 25);
	// storage steady at 10 a day throughout.
	for i := 1; i <= 29; i++ {
		day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -29+i)
		amount := fmt.Sprint(95 + i%10)
		if i == 29 {
			amount = "400"
		}
		lines = append(lines, line(fmt.Sprintf("gpu-%d", i), day, "GPU VMs", amount), line(fmt.Sprintf("s3-%d", i), day, "Storage", "10"))
	}
	if err := s.WriteCostLines(ctx, lines); err != nil {
		t.Fatal(err)
	}
	w := &CostWatch{Store: s, Config: &cost.CostConfig{
		Budgets: []*cost.Budget{
			{Name: "gpu", Period: "month", Amount: decimal.RequireFromString("2500"), Currency: "USD", Cost: "effective",
				Filter: map[string]string{"service": "GPU VMs"}, Thresholds: []int{50, 80, 100}, Forecast: true},
			{Name: "storage", Period: "month", Amount: decimal.RequireFromString("1000"), Currency: "USD", Cost: "billed",
				Filter: map[string]string{"service": "Storage"}, Thresholds: []int{50}},
		},
		Anomalies: []*cost.Anomaly{{Name: "daily", GroupBy: []string{"service"}, MinDailySpend: decimal.RequireFromString("50")}},
	}}
	for i := 0; i < 2; i++ { // a second tick (or replica) adds nothing
		if err := w.Run(ctx, tick); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.Events(ctx, store.EventQuery{Tenant: store.DefaultTenant, Start: tick.AddDate(0, -2, 0), End: tick})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range evs {
		got[e.Type+" "+e.Subject+" "+e.Severity]++
	}
	// GPU in November: 25 days (Nov 1-24, 24 days at 95..104) plus 400 is well
	// over 2,500; storage is 250 of 1,000, under its 50%. Only GPU VMs spiked.
	want := map[string]int{
		"cost.budget gpu warning":          3, // 50%, 80%, and the forecast
		"cost.budget gpu critical":         1, // 100%
		"cost.spend_anomaly daily warning": 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events %v\nwant %v", got, want)
	}
	anomalies, err := SpendAnomalies.Read(ctx, s, store.EventQuery{Tenant: store.DefaultTenant, Start: tick.AddDate(0, -2, 0), End: tick})
	if err != nil || len(anomalies) != 1 || anomalies[0].Value.Group["service"] != "GPU VMs" || anomalies[0].Value.Currency != "USD" {
		t.Errorf("anomalies %+v, %v", anomalies, err)
	}
	budgets, err := BudgetFindings.Read(ctx, s, store.EventQuery{Tenant: store.DefaultTenant, Start: tick.AddDate(0, -2, 0), End: tick})
	if err != nil {
		t.Fatal(err)
	}
	var thresholds []int
	forecasts := 0
	for _, b := range budgets {
		if b.Value.Budget != "gpu" || b.Value.Amount.String() != "2500" || b.Value.Period != "month" {
			t.Errorf("budget finding %+v", b.Value)
		}
		if b.Value.Forecast {
			forecasts++
		} else {
			thresholds = append(thresholds, b.Value.ThresholdPercent)
		}
	}
	sort.Ints(thresholds)
	if fmt.Sprint(thresholds) != "[50 80 100]" || forecasts != 1 {
		t.Errorf("thresholds %v, forecasts %d", thresholds, forecasts)
	}
	spent, err := BudgetSpend(ctx, s, w.Config.Budgets[1], tick)
	if err != nil || spent.String() != "250" {
		t.Errorf("storage spend %s, %v", spent, err)
	}
}
