package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/config"
)

func loadPolicy(t *testing.T, files map[string]string) (*Policy, []string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, problems, err := config.LoadSection([]string{dir}, Section)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, pr := range problems {
		out = append(out, strings.TrimPrefix(pr.String(), dir+"/"))
	}
	return p, out
}

func TestPolicySection(t *testing.T) {
	p, problems := loadPolicy(t, map[string]string{
		"a.yaml": `auth:
  groups:
    vigil-admins: {"*": admin}
    sre: {acme: operator, globex: viewer}
  certificates:
    "CN=keda-operator,O=kedacore": {acme: viewer}
  limits:
    "*":
      tenant: {requests_per_second: 200, bytes_per_second: 16MiB, bytes_burst: 32MiB}
      token: {requests_per_second: 50, requests_burst: 100}
`,
		"b.yaml": `auth:
  groups:
    ci: {acme: ingest}
  subjects:
    "repo:acme/app:ref:refs/heads/main": {acme: ingest}
  limits:
    acme: {tenant: {requests_per_second: 5}}
`,
	})
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	if g := p.GrantsOf([]string{"sre", "ci", "unknown"}, nil); len(g) != 2 || g["acme"] != Operator || g["globex"] != Viewer {
		t.Errorf("sre+ci: %v", g)
	}
	if g := p.GrantsOf([]string{"ci"}, p.Subjects["repo:acme/app:ref:refs/heads/main"]); g["acme"] != Ingest {
		t.Errorf("ci: %v", g)
	}
	if g := p.GrantsOf([]string{"vigil-admins"}, nil); g[AllTenants] != Admin {
		t.Errorf("admins: %v", g)
	}
	all := p.LimitsOf("globex")
	if all.Tenant.RequestsPerSecond != 200 || all.Tenant.BytesPerSecond != 16<<20 || all.Tenant.BytesBurst != 32<<20 || all.Token.RequestsBurst != 100 {
		t.Errorf("limits of every tenant: %+v", all)
	}
	if own := p.LimitsOf("acme"); own.Tenant.RequestsPerSecond != 5 || own.Token != (Rate{}) {
		t.Errorf("acme's own limits replace every tenant's: %+v", own)
	}
	if (*Policy)(nil).LimitsOf("acme") != (Limits{}) || len((*Policy)(nil).GrantsOf([]string{"x"}, nil)) != 0 {
		t.Errorf("no policy grants and limits nothing")
	}
}

func TestPolicyProblems(t *testing.T) {
	_, problems := loadPolicy(t, map[string]string{
		"a.yaml": `auth:
  groups:
    sre: {acme: operater}
    ops: {"a/b": viewer}
    none: {}
  limits:
    acme: {tenant: {requests_per_second: -1}}
    beta: {tenant: {bytes_per_second: lots}}
    gamma: {tenat: {}}
  limit: {}
`,
		"b.yaml": "auth:\n  groups:\n    sre: {acme: viewer}\n",
		"c.yaml": "auth: [groups]\n",
	})
	want := []string{
		`a.yaml:3: auth.groups.sre.acme: unknown role "operater"`,
		`a.yaml:4: auth.groups.ops: tenant id`,
		`a.yaml:5: auth.groups.none: want roles by tenant`,
		`a.yaml:7: auth.limits.acme.tenant: rates and bursts cannot be negative`,
		`a.yaml:8: auth.limits.beta: "lots" is not a size such as 16MiB`,
		`a.yaml:9: auth.limits.gamma: field tenat not found`,
		`a.yaml:10: auth.limit: unknown key`,
		`b.yaml:3: auth.groups: "sre" is also defined at`,
		`c.yaml:1: auth: want a mapping`,
	}
	if len(problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(problems), len(want), strings.Join(problems, "\n"))
	}
	for _, w := range want {
		found := false
		for _, p := range problems {
			found = found || strings.Contains(p, w)
		}
		if !found {
			t.Errorf("no problem %q in:\n%s", w, strings.Join(problems, "\n"))
		}
	}
}

func TestHigherRole(t *testing.T) {
	for _, c := range []struct{ a, b, want Role }{
		{Viewer, Operator, Operator}, {Admin, Editor, Admin}, {Ingest, Viewer, Viewer}, {Admin, Ingest, Admin}, {roleUnset, Ingest, Ingest}, {Ingest, Ingest, Ingest},
	} {
		if got := higher(c.a, c.b); got != c.want || higher(c.b, c.a) != c.want {
			t.Errorf("higher(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
