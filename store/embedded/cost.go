package embedded

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// WriteCostLines writes lines, replacing lines of the same identity.
func (s *Store) WriteCostLines(ctx context.Context, lines []store.CostLine) error {
	type key struct {
		tenant, id string
		period     int64
	}
	last := make(map[key]int, len(lines))
	var rows [][]driver.Value
	for i := range lines {
		l := &lines[i]
		row, err := costRow(l)
		if err != nil {
			return fmt.Errorf("cost line %q: %w", l.LineID, err)
		}
		k := key{l.Tenant, l.LineID, l.BillingPeriodStart.Unix()}
		if j, ok := last[k]; ok {
			rows[j] = row
			continue
		}
		last[k] = len(rows)
		rows = append(rows, row)
	}
	return s.appendRows(ctx, "cost_lines", "INSERT OR REPLACE INTO cost_lines SELECT * FROM appended_data", len(rows), func(i int) []driver.Value { return rows[i] })
}

func costRow(l *store.CostLine) ([]driver.Value, error) {
	amounts := make([]any, 6)
	for i, d := range []decimal.Decimal{l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost, l.PricingQuantity, l.ConsumedQuantity} {
		v, err := moneyValue(d)
		if err != nil {
			return nil, err
		}
		amounts[i] = v
	}
	tk, tv := l.Tags.Split()
	return []driver.Value{
		l.Tenant, l.BillingPeriodStart.UTC(), l.LineID, l.Source,
		l.BillingAccountID, l.BillingAccountName, l.BillingCurrency, l.BillingPeriodEnd.UTC(),
		l.ChargePeriodStart.UTC(), l.ChargePeriodEnd.UTC(), l.ChargeCategory, l.ChargeClass,
		l.ChargeDescription, l.ChargeFrequency, l.PricingCategory,
		amounts[0], amounts[1], amounts[2], amounts[3], amounts[4], l.PricingUnit, amounts[5], l.ConsumedUnit,
		l.ProviderName, l.PublisherName, l.InvoiceIssuerName, l.ServiceCategory, l.ServiceName,
		l.RegionID, l.RegionName, l.AvailabilityZone, l.ResourceID, l.ResourceName, l.ResourceType,
		l.SkuID, l.SkuPriceID, l.SubAccountID, l.SubAccountName, l.CommitmentDiscountID, tk, tv,
	}, nil
}
