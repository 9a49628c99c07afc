package api

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// The kinds of FOCUS cell, for comparing a cell of the sample with the
// export's: decimals as decimals, times as instants, Tags as JSON objects,
// anything else as text; a null is the empty field or the word NULL.
var (
	focusDecimals = []string{"BilledCost", "ConsumedQuantity", "ContractedCost", "ContractedUnitPrice", "EffectiveCost", "ListCost", "ListUnitPrice", "PricingQuantity",
		"PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice"}
	focusTimes = []string{"BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart"}
)

func focusNull(s string) bool { return s == "" || s == "NULL" }

// canonicalCell writes a cell so that two cells are equal as FOCUS values
// exactly when their canonical forms are equal.
func canonicalCell(t *testing.T, column, s string) string {
	t.Helper()
	switch {
	case focusNull(s):
		return "∅"
	case slices.Contains(focusDecimals, column):
		d, err := decimal.NewFromString(s)
		if err != nil {
			t.Fatalf("%s: %q is not a decimal", column, s)
		}
		return d.String() // trailing zeros dropped: 2.000 is 2
	case slices.Contains(focusTimes, column):
		return parseFOCUSTime(t, s).Format(time.RFC3339Nano)
	case column == "Tags":
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("Tags %q: %v", s, err)
		}
		b, _ := json.Marshal(m) // sorted keys
		return string(b)
	}
	return s
}

// focusTimeLayouts are ISO 8601 as FOCUS writes it, and the sample's
// space-separated form.
var focusTimeLayouts = []string{time.RFC3339, "2006-01-02 15:04:05"}

func isFOCUSTime(s string) bool {
	for _, layout := range focusTimeLayouts {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

func parseFOCUSTime(t *testing.T, s string) time.Time {
	for _, layout := range focusTimeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			return v
		}
	}
	t.Fatalf("%q is not a FOCUS date-time", s)
	return time.Time{}
}

// focusTable is a CSV as a header and records.
type focusTable struct {
	header []string
	rows   [][]string
}

func readFOCUS(t *testing.T, body string) focusTable {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return focusTable{header: recs[0], rows: recs[1:]}
}

func (ft focusTable) column(name string) int { return slices.Index(ft.header, name) }

// canonicalRows writes each row's cells of the columns, in that order, as
// one string: the multiset of rows of two tables is equal exactly when each
// row of one has a row of the other equal cell by cell.
func (ft focusTable) canonicalRows(t *testing.T, columns []string) []string {
	var out []string
	for _, r := range ft.rows {
		cells := make([]string, len(columns))
		for i, c := range columns {
			cells[i] = c + "=" + canonicalCell(t, c, r[ft.column(c)])
		}
		out = append(out, strings.Join(cells, " | "))
	}
	slices.Sort(out)
	return out
}

// TestFOCUSRoundTrip imports the FOCUS 1.0 sample and exports it in each
// version: every column of the sample comes back (but Id, the sample's row
// number, which is no FOCUS column), each row equal to its input cell by
// cell, nulls null; then the export passes the FOCUS validator's rules for
// the version (focusRules), but those the sample itself breaks.
func TestFOCUSRoundTrip(t *testing.T) {
	h := setup(t)
	if code, body := do(t, h, "POST", "/api/v1/billing/import?name=sample.csv", "text/csv", sample(t)); code != 200 || !strings.Contains(body, `"accepted":1000`) {
		t.Fatalf("import: %d %s", code, body)
	}
	in := readFOCUS(t, string(sample(t)))
	var columns []string
	for _, c := range in.header {
		if c != "Id" {
			columns = append(columns, c)
		}
	}
	want := in.canonicalRows(t, columns)
	for _, version := range focusVersions {
		code, body := do(t, h, "GET", "/api/v1/cost/export?format=focus&version="+version+"&from=2024-09-01&to=2024-11-01", "", nil)
		if code != 200 {
			t.Fatalf("%s: %d %s", version, code, body)
		}
		out := readFOCUS(t, body)
		for _, c := range columns {
			if out.column(c) < 0 {
				t.Fatalf("%s: the export has no column %s", version, c)
			}
		}
		if got := out.canonicalRows(t, columns); !slices.Equal(got, want) {
			t.Errorf("%s: the export differs from the sample:\n%s", version, firstDifference(got, want))
		}
		own := violations(in, focusRules[version])
		if !maps.Equal(own, sampleViolations[version]) {
			t.Errorf("%s: the sample breaks %v, not the rules listed in sampleViolations", version, own)
		}
		if got := violations(out, focusRules[version]); !maps.Equal(got, own) {
			t.Errorf("%s: the export breaks the validator's rules\n got %v\nwant %v (the sample's own)", version, got, own)
		}
	}
	if code, _ := do(t, h, "GET", "/api/v1/cost/export?version=0.5&from=2024-09-01&to=2024-11-01", "", nil); code != 400 {
		t.Errorf("unknown version: %d", code)
	}
}

func firstDifference(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf(" got %s\nwant %s", got[i], want[i])
		}
	}
	return fmt.Sprintf("got %d rows, want %d", len(got), len(want))
}

// violations applies rules to a table: rule id → the rows that break it
// (-1 when the column is missing).
func violations(ft focusTable, rules []focusRule) map[string]int {
	out := map[string]int{}
	for _, r := range rules {
		i := ft.column(r.column)
		if i < 0 {
			if r.check == checkRequired {
				out[r.id] = -1
			}
			continue // a rule on a column the version or export lacks
		}
		for _, row := range ft.rows {
			if !r.holds(row[i]) {
				out[r.id]++
			}
		}
	}
	return out
}

// sampleViolations are the rules the sample itself breaks, rule id → rows,
// which an exact export breaks too and nothing more: 7 Oracle rows write
// ChargeFrequency "Usage-based" (FOCUS: "Usage-Based") and leave
// ContractedCost null; and the 1.2 model allows CommitmentDiscountStatus
// "Active", "Expired" or "Pending" where FOCUS 1.0 wrote "Used" or "Unused"
// (4 rows say "Used").
var sampleViolations = map[string]map[string]int{
	"1.0": {"ChargeFrequency_Enum": 7, "ContractedCost_NotNull": 7},
	"1.1": {"ChargeFrequency-C-003-M": 7, "CommitmentDiscountStatus-C-005-M": 4, "ContractedCost-C-003-M": 7},
	"1.2": {"ChargeFrequency-C-003-M": 7, "CommitmentDiscountStatus-C-005-M": 4, "ContractedCost-C-003-M": 7},
}
