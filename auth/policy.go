package auth

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/config"
)

// Policy is the auth: section of the config directory: the roles of the
// identities that an identity provider or a certificate vouches for, and
// the rate limits per tenant. Nothing here is a secret, so it lives beside
// the SLOs, linted and reloaded with them:
//
//	auth:
//	  groups:                       # a groups claim's values (OIDC logins, JWTs)
//	    vigil-admins: {"*": admin}
//	    sre: {acme: operator, globex: viewer}
//	  subjects:                     # a JWT's sub
//	    "repo:acme/app:ref:refs/heads/main": {acme: ingest}
//	  certificates:                 # a verified client certificate's subject
//	    "CN=keda-operator,O=kedacore": {acme: viewer}
//	  limits:                       # by tenant; "*" for every tenant without its own
//	    "*":
//	      tenant: {requests_per_second: 200, bytes_per_second: 16MiB}
//	      token:  {requests_per_second: 50, requests_burst: 100}
//
// Grants change what a person holds at the next login, and what a JWT or a
// certificate holds at once; limits change at once.
type Policy struct {
	Groups       map[string]Grants // by group name
	Subjects     map[string]Grants // by a JWT's subject
	Certificates map[string]Grants // by a client certificate's subject, as RFC 2253 writes it
	Limits       map[string]Limits // by tenant; AllTenants for every tenant without its own
}

// Limits bound what one tenant's requests may take: Tenant all of them
// together, Token each credential's (an API token, a JWT's subject, a
// session, a certificate) on its own.
type Limits struct {
	Tenant Rate `yaml:"tenant"`
	Token  Rate `yaml:"token"`
}

// Rate is a token bucket for requests and one for their bytes. A zero
// rate is no limit; a zero burst is one second's worth.
type Rate struct {
	RequestsPerSecond float64  `yaml:"requests_per_second"`
	RequestsBurst     int      `yaml:"requests_burst"`
	BytesPerSecond    ByteSize `yaml:"bytes_per_second"`
	BytesBurst        ByteSize `yaml:"bytes_burst"`
}

// GrantsOf are the grants that a set of groups maps to, together with
// extra (a subject's or a certificate's own).
func (p *Policy) GrantsOf(groups []string, extra Grants) Grants {
	g := Grants{}
	merge := func(more Grants) {
		for t, r := range more {
			g[t] = higher(g[t], r)
		}
	}
	merge(extra)
	if p != nil {
		for _, name := range groups {
			merge(p.Groups[name])
		}
	}
	return g
}

// higher is the role a tenant keeps when two grants name it: a tenant
// holds one role, so the higher of viewer < editor < operator < admin
// wins, and ingest only where nothing else is granted (admin may send).
func higher(a, b Role) Role {
	switch {
	case a == roleUnset:
		return b
	case b == roleUnset, a == b:
		return a
	case a == Ingest:
		return b
	case b == Ingest:
		return a
	}
	return max(a, b)
}

// LimitsOf are the limits of a tenant: its own, or those of every tenant.
func (p *Policy) LimitsOf(tenant string) Limits {
	if p == nil {
		return Limits{}
	}
	if l, ok := p.Limits[tenant]; ok {
		return l
	}
	return p.Limits[AllTenants]
}

// ByteSize is a number of bytes, written plainly or with a unit: 512KiB,
// 16MiB, 1GB.
type ByteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}

// UnmarshalYAML reads a size.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	mult := int64(1)
	for _, u := range byteUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if n.Kind != yaml.ScalarNode || err != nil || v < 0 {
		return fmt.Errorf("%q is not a size such as 16MiB", n.Value)
	}
	*b = ByteSize(v * float64(mult))
	return nil
}

// Section is auth's part of the config directory: the auth: key, in one
// file or spread over several.
var Section = &config.Section[*Policy]{Name: "auth", Keys: []string{"auth"},
	New: func() config.Decoder[*Policy] {
		return &policyReader{p: &Policy{Groups: map[string]Grants{}, Subjects: map[string]Grants{}, Certificates: map[string]Grants{}, Limits: map[string]Limits{}},
			seen: map[string]string{}}
	}}

// policyReader is one reading of the auth section.
type policyReader struct {
	p    *Policy
	seen map[string]string // "groups/NAME" → file:line, across files
}

func (r *policyReader) Done() (*Policy, []config.Problem) { return r.p, nil }

