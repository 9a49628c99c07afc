package embedded

import (
	"context"
	"database/sql/driver"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// WriteCostLines writes lines, replacing lines of the same identity.
func (s *Store) WriteCostLines(ctx context.Context, lines []store.CostLine) error {
	type key struct {
		tenant, id string
		period     int64
	}
	keep := lastOfEach(len(lines), func(i int) key { return key{lines[i].Tenant, lines[i].LineID, lines[i].BillingPeriodStart.Unix()} })
	rows := make([][]driver.Value, len(keep))
	for i, j := range keep {
		row, err := costRow(&lines[j])
		if err != nil {
			return err
		}
		rows[i] = row
	}
	return s.appendRows(ctx, "cost_lines", "INSERT OR REPLACE INTO cost_lines SELECT * FROM appended_data", len(rows), func(i int) []driver.Value { return rows[i] })
}

// costRow is a line's values in the cost_lines table's column order.
func costRow(l *store.CostLine) ([]driver.Value, error) {
	vals, err := sqlq.CostValues(l, func(t time.Time) any { return t.UTC() }, func(d decimal.Decimal, scale int32) (any, error) { return decimalValue(d, scale) })
	if err != nil {
		return nil, err
	}
	row := make([]driver.Value, 0, 1+len(vals))
	row = append(row, l.Tenant)
	for _, v := range vals {
		row = append(row, v)
	}
	return row, nil
}
