package store

import "sort"

// AttrType is the type an attribute's value had on the wire. Values are
// kept as text (so a tag search compares strings on both backends); the
// type says how to read the text back, so the Jaeger API can answer an
// OTLP int as int64 and a bool as bool, as Jaeger itself does.
type AttrType int8

// The attribute types, after OTLP's AnyValue. The zero value is a string,
// so a KeyValue built without a type — a label, a tag from a bill, a row
// written before types were stored — is a string.
const (
	AttrString AttrType = iota // as sent
	AttrBool                   // "true" or "false"
	AttrInt                    // base-10 int64
	AttrDouble                 // text strconv.ParseFloat reads back exactly ("0.25", "1e+21", "NaN", "Infinity")
	AttrBytes                  // standard base64, padded
	AttrArray                  // a JSON array, as OTLP's AnyValue.AsString writes it
	AttrMap                    // a JSON object, as OTLP's AnyValue.AsString writes it
)

var attrTypeNames = [...]string{"string", "bool", "int", "double", "bytes", "array", "map"}

// String returns the type's lower-case name.
func (t AttrType) String() string {
	if t >= 0 && int(t) < len(attrTypeNames) {
		return attrTypeNames[t]
	}
	return "string"
}

// KeyValue is one attribute, tag or label. Value is the text form of the
// value; Type says what it was (see AttrType), AttrString when unset.
type KeyValue struct {
	Key   string   `json:"k"`
	Value string   `json:"v"`
	Type  AttrType `json:"t,omitempty"`
}

// Attributes is an ordered list of key/value pairs.
type Attributes []KeyValue

// Get returns the value of the first pair with key k.
func (a Attributes) Get(k string) (string, bool) {
	for _, kv := range a {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return "", false
}

// Split returns the keys and values as parallel slices, the form both
// backends store them in.
func (a Attributes) Split() (keys, values []string) {
	keys = make([]string, len(a))
	values = make([]string, len(a))
	for i, kv := range a {
		keys[i], values[i] = kv.Key, kv.Value
	}
	return keys, values
}

// SplitTyped is Split plus the types, a third parallel slice. The types are
// empty when every value is a string — most attributes are, and an empty
// array is what rows stored before types were read back as — so a store
// pays for types only on rows that have them.
func (a Attributes) SplitTyped() (keys, values []string, types []int8) {
	keys, values = a.Split()
	for i, kv := range a {
		if kv.Type != AttrString {
			types = make([]int8, len(a))
			for j := i; j < len(a); j++ {
				types[j] = int8(a[j].Type)
			}
			break
		}
	}
	if types == nil {
		types = []int8{}
	}
	return keys, values, types
}

// JoinAttributes is the inverse of Split. It returns nil for no pairs.
func JoinAttributes(keys, values []string) Attributes {
	return JoinTypedAttributes(keys, values, nil)
}

// JoinTypedAttributes is the inverse of SplitTyped: types shorter than
// keys (empty, for rows without types) leave the rest strings.
func JoinTypedAttributes(keys, values []string, types []int8) Attributes {
	if len(keys) == 0 {
		return nil
	}
	a := make(Attributes, len(keys))
	for i := range keys {
		a[i] = KeyValue{Key: keys[i]}
		if i < len(values) {
			a[i].Value = values[i]
		}
		if i < len(types) {
			a[i].Type = AttrType(types[i])
		}
	}
	return a
}

// SortedCopy returns the pairs sorted by key, then value.
func (a Attributes) SortedCopy() Attributes {
	c := append(Attributes(nil), a...)
	sort.Slice(c, func(i, j int) bool {
		if c[i].Key != c[j].Key {
			return c[i].Key < c[j].Key
		}
		return c[i].Value < c[j].Value
	})
	return c
}
