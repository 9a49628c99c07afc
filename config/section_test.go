package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// names is a section for the tests: the things: and gadgets: lists of
// names (each item decoded strictly, as real sections decode theirs), and
// example.com/v1 Thing and Widget documents (by metadata.name).
// A name defined twice is reported when the reading is done.
type names struct {
	got   []string
	where map[string]string
	twice []Problem
}

func (d *names) Decode(it Item) []Problem {
	add := func(name string, n *yaml.Node) {
		at := fmt.Sprintf("%s:%d", it.File, n.Line)
		if prev, ok := d.where[name]; ok {
			d.twice = append(d.twice, Problem{File: it.File, Line: n.Line, Field: "name", Severity: Error, Message: fmt.Sprintf("%q is also defined at %s", name, prev)})
			return
		}
		d.where[name] = at
		d.got = append(d.got, name)
	}
	if it.Key == "" {
		add(Value(it.Node, "kind").Value+"/"+Value(Value(it.Node, "metadata"), "name").Value, it.Node)
		return nil
	}
	if it.Node.Kind != yaml.SequenceNode {
		return []Problem{{File: it.File, Line: it.Node.Line, Field: it.Key, Severity: Error, Message: "want a list"}}
	}
	var problems []Problem
	for _, item := range it.Node.Content {
		var v any // decoded as a section's items are, aliases and all
		if p := DecodeStrict(it.File, item, it.Key, &v); p != nil {
			problems = append(problems, *p)
			continue
		}
		add(item.Value, item)
	}
	return problems
}

func (d *names) Done() ([]string, []Problem) { return d.got, d.twice }

func namesSection() *Section[[]string] {
	return &Section[[]string]{Name: "names", Keys: []string{"things", "gadgets"},
		Documents: []Kinds{{APIVersion: "example.com/v1", Kinds: []string{"Thing", "Widget"}}},
		New:       func() Decoder[[]string] { return &names{where: map[string]string{}} }}
}

// counts is a second section with a value of another type.
type counts struct{ n int }

func (d *counts) Decode(it Item) []Problem { d.n += len(it.Node.Content); return nil }
func (d *counts) Done() (int, []Problem)   { return d.n, nil }

func countsSection() *Section[int] {
	return &Section[int]{Name: "counts", Keys: []string{"slos"}, New: func() Decoder[int] { return &counts{} }}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func problemLines(dir string, ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, strings.TrimPrefix(p.String(), dir+string(filepath.Separator)))
	}
	return out
}

