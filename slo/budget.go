package slo

import "errors"

// BudgetingMethod is how an SLO judges its window, named as OpenSLO names
// it.
type BudgetingMethod string

const (
	// Occurrences judges good events over all events.
	Occurrences BudgetingMethod = "Occurrences"
	// Timeslices judges good slices over slices with events; a slice is
	// good when its ratio reaches the SLO's SliceTarget.
	Timeslices BudgetingMethod = "Timeslices"
	// RatioTimeslices judges the mean of the slices' ratios.
	RatioTimeslices BudgetingMethod = "RatioTimeslices"
)

// sliced reports whether the method judges the window by slices.
func (m BudgetingMethod) sliced() bool { return m == Timeslices || m == RatioTimeslices }

// Counts are good and total events over a window: fractional for SLIs
// read from PromQL rates and ratios (see store.Rollup).
type Counts struct {
	Good, Total float64
}

// Ratio is good over total; ok is false without events (no data is never
// "good").
func (c Counts) Ratio() (float64, bool) {
	if c.Total == 0 {
		return 0, false
	}
	return c.Good / c.Total, true
}

// HasEvents reports whether the window saw any event: a burn rate or
// ratio of a window without one is unknown, not 0.
func (c Counts) HasEvents() bool { return c.Total != 0 }

// ErrorRatio is bad over total.
func (c Counts) ErrorRatio() (float64, bool) {
	r, ok := c.Ratio()
	return 1 - r, ok
}

// Budget is the state of an error budget.
type Budget struct {
	SLI       float64 // the window's good ratio (for timeslices, of slices)
	Consumed  float64 // share of the budget spent; above 1 is overspent
	Remaining float64 // 1 - Consumed; negative when overspent
	NoData    bool
}

// OccurrencesBudget judges good/total events against the objective: the
// budget is the (1 - objective) share of events allowed to be bad.
func OccurrencesBudget(c Counts, objective float64) Budget {
	sli, ok := c.Ratio()
	if !ok {
		return Budget{NoData: true}
	}
	return budgetFromSLI(sli, objective)
}

func budgetFromSLI(sli, objective float64) Budget {
	consumed := (1 - sli) / (1 - objective)
	return Budget{SLI: sli, Consumed: consumed, Remaining: 1 - consumed}
}

// ErrNoSlices is returned when a timeslice window has no slice with data.
var ErrNoSlices = errors.New("no timeslice has data")

// TimeslicesBudget judges slices: a slice is good when its ratio reaches
// sliceTarget; the SLI is good slices over slices with data (a slice
// without events is left out, neither good nor bad).
func TimeslicesBudget(slices []Counts, sliceTarget, objective float64) Budget {
	var good, all int
	for _, s := range slices {
		r, ok := s.Ratio()
		if !ok {
			continue
		}
		all++
		if r >= sliceTarget {
			good++
		}
	}
	if all == 0 {
		return Budget{NoData: true}
	}
	return budgetFromSLI(float64(good)/float64(all), objective)
}

// RatioTimeslicesBudget uses the mean of the per-slice ratios as the SLI,
// so a quiet slice weighs as much as a busy one.
func RatioTimeslicesBudget(slices []Counts, objective float64) Budget {
	var sum float64
	var n int
	for _, s := range slices {
		if r, ok := s.Ratio(); ok {
			sum += r
			n++
		}
	}
	if n == 0 {
		return Budget{NoData: true}
	}
	return budgetFromSLI(sum/float64(n), objective)
}
