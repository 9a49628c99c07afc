package store

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// callerCostByCollector is what the collector does with a cost attribute:
// it takes the caller's cost when the value parses and fits the store.
func callerCostByCollector(v string) bool {
	d, err := decimal.NewFromString(v)
	if err != nil {
		return false
	}
	_, err = Money(d)
	return err == nil
}

// beyondPattern is where CallerCostPattern knowingly differs from the
// collector: magnitudes past Decimal(38,12) and exponents past three digits.
func beyondPattern(v string) bool {
	if d, err := decimal.NewFromString(v); err == nil {
		if _, err := Money(d); err != nil {
			return true
		}
	}
	if i := strings.IndexAny(v, "eE"); i >= 0 {
		exp := strings.TrimLeft(strings.TrimLeft(v[i+1:], "+-"), "0")
		return len(exp) > 3
	}
	return false
}

func TestCallerCostPattern(t *testing.T) {
	for _, v := range []string{"0.5", "1e-3", "-2", "+2", "−2", ".5", "5.", "1.e5", "007", "1E+02", "0.000000000001",
		"", "n/a", ".", "-", "1e", "e5", "1..2", "1.2.3", " 1", "1 ", "0x10", "1,5", "--1", "+-1", ".e5", "NaN", "Inf", "1e0005"} {
		if got, want := IsCallerCost(v), callerCostByCollector(v); got != want {
			t.Errorf("%q: pattern says %v, collector %v", v, got, want)
		}
	}
}

// FuzzCallerCostPattern holds the SQL pattern to the collector's parsing,
// outside the documented corner.
func FuzzCallerCostPattern(f *testing.F) {
	for _, s := range []string{"0.5", "1e-3", "n/a", "−1", ".5e+7", "1.", "-.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if beyondPattern(v) {
			return
		}
		if got, want := IsCallerCost(v), callerCostByCollector(v); got != want {
			t.Errorf("%q: pattern says %v, collector %v", v, got, want)
		}
	})
}

func TestValidateRepriceRules(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// 2.5 per million as a price file's division leaves it: 16 places, the
	// last ones zeros.
	rate := TokenRate{Input: decimal.RequireFromString("2.5").Div(decimal.New(1, 6)), CachedInput: decimal.Zero, Output: decimal.Zero}
	if rate.Input.Exponent() >= -MoneyScale {
		t.Fatalf("want a price with trailing zeros past %d places, got exponent %d", MoneyScale, rate.Input.Exponent())
	}
	ok := RepriceRule{Tenant: "t", Model: "m", Start: at, End: at.Add(time.Hour), Tiers: []RateTier{{Rate: rate}}}
	if err := ValidateRepriceRules([]RepriceRule{ok}); err != nil {
		t.Fatal(err)
	}
	for want, mutate := range map[string]func(r *RepriceRule){
		"no model":           func(r *RepriceRule) { r.Model = "" },
		"is not after start": func(r *RepriceRule) { r.End = r.Start },
		"default) tier has":  func(r *RepriceRule) { r.Tiers[0].When = []TokenCondition{{"input", "gt", 1}} },
		`"cached" tokens`:    func(r *RepriceRule) { r.Tiers = append(r.Tiers, RateTier{When: []TokenCondition{{"cached", "gt", 1}}}) },
		`operator "between"`: func(r *RepriceRule) {
			r.Tiers = append(r.Tiers, RateTier{When: []TokenCondition{{"input", "between", 1}}})
		},
		"more than 12 decimal":     func(r *RepriceRule) { r.Tiers[0].Rate.Output = decimal.RequireFromString("1e-13") },
		"does not fit Decimal(38,": func(r *RepriceRule) { r.Tiers[0].Rate.Output = decimal.RequireFromString("1e27") },
	} {
		r := ok
		r.Tiers = append([]RateTier{}, ok.Tiers...)
		mutate(&r)
		if err := ValidateRepriceRules([]RepriceRule{r}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error with %q, got %v", want, err)
		}
	}
}