func TestRegistryLoad(t *testing.T) {
	things, cnt := namesSection(), countsSection()
	reg, err := NewRegistry(things, cnt)
	if err != nil {
		t.Fatal(err)
	}
	dir := writeFiles(t, map[string]string{
		"a.yaml": "things: [a, b]\nslos: [x, y, z]\n",
		// Documents and keys in file order; an alias resolved to its list.
		"b/c.yml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\nthings: &more [c]\ngadgets: *more\n",
		// A list of objects, as some tools write them.
		"d.yaml":         "- apiVersion: example.com/v1\n  kind: Thing\n  metadata: {name: t}\n",
		"README.md":      "not yaml: [",
		".hidden/x.yaml": "a: [",
	})
	c, problems, err := reg.Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := problemLines(dir, problems), []string{"b/c.yml:5: name: \"c\" is also defined at " + filepath.Join(dir, "b/c.yml") + ":5"}; !reflect.DeepEqual(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
	if got := things.Of(c); !reflect.DeepEqual(got, []string{"a", "b", "Widget/w", "c", "Thing/t"}) {
		t.Errorf("things: %q", got)
	}
	if cnt.Of(c) != 3 || cnt.Of(nil) != 0 || len(c.Files) != 3 {
		t.Errorf("counts %d, files %v", cnt.Of(c), c.Files)
	}
	if e := reg.Empty(); things.Of(e) != nil || cnt.Of(e) != 0 {
		t.Errorf("empty reading: %v %d", things.Of(e), cnt.Of(e))
	}
	if _, _, err := reg.Load([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("Load of a missing path did not fail")
	}
}

// TestUnclaimed: whatever no section claims is an error at its line that
// says why; what another tool wrote is named.
func TestUnclaimed(t *testing.T) {
	reg, err := NewRegistry(namesSection(), countsSection())
	if err != nil {
		t.Fatal(err)
	}
	keys := "; the keys are gadgets, slos, things, and apiVersion/kind documents of example.com/v1"
	for _, tc := range []struct{ name, src, want string }{
		{"near miss", "things: []\nslo: [a]\n", "x.yaml:2: unknown top-level key \"slo\" (did you mean `slos`?)" + keys},
		{"singular", "thing: [a]\n", "x.yaml:1: unknown top-level key \"thing\" (did you mean `things`?)" + keys},
		{"case and dash", "Gad-Gets: [a]\n", "x.yaml:1: unknown top-level key \"Gad-Gets\" (did you mean `gadgets`?)" + keys},
		{"far", "service: chat\n", "x.yaml:1: unknown top-level key \"service\"" + keys},
		{"unknown apiVersion", "apiVersion: foo\nkind: SLO\n", "x.yaml:1: apiVersion: \"foo\" is not a format Vigil reads; the apiVersions are example.com/v1; besides them, mappings of the keys gadgets, slos, things"},
		{"apiVersion near miss", "apiVersion: example.com/v2\nkind: Thing\n", "x.yaml:1: apiVersion: \"example.com/v2\" is not a format Vigil reads (did you mean `example.com/v1`?)"},
		{"unknown kind", "apiVersion: example.com/v1\nkind: Gizmo\n", `x.yaml:2: kind: "Gizmo" is not one of Thing, Widget (the kinds of example.com/v1)`},
		{"kind near miss", "apiVersion: example.com/v1\nkind: thing\n", "x.yaml:2: kind: \"thing\" is not one of Thing, Widget (the kinds of example.com/v1); did you mean `Thing`?"},
		{"no kind", "apiVersion: example.com/v1\nmetadata: {name: x}\n", `x.yaml:1: kind: is required: one of Thing, Widget`},
		{"kind without apiVersion", "kind: Thing\nmetadata: {name: x}\n", `x.yaml:1: apiVersion: is required beside kind: one of example.com/v1`},
		{"Sloth CRD", "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nspec:\n  slos: []\n", `x.yaml:1: apiVersion: "sloth.slok.dev/v1" kind "PrometheusServiceLevel" is Sloth's Kubernetes format; Vigil does not read it`},
		{"Sloth spec", "version: \"prometheus/v1\"\nservice: chat\nslos: []\n", `x.yaml:1: version: "prometheus/v1" is Sloth's spec; Vigil does not read it`},
		{"Sloth apiVersion prometheus/v1", "apiVersion: prometheus/v1\nkind: PrometheusServiceLevel\n", `x.yaml:1: apiVersion: "prometheus/v1" kind "PrometheusServiceLevel" is Sloth's prometheus/v1 spec`},
		{"Pyrra", "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata: {name: x}\n", `x.yaml:1: apiVersion: "pyrra.dev/v1alpha1" kind "ServiceLevelObjective" is Pyrra's format`},
		{"Prometheus rules", "# rules\ngroups:\n  - name: slo\n    rules: []\n", `x.yaml:2: groups: this is a Prometheus rule file`},
		{"scalar document", "hello\n", `x.yaml:1: the document is the value "hello"; want a mapping of keys (gadgets, slos, things) or an apiVersion/kind object`},
		{"list document", "- a\n- b\n", `x.yaml:1: the document is a list; want a mapping of keys`},
		{"list of objects with a stray", "- apiVersion: example.com/v1\n  kind: Thing\n  metadata: {name: t}\n- 7\n", `x.yaml:4: this list holds apiVersion/kind objects, and this item is the value "7"`},
		{"mapping key", "? {a: 1}\n: 2\n", `x.yaml:1: a top-level key is a name, not a mapping; the keys are gadgets, slos, things`},
		{"merge key", "x: &x {things: [a]}\n<<: *x\n", "x.yaml:1: unknown top-level key \"x\""},
	} {
		dir := writeFiles(t, map[string]string{"x.yaml": tc.src})
		_, problems, err := reg.Load([]string{dir})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := problemLines(dir, problems)
		if len(got) == 0 || !strings.HasPrefix(got[0], tc.want) {
			t.Errorf("%s: got %q\nwant %q...", tc.name, got, tc.want)
		}
		for _, p := range problems {
			if p.Severity != Error || p.Line < 1 {
				t.Errorf("%s: %+v", tc.name, p)
			}
		}
	}
}

// TestLoadSection reads one section alone: the other sections' keys are
// theirs, but a kind its own apiVersion lacks is still reported.
func TestLoadSection(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.yaml": "things: [a]\nbudgets: []\n---\napiVersion: openslo/v1\nkind: SLO\n---\napiVersion: example.com/v1\nkind: Gizmo\n",
		"b.yaml": "things: [\n",
	})
	got, problems, err := LoadSection([]string{dir}, namesSection())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`a.yaml:8: kind: "Gizmo" is not one of Thing, Widget (the kinds of example.com/v1)`, "b.yaml:1: did not find expected node content"}
	if !reflect.DeepEqual(got, []string{"a"}) || !reflect.DeepEqual(problemLines(dir, problems), want) {
		t.Errorf("got %q, problems %q", got, problemLines(dir, problems))
	}
}

