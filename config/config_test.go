package config

import (
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
