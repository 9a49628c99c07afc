package sqlq

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil/store"
)

// Usage sums model calls (spans with a model).
func (r *Reader) Usage(ctx context.Context, q store.UsageQuery) ([]store.UsageGroup, error) {
	var groupCols []string
	for _, d := range q.GroupBy {
		col, err := usageKey(r.d, d)
		if err != nil {
			return nil, err
		}
		groupCols = append(groupCols, col)
	}
	var c conds
	c.add("tenant = ?", q.Tenant)
	c.spansStarting(r.d, q.Start, q.End)
	c.add("model <> ''")
	for _, d := range slices.Sorted(maps.Keys(q.Filter)) {
		col, err := usageKey(r.d, d)
		if err != nil {
			return nil, err
		}
		c.add(col+" = ?", q.Filter[d])
	}
	sel := append(slices.Clone(groupCols), "count(*)", r.d.countIf(failed),
		r.d.sum("input_tokens", "", typeInt64), r.d.sum("output_tokens", "", typeInt64), r.d.sum("cached_tokens", "", typeInt64), "sum(cost)")
	query := Query{SQL: "SELECT " + strings.Join(sel, ", ") + " FROM spans WHERE " + c.String(), Args: c.args}
	if len(groupCols) > 0 {
		query.SQL += " GROUP BY " + strings.Join(groupCols, ", ")
	}
	// Without GROUP BY, no calls would be a row of zeros.
	query.SQL += " HAVING count(*) > 0"
	var g store.UsageGroup
	keys := make([]string, len(groupCols))
	dest := make([]any, 0, len(groupCols)+6)
	for i := range keys {
		dest = append(dest, &keys[i])
	}
	dest = append(dest, &g.Calls, &g.Errors, &g.InputTokens, &g.OutputTokens, &g.CachedTokens, r.conn.Money(&g.Cost))
	out, err := collect(ctx, r, "sum usage", query, dest, func() (store.UsageGroup, error) {
		g.Keys = slices.Clone(keys)
		return g, nil
	})
	if err != nil {
		return nil, err
	}
	store.SortUsageGroups(out)
	return out, nil
}

// usageKey is a dimension's SQL: its span column, or for an attribute
// dimension the span's attribute of that key, else the resource's ("" when
// neither has it).
func usageKey(d Dialect, dim store.UsageDimension) (string, error) {
	key, ok := dim.AttributeKey()
	if !ok {
		return dim.Column()
	}
	lit := "'" + key + "'" // AttributeKey admits no quote
	span := d.lookup("attr_keys", "attr_values", lit)
	return "CASE WHEN " + span + " <> '' THEN " + span + " ELSE " + d.lookup("resource_keys", "resource_values", lit) + " END", nil
}
