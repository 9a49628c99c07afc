package embedded

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sort"
	"strings"
	"time"

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

const costColumns = `billing_period_start, line_id, source,
	billing_account_id, billing_account_name, billing_currency, billing_period_end,
	charge_period_start, charge_period_end, charge_category, charge_class,
	charge_description, charge_frequency, pricing_category,
	billed_cost, effective_cost, list_cost, contracted_cost, pricing_quantity, pricing_unit, consumed_quantity, consumed_unit,
	provider_name, publisher_name, invoice_issuer_name, service_category, service_name,
	region_id, region_name, availability_zone, resource_id, resource_name, resource_type,
	sku_id, sku_price_id, sub_account_id, sub_account_name, commitment_discount_id, tag_keys, tag_values`

// costWhere returns the condition and arguments a cost query selects by.
func costWhere(q store.CostQuery) (string, []any, error) {
	where := []string{"tenant = ?", "charge_period_start >= ?", "charge_period_start < ?"}
	args := []any{q.Tenant, q.Start.UTC(), q.End.UTC()}
	for _, d := range sortedDims(q.Filter) {
		expr, exprArgs, err := dimExpr(d)
		if err != nil {
			return "", nil, err
		}
		where = append(where, expr+" = ?")
		args = append(append(args, exprArgs...), q.Filter[d])
	}
	return strings.Join(where, " AND "), args, nil
}

// dimExpr is the SQL expression of a dimension's value.
func dimExpr(d store.CostDimension) (string, []any, error) {
	col, tag, err := d.Column()
	if err != nil {
		return "", nil, err
	}
	if col != "" {
		return col, nil, nil
	}
	return "coalesce(tag_values[list_position(tag_keys, ?)], '')", []any{tag}, nil
}

func sortedDims(m map[store.CostDimension]string) []store.CostDimension {
	out := make([]store.CostDimension, 0, len(m))
	for d := range m {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// CostLines returns matching lines.
func (s *Store) CostLines(ctx context.Context, q store.CostQuery) ([]store.CostLine, error) {
	where, args, err := costWhere(q)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+costColumns+` FROM cost_lines WHERE `+where+` ORDER BY charge_period_start, line_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read cost lines: %w", err)
	}
	defer rows.Close()
	var out []store.CostLine
	for rows.Next() {
		l := store.CostLine{Tenant: q.Tenant}
		var amounts [6]money
		var tk, tv stringList
		if err := rows.Scan(&l.BillingPeriodStart, &l.LineID, &l.Source,
			&l.BillingAccountID, &l.BillingAccountName, &l.BillingCurrency, &l.BillingPeriodEnd,
			&l.ChargePeriodStart, &l.ChargePeriodEnd, &l.ChargeCategory, &l.ChargeClass,
			&l.ChargeDescription, &l.ChargeFrequency, &l.PricingCategory,
			&amounts[0], &amounts[1], &amounts[2], &amounts[3], &amounts[4], &l.PricingUnit, &amounts[5], &l.ConsumedUnit,
			&l.ProviderName, &l.PublisherName, &l.InvoiceIssuerName, &l.ServiceCategory, &l.ServiceName,
			&l.RegionID, &l.RegionName, &l.AvailabilityZone, &l.ResourceID, &l.ResourceName, &l.ResourceType,
			&l.SkuID, &l.SkuPriceID, &l.SubAccountID, &l.SubAccountName, &l.CommitmentDiscountID, &tk, &tv); err != nil {
			return nil, fmt.Errorf("cannot read cost lines: %w", err)
		}
		l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost = amounts[0].d, amounts[1].d, amounts[2].d, amounts[3].d
		l.PricingQuantity, l.ConsumedQuantity = amounts[4].d, amounts[5].d
		for _, t := range []*time.Time{&l.BillingPeriodStart, &l.BillingPeriodEnd, &l.ChargePeriodStart, &l.ChargePeriodEnd} {
			*t = t.UTC()
		}
		l.Tags = store.JoinAttributes(tk, tv)
		out = append(out, l)
	}
	return out, rows.Err()
}

// CostTotals sums matching lines by dimensions and currency.
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
		selects = append(selects, fmt.Sprintf("(epoch(charge_period_start)::BIGINT // %d) * %d AS bucket", step, step))
		groups = append(groups, "bucket")
	}
	groups = append(groups, "billing_currency")
	selects = append(selects, "billing_currency", "sum(billed_cost)", "sum(effective_cost)", "sum(list_cost)", "count(*)")
	rows, err := s.db.QueryContext(ctx, `SELECT `+strings.Join(selects, ", ")+` FROM cost_lines WHERE `+where+` GROUP BY `+strings.Join(groups, ", "), args...)
	if err != nil {
		return nil, fmt.Errorf("cannot sum cost: %w", err)
	}
	defer rows.Close()
	var out []store.CostGroup
	for rows.Next() {
		g := store.CostGroup{Keys: make([]string, len(groupBy))}
		var billed, effective, list money
		dest := make([]any, 0, len(groupBy)+5)
		for i := range g.Keys {
			dest = append(dest, &g.Keys[i])
		}
		var bucket int64
		if step > 0 {
			dest = append(dest, &bucket)
		}
		dest = append(dest, &g.Currency, &billed, &effective, &list, &g.Lines)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("cannot sum cost: %w", err)
		}
		if step > 0 {
			g.Bucket = time.Unix(bucket, 0).UTC()
		}
		g.BilledCost, g.EffectiveCost, g.ListCost = billed.d, effective.d, list.d
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot sum cost: %w", err)
	}
	store.SortCostGroups(out)
	return out, nil
}
