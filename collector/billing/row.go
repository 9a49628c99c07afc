package billing

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// columns indexes a header by column name.
type columns map[string]int

func newColumns(header []string) columns {
	c := make(columns, len(header))
	for i, h := range header {
		c[strings.TrimSpace(h)] = i
	}
	return c
}

func (c columns) has(names ...string) bool {
	for _, n := range names {
		if _, ok := c[n]; !ok {
			return false
		}
	}
	return true
}

func (c columns) missing(names []string) []string {
	var out []string
	for _, n := range names {
		if _, ok := c[n]; !ok {
			out = append(out, n)
		}
	}
	return out
}

// row reads typed fields of one record, keeping the first error with the
// column it came from.
type row struct {
	cols columns
	rec  []string
	err  *RowError
}

// isNull reports whether a field is a null: empty or the word NULL.
func isNull(s string) bool { return s == "" || s == "NULL" || s == "null" }

// str returns the first of the columns that is present and not null.
func (r *row) str(names ...string) string {
	for _, n := range names {
		if i, ok := r.cols[n]; ok && !isNull(strings.TrimSpace(r.rec[i])) {
			return r.rec[i]
		}
	}
	return ""
}

func (r *row) fail(column, format string, args ...any) {
	if r.err == nil {
		r.err = &RowError{Column: column, Reason: fmt.Sprintf(format, args...)}
	}
}

// money parses an exact decimal; an absent or null field is zero unless
// required.
func (r *row) money(name string, required bool) decimal.Decimal {
	return r.decimal(name, required, store.MoneyScale)
}

// quantity parses a usage quantity, to 18 places; an absent or null field
// is zero.
func (r *row) quantity(name string) decimal.Decimal {
	return r.decimal(name, false, store.QuantityScale)
}

// nullable parses a FOCUS decimal that may be null (or absent), naming the
// column in l.Nulls when it is, to 18 places when quantity says it is a
// quantity or unit price.
func (r *row) nullable(l *store.CostLine, name string, quantity bool) decimal.Decimal {
	if strings.TrimSpace(r.str(name)) == "" {
		l.Nulls = append(l.Nulls, name)
		return decimal.Zero
	}
	if quantity {
		return r.quantity(name)
	}
	return r.money(name, false)
}

// decimal parses an exact decimal that fits Decimal(38, scale).
func (r *row) decimal(name string, required bool, scale int32) decimal.Decimal {
	v := strings.TrimSpace(r.str(name))
	if v == "" {
		if required {
			r.fail(name, "is empty, and a value is required")
		}
		return decimal.Zero
	}
	d, err := decimal.NewFromString(v)
	if err != nil {
		r.fail(name, "%q is not a number", v)
		return decimal.Zero
	}
	if d, err = store.Scaled(d, scale); err != nil {
		r.fail(name, "%v", err)
	}
	return d
}

// timeLayouts are the timestamp forms billing exports use: ISO 8601, the
// space-separated form, GCP's "UTC" suffix and Azure's US dates.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04:05 MST", "2006-01-02T15:04Z", "2006-01-02T15:04", "2006-01-02", "01/02/2006", "01/02/2006 15:04:05"}

func parseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date-time (want ISO 8601, e.g. 2024-09-01T00:00:00Z or 2024-09-01 00:00:00)", s)
}

func (r *row) time(name string, required bool) time.Time {
	v := strings.TrimSpace(r.str(name))
	if v == "" {
		if required {
			r.fail(name, "is empty, and a date is required")
		}
		return time.Time{}
	}
	t, err := parseTime(v)
	if err != nil {
		r.fail(name, "%v", err)
	}
	return t
}

// monthOf returns the calendar month containing t, the billing period of
// exports that do not state one.
func monthOf(t time.Time) (start, end time.Time) {
	start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}
