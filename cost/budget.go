package cost

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// Basis is which cost of the billing lines a budget or an anomaly
// detector counts, named as the files name it.
type Basis string

const (
	// Effective is the amortised cost, with commitments spread over the
	// lines that use them: what to attribute, and the default.
	Effective Basis = "effective"
	// Billed is the cost as invoiced.
	Billed Basis = "billed"
)

func (b Basis) valid() bool { return b == Effective || b == Billed }

// Of is the basis's cost of a group of cost lines.
func (b Basis) Of(g store.CostGroup) decimal.Decimal {
	if b == Billed {
		return g.BilledCost
	}
	return g.EffectiveCost
}

// Period is the calendar period a budget caps, in UTC.
type Period string

const (
	Day   Period = "day"
	Week  Period = "week" // ISO: from Monday
	Month Period = "month"
)

// Budget caps spend over a calendar period for a scope of cost lines.
type Budget struct {
	Name       string
	Tenant     string            // "" is the default tenant
	Period     Period            // Month unless the file says otherwise
	Amount     decimal.Decimal   // in Currency
	Currency   string            // lines in other currencies are not counted
	Cost       Basis             // Effective unless the file says billed
	Filter     map[string]string // cost dimension -> value, e.g. provider: AWS, tag:team: search
	Thresholds []int             // percent of Amount that raise a finding, e.g. 50, 80, 100
	Forecast   bool              // also raise a finding when the run rate overruns the budget
	File       string            // where it was defined, file:line
}

// PeriodAt returns the budget period containing t.
func (b *Budget) PeriodAt(t time.Time) (start, end time.Time) {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch b.Period {
	case Day:
		return day, day.AddDate(0, 0, 1)
	case Week:
		offset := (int(day.Weekday()) + 6) % 7 // days since Monday
		start = day.AddDate(0, 0, -offset)
		return start, start.AddDate(0, 0, 7)
	default:
		return monthOf(t)
	}
}

func monthOf(t time.Time) (time.Time, time.Time) {
	start := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// Forecast extrapolates spend to the period's end at the run rate so far.
// Before the first hour of the period it returns spend as it is: an hour's
// rate says too little.
func Forecast(spent decimal.Decimal, start, end, now time.Time) decimal.Decimal {
	elapsed := now.Sub(start)
	if elapsed < time.Hour || !now.Before(end) {
		return spent
	}
	return spent.Mul(decimal.NewFromInt(int64(end.Sub(start)))).Div(decimal.NewFromInt(int64(elapsed))).Round(MoneyPlaces)
}

// MoneyPlaces is how many decimal places computed money keeps.
const MoneyPlaces = 12

// BudgetStatus is a budget's standing at a time.
type BudgetStatus struct {
	Budget          *Budget
	PeriodStart     time.Time
	PeriodEnd       time.Time
	Spent           decimal.Decimal
	Forecast        decimal.Decimal
	Percent         decimal.Decimal // of Amount spent, two places
	Crossed         []int           // thresholds reached
	ForecastOverrun bool            // forecast above Amount
}

// Status judges spend so far in the period containing now.
func (b *Budget) Status(spent decimal.Decimal, now time.Time) BudgetStatus {
	s := BudgetStatus{Budget: b, Spent: spent}
	s.PeriodStart, s.PeriodEnd = b.PeriodAt(now)
	s.Forecast = Forecast(spent, s.PeriodStart, s.PeriodEnd, now)
	if b.Amount.IsPositive() {
		s.Percent = spent.Mul(decimal.NewFromInt(100)).Div(b.Amount).Round(2)
	}
	for _, t := range b.Thresholds {
		if spent.Mul(decimal.NewFromInt(100)).GreaterThanOrEqual(b.Amount.Mul(decimal.NewFromInt(int64(t)))) {
			s.Crossed = append(s.Crossed, t)
		}
	}
	s.ForecastOverrun = b.Forecast && s.Forecast.GreaterThan(b.Amount)
	return s
}

// Anomaly detects unusual daily spend per group with a robust score: the
// modified z-score 0.6745 (x - median) / MAD of the day against the trailing
// window, which a single past spike cannot inflate the way a mean and
// standard deviation would.
type Anomaly struct {
	Name          string
	Tenant        string
	GroupBy       []string // cost dimensions; none watches the total
	Filter        map[string]string
	WindowDays    int             // history length; default 28
	Threshold     float64         // modified z-score to flag; default 3.5
	MinDailySpend decimal.Decimal // days below it are never flagged
	Cost          Basis           // Effective unless the file says billed
	File          string
}

// AnomalyScore is one day's judgement.
type AnomalyScore struct {
	Value, Median, MAD float64
	Score              float64 // modified z-score; +Inf when the history never varied and the day differs
	Anomalous          bool
}

// Score judges a day's spend against the history (one value a day, zeros
// included). Only spend above the usual counts: a cheap day is not an
// incident.
func (a *Anomaly) Score(history []float64, value float64) AnomalyScore {
	s := AnomalyScore{Value: value}
	if len(history) == 0 {
		return s
	}
	s.Median = median(history)
	dev := make([]float64, len(history))
	for i, h := range history {
		dev[i] = math.Abs(h - s.Median)
	}
	s.MAD = median(dev)
	switch {
	case s.MAD > 0:
		s.Score = 0.6745 * (value - s.Median) / s.MAD
	case value > s.Median:
		s.Score = math.Inf(1)
	}
	s.Anomalous = s.Score > a.threshold() && value >= a.MinDailySpend.InexactFloat64()
	return s
}

func (a *Anomaly) threshold() float64 {
	if a.Threshold > 0 {
		return a.Threshold
	}
	return 3.5
}

// Window returns the history length in days.
func (a *Anomaly) Window() int {
	if a.WindowDays > 0 {
		return a.WindowDays
	}
	return 28
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// validate checks a budget's fields.
func (b *Budget) validate() error {
	switch b.Period {
	case Month, Week, Day:
	default:
		return fmt.Errorf("period: %q is not month, week or day", b.Period)
	}
	if !b.Amount.IsPositive() {
		return fmt.Errorf("amount: %s must be positive", b.Amount)
	}
	if !b.Cost.valid() {
		return fmt.Errorf("cost: %q is not effective or billed", b.Cost)
	}
	for _, t := range b.Thresholds {
		if t <= 0 || t > 1000 {
			return fmt.Errorf("thresholds: %d is not a percentage in (0, 1000]", t)
		}
	}
	return nil
}
