package config

import (
	"fmt"
	"testing"
)

func TestParseReportsLine(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"bad indent", "service: chat\nobjective: 0.99\n  window: 30d\n", "x.yaml:3: mapping values are not allowed in this context"},
		{"duplicate key", "service: chat\nservice: search\n", `x.yaml:2: mapping key "service" already defined at line 1`},
		{"unclosed quote", "service: \"chat\nobjective: 1\n", "x.yaml:3: found unexpected end of stream"},
		{"tab", "a:\n\tb: 1\n", "x.yaml:2: found character that cannot start any token"},
	}
	for _, c := range cases {
		_, ps := Parse("x.yaml", []byte(c.src))
		if len(ps) != 1 || ps[0].String() != c.want {
			t.Errorf("%s: got %v, want %q", c.name, ps, c.want)
		}
	}
	docs, ps := Parse("x.yaml", []byte("a: 1\n---\n---\nb: 2\n"))
	if len(ps) != 0 || len(docs) != 2 || docs[1].Node.Line != 4 {
		t.Errorf("multi-document file: %d docs, %v", len(docs), ps)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a: 1\n", "a:\n  - b\n  - c: [1, 2]\n", "---\n---\n", "&a [*a]", "a: !!binary x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, ps := Parse("f.yaml", data)
		for _, p := range ps {
			if p.Severity != Error || p.File != "f.yaml" || p.Message == "" {
				t.Fatalf("malformed problem %+v", p)
			}
		}
	})
}

// TestDecodeStrictAliases: an item may merge or alias what is anchored
// elsewhere in its file; an alias bomb or an anchor that contains itself
// is a problem at its line, not a hang.
func TestDecodeStrictAliases(t *testing.T) {
	type item struct {
		Name    string   `yaml:"name"`
		Service string   `yaml:"service"`
		Tags    []string `yaml:"tags"`
	}
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nlist:\n  - {name: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]}\n"
	for _, tc := range []struct{ name, src, want string }{
		{"merge", "list:\n  - &base {name: a, service: chat, tags: &t [x]}\n  - <<: *base\n    name: b\n    tags: *t\n", ""},
		{"unknown field in the base", "list:\n  - &base {name: a, servce: chat}\n  - <<: *base\n    name: b\n", "x.yaml:2: list[1]: field servce not found"},
		{"bomb", bomb, "x.yaml:5: list[1]: its aliases expand to more than 10000 nodes"},
		{"contains itself", "list:\n  - &s {name: a, tags: [*s]}\n  - *s\n", "x.yaml:2: list[1]: anchor \"s\" contains itself"},
	} {
		docs, ps := Parse("x.yaml", []byte(tc.src))
		if len(ps) > 0 {
			t.Fatalf("%s: %v", tc.name, ps)
		}
		list := Value(docs[0].Node, "list")
		last := list.Content[len(list.Content)-1]
		var v item
		p := DecodeStrict("x.yaml", last, "list[1]", &v)
		switch {
		case tc.want == "" && (p != nil || fmt.Sprint(v) != fmt.Sprint(item{Name: "b", Service: "chat", Tags: []string{"x"}})):
			t.Errorf("%s: %v %+v", tc.name, p, v)
		case tc.want != "" && (p == nil || p.String() != tc.want):
			t.Errorf("%s: got %v, want %s", tc.name, p, tc.want)
		}
	}
}
