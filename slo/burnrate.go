// Package slo owns service level objectives: their specs (Vigil's native
// dialect and OpenSLO), the error-budget and burn-rate arithmetic, and the
// multi-window multi-burn-rate alert rules of the Google SRE workbook.
// Everything here is pure arithmetic on counts and durations; reading
// rollups and writing alerts happen elsewhere.
package slo

import (
	"fmt"
	"math"
	"time"
)

// AlertWindow is one multi-window burn-rate rule: it fires when the burn
// rate over both the long and the short window exceeds Factor.
type AlertWindow struct {
	Severity string // page or ticket
	Long     time.Duration
	Short    time.Duration
	// BudgetPercent is the share of the period's error budget spent when
	// the rule fires at its factor over the long window.
	BudgetPercent int
	Factor        float64
	// For is how long the rule must keep firing before it notifies (an
	// OpenSLO AlertCondition's alertAfter); until then it is pending.
	For time.Duration
	// Inclusive rules fire at the factor itself (OpenSLO's op gte);
	// the workbook's rules fire above it.
	Inclusive bool
	// Labels and Annotations are added to this rule's alerts (Sloth's
	// page_alert and ticket_alert); the SLO's own labels come first.
	Labels, Annotations map[string]string
}

// Exceeds reports whether a burn rate trips the rule.
func (w AlertWindow) Exceeds(rate float64) bool {
	if w.Inclusive {
		return rate >= w.Factor
	}
	return rate > w.Factor
}

// op is the comparison as PromQL writes it.
func (w AlertWindow) op() string {
	if w.Inclusive {
		return ">="
	}
	return ">"
}

// workbookWindows are the SRE workbook's rules for a 30-day period.
var workbookWindows = []AlertWindow{
	{Severity: "page", Long: time.Hour, Short: 5 * time.Minute, BudgetPercent: 2},
	{Severity: "page", Long: 6 * time.Hour, Short: 30 * time.Minute, BudgetPercent: 5},
	{Severity: "ticket", Long: 24 * time.Hour, Short: 2 * time.Hour, BudgetPercent: 10},
	{Severity: "ticket", Long: 72 * time.Hour, Short: 6 * time.Hour, BudgetPercent: 10},
}

// DefaultAlertWindows returns the workbook's window pairs with factors for
// the SLO's period: factor = budget fraction x period / long window, which
// is 14.4, 6, 3 and 1 for 30 days and 13.44, 5.6, 2.8 and 0.9333 for 28.
func DefaultAlertWindows(period time.Duration) []AlertWindow {
	out := make([]AlertWindow, len(workbookWindows))
	for i, w := range workbookWindows {
		w.Factor = Factor(w.BudgetPercent, period, w.Long)
		out[i] = w
	}
	return out
}

// Factor is the burn rate at which budgetPercent of a period's budget is
// spent over the long window. Integer inputs keep 14.4 exactly 14.4.
func Factor(budgetPercent int, period, long time.Duration) float64 {
	return float64(int64(budgetPercent)*int64(period/time.Minute)) / float64(100*int64(long/time.Minute))
}

// BurnRate is how fast the error budget burns: the observed error ratio
// over the allowed one. At 1 the budget lasts exactly the period.
func BurnRate(errorRatio, objective float64) float64 {
	allowed := 1 - objective
	if allowed <= 0 {
		return math.Inf(1)
	}
	return errorRatio / allowed
}

// MaxBurnRate is the burn rate of a total outage: every event bad. A rule
// whose factor is above it can never fire.
func MaxBurnRate(objective float64) float64 { return BurnRate(1, objective) }

// CanFire reports whether any error ratio can reach the window's factor.
func (w AlertWindow) CanFire(objective float64) bool { return w.Factor <= MaxBurnRate(objective)+1e-12 }

// String describes the rule as `vigil slo plan` prints it.
func (w AlertWindow) String() string {
	s := fmt.Sprintf("%s: burn rate %s %s over %s and %s (%d%% of the budget when it fires)",
		w.Severity, w.op(), formatFactor(w.Factor), formatDuration(w.Long), formatDuration(w.Short), w.BudgetPercent)
	if w.For > 0 {
		s += ", for " + formatDuration(w.For)
	}
	return s
}

func formatFactor(f float64) string {
	return fmt.Sprintf("%.4g", f)
}

// formatDuration writes 5m, 1h, 3d.
func formatDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
