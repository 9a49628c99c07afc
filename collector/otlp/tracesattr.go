package otlp

// Attribute values: read from the protobuf in place, checked as pdata
// parses them, and written as pdata's AsString writes them.

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/VictoriaMetrics/easyproto"

	"github.com/vigil-dev/vigil/store"
)

// anyValue is an AnyValue as read: which of its oneof fields came last
// (0 for none) and that field's bytes or number.
type anyValue struct {
	field uint32
	data  []byte
	num   uint64
}

// keyValue appends one attribute to kvs, its value written as pdata's
// AsString writes it.
func (d *tracesDecoder) keyValue(src []byte) error {
	var fc easyproto.FieldContext
	var key []byte
	var v anyValue
	for len(src) > 0 {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		switch fc.FieldNum {
		case 1:
			b, ok := fc.Bytes()
			if !ok {
				return wrongType("attribute key")
			}
			key = b
		case 2:
			// A repeated value field merges into one value, as protobuf
			// merges messages: the last oneof field set wins.
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("attribute value")
			}
			if err := readAnyValue(data, &v, 1, true); err != nil {
				return err
			}
		case 3:
			if _, ok := fc.Uint64(); !ok {
				return wrongType("key_strindex")
			}
		}
	}
	kv := store.KeyValue{Key: d.intern(key)}
	switch v.field {
	case 1:
		kv.Value = d.intern(v.data)
	case 2:
		kv.Value, kv.Type = strconv.FormatBool(v.num != 0), store.AttrBool
	case 3:
		kv.Value, kv.Type = strconv.FormatInt(int64(v.num), 10), store.AttrInt
	case 4:
		kv.Value, kv.Type = d.double(v.num), store.AttrDouble
	case 5, 6:
		var err error
		d.json, err = d.appendJSON(d.json[:0], v, 1)
		switch {
		case errors.Is(err, errNotJSON):
			kv.Value = "" // encoding/json refuses the value; AsString is empty
		case err != nil:
			return err
		default:
			kv.Value = string(d.json)
		}
		kv.Type = store.AttrArray
		if v.field == 6 {
			kv.Type = store.AttrMap
		}
	case 7:
		kv.Value, kv.Type = base64.StdEncoding.EncodeToString(v.data), store.AttrBytes
	}
	// Field 8 (string_value_strindex, for profiles) and no value at all
	// are an empty value: an empty string.
	d.kvs = append(d.kvs, kv)
	return nil
}

// readAnyValue reads an AnyValue message into v; with check, it checks
// nested arrays and maps as pdata would parse them. Each value is checked
// once: reading it again for appendJSON does not check, which would take
// time exponential in the depth.
func readAnyValue(src []byte, v *anyValue, depth int, check bool) error {
	if depth > maxDepth {
		return errUnsupported
	}
	var fc easyproto.FieldContext
	for len(src) > 0 {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		var ok bool
		switch fc.FieldNum {
		case 1, 7:
			v.data, ok = fc.Bytes()
		case 2, 3, 8:
			v.num, ok = fc.Uint64()
		case 4:
			v.num, ok = fc.Fixed64()
		case 5, 6:
			if v.data, ok = fc.MessageData(); ok && check {
				err = checkList(v.data, fc.FieldNum == 6, depth)
			}
		default:
			continue
		}
		if !ok {
			return wrongType("attribute value")
		}
		if err != nil {
			return err
		}
		v.field = fc.FieldNum
	}
	return nil
}

// checkList checks an ArrayValue (or, with kv, a KeyValueList): each of
// its field 1 is an AnyValue (or a KeyValue).
func checkList(src []byte, kv bool, depth int) error {
	return eachElement(src, "values", func(data []byte) error {
		if !kv {
			var v anyValue
			return readAnyValue(data, &v, depth+1, true)
		}
		_, _, err := readKeyValue(data, depth+1, true)
		return err
	})
}

// eachElement calls f with each message of field 1 (the elements of an
// ArrayValue or KeyValueList, the resource_spans of an export); field names
// it in the error of a wrong wire type.
func eachElement(src []byte, field string, f func([]byte) error) error {
	var fc easyproto.FieldContext
	for len(src) > 0 {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		if fc.FieldNum != 1 {
			continue
		}
		data, ok := fc.MessageData()
		if !ok {
			return wrongType(field)
		}
		if err := f(data); err != nil {
			return err
		}
	}
	return nil
}

