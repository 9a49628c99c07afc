package billing

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

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
type mapper interface {
	line(r *row) store.CostLine
}

// format is one billing export format.
type format struct {
	name string
	// detect reports whether a header is this format's.
	detect func(c columns) bool
	// required lists the columns a file of this format must have.
	required []string
	mapper   func(c columns) mapper
}

// formats are tried in order when detecting.
var formats = []format{
	{name: FormatFOCUS, detect: func(c columns) bool { return c.has("BilledCost", "ChargePeriodStart") }, required: focusMandatory, mapper: func(columns) mapper { return focusMapper{} }},
	{name: FormatAWSCUR, detect: func(c columns) bool { return c.has("line_item_unblended_cost") }, required: curRequired, mapper: func(columns) mapper { return curMapper{names: cur2} }},
	{name: FormatAWSCURLegacy, detect: func(c columns) bool { return c.has("lineItem/UnblendedCost") }, required: curLegacyRequired, mapper: newLegacyCURMapper},
	{name: FormatGCP, detect: func(c columns) bool { return c.has("cost", "usage_start_time") }, required: gcpRequired, mapper: func(columns) mapper { return gcpMapper{} }},
	{name: FormatAzure, detect: func(c columns) bool { return c.has("CostInBillingCurrency") }, required: azureRequired, mapper: func(columns) mapper { return azureMapper{} }},
	{name: FormatAzureAmortized, detect: func(columns) bool { return false }, required: azureRequired, mapper: func(columns) mapper { return azureMapper{amortized: true} }},
}

func formatNames() string {
	names := []string{FormatAuto}
	for _, f := range formats {
		names = append(names, f.name)
	}
	return strings.Join(names, ", ")
}

// newMapper checks a header and picks the format.
func newMapper(header []string, name string) (mapper, columns, string, error) {
	c := newColumns(header)
	var f *format
	switch name {
	case "", FormatAuto:
		for i := range formats {
			if formats[i].detect(c) {
				f = &formats[i]
				break
			}
		}
		if f == nil {
			return nil, nil, "", fmt.Errorf("unknown billing format: the header is none of FOCUS (BilledCost, ChargePeriodStart), AWS CUR 2.0 (line_item_unblended_cost), legacy CUR (lineItem/UnblendedCost), GCP (cost, usage_start_time) or Azure (CostInBillingCurrency)")
		}
	default:
		for i := range formats {
			if formats[i].name == name {
				f = &formats[i]
			}
		}
		if f == nil {
			return nil, nil, "", fmt.Errorf("unknown billing format %q: supported are %s", name, formatNames())
		}
	}
	if missing := c.missing(f.required); len(missing) > 0 {
		return nil, nil, "", fmt.Errorf("not a %s file: missing required column(s) %s", f.name, strings.Join(missing, ", "))
	}
	return f.mapper(c), c, f.name, nil
}

// focusMapper reads FOCUS columns as they are.
type focusMapper struct{}

func (focusMapper) line(r *row) store.CostLine {
	var l store.CostLine
	l.BillingAccountID = r.str("BillingAccountId")
	l.BillingAccountName = r.str("BillingAccountName")
	l.BillingCurrency = r.str("BillingCurrency")
	l.BillingPeriodStart = r.time("BillingPeriodStart", true)
	l.BillingPeriodEnd = r.time("BillingPeriodEnd", true)
	l.ChargePeriodStart = r.time("ChargePeriodStart", true)
	l.ChargePeriodEnd = r.time("ChargePeriodEnd", true)
	l.ChargeCategory = r.str("ChargeCategory")
	l.ChargeClass = r.str("ChargeClass")
	l.ChargeDescription = r.str("ChargeDescription")
	l.ChargeFrequency = r.str("ChargeFrequency")
	l.PricingCategory = r.str("PricingCategory")
	l.BilledCost = r.money("BilledCost", true)
	l.EffectiveCost = r.money("EffectiveCost", true)
	l.ListCost = r.nullable(&l, "ListCost", false)
	l.ContractedCost = r.nullable(&l, "ContractedCost", false)
	l.PricingQuantity = r.nullable(&l, "PricingQuantity", true)
	l.PricingUnit = r.str("PricingUnit")
	l.ConsumedQuantity = r.nullable(&l, "ConsumedQuantity", true)
	l.ListUnitPrice = r.nullable(&l, "ListUnitPrice", true)
	l.ContractedUnitPrice = r.nullable(&l, "ContractedUnitPrice", true)
	l.ConsumedUnit = r.str("ConsumedUnit")
	l.ProviderName = r.str("ProviderName")
	l.PublisherName = r.str("PublisherName")
	l.InvoiceIssuerName = r.str("InvoiceIssuerName")
	l.ServiceCategory = r.str("ServiceCategory")
	l.ServiceName = r.str("ServiceName")
	l.RegionID = r.str("RegionId")
	l.RegionName = r.str("RegionName")
	l.AvailabilityZone = r.str("AvailabilityZone")
	l.ResourceID = r.str("ResourceId")
	l.ResourceName = r.str("ResourceName")
	l.ResourceType = r.str("ResourceType")
	l.SkuID = r.str("SkuId")
	l.SkuPriceID = r.str("SkuPriceId")
	l.SubAccountID = r.str("SubAccountId")
	l.SubAccountName = r.str("SubAccountName")
	l.CommitmentDiscountID = r.str("CommitmentDiscountId")
	l.CommitmentDiscountCategory = r.str("CommitmentDiscountCategory")
	l.CommitmentDiscountName = r.str("CommitmentDiscountName")
	l.CommitmentDiscountStatus = r.str("CommitmentDiscountStatus")
	l.CommitmentDiscountType = r.str("CommitmentDiscountType")
	if r.err != nil {
		return l
	}
	if l.BillingCurrency == "" {
		r.fail("BillingCurrency", "is empty, and FOCUS requires a currency")
	}
	if l.ChargeCategory == "" {
		r.fail("ChargeCategory", "is empty, and FOCUS requires one of Usage, Purchase, Tax, Credit, Adjustment")
	}
	if tags := r.str("Tags"); tags != "" {
		t, err := parseTags(tags)
		if err != nil {
			r.fail("Tags", "%v", err)
		}
		l.Tags = t
	}
	return l
}

// parseTags reads a tags column holding a JSON object (or, as Azure writes
// it, the object's members without braces); non-string values keep their
// JSON text. Keys are sorted so a line's tags compare equal.
func parseTags(s string) (store.Attributes, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") {
		s = "{" + s + "}"
	}
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
