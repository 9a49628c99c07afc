package store

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// MoneyScale is the number of decimal places both backends keep for money
// and quantities (Decimal(38,12)): enough for real billing exports, which
// carry up to 11, and for per-token prices times token counts.
const MoneyScale = 12

// QuantityScale is the number of decimal places both backends keep for
// quantities and unit prices (Decimal(38,18)): billing exports carry
// quantities to 15 places, and a unit price per token is tiny.
const QuantityScale = 18

// Money rounds d half-to-even to MoneyScale places, the value a backend
// stores, and fails when it does not fit.
func Money(d decimal.Decimal) (decimal.Decimal, error) { return Scaled(d, MoneyScale) }

// Scaled rounds d half-to-even to scale places, the value a Decimal(38,
// scale) column stores, and fails when it does not fit.
func Scaled(d decimal.Decimal, scale int32) (decimal.Decimal, error) {
	r := d.RoundBank(scale)
	if r.Abs().Cmp(decimal.New(1, 38-scale)) >= 0 {
		return r, fmt.Errorf("amount %s does not fit Decimal(38,%d)", d, scale)
	}
	return r, nil
}
