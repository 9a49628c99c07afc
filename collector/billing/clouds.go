package billing

import (
	"encoding/json"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// AWS Cost and Usage Report, 2.0 (snake_case) and legacy (lineItem/...)
// columns, mapped per the FinOps FOCUS conversion: BilledCost is the net
// unblended cost when present, else the unblended cost; ListCost the public
// on-demand cost; EffectiveCost the amortised cost of savings-plan and
// reserved usage, else BilledCost.
type curNames struct {
	start, end, itemType, product, productName, usageType, resource, amount, currency string
	unblended, netUnblended, onDemand, unit, payer, account, region, description      string
	periodStart, periodEnd, spEffective, riEffective, tags                            string
}

var cur2 = curNames{
	start: "line_item_usage_start_date", end: "line_item_usage_end_date", itemType: "line_item_line_item_type",
	product: "line_item_product_code", productName: "product_product_name", usageType: "line_item_usage_type",
	resource: "line_item_resource_id", amount: "line_item_usage_amount", currency: "line_item_currency_code",
	unblended: "line_item_unblended_cost", netUnblended: "line_item_net_unblended_cost", onDemand: "pricing_public_on_demand_cost",
	unit: "pricing_unit", payer: "bill_payer_account_id", account: "line_item_usage_account_id", region: "product_region_code",
	description: "line_item_line_item_description", periodStart: "bill_billing_period_start_date", periodEnd: "bill_billing_period_end_date",
	spEffective: "savings_plan_savings_plan_effective_cost", riEffective: "reservation_effective_cost", tags: "resource_tags",
}

var curLegacy = curNames{
	start: "lineItem/UsageStartDate", end: "lineItem/UsageEndDate", itemType: "lineItem/LineItemType",
	product: "lineItem/ProductCode", productName: "product/ProductName", usageType: "lineItem/UsageType",
	resource: "lineItem/ResourceId", amount: "lineItem/UsageAmount", currency: "lineItem/CurrencyCode",
	unblended: "lineItem/UnblendedCost", netUnblended: "lineItem/NetUnblendedCost", onDemand: "pricing/publicOnDemandCost",
	unit: "pricing/unit", payer: "bill/PayerAccountId", account: "lineItem/UsageAccountId", region: "product/regionCode",
	description: "lineItem/LineItemDescription", periodStart: "bill/BillingPeriodStartDate", periodEnd: "bill/BillingPeriodEndDate",
	spEffective: "savingsPlan/SavingsPlanEffectiveCost", riEffective: "reservation/EffectiveCost",
}

var (
	curRequired       = []string{cur2.start, cur2.end, cur2.itemType, cur2.unblended, cur2.currency}
	curLegacyRequired = []string{curLegacy.start, curLegacy.end, curLegacy.itemType, curLegacy.unblended, curLegacy.currency}
)

type curMapper struct {
	names   curNames
	tagCols map[string]string // legacy resourceTags/user:team column -> tag key team
}

func newLegacyCURMapper(c columns) mapper {
	m := curMapper{names: curLegacy, tagCols: map[string]string{}}
	for col := range c {
		if key, ok := strings.CutPrefix(col, "resourceTags/"); ok {
			key = strings.TrimPrefix(strings.TrimPrefix(key, "user:"), "aws:")
			m.tagCols[col] = key
		}
	}
	return m
}

// curCategory maps a line item type to a FOCUS ChargeCategory and class.
func curCategory(t string) (category, class string) {
	switch {
	case t == "Usage" || t == "DiscountedUsage" || t == "SavingsPlanCoveredUsage":
		return "Usage", ""
	case t == "Tax":
		return "Tax", ""
	case t == "Credit":
		return "Credit", ""
	case t == "Refund":
		return "Credit", "Correction"
	case strings.HasSuffix(t, "Fee"):
		return "Purchase", ""
	}
	return "Adjustment", ""
}

func (m curMapper) line(r *row) store.CostLine {
	n := m.names
	var l store.CostLine
	l.ChargePeriodStart = r.time(n.start, true)
	l.ChargePeriodEnd = r.time(n.end, true)
	l.BillingPeriodStart = r.time(n.periodStart, false)
	l.BillingPeriodEnd = r.time(n.periodEnd, false)
	if l.BillingPeriodStart.IsZero() {
		l.BillingPeriodStart, l.BillingPeriodEnd = monthOf(l.ChargePeriodStart)
	}
	itemType := r.str(n.itemType)
	l.ChargeCategory, l.ChargeClass = curCategory(itemType)
	l.ChargeDescription = r.str(n.description)
	l.ChargeFrequency = "Usage-Based"
	if l.ChargeCategory == "Purchase" {
		l.ChargeFrequency = "One-Time"
	}
	l.BilledCost = r.money(n.unblended, true)
	if r.str(n.netUnblended) != "" {
		l.BilledCost = r.money(n.netUnblended, false)
	}
	l.ListCost = r.money(n.onDemand, false)
	l.EffectiveCost = l.BilledCost
	switch itemType {
	case "SavingsPlanCoveredUsage":
		l.EffectiveCost = r.money(n.spEffective, false)
		l.PricingCategory = "Committed"
	case "DiscountedUsage":
		l.EffectiveCost = r.money(n.riEffective, false)
		l.PricingCategory = "Committed"
	case "Usage":
		l.PricingCategory = "Standard"
	}
	l.ContractedCost = l.BilledCost
	l.BillingCurrency = r.str(n.currency)
	l.ConsumedQuantity = r.quantity(n.amount)
	l.PricingQuantity = l.ConsumedQuantity
	l.PricingUnit = r.str(n.unit)
	l.ConsumedUnit = l.PricingUnit
	l.ProviderName, l.PublisherName, l.InvoiceIssuerName = "AWS", "AWS", "AWS"
	l.ServiceName = r.str(n.productName, n.product)
	l.SkuID = r.str(n.usageType)
	l.ResourceID = r.str(n.resource)
	l.RegionID = r.str(n.region)
	l.BillingAccountID = r.str(n.payer)
	l.SubAccountID = r.str(n.account)
	if n.tags != "" {
		if s := r.str(n.tags); s != "" {
			t, err := parseTags(s)
			if err != nil {
				r.fail(n.tags, "%v", err)
			}
			// CUR 2.0 writes user tags as user_<key>.
			for i := range t {
				t[i].Key = strings.TrimPrefix(t[i].Key, "user_")
			}
			l.Tags = t
		}
	}
	for col, key := range m.tagCols {
		if v := r.str(col); v != "" {
			l.Tags = append(l.Tags, store.KeyValue{Key: key, Value: v})
		}
	}
	l.Tags = l.Tags.SortedCopy()
	if len(l.Tags) == 0 {
		l.Tags = nil
	}
	return l
}

// GCP billing export (BigQuery export written as CSV, nested fields as
// dotted columns, labels and credits as JSON arrays). EffectiveCost is
// cost plus its credits, floored at zero.
var gcpRequired = []string{"cost", "currency", "usage_start_time", "usage_end_time"}

type gcpMapper struct{}

func (gcpMapper) line(r *row) store.CostLine {
	var l store.CostLine
	l.ChargePeriodStart = r.time("usage_start_time", true)
	l.ChargePeriodEnd = r.time("usage_end_time", true)
	l.BillingPeriodStart, l.BillingPeriodEnd = monthOf(l.ChargePeriodStart)
	if m := r.str("invoice.month"); len(m) == 6 {
		if t, err := parseTime(m[:4] + "-" + m[4:] + "-01"); err == nil {
			l.BillingPeriodStart, l.BillingPeriodEnd = monthOf(t)
		}
	}
	l.BilledCost = r.money("cost", true)
	l.EffectiveCost = l.BilledCost
	if credits := r.str("credits"); credits != "" {
		var cs []struct {
			Amount json.Number `json:"amount"`
		}
		if err := json.Unmarshal([]byte(credits), &cs); err != nil {
			r.fail("credits", "is not a JSON array of {amount}: %v", err)
		}
		for _, c := range cs {
			d, err := decimal.NewFromString(c.Amount.String())
			if err != nil {
				r.fail("credits", "credit amount %q is not a number", c.Amount)
				break
			}
			l.EffectiveCost = l.EffectiveCost.Add(d)
		}
		if l.EffectiveCost.IsNegative() {
			l.EffectiveCost = decimal.Zero
		}
	}
	l.ListCost, l.ContractedCost = l.BilledCost, l.BilledCost
	switch strings.ToLower(r.str("cost_type")) {
	case "", "regular":
		l.ChargeCategory = "Usage"
	case "tax":
		l.ChargeCategory = "Tax"
	default:
		l.ChargeCategory = "Adjustment"
	}
	l.ChargeFrequency = "Usage-Based"
	l.BillingCurrency = r.str("currency")
	l.BillingAccountID = r.str("billing_account_id")
	l.ServiceName = r.str("service.description")
	l.ChargeDescription = r.str("sku.description")
	l.SkuID = r.str("sku.id")
	l.SubAccountID = r.str("project.id")
	l.SubAccountName = r.str("project.name")
	l.RegionID = r.str("location.region")
	l.ResourceID = r.str("resource.global_name", "resource.name")
	l.ResourceName = r.str("resource.name")
	l.ConsumedQuantity = r.quantity("usage.amount")
	l.ConsumedUnit = r.str("usage.unit")
	l.PricingQuantity = r.quantity("usage.amount_in_pricing_units")
	l.PricingUnit = r.str("usage.pricing_unit")
	l.ProviderName, l.PublisherName, l.InvoiceIssuerName = "Google Cloud", "Google Cloud", "Google Cloud"
	if labels := r.str("labels"); labels != "" {
		var ls []struct{ Key, Value string }
		if err := json.Unmarshal([]byte(labels), &ls); err != nil {
			r.fail("labels", "is not a JSON array of {key, value}: %v", err)
		}
		for _, kv := range ls {
			l.Tags = append(l.Tags, store.KeyValue{Key: kv.Key, Value: kv.Value})
		}
		l.Tags = l.Tags.SortedCopy()
	}
	return l
}

// Azure cost details export (EA and MCA). In the actual-cost export the
// cost is what is billed; in the amortised export it is the effective cost,
// and reserved or savings-plan usage was billed at purchase instead.
var azureRequired = []string{"Date", "CostInBillingCurrency", "BillingCurrencyCode"}

type azureMapper struct{ amortized bool }

func (m azureMapper) line(r *row) store.CostLine {
	var l store.CostLine
	l.ChargePeriodStart = r.time("Date", true)
	l.ChargePeriodEnd = l.ChargePeriodStart.AddDate(0, 0, 1)
	l.BillingPeriodStart, l.BillingPeriodEnd = monthOf(l.ChargePeriodStart)
	if s := r.time("BillingPeriodStartDate", false); !s.IsZero() {
		l.BillingPeriodStart = s
		l.BillingPeriodEnd = r.time("BillingPeriodEndDate", false).AddDate(0, 0, 1)
	}
	c := r.money("CostInBillingCurrency", true)
	model := r.str("PricingModel")
	switch model {
	case "Reservation", "SavingsPlan":
		l.PricingCategory = "Committed"
	case "Spot":
		l.PricingCategory = "Dynamic"
	default:
		l.PricingCategory = "Standard"
	}
	l.EffectiveCost, l.BilledCost = c, c
	if m.amortized && l.PricingCategory == "Committed" {
		l.BilledCost = decimal.Zero
	}
	l.ListCost = r.money("PaygCostInBillingCurrency", false)
	l.ContractedCost = l.BilledCost
	switch r.str("ChargeType") {
	case "", "Usage", "UnusedReservation", "UnusedSavingsPlan":
		l.ChargeCategory = "Usage"
	case "Purchase":
		l.ChargeCategory = "Purchase"
	case "Refund":
		l.ChargeCategory, l.ChargeClass = "Credit", "Correction"
	case "Tax":
		l.ChargeCategory = "Tax"
	default:
		l.ChargeCategory = "Adjustment"
	}
	l.ChargeFrequency = "Usage-Based"
	l.BillingCurrency = r.str("BillingCurrencyCode", "BillingCurrency")
	l.BillingAccountID = r.str("BillingAccountId")
	l.BillingAccountName = r.str("BillingAccountName")
	l.SubAccountID = r.str("SubscriptionId")
	l.SubAccountName = r.str("SubscriptionName")
	l.ResourceID = r.str("ResourceId")
	l.ResourceName = r.str("ResourceName")
	l.RegionID = r.str("ResourceLocation")
	l.ServiceName = r.str("MeterCategory", "ConsumedService")
	l.ChargeDescription = r.str("MeterName")
	l.SkuID = r.str("MeterId")
	l.ConsumedQuantity = r.quantity("Quantity")
	l.PricingQuantity = l.ConsumedQuantity
	l.ConsumedUnit = r.str("UnitOfMeasure")
	l.PricingUnit = l.ConsumedUnit
	l.ProviderName, l.PublisherName, l.InvoiceIssuerName = "Microsoft", "Microsoft", "Microsoft"
	if tags := r.str("Tags"); tags != "" {
		t, err := parseTags(tags)
		if err != nil {
			r.fail("Tags", "%v", err)
		}
		l.Tags = t
	}
	return l
}
