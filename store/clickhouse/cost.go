package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// WriteCostLines inserts lines; a line replaces an earlier one of the same
// identity (ReplacingMergeTree by write version; readers use FINAL).
func (s *Store) WriteCostLines(ctx context.Context, lines []store.CostLine) error {
	version := time.Now().UnixNano()
	return s.insert(ctx, "cost_lines", "tenant, version, "+sqlq.CostColumns, len(lines), func(i int) ([]any, error) {
		l := &lines[i]
		var amounts [6]decimal.Decimal
		for j, d := range []decimal.Decimal{l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost, l.PricingQuantity, l.ConsumedQuantity} {
			m, err := store.Money(d)
			if err != nil {
				return nil, fmt.Errorf("cost line %q: %w", l.LineID, err)
			}
			amounts[j] = m
		}
		tk, tv := l.Tags.Split()
		return []any{
			l.Tenant, version + int64(i),
			dateTime(l.BillingPeriodStart), l.LineID, l.Source,
			l.BillingAccountID, l.BillingAccountName, l.BillingCurrency, dateTime(l.BillingPeriodEnd),
			dateTime(l.ChargePeriodStart), dateTime(l.ChargePeriodEnd), l.ChargeCategory, l.ChargeClass,
			l.ChargeDescription, l.ChargeFrequency, l.PricingCategory,
			amounts[0], amounts[1], amounts[2], amounts[3], amounts[4], l.PricingUnit, amounts[5], l.ConsumedUnit,
			l.ProviderName, l.PublisherName, l.InvoiceIssuerName, l.ServiceCategory, l.ServiceName,
			l.RegionID, l.RegionName, l.AvailabilityZone, l.ResourceID, l.ResourceName, l.ResourceType,
			l.SkuID, l.SkuPriceID, l.SubAccountID, l.SubAccountName, l.CommitmentDiscountID, tk, tv,
		}, nil
	})
}
