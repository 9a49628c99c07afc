package slo

import "testing"

func TestOp(t *testing.T) {
	for _, tc := range []struct {
		op                  string
		symbol              string
		below, equal, above bool // does 1, 2, 3 hold against 2
	}{
		{"lt", "<", true, false, false},
		{"lte", "<=", true, true, false},
		{"gt", ">", false, false, true},
		{"gte", ">=", false, true, true},
	} {
		op, ok := parseOp(tc.op)
		if !ok || op.Symbol() != tc.symbol || op.PromQLBool() != tc.symbol+" bool" {
			t.Errorf("%s: parsed %v, symbol %q, PromQL %q", tc.op, ok, op.Symbol(), op.PromQLBool())
		}
		if got := [3]bool{op.Holds(1, 2), op.Holds(2, 2), op.Holds(3, 2)}; got != [3]bool{tc.below, tc.equal, tc.above} {
			t.Errorf("%s: 1, 2, 3 against 2 hold %v", tc.op, got)
		}
	}
	for _, bad := range []string{"", "eq", "LT", "<"} {
		if _, ok := parseOp(bad); ok {
			t.Errorf("parseOp(%q) accepted", bad)
		}
	}
}
