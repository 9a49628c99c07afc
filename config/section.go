package config

import (
	"fmt"
	"maps"
	"os"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Item is what a reading hands a section: the value of a top-level key the
// section claims, or a whole document of a kind it claims.
type Item struct {
	File string
	// Key is the claimed top-level key; "" for a document.
	Key string
	// Node is the key's value (an alias resolved to its anchor), or the
	// document's root mapping.
	Node *yaml.Node
}

// Decoder reads one section through one reading of the directory.
type Decoder[T any] interface {
	// Decode reads one item the section claims and returns its problems,
	// each at its file and line.
	Decode(it Item) []Problem
	// Done is called once, after every item: it returns the section's
	// value and the problems only the whole directory shows (a name
	// defined twice, a reference to nothing).
	Done() (T, []Problem)
}

// Kinds are the documents of one apiVersion a section claims.
type Kinds struct {
	APIVersion string
	Kinds      []string
}

// Format is a mapping document of another tool that a section reads
// whole, known by the value of one of its keys (Sloth's specs say
// version: prometheus/v1). Such a document is handed over as one Item
// with Key "", like an apiVersion/kind document, instead of key by key.
type Format struct {
	Key, Value string
}

// Section is the part of the config directory a domain package owns, and
// how it reads it into a T. Its pointer is its identity: the value read
// is found with Of.
type Section[T any] struct {
	// Name names the section in messages.
	Name string
	// Keys are the top-level keys of a mapping document it claims.
	Keys []string
	// Documents are the apiVersion/kind documents it claims.
	Documents []Kinds
	// Formats are the mapping documents it claims whole.
	Formats []Format
	// New starts one reading.
	New func() Decoder[T]
	// Check, when set, is the section's look at the whole reading, once
	// every section is Done: for what refers to another section's values
	// (an action policy naming an SLO, a monitor or a budget). It reads the
	// others with their Of, and reports problems at its own items' lines.
	Check func(c *Config, v T) []Problem
}

// Of is the section's value in the reading c; the zero T when c is nil or
// was read without the section.
func (s *Section[T]) Of(c *Config) T {
	var v T
	if c != nil {
		v, _ = c.values[s].(T)
	}
	return v
}

func (s *Section[T]) section() (string, []string, []Kinds, []Format) {
	return s.Name, s.Keys, s.Documents, s.Formats
}

func (s *Section[T]) begin() reading { return decoderOf[T]{s.New()} }

func (s *Section[T]) check(c *Config) []Problem {
	if s.Check == nil {
		return nil
	}
	return s.Check(c, s.Of(c))
}

// AnySection is a *Section[T] of any T: what NewRegistry takes.
type AnySection interface {
	section() (name string, keys []string, documents []Kinds, formats []Format)
	begin() reading
	check(c *Config) []Problem
}

// reading is a Decoder with its type erased.
type reading interface {
	Decode(it Item) []Problem
	done() (any, []Problem)
}

type decoderOf[T any] struct{ Decoder[T] }

func (d decoderOf[T]) done() (any, []Problem) { return d.Done() }

// Config is one reading of the config directory: every section's value.
// It is not changed once read; a reload makes a new one.
type Config struct {
	values map[AnySection]any
	// Files are the YAML files read, in order.
	Files []string
}

// Registry knows every section and reads the directory for all of them.
type Registry struct {
	sections []AnySection
	keys     map[string]int            // top-level key → section
	kinds    map[string]map[string]int // apiVersion → kind → section
	order    map[string][]string       // apiVersion → its kinds, as declared
	formats  map[Format]int            // mapping document format → section
}

// NewRegistry builds a registry of the sections. It fails when two claim
// the same key or the same kind of document: a directory has one owner
// for each.
func NewRegistry(sections ...AnySection) (*Registry, error) {
	r := &Registry{keys: map[string]int{}, kinds: map[string]map[string]int{}, order: map[string][]string{}, formats: map[Format]int{}}
	names := map[string]bool{}
	for i, s := range sections {
		name, keys, docs, formats := s.section()
		if name == "" || names[name] {
			return nil, fmt.Errorf("config: a section needs a name of its own, got %q", name)
		}
		names[name] = true
		for _, k := range keys {
			if prev, ok := r.keys[k]; ok {
				return nil, fmt.Errorf("config: sections %s and %s both claim the key %s", nameOf(sections[prev]), name, k)
			}
			r.keys[k] = i
		}
		for _, d := range docs {
			if r.kinds[d.APIVersion] == nil {
				r.kinds[d.APIVersion] = map[string]int{}
			}
			for _, k := range d.Kinds {
				if prev, ok := r.kinds[d.APIVersion][k]; ok {
					return nil, fmt.Errorf("config: sections %s and %s both claim %s %s", nameOf(sections[prev]), name, d.APIVersion, k)
				}
				r.kinds[d.APIVersion][k] = i
				r.order[d.APIVersion] = append(r.order[d.APIVersion], k)
			}
		}
		for _, f := range formats {
			if prev, ok := r.formats[f]; ok {
				return nil, fmt.Errorf("config: sections %s and %s both claim documents with %s: %s", nameOf(sections[prev]), name, f.Key, f.Value)
			}
			r.formats[f] = i
		}
		r.sections = append(r.sections, s)
	}
	return r, nil
}

func nameOf(s AnySection) string { name, _, _, _ := s.section(); return name }

// Keys are the top-level keys the sections claim, sorted.
func (r *Registry) Keys() []string { return slices.Sorted(maps.Keys(r.keys)) }

// APIVersions are the apiVersions of the documents the sections claim,
// sorted.
func (r *Registry) APIVersions() []string { return slices.Sorted(maps.Keys(r.kinds)) }

// Load reads every YAML file under paths once, hands each item to the
// section that claims it, and returns every section's value with every
// problem, in file order (then each section's Done problems). It fails
// only when a path cannot be read.
func (r *Registry) Load(paths []string) (*Config, []Problem, error) {
	return r.load(paths, false)
}

// Empty is the reading of a directory without files.
func (r *Registry) Empty() *Config {
	c, _, _ := r.load(nil, false)
	return c
}

// LoadSection reads one section alone from the YAML files under paths:
// for tools and tests that need one domain. Keys and documents the
// section does not claim are left to the sections that do (only a whole
// Registry can say that nobody does); syntax problems are reported.
func LoadSection[T any](paths []string, s *Section[T]) (T, []Problem, error) {
	r, err := NewRegistry(s)
	if err != nil {
		var zero T
		return zero, nil, err
	}
	c, problems, err := r.load(paths, true)
	if err != nil {
		var zero T
		return zero, nil, err
	}
	return s.Of(c), problems, nil
}

// load reads the files; partial leaves what no section claims unreported.
func (r *Registry) load(paths []string, partial bool) (*Config, []Problem, error) {
	var files []string
	if len(paths) > 0 {
		var err error
		if files, err = Files(paths); err != nil {
			return nil, nil, err
		}
	}
	readings := make([]reading, len(r.sections))
	for i, s := range r.sections {
		readings[i] = s.begin()
	}
	var problems []Problem
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read %s: %w", f, err)
		}
		docs, ps := Parse(f, data)
		problems = append(problems, ps...)
		for _, doc := range docs {
			problems = append(problems, r.claim(doc, readings, partial)...)
		}
	}
	c := &Config{values: make(map[AnySection]any, len(r.sections)), Files: files}
	for i, s := range r.sections {
		v, ps := readings[i].done()
		c.values[s] = v
		problems = append(problems, ps...)
	}
	// Checks across sections need every section: one read alone
	// (partial) cannot tell a reference to nothing from one to a section
	// it was read without.
	if !partial {
		for _, s := range r.sections {
			problems = append(problems, s.check(c)...)
		}
	}
	return c, problems, nil
}