// readKeyValue reads a KeyValue of a map value: its key and the
// occurrences of its value field, in order; check is readAnyValue's.
func readKeyValue(src []byte, depth int, check bool) (key []byte, values [][]byte, err error) {
	if depth > maxDepth {
		return nil, nil, errUnsupported
	}
	var fc easyproto.FieldContext
	for len(src) > 0 {
		if src, err = next(&fc, src); err != nil {
			return nil, nil, err
		}
		switch fc.FieldNum {
		case 1:
			b, ok := fc.Bytes()
			if !ok {
				return nil, nil, wrongType("attribute key")
			}
			key = b
		case 2:
			data, ok := fc.MessageData()
			if !ok {
				return nil, nil, wrongType("attribute value")
			}
			var v anyValue
			if err := readAnyValue(data, &v, depth+1, check); err != nil {
				return nil, nil, err
			}
			values = append(values, data)
		case 3:
			if _, ok := fc.Uint64(); !ok {
				return nil, nil, wrongType("key_strindex")
			}
		}
	}
	return key, values, nil
}

// errNotJSON is a value encoding/json refuses: a NaN or an infinity.
var errNotJSON = errors.New("not representable in JSON")

// appendJSON appends an AnyValue already checked by readAnyValue as
// pdata's AsString writes arrays and maps: encoding/json's output, without
// HTML escaping, for the values Value.AsRaw makes (nil for empty bytes, the
// last value of a repeated map key, keys sorted).
func (d *tracesDecoder) appendJSON(dst []byte, v anyValue, depth int) ([]byte, error) {
	switch v.field {
	case 1:
		return appendJSONString(dst, v.data), nil
	case 2:
		return strconv.AppendBool(dst, v.num != 0), nil
	case 3:
		return strconv.AppendInt(dst, int64(v.num), 10), nil
	case 4:
		return appendJSONFloat(dst, math.Float64frombits(v.num))
	case 7:
		if len(v.data) == 0 {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, v.data)
		return append(dst, '"'), nil
	case 5:
		dst = append(dst, '[')
		var fc easyproto.FieldContext
		first := true
		for src := v.data; len(src) > 0; {
			var err error
			if src, err = next(&fc, src); err != nil {
				return dst, err
			}
			data, ok := fc.MessageData()
			if fc.FieldNum != 1 || !ok {
				continue
			}
			var e anyValue
			if err := readAnyValue(data, &e, depth+1, false); err != nil {
				return dst, err
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			if dst, err = d.appendJSON(dst, e, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case 6:
		return d.appendJSONObject(dst, v.data, depth)
	}
	return append(dst, "null"...), nil // empty, or string_value_strindex
}

// mapEntry is one KeyValue of a map value, on tracesDecoder.entries.
type mapEntry struct {
	key []byte
	v   anyValue
}

func (d *tracesDecoder) appendJSONObject(dst []byte, src []byte, depth int) ([]byte, error) {
	start := len(d.entries)
	defer func() { d.entries = d.entries[:start] }()
	var fc easyproto.FieldContext
	for len(src) > 0 {
		var err error
		if src, err = next(&fc, src); err != nil {
			return dst, err
		}
		data, ok := fc.MessageData()
		if fc.FieldNum != 1 || !ok {
			continue
		}
		key, values, err := readKeyValue(data, depth+1, false)
		if err != nil {
			return dst, err
		}
		var e anyValue
		for _, data := range values {
			if err := readAnyValue(data, &e, depth+2, false); err != nil {
				return dst, err
			}
		}
		d.entries = append(d.entries, mapEntry{key, e})
	}
	// Sorted by key, and of a repeated key the last: a Go map keeps one
	// value a key, and encoding/json writes its keys sorted.
	entries := d.entries[start:]
	slices.SortStableFunc(entries, func(a, b mapEntry) int { return bytes.Compare(a.key, b.key) })
	dst = append(dst, '{')
	first := true
	for i := start; i < len(d.entries); i++ {
		if i+1 < len(d.entries) && bytes.Equal(d.entries[i].key, d.entries[i+1].key) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, d.entries[i].key)
		dst = append(dst, ':')
		var err error
		if dst, err = d.appendJSON(dst, d.entries[i].v, depth+2); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// appendJSONFloat writes f as encoding/json does.
func appendJSONFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, errNotJSON
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if n := len(dst); format == 'e' && n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
		// e-09 is written e-9.
		dst[n-2] = dst[n-1]
		dst = dst[:n-1]
	}
	return dst, nil
}

// appendJSONString writes s as encoding/json does without HTML escaping:
// control characters, quotes and backslashes escaped, invalid UTF-8 as
// U+FFFD, and U+2028 and U+2029 escaped.
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRune(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
