package config

import "go.yaml.in/yaml/v3"

// Value is the value of key in a mapping node, or nil when n is not a
// mapping or has no such key.
func Value(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// Line is the line of the field at path below n (a.b.c as "a", "b", "c"),
// or of the deepest mapping on the path that exists: where a problem with
// the field is reported.
func Line(n *yaml.Node, path ...string) int {
	for _, k := range path {
		v := Value(n, k)
		if v == nil {
			return n.Line
		}
		n = v
	}
	return n.Line
}
