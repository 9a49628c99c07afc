package api

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// FOCUS versions the export writes; the newest is the default.
var focusVersions = []string{"1.0", "1.1", "1.2"}

// focusColumn is one column of the export: its FOCUS name, the version
// that introduced it, and its cell for a line ("" is a null).
type focusColumn struct {
	name  string
	since string
	cell  func(l *store.CostLine) string
}

// focusColumns are the columns the export writes, in FOCUS's alphabetical
// order. The 1.0 columns carry what was imported, nulls as nulls. Of the
// columns 1.1 and 1.2 added, the export writes those it can derive without
// inventing data: ServiceSubcategory as its category's catch-all
// "Other (<ServiceCategory>)", InvoiceId as null (unknown), and the
// PricingCurrency columns as the billing currency and its amounts, which is
// what FOCUS 1.0's unit prices are in. The others (capacity reservations,
// commitment quantities, SKU meters, account types) are conditional on
// provider capabilities Vigil does not know of, and left out.
var focusColumns = []focusColumn{
	{"AvailabilityZone", "1.0", func(l *store.CostLine) string { return l.AvailabilityZone }},
	{"BilledCost", "1.0", func(l *store.CostLine) string { return l.BilledCost.String() }},
	{"BillingAccountId", "1.0", func(l *store.CostLine) string { return l.BillingAccountID }},
	{"BillingAccountName", "1.0", func(l *store.CostLine) string { return l.BillingAccountName }},
	{"BillingCurrency", "1.0", func(l *store.CostLine) string { return l.BillingCurrency }},
	{"BillingPeriodEnd", "1.0", func(l *store.CostLine) string { return focusTime(l.BillingPeriodEnd) }},
	{"BillingPeriodStart", "1.0", func(l *store.CostLine) string { return focusTime(l.BillingPeriodStart) }},
	{"ChargeCategory", "1.0", func(l *store.CostLine) string { return l.ChargeCategory }},
	{"ChargeClass", "1.0", func(l *store.CostLine) string { return l.ChargeClass }},
	{"ChargeDescription", "1.0", func(l *store.CostLine) string { return l.ChargeDescription }},
	{"ChargeFrequency", "1.0", func(l *store.CostLine) string { return l.ChargeFrequency }},
	{"ChargePeriodEnd", "1.0", func(l *store.CostLine) string { return focusTime(l.ChargePeriodEnd) }},
	{"ChargePeriodStart", "1.0", func(l *store.CostLine) string { return focusTime(l.ChargePeriodStart) }},
	{"CommitmentDiscountCategory", "1.0", func(l *store.CostLine) string { return l.CommitmentDiscountCategory }},
	{"CommitmentDiscountId", "1.0", func(l *store.CostLine) string { return l.CommitmentDiscountID }},
	{"CommitmentDiscountName", "1.0", func(l *store.CostLine) string { return l.CommitmentDiscountName }},
	{"CommitmentDiscountStatus", "1.0", func(l *store.CostLine) string { return l.CommitmentDiscountStatus }},
	{"CommitmentDiscountType", "1.0", func(l *store.CostLine) string { return l.CommitmentDiscountType }},
	{"ConsumedQuantity", "1.0", nullable("ConsumedQuantity", func(l *store.CostLine) decimal.Decimal { return l.ConsumedQuantity })},
	{"ConsumedUnit", "1.0", func(l *store.CostLine) string { return l.ConsumedUnit }},
	{"ContractedCost", "1.0", nullable("ContractedCost", func(l *store.CostLine) decimal.Decimal { return l.ContractedCost })},
	{"ContractedUnitPrice", "1.0", nullable("ContractedUnitPrice", func(l *store.CostLine) decimal.Decimal { return l.ContractedUnitPrice })},
	{"EffectiveCost", "1.0", func(l *store.CostLine) string { return l.EffectiveCost.String() }},
	{"InvoiceId", "1.2", func(*store.CostLine) string { return "" }},
	{"InvoiceIssuerName", "1.0", func(l *store.CostLine) string { return l.InvoiceIssuerName }},
	{"ListCost", "1.0", nullable("ListCost", func(l *store.CostLine) decimal.Decimal { return l.ListCost })},
	{"ListUnitPrice", "1.0", nullable("ListUnitPrice", func(l *store.CostLine) decimal.Decimal { return l.ListUnitPrice })},
	{"PricingCategory", "1.0", func(l *store.CostLine) string { return l.PricingCategory }},
	{"PricingCurrency", "1.2", func(l *store.CostLine) string { return l.BillingCurrency }},
	{"PricingCurrencyContractedUnitPrice", "1.2", nullable("ContractedUnitPrice", func(l *store.CostLine) decimal.Decimal { return l.ContractedUnitPrice })},
	{"PricingCurrencyEffectiveCost", "1.2", func(l *store.CostLine) string { return l.EffectiveCost.String() }},
	{"PricingCurrencyListUnitPrice", "1.2", nullable("ListUnitPrice", func(l *store.CostLine) decimal.Decimal { return l.ListUnitPrice })},
	{"PricingQuantity", "1.0", nullable("PricingQuantity", func(l *store.CostLine) decimal.Decimal { return l.PricingQuantity })},
	{"PricingUnit", "1.0", func(l *store.CostLine) string { return l.PricingUnit }},
	{"ProviderName", "1.0", func(l *store.CostLine) string { return l.ProviderName }},
	{"PublisherName", "1.0", func(l *store.CostLine) string { return l.PublisherName }},
	{"RegionId", "1.0", func(l *store.CostLine) string { return l.RegionID }},
	{"RegionName", "1.0", func(l *store.CostLine) string { return l.RegionName }},
	{"ResourceId", "1.0", func(l *store.CostLine) string { return l.ResourceID }},
	{"ResourceName", "1.0", func(l *store.CostLine) string { return l.ResourceName }},
	{"ResourceType", "1.0", func(l *store.CostLine) string { return l.ResourceType }},
	{"ServiceCategory", "1.0", func(l *store.CostLine) string { return l.ServiceCategory }},
	{"ServiceName", "1.0", func(l *store.CostLine) string { return l.ServiceName }},
	{"ServiceSubcategory", "1.1", func(l *store.CostLine) string { return "Other (" + l.ServiceCategory + ")" }},
	{"SkuId", "1.0", func(l *store.CostLine) string { return l.SkuID }},
	{"SkuPriceId", "1.0", func(l *store.CostLine) string { return l.SkuPriceID }},
	{"SubAccountId", "1.0", func(l *store.CostLine) string { return l.SubAccountID }},
	{"SubAccountName", "1.0", func(l *store.CostLine) string { return l.SubAccountName }},
	{"Tags", "1.0", focusTags},
}

