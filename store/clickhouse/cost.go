package clickhouse

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

const costColumns = `billing_period_start, line_id, source,
	billing_account_id, billing_account_name, billing_currency, billing_period_end,
	charge_period_start, charge_period_end, charge_category, charge_class,
	charge_description, charge_frequency, pricing_category,
	billed_cost, effective_cost, list_cost, contracted_cost, pricing_quantity, pricing_unit, consumed_quantity, consumed_unit,
	provider_name, publisher_name, invoice_issuer_name, service_category, service_name,
	region_id, region_name, availability_zone, resource_id, resource_name, resource_type,
	sku_id, sku_price_id, sub_account_id, sub_account_name, commitment_discount_id, tag_keys, tag_values`

// WriteCostLines inserts lines; a line replaces an earlier one of the same
// identity (ReplacingMergeTree by write version; readers use FINAL).
func (s *Store) WriteCostLines(ctx context.Context, lines []store.CostLine) error {
	version := time.Now().UnixNano()
	return s.insert(ctx, "cost_lines", "tenant, version, "+costColumns, len(lines), func(i int) ([]any, error) {
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

// costWhere returns the condition and arguments a cost query selects by.
func costWhere(q store.CostQuery) (string, []any, error) {
	where := []string{"tenant = ?", "charge_period_start >= ?", "charge_period_start < ?"}
	args := []any{q.Tenant, dateTime(q.Start), dateTime(q.End)}
	dims := make([]store.CostDimension, 0, len(q.Filter))
	for d := range q.Filter {
		dims = append(dims, d)
	}
	sort.Slice(dims, func(i, j int) bool { return dims[i] < dims[j] })
	for _, d := range dims {
		expr, exprArgs, err := dimExpr(d)
		if err != nil {
			return "", nil, err
		}
		where = append(where, expr+" = ?")
		args = append(append(args, exprArgs...), q.Filter[d])
	}
	return strings.Join(where, " AND "), args, nil
}

// dimExpr is the SQL expression of a dimension's value; a missing tag is "".
func dimExpr(d store.CostDimension) (string, []any, error) {
	col, tag, err := d.Column()
	if err != nil {
		return "", nil, err
	}
	if col != "" {
		return col, nil, nil
	}
	return "tag_values[indexOf(tag_keys, ?)]", []any{tag}, nil
}

// CostLines returns matching lines.
func (s *Store) CostLines(ctx context.Context, q store.CostQuery) ([]store.CostLine, error) {
	where, args, err := costWhere(q)
	if err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(ctx, `SELECT `+costColumns+` FROM cost_lines FINAL WHERE `+where+` ORDER BY charge_period_start, line_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read cost lines: %w", err)
	}
	defer rows.Close()
	var out []store.CostLine
	for rows.Next() {
		l := store.CostLine{Tenant: q.Tenant}
		var tk, tv []string
		if err := rows.Scan(&l.BillingPeriodStart, &l.LineID, &l.Source,
			&l.BillingAccountID, &l.BillingAccountName, &l.BillingCurrency, &l.BillingPeriodEnd,
			&l.ChargePeriodStart, &l.ChargePeriodEnd, &l.ChargeCategory, &l.ChargeClass,
			&l.ChargeDescription, &l.ChargeFrequency, &l.PricingCategory,
			&l.BilledCost, &l.EffectiveCost, &l.ListCost, &l.ContractedCost, &l.PricingQuantity, &l.PricingUnit, &l.ConsumedQuantity, &l.ConsumedUnit,
			&l.ProviderName, &l.PublisherName, &l.InvoiceIssuerName, &l.ServiceCategory, &l.ServiceName,
			&l.RegionID, &l.RegionName, &l.AvailabilityZone, &l.ResourceID, &l.ResourceName, &l.ResourceType,
			&l.SkuID, &l.SkuPriceID, &l.SubAccountID, &l.SubAccountName, &l.CommitmentDiscountID, &tk, &tv); err != nil {
			return nil, fmt.Errorf("cannot read cost lines: %w", err)
		}
		for _, t := range []*time.Time{&l.BillingPeriodStart, &l.BillingPeriodEnd, &l.ChargePeriodStart, &l.ChargePeriodEnd} {
			*t = t.UTC()
		}
		l.Tags = store.JoinAttributes(tk, tv)
		out = append(out, l)
	}
	return out, rows.Err()
}

// CostTotals sums matching lines by dimensions and currency, exactly
// (Decimal sums).
func (s *Store) CostTotals(ctx context.Context, q store.CostQuery, groupBy []store.CostDimension) ([]store.CostGroup, error) {
	var selects, groups []string
	var args []any
	for i, d := range groupBy {
		expr, exprArgs, err := dimExpr(d)
		if err != nil {
			return nil, err
		}
		selects = append(selects, fmt.Sprintf("%s AS k%d", expr, i))
		groups = append(groups, fmt.Sprintf("k%d", i))
		args = append(args, exprArgs...)
	}
	where, whereArgs, err := costWhere(q)
	if err != nil {
		return nil, err
	}
	args = append(args, whereArgs...)
	step := int64(q.Step / time.Second)
	if step > 0 {
		selects = append(selects, fmt.Sprintf("intDiv(toInt64(toUInt32(charge_period_start)), %d) * %d AS bucket", step, step))
		groups = append(groups, "bucket")
	}
	groups = append(groups, "billing_currency")
	selects = append(selects, "billing_currency", "sum(billed_cost)", "sum(effective_cost)", "sum(list_cost)", "count()")
	rows, err := s.conn.Query(ctx, `SELECT `+strings.Join(selects, ", ")+` FROM cost_lines FINAL WHERE `+where+` GROUP BY `+strings.Join(groups, ", "), args...)
	if err != nil {
		return nil, fmt.Errorf("cannot sum cost: %w", err)
	}
	defer rows.Close()
	var out []store.CostGroup
	for rows.Next() {
		g := store.CostGroup{Keys: make([]string, len(groupBy))}
		dest := make([]any, 0, len(groupBy)+5)
		for i := range g.Keys {
			dest = append(dest, &g.Keys[i])
		}
		var bucket int64
		if step > 0 {
			dest = append(dest, &bucket)
		}
		dest = append(dest, &g.Currency, &g.BilledCost, &g.EffectiveCost, &g.ListCost, &g.Lines)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("cannot sum cost: %w", err)
		}
		if step > 0 {
			g.Bucket = time.Unix(bucket, 0).UTC()
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot sum cost: %w", err)
	}
	store.SortCostGroups(out)
	return out, nil
}
