package store

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ParseSelector parses a plain PromQL series selector:
// name, name{l="v"}, {l=~"re", l2!="v"}. Anything else — functions,
// operators, ranges, offsets — is refused with a message saying only plain
// selectors are supported.
func ParseSelector(s string) ([]*Matcher, error) {
	p := &parser{in: s}
	ms, err := p.selector()
	if err != nil {
		return nil, fmt.Errorf("cannot parse selector %q: %w (only plain selectors such as name{label=\"value\"} are supported)", s, err)
	}
	return ms, nil
}

type parser struct {
	in  string
	pos int
}

func (p *parser) skipSpace() {
	for p.pos < len(p.in) && unicode.IsSpace(rune(p.in[p.pos])) {
		p.pos++
	}
}

func (p *parser) peek() byte {
	if p.pos < len(p.in) {
		return p.in[p.pos]
	}
	return 0
}

func isNameStart(c byte, colon bool) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || colon && c == ':'
}

func isNameChar(c byte, colon bool) bool {
	return isNameStart(c, colon) || c >= '0' && c <= '9'
}

func (p *parser) ident(colon bool) string {
	start := p.pos
	if p.pos < len(p.in) && isNameStart(p.in[p.pos], colon) {
		p.pos++
		for p.pos < len(p.in) && isNameChar(p.in[p.pos], colon) {
			p.pos++
		}
	}
	return p.in[start:p.pos]
}

func (p *parser) selector() ([]*Matcher, error) {
	var ms []*Matcher
	p.skipSpace()
	if name := p.ident(true); name != "" {
		m, _ := NewMatcher(MatchEqual, MetricNameLabel, name)
		ms = append(ms, m)
	}
	p.skipSpace()
	if p.peek() == '{' {
		p.pos++
		for {
			p.skipSpace()
			if p.peek() == '}' {
				p.pos++
				break
			}
			m, err := p.matcher()
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
			p.skipSpace()
			switch p.peek() {
			case ',':
				p.pos++
			case '}':
			default:
				return nil, fmt.Errorf("expected ',' or '}' at position %d", p.pos)
			}
		}
	}
	p.skipSpace()
	if p.pos != len(p.in) {
		return nil, fmt.Errorf("unexpected %q at position %d", p.in[p.pos:], p.pos)
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("empty selector")
	}
	// Like Prometheus: at least one matcher must not match the empty string.
	for _, m := range ms {
		if !m.Matches("") {
			return ms, nil
		}
	}
	return nil, fmt.Errorf("a selector needs a metric name or a matcher that does not match the empty string")
}

func (p *parser) matcher() (*Matcher, error) {
	name := p.ident(false)
	if name == "" {
		// Prometheus 3 allows quoted label names.
		if p.peek() != '"' {
			return nil, fmt.Errorf("expected a label name at position %d", p.pos)
		}
		var err error
		if name, err = p.quoted(); err != nil {
			return nil, err
		}
	}
	p.skipSpace()
	var typ MatchType
	switch {
	case strings.HasPrefix(p.in[p.pos:], "=~"):
		typ, p.pos = MatchRegexp, p.pos+2
	case strings.HasPrefix(p.in[p.pos:], "!~"):
		typ, p.pos = MatchNotRegexp, p.pos+2
	case strings.HasPrefix(p.in[p.pos:], "!="):
		typ, p.pos = MatchNotEqual, p.pos+2
	case strings.HasPrefix(p.in[p.pos:], "="):
		typ, p.pos = MatchEqual, p.pos+1
	default:
		return nil, fmt.Errorf("expected =, !=, =~ or !~ after label %s", name)
	}
	p.skipSpace()
	value, err := p.quoted()
	if err != nil {
		return nil, err
	}
	return NewMatcher(typ, name, value)
}

// quoted reads a "double", 'single' or `raw` quoted string with Go escapes.
func (p *parser) quoted() (string, error) {
	q := p.peek()
	if q != '"' && q != '\'' && q != '`' {
		return "", fmt.Errorf("expected a quoted string at position %d", p.pos)
	}
	start := p.pos
	p.pos++
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		if c == '\\' && q != '`' {
			p.pos += 2
			continue
		}
		p.pos++
		if c == q {
			lit := p.in[start:p.pos]
			if q == '\'' {
				// strconv.Unquote reads single quotes as a rune literal.
				lit = `"` + strings.ReplaceAll(strings.ReplaceAll(lit[1:len(lit)-1], `\'`, `'`), `"`, `\"`) + `"`
			}
			s, err := strconv.Unquote(lit)
			if err != nil {
				return "", fmt.Errorf("invalid string %s: %v", p.in[start:p.pos], err)
			}
			return s, nil
		}
	}
	return "", fmt.Errorf("unterminated string starting at position %d", start)
}
