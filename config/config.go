package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Severity says whether a problem fails lint.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Problem is one finding about a file.
type Problem struct {
	File     string
	Line     int // 0 when the problem is about the whole file
	Field    string
	Severity Severity
	Message  string
}

// String formats the problem the way compilers do, so editors and CI
// annotate the line: "slos/chat.yaml:14: objectives[0].target: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Severity == Warning {
		b.WriteString("warning: ")
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Document is one YAML document of a file, with positions.
type Document struct {
	File string
	Node *yaml.Node // the document's root content node
}

// IsYAML reports whether a path names a YAML file.
func IsYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// Files expands paths into the YAML files they name: a file as itself, a
// directory as every YAML file under it (hidden entries skipped), sorted.
func Files(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() && IsYAML(path) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// Parse reads every YAML document of a file. A syntax error is returned as
// a Problem with the line yaml reports.
func Parse(name string, data []byte) ([]Document, []Problem) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []Document
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, []Problem{syntaxProblem(name, err)}
		}
		if len(n.Content) == 0 || isEmpty(n.Content[0]) {
			continue // an empty document
		}
		if p, ok := duplicateKey(name, n.Content[0]); ok {
			return docs, []Problem{p}
		}
		docs = append(docs, Document{File: name, Node: n.Content[0]})
	}
}

func isEmpty(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == ""
}

// duplicateKey finds a mapping key defined twice: decoding into a node
// tree, unlike decoding into a struct, does not reject it, and a repeated
// key silently overriding the first is a classic config bug.
func duplicateKey(file string, n *yaml.Node) (Problem, bool) {
	if n.Kind == yaml.MappingNode {
		seen := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if first, ok := seen[k.Value]; ok && k.Kind == yaml.ScalarNode {
				return Problem{File: file, Line: k.Line, Severity: Error,
					Message: fmt.Sprintf("mapping key %q already defined at line %d", k.Value, first)}, true
			}
			seen[k.Value] = k.Line
		}
	}
	for _, c := range n.Content {
		if p, ok := duplicateKey(file, c); ok {
			return p, true
		}
	}
	return Problem{}, false
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// syntaxProblem turns a yaml error ("yaml: line 3: mapping values are not
// allowed in this context") into a Problem on that line.
func syntaxProblem(file string, err error) Problem {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	p := Problem{File: file, Severity: Error, Message: strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Message = m[2]
	}
	return p
}

// HasErrors reports whether any problem is an error, not a warning.
func HasErrors(ps []Problem) bool {
	for _, p := range ps {
		if p.Severity == Error {
			return true
		}
	}
	return false
}

// SortProblems orders problems by file, then line; problems on one line
// keep their order.
func SortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Line < ps[j].Line
	})
}

// Errors is a reading with errors, as an error: what a command that must
// not start on it returns. Every place that shows problems formats each
// with Problem.String: vigil lint a line each, this error joined on one
// line, the config status API a string each.
type Errors struct {
	Dir      string
	Problems []Problem // errors and warnings
}

// Err is nil when ps hold no error, and an *Errors otherwise.
func Err(dir string, ps []Problem) error {
	if !HasErrors(ps) {
		return nil
	}
	return &Errors{Dir: dir, Problems: ps}
}

func (e *Errors) Error() string {
	var msgs []string
	for _, p := range e.Problems {
		if p.Severity == Error {
			msgs = append(msgs, p.String())
		}
	}
	return fmt.Sprintf("config directory %s has problems (vigil lint lists them): %s", e.Dir, strings.Join(msgs, "; "))
}

// DecodeStrict decodes one node (an item of a list, say) into v, refusing
// unknown fields, and reports the first failure as a Problem on the node's
// line. Aliases to anchors elsewhere in the file (a merge key <<:
// *defaults, say) are followed.
func DecodeStrict(file string, n *yaml.Node, field string, v any) *Problem {
	if ps := Decode(file, n, field, v); len(ps) > 0 {
		return &ps[0]
	}
	return nil
}

// Decode is DecodeStrict reporting every failure, each at the line of the
// field it names where it names one: an unknown field or a value of the
// wrong type does not stop the decoding, so v holds every other field and
// a reader can go on to report what else is wrong.
func Decode(file string, n *yaml.Node, field string, v any) []Problem {
	if hasAlias(n) {
		budget := maxExpanded
		at, err := expand(n, &budget, map[*yaml.Node]bool{})
		if errors.Is(err, errTooMany) {
			at = n // the item, not where the count ran out
		}
		if err != nil {
			return []Problem{{File: file, Line: at.Line, Field: field, Severity: Error, Message: err.Error()}}
		}
		n = at
	}
	var buf strings.Builder
	enc := yaml.NewEncoder(&buf)
	enc.Encode(n)
	dec := yaml.NewDecoder(strings.NewReader(buf.String()))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	problems := make([]Problem, 0, len(msgs))
	for _, msg := range msgs {
		problems = append(problems, decodeProblem(file, n, field, msg))
	}
	return problems
}

// decodeProblem turns one of yaml's decoding messages into a Problem.
func decodeProblem(file string, n *yaml.Node, field, msg string) Problem {
	// Lines in the re-encoded node are relative to the item.
	msg = strings.TrimPrefix(msg, "yaml: ")
	if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
		msg = msg[i+2:]
	}
	if i := strings.Index(msg, " in type "); i > 0 {
		msg = msg[:i] // the Go type means nothing to the file's author
	}
	line := n.Line
	var name string
	if _, err := fmt.Sscanf(msg, "field %s not found", &name); err == nil {
		if k := findKey(n, name); k != nil {
			line = k.Line
		}
	}
	return Problem{File: file, Line: line, Field: field, Severity: Error, Message: msg}
}

// maxExpanded bounds the nodes one item may expand to through aliases, so
// a few lines of aliases of aliases cannot make a billion.
const maxExpanded = 10000

var errTooMany = fmt.Errorf("its aliases expand to more than %d nodes", maxExpanded)

// expand copies n with every alias replaced by a copy of what it names,
// for a node encoded alone: on its own, an alias to an anchor outside it
// names nothing. It fails beyond budget nodes, and on an alias inside the
// node it names, returning the node where it stopped.
func expand(n *yaml.Node, budget *int, open map[*yaml.Node]bool) (*yaml.Node, error) {
	if *budget--; *budget < 0 {
		return n, errTooMany
	}
	if n.Kind == yaml.AliasNode {
		target := n.Alias
		switch {
		case target == nil:
			return n, fmt.Errorf("unknown anchor %q referenced", n.Value)
		case open[target]:
			return n, fmt.Errorf("anchor %q contains itself", n.Value)
		}
		open[target] = true
		defer delete(open, target)
		return expand(target, budget, open)
	}
	c := *n
	c.Anchor = ""
	c.Content = nil
	for _, child := range n.Content {
		e, err := expand(child, budget, open)
		if err != nil {
			return e, err
		}
		c.Content = append(c.Content, e)
	}
	return &c, nil
}

// hasAlias reports an alias anywhere in n's tree (not followed).
func hasAlias(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c) {
			return true
		}
	}
	return false
}

// findKey returns the first mapping key named name in n's tree, depth first.
func findKey(n *yaml.Node, name string) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				return n.Content[i]
			}
		}
	}
	for _, c := range n.Content {
		if k := findKey(c, name); k != nil {
			return k
		}
	}
	return nil
}
