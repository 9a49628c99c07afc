package store

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// MoneyScale is the number of decimal places both backends keep for money
// and quantities (Decimal(38,12)): enough for real billing exports, which
// carry up to 11, and for per-token prices times token counts.
const MoneyScale = 12

// maxMoney is the largest magnitude Decimal(38,12) holds: 26 integer digits.
var maxMoney = decimal.New(1, 26)

// Money rounds d half-to-even to MoneyScale places, the value a backend
// stores, and fails when it does not fit.
func Money(d decimal.Decimal) (decimal.Decimal, error) {
	r := d.RoundBank(MoneyScale)
	if r.Abs().Cmp(maxMoney) >= 0 {
		return r, fmt.Errorf("amount %s does not fit Decimal(38,%d)", d, MoneyScale)
	}
	return r, nil
}
