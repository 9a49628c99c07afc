package billing

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	pqformat "github.com/parquet-go/parquet-go/format"
)

// A Parquet row becomes the text record a CSV row of the same bill would
// be, so that one mapping reads both. Columns are named as a CSV export
// names them: a top-level field by its name, a field of a struct by its
// dotted path (service.description, as GCP's CSV writes it). Values are
// written as follows.
//
//   - null: the empty field, which the mapping reads as null;
//   - DECIMAL(p,s): the exact unscaled integer with s decimals
//     ("0.000000800000"), never through a float;
//   - DOUBLE and FLOAT: Go's shortest text that reads back as the same float
//     (strconv 'g', -1). Such a column holds only the float the exporter
//     wrote, so costs are exact only to the exporter's own precision: a
//     value with up to 15 significant digits comes back as written;
//   - TIMESTAMP (millis, micros, nanos) and legacy INT96 timestamps: FOCUS
//     1.0's UTC date-time, 2024-09-01T00:00:00Z, with a fraction only when
//     there is one; a timestamp not adjusted to UTC is read as UTC, as FOCUS
//     requires its dates to be;
//   - DATE: 2024-09-01; TIME: 15:04:05 with any fraction;
//   - integers (signed or not) in decimal, booleans as true and false, UUIDs
//     in their 8-4-4-4-12 form, strings and other byte arrays as they are;
//   - a MAP: a JSON object (the FOCUS Tags column of AWS's and others'
//     Parquet exports is a map<string,string>); a LIST or repeated field of
//     one value: a JSON array; a repeated struct (GCP's labels and credits):
//     a JSON array of objects keyed by field name. Numbers stay JSON
//     numbers, everything else is a JSON string. Lists within lists are
//     refused, by name.
type parquetColumn struct {
	name   string
	shape  int // scalar, jsonObject, jsonArray or jsonRecords
	leaves []parquetLeaf
	// elemDef is the definition level from which a repeated column's value
	// is an element rather than an empty or null list.
	elemDef int
}

const (
	scalar = iota
	jsonObject
	jsonArray
	jsonRecords
)

// parquetLeaf is one leaf column.
type parquetLeaf struct {
	index   int    // the column index in a row
	name    string // within a repeated struct, the path below it
	numeric bool   // bare in JSON
	text    func(dst []byte, v parquet.Value) []byte
}

