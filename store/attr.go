package store

import "sort"

// KeyValue is one attribute, tag or label. Values are kept as strings: the
// type of an OTLP attribute value is not preserved (numbers and booleans are
// written in their canonical text form).
type KeyValue struct {
	Key   string `json:"k"`
	Value string `json:"v"`
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

// JoinAttributes is the inverse of Split. It returns nil for no pairs.
func JoinAttributes(keys, values []string) Attributes {
	if len(keys) == 0 {
		return nil
	}
	a := make(Attributes, len(keys))
	for i := range keys {
		a[i] = KeyValue{Key: keys[i]}
		if i < len(values) {
			a[i].Value = values[i]
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
