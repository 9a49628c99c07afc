package slo

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/config"
)

// Sloth's and Pyrra's files are read node by node rather than decoded
// into structs: the two spell the same fields differently (Sloth's CRD in
// camelCase, its prometheus/v1 spec in snake_case), and every problem is
// reported at the line of the field it is about, in the spelling the file
// uses.

// nodeReader reads one document of another tool's format, gathering its
// problems at their lines.
type nodeReader struct {
	file     string
	problems []config.Problem
	keys     map[*yaml.Node]*yaml.Node // value → its key, read by fields
}

// report reports at a value's key where fields read it, since a block
// value (a mapping, a list) starts on the line after its key.
func (r *nodeReader) report(sev config.Severity, n *yaml.Node, field, format string, args ...any) {
	if k, ok := r.keys[n]; ok {
		n = k
	}
	r.problems = append(r.problems, config.Problem{File: r.file, Line: n.Line, Field: field, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

func (r *nodeReader) errorAt(n *yaml.Node, field, format string, args ...any) {
	r.report(config.Error, n, field, format, args...)
}

func (r *nodeReader) warnAt(n *yaml.Node, field, format string, args ...any) {
	r.report(config.Warning, n, field, format, args...)
}

// fields reads a mapping of the known keys: each known key's value by
// name, and an error at each other key, naming the known ones. A missing
// or null node reads as an empty mapping.
func (r *nodeReader) fields(n *yaml.Node, field string, known ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n == nil || n.Tag == "!!null" {
		return out
	}
	n = resolveAlias(n)
	if n.Kind != yaml.MappingNode {
		r.errorAt(n, field, "want a mapping, not %s", describeNode(n))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAlias(n.Content[i+1])
		if !slices.Contains(known, k.Value) {
			r.errorAt(k, join(field, k.Value), "unknown field; the fields here are %s", strings.Join(known, ", "))
			continue
		}
		out[k.Value] = v
		if r.keys == nil {
			r.keys = map[*yaml.Node]*yaml.Node{}
		}
		r.keys[v] = k
	}
	return out
}

// str reads a scalar; "" when absent.
func (r *nodeReader) str(n *yaml.Node, field string) string {
	if n == nil || n.Tag == "!!null" {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		r.errorAt(n, field, "want a string, not %s", describeNode(n))
		return ""
	}
	return n.Value
}

// boolean reads true or false; def when absent.
func (r *nodeReader) boolean(n *yaml.Node, field string, def bool) bool {
	if n == nil || n.Tag == "!!null" {
		return def
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		r.errorAt(n, field, "want true or false, not %s", describeNode(n))
		return def
	}
	return b
}

// strMap reads a mapping of strings (labels, annotations).
func (r *nodeReader) strMap(n *yaml.Node, field string) map[string]string {
	if n == nil || n.Tag == "!!null" {
		return nil
	}
	n = resolveAlias(n)
	if n.Kind != yaml.MappingNode {
		r.errorAt(n, field, "want a mapping of names to strings, not %s", describeNode(n))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAlias(n.Content[i+1])
		if v.Kind != yaml.ScalarNode {
			r.errorAt(v, join(field, k.Value), "want a string, not %s", describeNode(v))
			continue
		}
		out[k.Value] = v.Value
	}
	return out
}

// labels reads labels for alerts and rules: a name Vigil's alerts carry
// of their own is left out with a warning, as Vigil's value identifies
// the alert (severity is page or ticket, which receivers and actions
// read).
func (r *nodeReader) labels(n *yaml.Node, field string) map[string]string {
	ls := r.strMap(n, field)
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		if what, ok := reservedLabels[k]; ok && k != "tenant" {
			r.warnAt(config.Value(n, k), join(field, k), "is left out: Vigil's alerts set %s to %s; route on that, or give this label another name", k, what)
			delete(ls, k)
		}
	}
	return ls
}

// list reads a sequence; nil when absent.
func (r *nodeReader) list(n *yaml.Node, field string) []*yaml.Node {
	if n == nil || n.Tag == "!!null" {
		return nil
	}
	n = resolveAlias(n)
	if n.Kind != yaml.SequenceNode {
		r.errorAt(n, field, "want a list, not %s", describeNode(n))
		return nil
	}
	return n.Content
}

// query checks a PromQL query of an SLI, where it is written.
func (r *nodeReader) query(n *yaml.Node, field string, rates bool) string {
	q := strings.TrimSpace(r.str(n, field))
	if n == nil {
		return ""
	}
	if q == "" {
		r.errorAt(n, field, "is required: a PromQL query")
		return ""
	}
	if _, err := compileQuery(q, rates); err != nil {
		r.errorAt(n, field, "%v", err)
		return ""
	}
	return q
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

// mergeLabels merges label sets, later ones winning; nil when all are
// empty.
func mergeLabels(sets ...map[string]string) map[string]string {
	var out map[string]string
	for _, s := range sets {
		if len(s) > 0 && out == nil {
			out = map[string]string{}
		}
		maps.Copy(out, s)
	}
	return out
}
