package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// CostLine is one billing line shaped after FinOps FOCUS (names are the
// FOCUS column names). Money, quantities and unit prices are exact
// decimals. A null string is the empty string; a null decimal is zero with
// its column named in Nulls, so a FOCUS export writes it back as null.
type CostLine struct {
	Tenant string
	// LineID identifies the line within its billing period: writing a line
	// with the same tenant, BillingPeriodStart and LineID replaces it, so an
	// import of the same file, or of an overlapping export, never doubles a
	// total.
	LineID string
	// Source says where the line came from (importer and file).
	Source string

	BillingAccountID   string
	BillingAccountName string
	BillingCurrency    string
	BillingPeriodStart time.Time
	BillingPeriodEnd   time.Time
	ChargePeriodStart  time.Time
	ChargePeriodEnd    time.Time
	ChargeCategory     string
	ChargeClass        string
	ChargeDescription  string
	ChargeFrequency    string
	PricingCategory    string

	BilledCost       decimal.Decimal
	EffectiveCost    decimal.Decimal
	ListCost         decimal.Decimal
	ContractedCost   decimal.Decimal
	PricingQuantity  decimal.Decimal
	PricingUnit      string
	ConsumedQuantity decimal.Decimal
	ConsumedUnit     string

	ProviderName         string
	PublisherName        string
	InvoiceIssuerName    string
	ServiceCategory      string
	ServiceName          string
	RegionID             string
	RegionName           string
	AvailabilityZone     string
	ResourceID           string
	ResourceName         string
	ResourceType         string
	SkuID                string
	SkuPriceID           string
	SubAccountID         string
	SubAccountName       string
	CommitmentDiscountID string
	Tags                 Attributes

	ListUnitPrice              decimal.Decimal
	ContractedUnitPrice        decimal.Decimal
	CommitmentDiscountCategory string
	CommitmentDiscountName     string
	CommitmentDiscountStatus   string
	CommitmentDiscountType     string

	// Nulls are the FOCUS columns among NullableDecimals that are null.
	Nulls []string
}

// NullableDecimals are the FOCUS decimal columns a cost line may leave null
// (FOCUS 1.0 makes the quantities and unit prices nullable, and real
// exports leave ContractedCost null too).
var NullableDecimals = []string{"ListCost", "ContractedCost", "PricingQuantity", "ConsumedQuantity", "ListUnitPrice", "ContractedUnitPrice"}

// IsNull reports whether the FOCUS column is null in the line.
func (l *CostLine) IsNull(column string) bool { return slices.Contains(l.Nulls, column) }

// CostQuery selects cost lines whose ChargePeriodStart is in [Start, End).
type CostQuery struct {
	Tenant     string
	Start, End time.Time
	// Filter keeps lines whose dimension has the given value.
	Filter map[CostDimension]string
	// Step, when set, splits totals into buckets of ChargePeriodStart that
	// start at multiples of Step since the Unix epoch (a day is UTC days).
	Step time.Duration
}

// CostDimension is something cost can be grouped or filtered by: one of the
// named FOCUS columns, or a tag ("tag:team").
type CostDimension string

const (
	DimProvider        CostDimension = "provider"
	DimService         CostDimension = "service"
	DimServiceCategory CostDimension = "service_category"
	DimRegion          CostDimension = "region"
	DimSubAccount      CostDimension = "sub_account"
	DimBillingAccount  CostDimension = "billing_account"
	DimChargeCategory  CostDimension = "charge_category"
	DimResource        CostDimension = "resource"
	DimSku             CostDimension = "sku"
	DimCurrency        CostDimension = "currency"
)

// TagPrefix starts a tag dimension: "tag:team" groups by the team tag.
const TagPrefix = "tag:"

// Column returns the column a fixed dimension names, or the tag key of a tag
// dimension.
func (d CostDimension) Column() (column, tag string, err error) {
	if len(d) > len(TagPrefix) && string(d[:len(TagPrefix)]) == TagPrefix {
		return "", string(d[len(TagPrefix):]), nil
	}
	if c, ok := costColumns[d]; ok {
		return c, "", nil
	}
	return "", "", fmt.Errorf("unknown cost dimension %q", string(d))
}

var costColumns = map[CostDimension]string{
	DimProvider:        "provider_name",
	DimService:         "service_name",
	DimServiceCategory: "service_category",
	DimRegion:          "region_id",
	DimSubAccount:      "sub_account_id",
	DimBillingAccount:  "billing_account_id",
	DimChargeCategory:  "charge_category",
	DimResource:        "resource_id",
	DimSku:             "sku_id",
	DimCurrency:        "billing_currency",
}

// CostGroup is the sum of the lines sharing one value per group-by
// dimension, in one currency.
type CostGroup struct {
	Keys          []string  // one per group-by dimension, in order
	Bucket        time.Time // the bucket's start when the query has a Step
	Currency      string
	BilledCost    decimal.Decimal
	EffectiveCost decimal.Decimal
	ListCost      decimal.Decimal
	Lines         uint64
}

// CostWriter writes cost lines, replacing lines of the same identity.
type CostWriter interface {
	WriteCostLines(ctx context.Context, lines []CostLine) error
}

// CostReader reads cost lines and exact sums of them.
type CostReader interface {
	// CostLines returns matching lines ordered by ChargePeriodStart, then
	// LineID.
	CostLines(ctx context.Context, q CostQuery) ([]CostLine, error)
	// CostTotals sums matching lines grouped by the dimensions and the
	// currency (and the time bucket, with a Step), ordered by bucket, keys,
	// then currency. No dimensions gives one group per currency.
	CostTotals(ctx context.Context, q CostQuery, groupBy []CostDimension) ([]CostGroup, error)
}

// SortCostGroups orders groups by bucket, keys, then currency, as
// CostTotals returns them.
func SortCostGroups(gs []CostGroup) {
	sort.Slice(gs, func(i, j int) bool {
		a, b := gs[i], gs[j]
		if !a.Bucket.Equal(b.Bucket) {
			return a.Bucket.Before(b.Bucket)
		}
		for k := range a.Keys {
			if a.Keys[k] != b.Keys[k] {
				return a.Keys[k] < b.Keys[k]
			}
		}
		return a.Currency < b.Currency
	})
}