// parquetColumns lists the record's columns from the file's schema.
func parquetColumns(root *parquet.Column) ([]parquetColumn, error) {
	var out []parquetColumn
	for _, c := range root.Columns() {
		if err := addParquetColumn(&out, c, ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func addParquetColumn(out *[]parquetColumn, c *parquet.Column, prefix string) error {
	name := prefix + c.Name()
	switch {
	case c.Leaf() && c.MaxRepetitionLevel() == 0:
		l, err := newParquetLeaf(c, name, "")
		if err != nil {
			return err
		}
		*out = append(*out, parquetColumn{name: name, shape: scalar, leaves: []parquetLeaf{l}})
		return nil
	case c.Repeated() || isAnnotated(c, "MAP") || isAnnotated(c, "LIST"):
		return addRepeatedColumn(out, c, name)
	case c.Leaf():
		// Only a repeated ancestor can give a leaf repetition, and the walk
		// stops at the first one.
		return fmt.Errorf("column %s is repeated in a way this importer cannot read", name)
	}
	for _, ch := range c.Columns() {
		if err := addParquetColumn(out, ch, name+"."); err != nil {
			return err
		}
	}
	return nil
}

// isAnnotated reports whether a group is a MAP or a LIST.
func isAnnotated(c *parquet.Column, what string) bool {
	if c.Leaf() {
		return false
	}
	lt := c.Type().LogicalType()
	if lt == nil {
		// A group without an annotation (the parquet-go type of a plain
		// struct reports none), or an old writer's MAP_KEY_VALUE.
		return false
	}
	switch lt.Value.(type) {
	case *pqformat.MapType:
		return what == "MAP"
	case *pqformat.ListType:
		return what == "LIST"
	}
	return false
}

// addRepeatedColumn adds c, a MAP, a LIST or a repeated field, as one
// column written as JSON.
func addRepeatedColumn(out *[]parquetColumn, c *parquet.Column, name string) error {
	rep := c
	if !c.Repeated() {
		// MAP and LIST wrap one repeated group (key_value, list).
		kids := c.Columns()
		if len(kids) != 1 || !kids[0].Repeated() {
			return fmt.Errorf("column %s is a MAP or LIST without its one repeated group", name)
		}
		rep = kids[0]
	}
	col := parquetColumn{name: name, elemDef: rep.MaxDefinitionLevel()}
	var walk func(n *parquet.Column, path string) error
	walk = func(n *parquet.Column, path string) error {
		if n.Leaf() {
			if n.MaxRepetitionLevel() != rep.MaxRepetitionLevel() {
				return fmt.Errorf("column %s holds lists within lists, which this importer does not read", name)
			}
			l, err := newParquetLeaf(n, name, path)
			if err != nil {
				return err
			}
			col.leaves = append(col.leaves, l)
			return nil
		}
		for _, ch := range n.Columns() {
			p := ch.Name()
			if path != "" {
				p = path + "." + p
			}
			if err := walk(ch, p); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(rep, ""); err != nil {
		return err
	}
	switch {
	case len(col.leaves) == 0:
		return fmt.Errorf("column %s has no values", name)
	case isAnnotated(c, "MAP") && len(col.leaves) == 2:
		col.shape = jsonObject
	case len(col.leaves) == 1:
		col.shape = jsonArray
	default:
		col.shape = jsonRecords
	}
	*out = append(*out, col)
	return nil
}

// text renders the column of the row whose leaf values are in leaves.
func (c *parquetColumn) text(dst []byte, leaves [][]parquet.Value) []byte {
	first := leaves[c.leaves[0].index]
	if c.shape == scalar {
		if len(first) == 0 || first[0].IsNull() {
			return dst
		}
		return c.leaves[0].text(dst, first[0])
	}
	if len(first) == 0 || first[0].DefinitionLevel() < c.elemDef {
		return dst // an empty or null list: null, as an empty CSV field
	}
	open, close := byte('['), byte(']')
	if c.shape == jsonObject {
		open, close = '{', '}'
	}
	dst = append(dst, open)
	for i := range first {
		if i > 0 {
			dst = append(dst, ',')
		}
		switch c.shape {
		case jsonObject:
			// A JSON key is a string, whatever the map key's type.
			dst = appendJSONString(dst, string(c.leaves[0].text(nil, elem(leaves, c.leaves[0], i))))
			dst = append(dst, ':')
			dst = c.leaves[1].json(dst, elem(leaves, c.leaves[1], i))
		case jsonArray:
			dst = c.leaves[0].json(dst, elem(leaves, c.leaves[0], i))
		case jsonRecords:
			dst = append(dst, '{')
			for j, l := range c.leaves {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, l.name)
				dst = append(dst, ':')
				dst = l.json(dst, elem(leaves, l, i))
			}
			dst = append(dst, '}')
		}
	}
	return append(dst, close)
}

// elem is the i-th value of a leaf within a repeated column; a malformed
// row short of values reads as null.
func elem(leaves [][]parquet.Value, l parquetLeaf, i int) parquet.Value {
	if vs := leaves[l.index]; i < len(vs) {
		return vs[i]
	}
	return parquet.NullValue()
}

func (l parquetLeaf) json(dst []byte, v parquet.Value) []byte {
	if v.IsNull() {
		return append(dst, "null"...)
	}
	start := len(dst)
	dst = l.text(dst, v)
	if l.numeric && json.Valid(dst[start:]) {
		return dst
	}
	s := string(dst[start:])
	return appendJSONString(dst[:start], s)
}

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(dst, b...)
}

// maxDecimalScale bounds a DECIMAL's scale, which comes from the file: a
// cost has at most a few dozen decimals.
const maxDecimalScale = 76

// newParquetLeaf picks how a leaf's values are written (see parquetColumn).
func newParquetLeaf(c *parquet.Column, column, name string) (parquetLeaf, error) {
	l := parquetLeaf{index: c.Index(), name: name}
	if l.index < 0 {
		return l, fmt.Errorf("column %s has no column index", column)
	}
	t := c.Type()
	kind := t.Kind()
	if lt := t.LogicalType(); lt != nil {
		switch lt := lt.Value.(type) {
		case *pqformat.DecimalType:
			if lt.Scale < 0 || lt.Scale > maxDecimalScale {
				return l, fmt.Errorf("column %s: DECIMAL scale %d is out of range", column, lt.Scale)
			}
			scale := int(lt.Scale)
			l.numeric = true
			switch kind {
			case parquet.Int32:
				l.text = func(dst []byte, v parquet.Value) []byte {
					return appendDecimal(dst, strconv.FormatInt(int64(v.Int32()), 10), scale)
				}
			case parquet.Int64:
				l.text = func(dst []byte, v parquet.Value) []byte {
					return appendDecimal(dst, strconv.FormatInt(v.Int64(), 10), scale)
				}
			default:
				l.text = func(dst []byte, v parquet.Value) []byte {
					return appendDecimal(dst, unscaledText(v.ByteArray()), scale)
				}
			}
			return l, nil
		case *pqformat.TimestampType:
			unit := time.Nanosecond
			if lt.Unit.Value != nil {
				unit = lt.Unit.Value.Duration()
			}
			l.text = func(dst []byte, v parquet.Value) []byte { return appendTime(dst, epochTime(v.Int64(), unit)) }
			return l, nil
		case *pqformat.DateType:
			l.text = func(dst []byte, v parquet.Value) []byte {
				return time.Unix(int64(v.Int32())*86400, 0).UTC().AppendFormat(dst, time.DateOnly)
			}
			return l, nil
		case *pqformat.TimeType:
			unit := time.Nanosecond
			if lt.Unit.Value != nil {
				unit = lt.Unit.Value.Duration()
			}
			l.text = func(dst []byte, v parquet.Value) []byte {
				n := v.Int64()
				if kind == parquet.Int32 {
					n = int64(v.Int32())
				}
				return epochTime(n, unit).AppendFormat(dst, "15:04:05.999999999")
			}
			return l, nil
		case *pqformat.IntType:
			if !lt.IsSigned {
				l.numeric = true
				l.text = func(dst []byte, v parquet.Value) []byte {
					if kind == parquet.Int32 {
						return strconv.AppendUint(dst, uint64(uint32(v.Int32())), 10)
					}
					return strconv.AppendUint(dst, uint64(v.Int64()), 10)
				}
				return l, nil
			}
		case *pqformat.UUIDType:
			l.text = func(dst []byte, v parquet.Value) []byte {
				b := v.ByteArray()
				if len(b) != 16 {
					return append(dst, b...)
				}
				h := hex.EncodeToString(b)
				return append(dst, h[:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:]...)
			}
			return l, nil
		case *pqformat.Float16Type:
			l.numeric = true
			l.text = func(dst []byte, v parquet.Value) []byte {
				b := v.ByteArray()
				if len(b) != 2 {
					return dst
				}
				return strconv.AppendFloat(dst, float16(binary.LittleEndian.Uint16(b)), 'g', -1, 32)
			}
			return l, nil
		}
	}
	switch kind {
	case parquet.Boolean:
		l.numeric = true
		l.text = func(dst []byte, v parquet.Value) []byte { return strconv.AppendBool(dst, v.Boolean()) }
	case parquet.Int32:
		l.numeric = true
		l.text = func(dst []byte, v parquet.Value) []byte { return strconv.AppendInt(dst, int64(v.Int32()), 10) }
	case parquet.Int64:
		l.numeric = true
		l.text = func(dst []byte, v parquet.Value) []byte { return strconv.AppendInt(dst, v.Int64(), 10) }
	case parquet.Int96:
		// INT96 is only ever an Impala/Spark/Hive timestamp: nanoseconds
		// of the day, then the Julian day number.
		l.text = func(dst []byte, v parquet.Value) []byte {
			i := v.Int96()
			nanos := int64(uint64(i[1])<<32 | uint64(i[0]))
			days := int64(i[2]) - 2440588 // the Julian day of 1970-01-01
			return appendTime(dst, time.Unix(days*86400, nanos))
		}
	case parquet.Float:
		l.numeric = true
		l.text = func(dst []byte, v parquet.Value) []byte {
			return strconv.AppendFloat(dst, float64(v.Float()), 'g', -1, 32)
		}
	case parquet.Double:
		l.numeric = true
		l.text = func(dst []byte, v parquet.Value) []byte { return strconv.AppendFloat(dst, v.Double(), 'g', -1, 64) }
	default: // BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY: strings, enums, JSON
		l.text = func(dst []byte, v parquet.Value) []byte { return append(dst, v.ByteArray()...) }
	}
	return l, nil
}

// appendTime writes FOCUS 1.0's date-time form.
func appendTime(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, "2006-01-02T15:04:05.999999999Z07:00")
}

// epochTime is n units after the Unix epoch, without overflowing.
func epochTime(n int64, unit time.Duration) time.Time {
	per := int64(time.Second / unit)
	return time.Unix(n/per, (n%per)*int64(unit))
}

// appendDecimal writes an unscaled integer's digits with scale decimals.
func appendDecimal(dst []byte, digits string, scale int) []byte {
	if digits == "" {
		return dst // no bytes: null
	}
	if d, ok := strings.CutPrefix(digits, "-"); ok {
		dst = append(dst, '-')
		digits = d
	}
	if scale == 0 {
		return append(dst, digits...)
	}
	if len(digits) <= scale {
		dst = append(dst, '0', '.')
		for range scale - len(digits) {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-scale:]...)
}

// unscaledText reads a DECIMAL stored as bytes: a big-endian two's
// complement integer.
func unscaledText(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) <= 8 {
		var n int64
		if b[0]&0x80 != 0 {
			n = -1
		}
		for _, x := range b {
			n = n<<8 | int64(x)
		}
		return strconv.FormatInt(n, 10)
	}
	n := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return n.String()
}

// float16 converts an IEEE 754 half-precision float.
func float16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(h>>10&0x1f), float64(h&0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}