// Decode reads one auth: mapping.
func (r *policyReader) Decode(it config.Item) []config.Problem {
	if it.Node.Kind != yaml.MappingNode {
		return []config.Problem{problemAt(it.File, it.Node, "auth", "want a mapping of groups, subjects, certificates and limits")}
	}
	var problems []config.Problem
	for i := 0; i+1 < len(it.Node.Content); i += 2 {
		k, v := it.Node.Content[i], it.Node.Content[i+1]
		field := "auth." + k.Value
		switch k.Value {
		case "groups":
			problems = append(problems, r.grantsByName(it.File, field, v, r.p.Groups)...)
		case "subjects":
			problems = append(problems, r.grantsByName(it.File, field, v, r.p.Subjects)...)
		case "certificates":
			problems = append(problems, r.grantsByName(it.File, field, v, r.p.Certificates)...)
		case "limits":
			problems = append(problems, r.limits(it.File, field, v)...)
		default:
			problems = append(problems, problemAt(it.File, k, field, "unknown key: the keys of auth are groups, subjects, certificates and limits"))
		}
	}
	return problems
}

func problemAt(file string, n *yaml.Node, field, format string, args ...any) config.Problem {
	return config.Problem{File: file, Line: n.Line, Field: field, Severity: config.Error, Message: fmt.Sprintf(format, args...)}
}

// entries walks a mapping of names, reporting a name defined twice across
// the directory's files.
func (r *policyReader) entries(file, field string, n *yaml.Node, each func(name string, k, v *yaml.Node) []config.Problem) []config.Problem {
	if n.Kind != yaml.MappingNode {
		return []config.Problem{problemAt(file, n, field, "want a mapping by name")}
	}
	var problems []config.Problem
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := field + "/" + k.Value
		if prev, ok := r.seen[key]; ok {
			problems = append(problems, problemAt(file, k, field, "%q is also defined at %s", k.Value, prev))
			continue
		}
		r.seen[key] = fmt.Sprintf("%s:%d", file, k.Line)
		problems = append(problems, each(k.Value, k, v)...)
	}
	return problems
}

// grantsByName reads name: {tenant: role, ...} entries into into.
func (r *policyReader) grantsByName(file, field string, n *yaml.Node, into map[string]Grants) []config.Problem {
	return r.entries(file, field, n, func(name string, k, v *yaml.Node) []config.Problem {
		sub := field + "." + name
		if name == "" {
			return []config.Problem{problemAt(file, k, field, "a name is required")}
		}
		if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
			return []config.Problem{problemAt(file, v, sub, `want roles by tenant, e.g. {acme: viewer} ("*" for every tenant)`)}
		}
		g, problems := Grants{}, []config.Problem(nil)
		for i := 0; i+1 < len(v.Content); i += 2 {
			t, role := v.Content[i], v.Content[i+1]
			if err := ValidTenant(t.Value); err != nil {
				problems = append(problems, problemAt(file, t, sub, "%v", err))
				continue
			}
			parsed, err := ParseRole(role.Value)
			if err != nil || role.Kind != yaml.ScalarNode {
				problems = append(problems, problemAt(file, role, sub+"."+t.Value, "unknown role %q: want one of %s", role.Value, grantableNames()))
				continue
			}
			g[t.Value] = parsed
		}
		if len(problems) == 0 {
			into[name] = g
		}
		return problems
	})
}

func grantableNames() string {
	names := make([]string, len(Grantable))
	for i, r := range Grantable {
		names[i] = r.String()
	}
	return strings.Join(names, ", ")
}

// limits reads tenant: {tenant: RATE, token: RATE} entries.
func (r *policyReader) limits(file, field string, n *yaml.Node) []config.Problem {
	return r.entries(file, field, n, func(name string, k, v *yaml.Node) []config.Problem {
		sub := field + "." + name
		if err := ValidTenant(name); err != nil {
			return []config.Problem{problemAt(file, k, field, "%v", err)}
		}
		var l Limits
		if ps := config.Decode(file, v, sub, &l); len(ps) > 0 {
			return ps
		}
		for _, c := range []struct {
			name string
			rate Rate
		}{{"tenant", l.Tenant}, {"token", l.Token}} {
			if c.rate.RequestsPerSecond < 0 || c.rate.RequestsBurst < 0 {
				return []config.Problem{problemAt(file, lineOf(v, c.name), sub+"."+c.name, "rates and bursts cannot be negative")}
			}
		}
		r.p.Limits[name] = l
		return nil
	})
}

// lineOf is the node of key in a mapping, or the mapping.
func lineOf(n *yaml.Node, key string) *yaml.Node {
	if v := config.Value(n, key); v != nil {
		return v
	}
	return n
}
