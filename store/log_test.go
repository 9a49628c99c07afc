package store

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTokens(t *testing.T) {
	long := strings.Repeat("ab", 40)
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"--- ...", nil},
		{"Upstream CONNECTION refused: dial tcp 10.0.0.7:443", []string{"upstream", "connection", "refused", "dial", "tcp", "10", "0", "7", "443"}},
		{"error error Error", []string{"error"}},
		{"Schlüssel für_x", []string{"schlüssel", "für", "x"}},
		{"id=" + long, []string{"id", long[:MaxTokenBytes]}},
		// A cut inside a rune backs off to the rune's start.
		{strings.Repeat("a", MaxTokenBytes-1) + "é", []string{strings.Repeat("a", MaxTokenBytes-1)}},
	}
	for _, c := range cases {
		if got := Tokens(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Tokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	var many strings.Builder
	for i := range 1000 {
		many.WriteString("w")
		many.WriteString(strings.Repeat("x", i%50+1))
		many.WriteString(" ")
	}
	// Words of 2 to 51 bytes: the last three cut to the 48-byte one.
	if n := len(Tokens(many.String())); n != 47 {
		t.Errorf("got %d distinct tokens, want 47", n)
	}
	var distinct strings.Builder
	for i := range 1000 {
		distinct.WriteString(strings.Repeat("y", i%40+1) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + " ")
	}
	if n := len(Tokens(distinct.String())); n != MaxTokensPerRecord {
		t.Errorf("got %d tokens, want the cap %d", n, MaxTokensPerRecord)
	}
}

func FuzzTokens(f *testing.F) {
	f.Add("Upstream CONNECTION refused: 10.0.0.7")
	f.Add("Schlüssel\xff für")
	f.Fuzz(func(t *testing.T, s string) {
		toks := Tokens(s)
		if len(toks) > MaxTokensPerRecord {
			t.Fatalf("%d tokens", len(toks))
		}
		seen := map[string]bool{}
		for _, tok := range toks {
			if tok == "" || len(tok) > MaxTokenBytes || seen[tok] {
				t.Fatalf("bad token %q of %q", tok, s)
			}
			seen[tok] = true
			if utf8.ValidString(s) && !utf8.ValidString(tok) {
				t.Fatalf("token %q of valid text is not valid UTF-8", tok)
			}
			// A token searches for itself.
			if again := Tokens(tok); len(again) != 1 || again[0] != tok {
				t.Fatalf("Tokens(%q) = %q", tok, again)
			}
		}
	})
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]Severity{"ERROR": SeverityError, "err": SeverityError, "warning": SeverityWarn, " info ": SeverityInfo, "emerg": SeverityFatal + 2, "3": SeverityError, "Notice": SeverityInfo + 1} {
		if got, ok := ParseSeverity(in); !ok || got != want {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	if _, ok := ParseSeverity("loud"); ok {
		t.Error("ParseSeverity(loud) is ok")
	}
	if SeverityError.String() != "error" || Severity(24).String() != "fatal" || Severity(0).String() != "unspecified" || Severity(25).String() != "unspecified" {
		t.Error("severity names are wrong")
	}
}
