package drift

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ReadCSV reads a CSV file with a header row into typed columns, one
// record at a time, so memory is the columns' values and nothing more. A
// column is numeric when every non-missing value parses as a float,
// otherwise categorical; in a categorical column a value that parses as a
// number is kept in its shortest decimal form ("1.50" and "1.5" are one
// category), the same form numeric values get when one file's column is
// numeric and the other's is not. Missing values are the empty string and,
// case-insensitively, NA, N/A, #N/A, <NA>, NaN, null and None (pandas'
// defaults). When only is non-empty just those columns are kept, and each
// must be in the header.
//
// Errors name the input, the line and, for CSV syntax, the column.
func ReadCSV(name string, r io.Reader, only []string) ([]*Column, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<16))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // checked below, with a clearer message
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, want a header row", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	header = slices.Clone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	seen := make(map[string]int, len(header))
	for i, h := range header {
		if j, dup := seen[h]; dup {
			return nil, fmt.Errorf("%s:1: column %d has the same name %q as column %d", name, i+1, h, j+1)
		}
		seen[h] = i
	}
	// keep[i] is the builder for header column i, or nil to skip it.
	keep := make([]*builder, len(header))
	var builders []*builder
	if len(only) == 0 {
		for i, h := range header {
			keep[i] = &builder{name: h}
			builders = append(builders, keep[i])
		}
	} else {
		for _, want := range only {
			i, ok := seen[want]
			if !ok {
				return nil, fmt.Errorf("%s: no column %q in the header", name, want)
			}
			if keep[i] == nil {
				keep[i] = &builder{name: want}
				builders = append(builders, keep[i])
			}
		}
	}
	size := int64(-1)
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	for rows := 0; ; rows++ {
		if rows == 1024 && size > 0 {
			// Size the columns from the file's length and the first rows'
			// width, so that a million-row file is not built by doubling,
			// which would leave a third of the memory as garbage at peak.
			perRow := float64(cr.InputOffset()) / float64(rows+1)
			want := int(float64(size)/perRow*1.05) + 16
			for _, b := range builders {
				b.reserve(want)
			}
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d:%d: %w", name, pe.Line, pe.Column, pe.Err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(rec) != len(header) {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("%s:%d: %d fields, the header has %d", name, line, len(rec), len(header))
		}
		for i, v := range rec {
			if b := keep[i]; b != nil {
				b.add(v)
			}
		}
	}
	cols := make([]*Column, len(builders))
	for i, b := range builders {
		cols[i] = b.column()
	}
	return cols, nil
}

// builder accumulates one column: floats while every value has been a
// number, labels from the first value that is not.
type builder struct {
	name   string
	floats []float64 // while numeric; NaN for missing
	codes  []int32   // once categorical; -1 for missing
	levels []string
	index  map[string]int32
}

// reserve makes room for n rows in all.
func (b *builder) reserve(n int) {
	if b.index == nil && cap(b.floats) < n {
		b.floats = slices.Grow(b.floats, n-len(b.floats))
	}
	if b.index != nil && cap(b.codes) < n {
		b.codes = slices.Grow(b.codes, n-len(b.codes))
	}
}

func (b *builder) add(v string) {
	s := strings.TrimSpace(v)
	if isMissing(s) {
		if b.index == nil {
			b.floats = append(b.floats, math.NaN())
		} else {
			b.codes = append(b.codes, -1)
		}
		return
	}
	if b.index == nil {
		if f, ok := parseNumber(s); ok {
			b.floats = append(b.floats, f)
			return
		}
		b.toCategorical()
	}
	// A label seen before, as written, needs no parsing: most rows of a
	// categorical column repeat a few labels.
	if c, ok := b.index[s]; ok {
		b.codes = append(b.codes, c)
		return
	}
	if f, ok := parseNumber(s); ok {
		c := b.code(canonicalNumber(f))
		// Remember the spelling too ("1.50" for "1.5"), for the lookup above.
		b.index[strings.Clone(s)] = c
		b.codes = append(b.codes, c)
		return
	}
	b.codes = append(b.codes, b.code(s))
}

// parseNumber parses a float, counting out-of-range ones (1e999) as
// numbers: ±Inf, which the statistics treat as missing. It skips ParseFloat
// for what cannot be a number, whose error would be allocated only to be
// dropped.
func parseNumber(s string) (float64, bool) {
	switch c := s[0]; {
	case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'i', c == 'I', c == 'n', c == 'N':
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// toCategorical turns the numbers read so far into labels.
func (b *builder) toCategorical() {
	b.index = map[string]int32{}
	b.codes = make([]int32, len(b.floats), max(len(b.floats)*2, 16))
	for i, f := range b.floats {
		if math.IsNaN(f) {
			b.codes[i] = -1
			continue
		}
		b.codes[i] = b.code(canonicalNumber(f))
	}
	b.floats = nil
}

func (b *builder) code(label string) int32 {
	c, ok := b.index[label]
	if !ok {
		c = int32(len(b.levels))
		// label may alias the csv reader's reused buffer: copy it.
		label = strings.Clone(label)
		b.index[label] = c
		b.levels = append(b.levels, label)
	}
	return c
}

func (b *builder) column() *Column {
	if b.index == nil {
		return &Column{Name: b.name, Kind: Numeric, Floats: b.floats}
	}
	return &Column{Name: b.name, Kind: Categorical, Codes: b.codes, Levels: b.levels}
}

func isMissing(s string) bool {
	if s == "" {
		return true
	}
	if len(s) > 4 {
		return false
	}
	switch strings.ToLower(s) {
	case "na", "n/a", "#n/a", "<na>", "nan", "null", "none":
		return true
	}
	return false
}
