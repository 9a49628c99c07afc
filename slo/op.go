package slo

// Op is how a measured value compares to an SLI's threshold, named as the
// SLO files write it.
type Op string

const (
	LessThan       Op = "lt"
	LessOrEqual    Op = "lte"
	GreaterThan    Op = "gt"
	GreaterOrEqual Op = "gte"
)

var opSymbols = map[Op]string{LessThan: "<", LessOrEqual: "<=", GreaterThan: ">", GreaterOrEqual: ">="}

// parseOp reads an op as the files write it: lt, lte, gt or gte.
func parseOp(s string) (Op, bool) {
	_, ok := opSymbols[Op(s)]
	return Op(s), ok
}

// Symbol is the op as arithmetic writes it: <, <=, > or >=.
func (o Op) Symbol() string { return opSymbols[o] }

// PromQLBool is the PromQL comparison that turns a sample into 1 where it
// passes and 0 where it does not, so averaging the result over time gives
// the share that passed.
func (o Op) PromQLBool() string { return opSymbols[o] + " bool" }

// Holds reports whether v compares to threshold by the op.
func (o Op) Holds(v, threshold float64) bool {
	switch o {
	case LessThan:
		return v < threshold
	case LessOrEqual:
		return v <= threshold
	case GreaterThan:
		return v > threshold
	case GreaterOrEqual:
		return v >= threshold
	}
	return false
}
