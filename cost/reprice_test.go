package cost

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSegments(t *testing.T) {
	table := NewPriceTable()
	if err := table.Add(DefaultPrices()...); err != nil {
		t.Fatal(err)
	}
	rows, err := ParsePrices("new.yaml", []byte(`prices:
  - model: gpt-4o
    valid_from: 2026-06-01
    input: 2.00
    output: 8.00
  - model: gpt-4o
    tenant: acme
    valid_until: 2026-03-01
    input: 1.00
    output: 4.00
  - model: unrelated
    valid_from: 2026-04-15
    input: 1
    output: 1
`), "auto")
	if err != nil {
		t.Fatal(err)
	}
	if err := table.Add(rows...); err != nil {
		t.Fatal(err)
	}
	render := func(tenant, model string) string {
		var b strings.Builder
		for _, s := range table.Segments(tenant, model, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
			price := "unpriced"
			if s.Row != nil {
				price = s.Row.Tiers[0].Prices.Input.Shift(6).String()
			}
			fmt.Fprintf(&b, "%s..%s %s; ", s.Start.Format(time.DateOnly), s.End.Format(time.DateOnly), price)
		}
		return b.String()
	}
	for _, c := range []struct{ tenant, model, want string }{
		// The built-in 2.5 until the new row takes over; the cut at
		// 2026-03-01 (acme's row) and 2026-04-15 (another model) merge away.
		{"globex", "gpt-4o", "2026-01-01..2026-06-01 2.5; 2026-06-01..2027-01-01 2; "},
		// acme's own row wins while it is valid.
		{"acme", "gpt-4o", "2026-01-01..2026-03-01 1; 2026-03-01..2026-06-01 2.5; 2026-06-01..2027-01-01 2; "},
		{"acme", "openai/gpt-4o", "2026-01-01..2026-03-01 1; 2026-03-01..2026-06-01 2.5; 2026-06-01..2027-01-01 2; "},
		{"acme", "mystery", "2026-01-01..2027-01-01 unpriced; "},
	} {
		if got := render(c.tenant, c.model); got != c.want {
			t.Errorf("%s %s:\n got %s\nwant %s", c.tenant, c.model, got, c.want)
		}
	}
	if s := table.Segments("acme", "gpt-4o", time.Unix(10, 0), time.Unix(10, 0)); s != nil {
		t.Errorf("empty range: %v", s)
	}
}