// nullable writes a decimal column that may be null; name is the column
// Nulls names.
func nullable(name string, v func(*store.CostLine) decimal.Decimal) func(*store.CostLine) string {
	return func(l *store.CostLine) string {
		if l.IsNull(name) {
			return ""
		}
		return v(l).String()
	}
}

func focusTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func focusTags(l *store.CostLine) string {
	if len(l.Tags) == 0 {
		return ""
	}
	m := make(map[string]string, len(l.Tags))
	for _, kv := range l.Tags {
		m[kv.Key] = kv.Value
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// focusLayout is the columns of one FOCUS version.
type focusLayout []focusColumn

// focusLayoutOf returns the columns of version ("" is the newest).
func focusLayoutOf(version string) (focusLayout, error) {
	if version == "" {
		version = focusVersions[len(focusVersions)-1]
	}
	known := false
	for _, v := range focusVersions {
		known = known || v == version
	}
	if !known {
		return nil, fmt.Errorf("version %q: FOCUS 1.0, 1.1 and 1.2 are supported", version)
	}
	var out focusLayout
	for _, c := range focusColumns {
		if c.since <= version { // "1.0" < "1.1" < "1.2" as strings too
			out = append(out, c)
		}
	}
	return out, nil
}

func (fl focusLayout) header() []string {
	out := make([]string, len(fl))
	for i, c := range fl {
		out[i] = c.name
	}
	return out
}

func (fl focusLayout) row(l *store.CostLine) []string {
	out := make([]string, len(fl))
	for i, c := range fl {
		out[i] = c.cell(l)
	}
	return out
}
