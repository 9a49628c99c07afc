package drift

import (
	"math"
	"strconv"
)

// Kind is how a column's values are compared.
type Kind int

const (
	// Numeric columns hold float64 values.
	Numeric Kind = iota
	// Categorical columns hold labels.
	Categorical
)

func (k Kind) String() string {
	if k == Numeric {
		return "numeric"
	}
	return "categorical"
}

// Column is one column of a sample. A numeric column keeps a float per
// row, NaN where the value is missing; ±Inf are kept as read and treated as
// missing by the statistics. A categorical column keeps, per row, an index
// into Levels, or -1 where missing.
type Column struct {
	Name   string
	Kind   Kind
	Floats []float64 // Numeric
	Codes  []int32   // Categorical
	Levels []string  // Categorical
}

// Values are the column's values as text, missing ones left out: numbers
// as the shortest text that reads back the same, labels as they are.
func (c *Column) Values() []string {
	var out []string
	if c.Kind == Numeric {
		out = make([]string, 0, len(c.Floats))
		for _, f := range c.Floats {
			if !math.IsNaN(f) {
				out = append(out, strconv.FormatFloat(f, 'g', -1, 64))
			}
		}
		return out
	}
	out = make([]string, 0, len(c.Codes))
	for _, code := range c.Codes {
		if code >= 0 {
			out = append(out, c.Levels[code])
		}
	}
	return out
}

// Len is the number of rows.
func (c *Column) Len() int {
	if c.Kind == Numeric {
		return len(c.Floats)
	}
	return len(c.Codes)
}

// NumericColumn is a numeric column from values (NaN for missing).
func NumericColumn(name string, values []float64) *Column {
	return &Column{Name: name, Kind: Numeric, Floats: values}
}

// CategoricalColumn is a categorical column from labels; missing lists
// the rows whose label is missing.
func CategoricalColumn(name string, labels []string, missing func(row int) bool) *Column {
	c := &Column{Name: name, Kind: Categorical, Codes: make([]int32, len(labels))}
	index := map[string]int32{}
	for i, l := range labels {
		if missing != nil && missing(i) {
			c.Codes[i] = -1
			continue
		}
		code, ok := index[l]
		if !ok {
			code = int32(len(c.Levels))
			index[l] = code
			c.Levels = append(c.Levels, l)
		}
		c.Codes[i] = code
	}
	return c
}

// scratch is memory one goroutine reuses from column to column.
type scratch struct {
	ref, cur []float64
	sort     sorter
}

// numericSample is the finite values of a numeric column, sorted, in buf
// (grown as needed), and how many rows were missing or not finite.
func numericSample(c *Column, buf []float64, s *scratch) (sorted []float64, missing int) {
	return s.sort.sortedFinite(c.Floats, buf)
}

// categoryCounts counts each label of a column; a numeric column's values
// become labels in their shortest decimal form, as the CSV reader writes
// numbers in a column that turned out categorical, so both sides agree.
func categoryCounts(c *Column) (counts map[string]int, n, missing int) {
	counts = map[string]int{}
	if c.Kind == Numeric {
		for _, v := range c.Floats {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				missing++
				continue
			}
			counts[canonicalNumber(v)]++
			n++
		}
		return counts, n, missing
	}
	perLevel := make([]int, len(c.Levels))
	for _, code := range c.Codes {
		if code < 0 {
			missing++
			continue
		}
		perLevel[code]++
		n++
	}
	for i, l := range c.Levels {
		if perLevel[i] > 0 {
			counts[l] += perLevel[i]
		}
	}
	return counts, n, missing
}

// canonicalNumber is the label a number gets in a categorical column.
func canonicalNumber(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
