package config

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// claim hands one document to the sections that claim its parts, and
// reports what none claims (unless partial).
func (r *Registry) claim(doc Document, readings []reading, partial bool) []Problem {
	n, file := doc.Node, doc.File
	switch {
	case n.Kind == yaml.MappingNode && isObject(n):
		return r.object(file, n, readings, partial)
	case n.Kind == yaml.MappingNode:
		return r.mapping(file, n, readings, partial)
	case n.Kind == yaml.SequenceNode && len(n.Content) > 0 && isObject(n.Content[0]):
		// A list of objects, as some tools write them.
		var problems []Problem
		for _, item := range n.Content {
			if isObject(item) {
				problems = append(problems, r.object(file, item, readings, partial)...)
			} else if !partial {
				problems = append(problems, Problem{File: file, Line: item.Line, Severity: Error,
					Message: fmt.Sprintf("this list holds apiVersion/kind objects, and this item is %s", describe(item))})
			}
		}
		return problems
	case partial:
		return nil
	}
	return []Problem{{File: file, Line: n.Line, Severity: Error,
		Message: fmt.Sprintf("the document is %s; want a mapping of keys (%s) or an apiVersion/kind object", describe(n), strings.Join(r.Keys(), ", "))}}
}

// isObject reports a Kubernetes-style object: a mapping with an
// apiVersion, or with a kind beside metadata or spec.
func isObject(n *yaml.Node) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	if Value(n, "apiVersion") != nil {
		return true
	}
	return Value(n, "kind") != nil && (Value(n, "metadata") != nil || Value(n, "spec") != nil)
}

// mapping hands a document of a format a section claims whole to it, and
// otherwise each top-level key to its section.
func (r *Registry) mapping(file string, n *yaml.Node, readings []reading, partial bool) []Problem {
	for f, s := range r.formats {
		if v := Value(n, f.Key); v != nil && v.Kind == yaml.ScalarNode && v.Value == f.Value {
			return readings[s].Decode(Item{File: file, Node: n})
		}
	}
	if p, ok := foreignFile(file, n); ok {
		if partial {
			return nil
		}
		return []Problem{p}
	}
	var problems []Problem
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind == yaml.ScalarNode {
			if s, ok := r.keys[k.Value]; ok {
				problems = append(problems, readings[s].Decode(Item{File: file, Key: k.Value, Node: v})...)
				continue
			}
		}
		if !partial {
			problems = append(problems, r.unknownKey(file, k))
		}
	}
	return problems
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func (r *Registry) unknownKey(file string, k *yaml.Node) Problem {
	p := Problem{File: file, Line: k.Line, Severity: Error}
	known := strings.Join(r.Keys(), ", ")
	switch {
	case k.Kind != yaml.ScalarNode:
		p.Message = fmt.Sprintf("a top-level key is a name, not %s; the keys are %s", describe(k), known)
	case k.Tag == "!!merge":
		p.Message = "a merge key (<<) at the top level is not read: merge inside the items of a list"
	default:
		p.Message = fmt.Sprintf("unknown top-level key %s", quote(k.Value))
		if s := suggest(k.Value, r.Keys()); s != "" {
			p.Message += fmt.Sprintf(" (did you mean `%s`?)", s)
		}
		p.Message += "; the keys are " + known
		if vs := r.APIVersions(); len(vs) > 0 {
			p.Message += ", and apiVersion/kind documents of " + strings.Join(vs, ", ")
		}
	}
	return p
}

// object hands an apiVersion/kind document to the section that claims its
// kind. Read alone (partial), a section still hears of a kind its own
// apiVersion does not have.
func (r *Registry) object(file string, n *yaml.Node, readings []reading, partial bool) []Problem {
	av, kind := Value(n, "apiVersion"), Value(n, "kind")
	version, kindName := scalar(av), scalar(kind)
	at := func(field, format string, args ...any) []Problem {
		return []Problem{{File: file, Line: Line(n, field), Field: field, Severity: Error, Message: fmt.Sprintf(format, args...)}}
	}
	kinds, known := r.kinds[version]
	switch {
	case known:
	case partial:
		return nil
	case av == nil:
		if f, ok := foreignObject(version, kindName); ok {
			return at("kind", "%s", f)
		}
		return at("apiVersion", "is required beside kind: one of %s", strings.Join(r.APIVersions(), ", "))
	default:
		if f, ok := foreignObject(version, kindName); ok {
			return at("apiVersion", "%s", f)
		}
		msg := fmt.Sprintf("%s is not a format Vigil reads", quote(version))
		if s := suggest(version, r.APIVersions()); s != "" {
			msg += fmt.Sprintf(" (did you mean `%s`?)", s)
		}
		if vs := r.APIVersions(); len(vs) > 0 {
			msg += "; the apiVersions are " + strings.Join(vs, ", ")
		}
		return at("apiVersion", "%s; besides them, mappings of the keys %s", msg, strings.Join(r.Keys(), ", "))
	}
	s, ok := kinds[kindName]
	switch {
	case ok:
		return readings[s].Decode(Item{File: file, Node: n})
	case kind == nil:
		return at("kind", "is required: one of %s", strings.Join(r.order[version], ", "))
	}
	msg := fmt.Sprintf("%s is not one of %s (the kinds of %s)", quote(kindName), strings.Join(r.order[version], ", "), version)
	if sg := suggest(kindName, r.order[version]); sg != "" {
		msg += fmt.Sprintf("; did you mean `%s`?", sg)
	}
	return at("kind", "%s", msg)
}