func TestNewRegistryConflicts(t *testing.T) {
	other := &Section[int]{Name: "other", Keys: []string{"things"}, New: func() Decoder[int] { return &counts{} }}
	if _, err := NewRegistry(namesSection(), other); err == nil || !strings.Contains(err.Error(), "both claim the key things") {
		t.Errorf("two owners of a key: %v", err)
	}
	doc := &Section[int]{Name: "doc", Documents: []Kinds{{APIVersion: "example.com/v1", Kinds: []string{"Widget"}}}, New: other.New}
	if _, err := NewRegistry(namesSection(), doc); err == nil || !strings.Contains(err.Error(), "both claim example.com/v1 Widget") {
		t.Errorf("two owners of a kind: %v", err)
	}
	if _, err := NewRegistry(namesSection(), namesSection()); err == nil {
		t.Error("two sections of one name")
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"attribution", "budgets", "canaries", "cost_anomalies", "drift", "slos"}
	for word, want := range map[string]string{
		"slo": "slos", "SLOs": "slos", "sols": "slos", "budget": "budgets", "buget": "budgets", "canary": "canaries",
		"cost-anomaly": "cost_anomalies", "cost_anomaly": "cost_anomalies", "drifts": "drift", "atribution": "attribution",
		"x": "", "service": "", "alerts": "", "": "", strings.Repeat("slos", 1000): "",
	} {
		if got := suggest(word, keys); got != want {
			t.Errorf("suggest(%.20q) = %q, want %q", word, got, want)
		}
	}
	for _, tc := range []struct {
		a, b  string
		limit int
		want  int
	}{{"slos", "sols", 2, 1}, {"kitten", "sitting", 5, 3}, {"", "abc", 5, 3}, {"abc", "abc", 0, 0}, {"abcdef", "ghijkl", 2, 3}, {"a", "abcdefgh", 2, 3}} {
		if got := distance(tc.a, tc.b, tc.limit); got != tc.want {
			t.Errorf("distance(%q, %q, %d) = %d, want %d", tc.a, tc.b, tc.limit, got, tc.want)
		}
	}
}

// hostile are documents built to upset the unknown-key path: anchors and
// aliases as keys and values, non-mapping roots, huge and odd keys.
var hostile = []string{
	"&a [*a]\n",
	"a: &a {b: *a}\n",
	"? &k slos\n: [a]\n*k : [b]\n",
	"&x slos: [a]\n",
	"slos: *undefined\n",
	"!!binary aGVsbG8=\n",
	"!!map {}\n",
	"? - a\n  - b\n: c\n",
	"? \n: nothing\n",
	"~: null\n",
	"null\n",
	"[[[[[[[[[[]]]]]]]]]]\n",
	"{apiVersion: [openslo/v1], kind: {SLO: 1}}\n",
	"apiVersion: !!binary b3BlbnNsby92MQ==\nkind: SLO\n",
	"- apiVersion: foo\n- - nested\n",
	"\"\\x00\\u2028\": 1\n",
	strings.Repeat("k", 1<<16) + ": 1\n",
	"? " + strings.Repeat("ü", 1<<15) + "\n: 1\n",
	"apiVersion: " + strings.Repeat("openslo/", 4096) + "\n",
	"a: &a [" + strings.Repeat("*a, ", 100) + "*a]\nb: &b [" + strings.Repeat("*a, ", 100) + "*a]\n",
	"<<: {slos: []}\n",
	"slos: [a]\n---\n--- !!str\n...\n",
	"a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nthings: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
	"things:\n  - &s {name: a, tags: [*s]}\n  - *s\n",
	"things: [&x {<<: *x}]\n",
}

