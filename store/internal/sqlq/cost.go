package sqlq

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// CostColumns are the columns of a cost line after its tenant, in the
// order CostLines reads them (a backend may insert them in this order too):
// the columns added by a later migration come last, where ALTER TABLE puts
// them.
const CostColumns = `billing_period_start, line_id, source,
	billing_account_id, billing_account_name, billing_currency, billing_period_end,
	charge_period_start, charge_period_end, charge_category, charge_class,
	charge_description, charge_frequency, pricing_category,
	billed_cost, effective_cost, list_cost, contracted_cost, pricing_quantity, pricing_unit, consumed_quantity, consumed_unit,
	provider_name, publisher_name, invoice_issuer_name, service_category, service_name,
	region_id, region_name, availability_zone, resource_id, resource_name, resource_type,
	sku_id, sku_price_id, sub_account_id, sub_account_name, commitment_discount_id, tag_keys, tag_values,
	list_unit_price, contracted_unit_price, commitment_discount_category, commitment_discount_name,
	commitment_discount_status, commitment_discount_type, null_columns`

// CostValues returns a line's values in the order of CostColumns, with
// times and amounts in the form the backend's driver takes them; scale is
// the amount's column's: store.MoneyScale for money, store.QuantityScale for
// quantities and unit prices.
func CostValues(l *store.CostLine, at func(time.Time) any, amount func(d decimal.Decimal, scale int32) (any, error)) ([]any, error) {
	var amounts [8]any
	for i, d := range []decimal.Decimal{l.BilledCost, l.EffectiveCost, l.ListCost, l.ContractedCost, l.PricingQuantity, l.ConsumedQuantity, l.ListUnitPrice, l.ContractedUnitPrice} {
		scale := int32(store.MoneyScale)
		if i >= 4 {
			scale = store.QuantityScale
		}
		m, err := amount(d, scale)
		if err != nil {
			return nil, fmt.Errorf("cost line %q: %w", l.LineID, err)
		}
		amounts[i] = m
	}
	nulls := l.Nulls
	if nulls == nil {
		nulls = []string{} // an Array(String) takes no nil
	}
	tk, tv := l.Tags.Split()
	return []any{
		at(l.BillingPeriodStart), l.LineID, l.Source,
		l.BillingAccountID, l.BillingAccountName, l.BillingCurrency, at(l.BillingPeriodEnd),
		at(l.ChargePeriodStart), at(l.ChargePeriodEnd), l.ChargeCategory, l.ChargeClass,
		l.ChargeDescription, l.ChargeFrequency, l.PricingCategory,
		amounts[0], amounts[1], amounts[2], amounts[3], amounts[4], l.PricingUnit, amounts[5], l.ConsumedUnit,
		l.ProviderName, l.PublisherName, l.InvoiceIssuerName, l.ServiceCategory, l.ServiceName,
		l.RegionID, l.RegionName, l.AvailabilityZone, l.ResourceID, l.ResourceName, l.ResourceType,
		l.SkuID, l.SkuPriceID, l.SubAccountID, l.SubAccountName, l.CommitmentDiscountID, tk, tv,
		amounts[6], amounts[7], l.CommitmentDiscountCategory, l.CommitmentDiscountName,
		l.CommitmentDiscountStatus, l.CommitmentDiscountType, nulls,
	}, nil
}

// costWhere selects the lines of a cost query.
func (r *Reader) costWhere(q store.CostQuery) (conds, error) {
	var c conds
	c.add("tenant = ?", q.Tenant)
	c.add("charge_period_start >= ?", r.d.time(q.Start))
	c.add("charge_period_start < ?", r.d.time(q.End))
	for _, d := range slices.Sorted(maps.Keys(q.Filter)) {
		expr, args, err := r.dimension(d)
		if err != nil {
			return conds{}, err
		}
		c.add(expr+" = ?", append(args, q.Filter[d])...)
	}
	return c, nil
}

// dimension is the SQL expression of a dimension's value; a missing tag
// is the empty string.
func (r *Reader) dimension(d store.CostDimension) (string, []any, error) {
	col, tag, err := d.Column()
	if err != nil {
		return "", nil, err
	}
	if col != "" {
		return col, nil, nil
	}
	return r.d.lookup("tag_keys", "tag_values", "?"), []any{tag}, nil
}

