package store

import (
	"fmt"
	"strings"
	"testing"
)

func render(t *testing.T, s string) string {
	ms, err := ParseSelector(s)
	if err != nil {
		return "error: " + err.Error()
	}
	var out []string
	for _, m := range ms {
		op := [...]string{"=", "!=", "=~", "!~"}[m.Type]
		out = append(out, fmt.Sprintf("%s%s%q", m.Name, op, m.Value))
	}
	return strings.Join(out, " ")
}

func TestParseSelector(t *testing.T) {
	cases := map[string]string{
		`up`:                       `__name__="up"`,
		`vllm:prompt_tokens_total`: `__name__="vllm:prompt_tokens_total"`,
		` http_requests_total { code = "200" , method!='GET', path=~"/api/.*", le!~` + "`0.5`" + ` } `: `__name__="http_requests_total" code="200" method!="GET" path=~"/api/.*" le!~"0.5"`,
		`{job="vllm"}`:               `job="vllm"`,
		`{__name__=~"gpu_.*"}`:       `__name__=~"gpu_.*"`,
		`x{a="quote\"d", b='it\'s'}`: `__name__="x" a="quote\"d" b="it's"`,
		`x{"dotted.name"="v",}`:      `__name__="x" dotted.name="v"`,
	}
	for in, want := range cases {
		if got := render(t, in); got != want {
			t.Errorf("%s:\n got %s\nwant %s", in, got, want)
		}
	}
	for _, bad := range []string{
		`rate(x[5m])`, `x[5m]`, `sum(x)`, `x + y`, `x offset 5m`, `{}`, `{a=""}`, `x{a}`, `x{a="b"`, `x{a="b}`, `x{a=~"("}`, `1`, ``,
	} {
		got := render(t, bad)
		if !strings.HasPrefix(got, "error: ") || !strings.Contains(got, "only plain selectors") {
			t.Errorf("%q accepted or badly reported: %s", bad, got)
		}
	}
}

func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{`up`, `x{a="b",c=~"d.*"}`, `{"a.b"!='c'}`, "x{a=`b`}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseSelector(s)
		if err == nil && len(ms) == 0 {
			t.Fatal("no matchers and no error")
		}
	})
}
