package billing

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// focusMandatory are the columns every FOCUS version (1.0, 1.1, 1.2) has.
var focusMandatory = []string{
	"BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
	"ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost",
	"EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity", "PricingUnit", "ProviderName",
	"PublisherName", "ServiceCategory", "ServiceName",
}

// mapper turns one CSV record into a cost line.
type mapper struct {
	col map[string]int // column name -> index
}

// newMapper checks a header and picks the format.
func newMapper(header []string, format string) (*mapper, string, error) {
	m := &mapper{col: make(map[string]int, len(header))}
	for i, h := range header {
		m.col[strings.TrimSpace(h)] = i
	}
	detected := detect(m.col)
	switch format {
	case "", FormatAuto:
		if detected == "" {
			return nil, "", fmt.Errorf("unknown billing format: the header is not FOCUS (it lacks %s); supported: focus", strings.Join(m.missing(focusMandatory), ", "))
		}
		format = detected
	case FormatFOCUS:
	default:
		return nil, "", fmt.Errorf("unknown billing format %q: supported are auto and focus", format)
	}
	if missing := m.missing(focusMandatory); len(missing) > 0 {
		return nil, "", fmt.Errorf("not a FOCUS file: missing mandatory column(s) %s", strings.Join(missing, ", "))
	}
	return m, format, nil
}

// detect names the format a header belongs to, or "".
func detect(col map[string]int) string {
	_, billed := col["BilledCost"]
	_, period := col["ChargePeriodStart"]
	if billed && period {
		return FormatFOCUS
	}
	return ""
}

func (m *mapper) missing(cols []string) []string {
	var out []string
	for _, c := range cols {
		if _, ok := m.col[c]; !ok {
			out = append(out, c)
		}
	}
	return out
}

// isNull reports whether a field is a FOCUS null: empty or the word NULL.
func isNull(s string) bool { return s == "" || s == "NULL" || s == "null" }

func (m *mapper) line(rec []string) (store.CostLine, *RowError) {
	var l store.CostLine
	var rowErr *RowError
	str := func(name string) string {
		if i, ok := m.col[name]; ok && !isNull(rec[i]) {
			return rec[i]
		}
		return ""
	}
	money := func(name string, required bool) decimal.Decimal {
		v := strings.TrimSpace(str(name))
		if v == "" {
			if required && rowErr == nil {
				rowErr = &RowError{Column: name, Reason: "is empty, and FOCUS requires a value"}
			}
			return decimal.Zero
		}
		d, err := decimal.NewFromString(v)
		if err != nil {
			if rowErr == nil {
				rowErr = &RowError{Column: name, Reason: fmt.Sprintf("%q is not a number", v)}
			}
			return decimal.Zero
		}
		if d, err = store.Money(d); err != nil && rowErr == nil {
			rowErr = &RowError{Column: name, Reason: err.Error()}
		}
		return d
	}
	when := func(name string, required bool) time.Time {
		v := strings.TrimSpace(str(name))
		if v == "" {
			if required && rowErr == nil {
				rowErr = &RowError{Column: name, Reason: "is empty, and FOCUS requires a date"}
			}
			return time.Time{}
		}
		t, err := parseTime(v)
		if err != nil && rowErr == nil {
			rowErr = &RowError{Column: name, Reason: err.Error()}
		}
		return t
	}
	l.BillingAccountID = str("BillingAccountId")
	l.BillingAccountName = str("BillingAccountName")
	l.BillingCurrency = str("BillingCurrency")
	l.BillingPeriodStart = when("BillingPeriodStart", true)
	l.BillingPeriodEnd = when("BillingPeriodEnd", true)
	l.ChargePeriodStart = when("ChargePeriodStart", true)
	l.ChargePeriodEnd = when("ChargePeriodEnd", true)
	l.ChargeCategory = str("ChargeCategory")
	l.ChargeClass = str("ChargeClass")
	l.ChargeDescription = str("ChargeDescription")
	l.ChargeFrequency = str("ChargeFrequency")
	l.PricingCategory = str("PricingCategory")
	l.BilledCost = money("BilledCost", true)
	l.EffectiveCost = money("EffectiveCost", true)
	l.ListCost = money("ListCost", false)
	l.ContractedCost = money("ContractedCost", false)
	l.PricingQuantity = money("PricingQuantity", false)
	l.PricingUnit = str("PricingUnit")
	l.ConsumedQuantity = money("ConsumedQuantity", false)
	l.ConsumedUnit = str("ConsumedUnit")
	l.ProviderName = str("ProviderName")
	l.PublisherName = str("PublisherName")
	l.InvoiceIssuerName = str("InvoiceIssuerName")
	l.ServiceCategory = str("ServiceCategory")
	l.ServiceName = str("ServiceName")
	l.RegionID = str("RegionId")
	l.RegionName = str("RegionName")
	l.AvailabilityZone = str("AvailabilityZone")
	l.ResourceID = str("ResourceId")
	l.ResourceName = str("ResourceName")
	l.ResourceType = str("ResourceType")
	l.SkuID = str("SkuId")
	l.SkuPriceID = str("SkuPriceId")
	l.SubAccountID = str("SubAccountId")
	l.SubAccountName = str("SubAccountName")
	l.CommitmentDiscountID = str("CommitmentDiscountId")
	if rowErr != nil {
		return l, rowErr
	}
	if l.BillingCurrency == "" {
		return l, &RowError{Column: "BillingCurrency", Reason: "is empty, and FOCUS requires a currency"}
	}
	if l.ChargeCategory == "" {
		return l, &RowError{Column: "ChargeCategory", Reason: "is empty, and FOCUS requires one of Usage, Purchase, Tax, Credit, Adjustment"}
	}
	if tags := str("Tags"); tags != "" {
		t, err := parseTags(tags)
		if err != nil {
			return l, &RowError{Column: "Tags", Reason: err.Error()}
		}
		l.Tags = t
	}
	return l, nil
}

// timeLayouts are the timestamp forms FOCUS exports use: ISO 8601 in UTC
// per the spec, and the space-separated form of real exports.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04Z", "2006-01-02T15:04", "2006-01-02"}

func parseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date-time (want ISO 8601, e.g. 2024-09-01T00:00:00Z or 2024-09-01 00:00:00)", s)
}

// parseTags reads the FOCUS Tags column, a JSON object; non-string values
// keep their JSON text. Keys are sorted so a line's tags compare equal.
func parseTags(s string) (store.Attributes, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("is not a JSON object: %v", err)
	}
	out := make(store.Attributes, 0, len(m))
	for k, raw := range m {
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			v = string(raw)
		}
		out = append(out, store.KeyValue{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