func TestHostileDocuments(t *testing.T) {
	reg, err := NewRegistry(namesSection(), countsSection())
	if err != nil {
		t.Fatal(err)
	}
	for i, src := range hostile {
		checkHostile(t, reg, fmt.Sprint(i), []byte(src))
	}
}

func FuzzUnclaimed(f *testing.F) {
	for _, s := range hostile {
		if len(s) < 1000 { // the fuzzer grows inputs; huge seeds only slow it
			f.Add([]byte(s))
		}
	}
	f.Add([]byte("slo: [a]\n"))
	f.Add([]byte("apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\n"))
	reg, err := NewRegistry(namesSection(), countsSection())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkHostile(t, reg, "fuzz", data) })
}

// checkHostile reads one file: it must not panic, and every problem names
// the file, a line within it, and says something, in a bounded message.
func checkHostile(t *testing.T, reg *Registry, name string, data []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "h.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, problems, err := reg.Load([]string{path})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	// Line breaks as yaml counts them: \n, \r, \r\n, and NEL, LS, PS.
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := 1
	for _, b := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
		lines += strings.Count(text, b)
	}
	for _, p := range problems {
		if p.File != path || p.Severity != Error || p.Message == "" || p.Line < 0 || p.Line > lines || len(p.String()) > 2000 {
			t.Errorf("%s: malformed problem %.300q", name, p.String())
		}
	}
}

// A section's Check sees the whole reading: here slos: counts what
// things: may refer to, and a reference past it is reported at its line.
// A section read alone is not checked.
func TestCheckSeesTheWholeReading(t *testing.T) {
	cnt := countsSection()
	things := namesSection()
	things.Check = func(c *Config, got []string) []Problem {
		if n := cnt.Of(c); len(got) > n {
			return []Problem{{File: "refs", Line: len(got), Severity: Error, Message: fmt.Sprintf("%d things, %d slos", len(got), n)}}
		}
		return nil
	}
	reg, err := NewRegistry(things, cnt)
	if err != nil {
		t.Fatal(err)
	}
	dir := writeFiles(t, map[string]string{"a.yaml": "things: [a, b, c]\nslos: [x]\n"})
	_, problems, err := reg.Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := problemLines(dir, problems); !reflect.DeepEqual(got, []string{"refs:3: 3 things, 1 slos"}) {
		t.Errorf("problems %q", got)
	}
	if _, problems, err := LoadSection([]string{dir}, things); err != nil || len(problems) != 0 {
		t.Errorf("read alone: %v %v", problems, err)
	}
}

// TestFormats: a section that claims another tool's mapping documents by a
// key's value gets each such document whole, keys a section of its own
// claims included (Sloth's spec has slos:); other versions of that tool
// are still named as foreign.
func TestFormats(t *testing.T) {
	var got []string
	whole := &Section[[]string]{Name: "whole", Formats: []Format{{Key: "version", Value: "prometheus/v1"}},
		New: func() Decoder[[]string] { return &wholeDocs{got: &got} }}
	reg, err := NewRegistry(whole, countsSection())
	if err != nil {
		t.Fatal(err)
	}
	dir := writeFiles(t, map[string]string{"x.yaml": "version: prometheus/v1\nservice: chat\nslos: [a]\n---\nversion: prometheus/v2\nslos: []\n"})
	_, problems, err := reg.Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"chat"}; !reflect.DeepEqual(got, want) {
		t.Errorf("documents read whole: %q, want %q", got, want)
	}
	if lines := problemLines(dir, problems); len(lines) != 1 || !strings.HasPrefix(lines[0], `x.yaml:5: version: "prometheus/v2" is Sloth's spec`) {
		t.Errorf("problems: %q", lines)
	}
	if _, err := NewRegistry(whole, &Section[int]{Name: "again", Formats: whole.Formats, New: func() Decoder[int] { return &counts{} }}); err == nil {
		t.Error("two sections claim one format, and NewRegistry accepts it")
	}
}

type wholeDocs struct{ got *[]string }

func (d *wholeDocs) Decode(it Item) []Problem {
	if it.Key == "" {
		*d.got = append(*d.got, Value(it.Node, "service").Value)
	}
	return nil
}
func (d *wholeDocs) Done() ([]string, []Problem) { return *d.got, nil }