func scalar(n *yaml.Node) string {
	if n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// describe names what a node is, for a message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "the value " + quote(n.Value)
}

// quote quotes a name from a file for a message, cutting a long one short.
func quote(s string) string {
	const max = 64
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}

// Formats of other tools that are found in config directories: each is
// named rather than reported as unknown.
var foreignAPIs = []struct {
	prefix, kind, format, advice string
}{
	{"sloth.slok.dev/", "", "Sloth's Kubernetes format", sloAdvice},
	{"prometheus/v1", "", "Sloth's prometheus/v1 spec", sloAdvice},
	{"", "PrometheusServiceLevel", "Sloth's Kubernetes format", sloAdvice},
	{"pyrra.dev/", "", "Pyrra's format", sloAdvice},
	{"monitoring.coreos.com/", "", "a Prometheus Operator resource", rulesAdvice},
	{"n9/", "", "Nobl9's format", sloAdvice},
}

const (
	sloAdvice   = "Vigil does not read it: write the SLOs under slos:, or as OpenSLO (apiVersion: openslo/v1)"
	rulesAdvice = "Vigil does not read Prometheus rules: it evaluates the SLOs themselves (vigil slo export writes rules for Prometheus); keep rule files out of the config directory"
)

// foreignObject names the tool whose document this is, if Vigil knows it.
func foreignObject(apiVersion, kind string) (string, bool) {
	for _, f := range foreignAPIs {
		if f.prefix != "" && strings.HasPrefix(apiVersion, f.prefix) || f.kind != "" && kind == f.kind {
			what := quote(apiVersion)
			if kind != "" {
				what += " kind " + quote(kind)
			}
			return fmt.Sprintf("%s is %s; %s", what, f.format, f.advice), true
		}
	}
	return "", false
}

// foreignFile names a file of another tool that is a plain mapping: Sloth's
// prometheus/v1 spec (version: prometheus/v1) or a Prometheus rule file
// (groups:).
func foreignFile(file string, n *yaml.Node) (Problem, bool) {
	if v := Value(n, "version"); v != nil && v.Kind == yaml.ScalarNode && strings.HasPrefix(v.Value, "prometheus/") {
		return Problem{File: file, Line: v.Line, Field: "version", Severity: Error,
			Message: fmt.Sprintf("%s is Sloth's spec; %s", quote(v.Value), sloAdvice)}, true
	}
	if g := Value(n, "groups"); g != nil && g.Kind == yaml.SequenceNode {
		return Problem{File: file, Line: keyLine(n, "groups"), Field: "groups", Severity: Error,
			Message: "this is a Prometheus rule file; " + rulesAdvice}, true
	}
	return Problem{}, false
}

// keyLine is the line of a mapping's key.
func keyLine(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return n.Line
}

// suggest is the candidate nearest word, when it is near enough to be a
// slip: at most one edit from a name of four letters or fewer, two from a
// longer one, compared without case, with - or a space as _, and also
// against each candidate's singular (slo, budget, canary).
func suggest(word string, candidates []string) string {
	w := strings.ToLower(strings.NewReplacer("-", "_", " ", "_").Replace(word))
	best, bestDist := "", 3
	for _, c := range candidates {
		for _, form := range []string{c, singular(c)} {
			limit := 2
			if len(form) <= 4 {
				limit = 1
			}
			if d := distance(w, form, limit); d <= limit && d < bestDist {
				best, bestDist = c, d
			}
		}
	}
	if best == word {
		return ""
	}
	return best
}

func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies"):
		return strings.TrimSuffix(s, "ies") + "y"
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss"):
		return strings.TrimSuffix(s, "s")
	}
	return s
}

// distance is the optimal string alignment distance between a and b (an
// insertion, deletion, substitution or swap of neighbours is one edit),
// or limit+1 once it must exceed limit: a long word costs no more than a
// glance at its length.
func distance(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit+1)
}