// CostLines returns matching lines.
func (r *Reader) CostLines(ctx context.Context, q store.CostQuery) ([]store.CostLine, error) {
	c, err := r.costWhere(q)
	if err != nil {
		return nil, err
	}
	query := Query{SQL: "SELECT " + CostColumns + " FROM " + r.d.final("cost_lines") + " WHERE " + c.String() +
		" ORDER BY charge_period_start, line_id", Args: c.args}
	l := store.CostLine{Tenant: q.Tenant} // each row is scanned into l
	var tk, tv, nulls []string
	money := r.conn.Money
	dest := []any{&l.BillingPeriodStart, &l.LineID, &l.Source,
		&l.BillingAccountID, &l.BillingAccountName, &l.BillingCurrency, &l.BillingPeriodEnd,
		&l.ChargePeriodStart, &l.ChargePeriodEnd, &l.ChargeCategory, &l.ChargeClass,
		&l.ChargeDescription, &l.ChargeFrequency, &l.PricingCategory,
		money(&l.BilledCost), money(&l.EffectiveCost), money(&l.ListCost), money(&l.ContractedCost),
		money(&l.PricingQuantity), &l.PricingUnit, money(&l.ConsumedQuantity), &l.ConsumedUnit,
		&l.ProviderName, &l.PublisherName, &l.InvoiceIssuerName, &l.ServiceCategory, &l.ServiceName,
		&l.RegionID, &l.RegionName, &l.AvailabilityZone, &l.ResourceID, &l.ResourceName, &l.ResourceType,
		&l.SkuID, &l.SkuPriceID, &l.SubAccountID, &l.SubAccountName, &l.CommitmentDiscountID,
		r.conn.Strings(&tk), r.conn.Strings(&tv),
		money(&l.ListUnitPrice), money(&l.ContractedUnitPrice), &l.CommitmentDiscountCategory, &l.CommitmentDiscountName,
		&l.CommitmentDiscountStatus, &l.CommitmentDiscountType, r.conn.Strings(&nulls)}
	return collect(ctx, r, "read cost lines", query, dest, func() (store.CostLine, error) {
		line := l
		for _, t := range []*time.Time{&line.BillingPeriodStart, &line.BillingPeriodEnd, &line.ChargePeriodStart, &line.ChargePeriodEnd} {
			*t = t.UTC()
		}
		line.Tags = store.JoinAttributes(tk, tv)
		line.Nulls = nil
		if len(nulls) > 0 {
			line.Nulls = slices.Clone(nulls)
		}
		return line, nil
	})
}

// CostTotals sums matching lines by dimensions and currency, exactly
// (decimal sums).
func (r *Reader) CostTotals(ctx context.Context, q store.CostQuery, groupBy []store.CostDimension) ([]store.CostGroup, error) {
	var selects, groups []string
	var args []any // the SELECT list binds before the WHERE clause
	for i, d := range groupBy {
		expr, exprArgs, err := r.dimension(d)
		if err != nil {
			return nil, err
		}
		selects = append(selects, fmt.Sprintf("%s AS k%d", expr, i))
		groups = append(groups, fmt.Sprintf("k%d", i))
		args = append(args, exprArgs...)
	}
	c, err := r.costWhere(q)
	if err != nil {
		return nil, err
	}
	step := int64(q.Step / time.Second)
	if step > 0 {
		s := fmt.Sprint(step)
		selects = append(selects, r.d.intDiv(r.d.unixSeconds("charge_period_start"), s)+" * "+s+" AS bucket")
		groups = append(groups, "bucket")
	}
	groups = append(groups, "billing_currency")
	selects = append(selects, "billing_currency", "sum(billed_cost)", "sum(effective_cost)", "sum(list_cost)", "count(*)")
	query := Query{SQL: "SELECT " + strings.Join(selects, ", ") + " FROM " + r.d.final("cost_lines") + " WHERE " + c.String() +
		" GROUP BY " + strings.Join(groups, ", "), Args: append(args, c.args...)}
	var g store.CostGroup
	keys := make([]string, len(groupBy))
	dest := make([]any, 0, len(groupBy)+6)
	for i := range keys {
		dest = append(dest, &keys[i])
	}
	var bucket int64
	if step > 0 {
		dest = append(dest, &bucket)
	}
	dest = append(dest, &g.Currency, r.conn.Money(&g.BilledCost), r.conn.Money(&g.EffectiveCost), r.conn.Money(&g.ListCost), &g.Lines)
	out, err := collect(ctx, r, "sum cost", query, dest, func() (store.CostGroup, error) {
		g.Keys = slices.Clone(keys)
		if step > 0 {
			g.Bucket = time.Unix(bucket, 0).UTC()
		}
		return g, nil
	})
	if err != nil {
		return nil, err
	}
	store.SortCostGroups(out)
	return out, nil
}
