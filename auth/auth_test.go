package auth

import (
	"strings"
	"testing"
)

func TestRoleAllows(t *testing.T) {
	// want[have] lists the needs each role meets.
	want := map[Role]string{
		Viewer:    "public viewer",
		Editor:    "public viewer editor",
		Operator:  "public viewer editor operator",
		Admin:     "public viewer editor operator admin ingest",
		Ingest:    "public ingest",
		roleUnset: "public",
	}
	for have, needs := range want {
		for _, need := range []Role{Public, Viewer, Editor, Operator, Admin, Ingest} {
			if got, exp := have.Allows(need), strings.Contains(" "+needs+" ", " "+need.String()+" "); got != exp {
				t.Errorf("%q allows %q = %v, want %v", have, need, got, exp)
			}
		}
	}
	for _, r := range Grantable {
		if got, err := ParseRole(r.String()); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %v, %v", r, got, err)
		}
	}
	for _, bad := range []string{"", "public", "root", "Admin"} {
		if _, err := ParseRole(bad); err == nil {
			t.Errorf("ParseRole(%q) accepted", bad)
		}
	}
}

func TestTenantResolution(t *testing.T) {
	one := &Identity{Grants: Grants{"acme": Viewer}}
	two := &Identity{Grants: Grants{"acme": Viewer, "beta": Editor}}
	all := &Identity{Grants: Grants{AllTenants: Admin}}
	for _, c := range []struct {
		id        *Identity
		requested string
		want      string
		code      Code
	}{
		{one, "", "acme", 0},
		{one, "acme", "acme", 0},
		{one, "beta", "", CodeForbidden}, // may only narrow, never widen
		{one, "default", "", CodeForbidden},
		{one, "a/b", "", CodeBadRequest},
		{two, "", "", CodeBadRequest}, // which one?
		{two, "beta", "beta", 0},
		{all, "", "default", 0},
		{all, "anyone", "anyone", 0},
		{all, "*", "", CodeBadRequest},
	} {
		got, err := c.id.Tenant(c.requested)
		var code Code
		if e, ok := err.(*Error); ok {
			code = e.Code
		} else if err != nil {
			t.Fatalf("%v %q: %v", c.id.Grants, c.requested, err)
		}
		if got != c.want || code != c.code {
			t.Errorf("grants %v, X-Scope-OrgID %q: %q, code %d; want %q, code %d", c.id.Grants, c.requested, got, code, c.want, c.code)
		}
	}
	if !two.Grants.Allows("beta", Editor) || two.Grants.Allows("acme", Editor) || !all.Grants.Allows("x", Ingest) {
		t.Errorf("grants allow the wrong roles")
	}
}

func TestTokenFormat(t *testing.T) {
	tok, id, hash := NewToken()
	gotID, secret, err := ParseToken(tok)
	if err != nil || gotID != id || hashSecret(secret) != hash {
		t.Fatalf("ParseToken(NewToken()) = %q, %v", gotID, err)
	}
	if strings.Contains(hash, secret) || len(tok) != len(tokenPrefix)+2*idBytes+1+2*secretBytes {
		t.Errorf("token %d chars, hash holds the secret: %v", len(tok), strings.Contains(hash, secret))
	}
	for _, bad := range []string{"", "vigil_", tok[:len(tok)-1], strings.ToUpper(tok), "Bearer " + tok, tok + "0", "eyJhbGciOi.x.y"} {
		if _, _, err := ParseToken(bad); err == nil {
			t.Errorf("ParseToken(%q) accepted", bad)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	tok, _, _ := NewToken()
	for _, s := range []string{tok, "vigil__", "vigil_0123456789abcdef_", "eyJ.eyJ.sig", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, err := ParseToken(s)
		if err != nil {
			return
		}
		// Whatever parses is exactly a prefix, a hex id and a hex secret.
		if s != tokenPrefix+id+"_"+secret || !isHex(id, idBytes) || !isHex(secret, secretBytes) {
			t.Errorf("ParseToken(%q) = %q, %q", s, id, secret)
		}
	})
}

func FuzzParseSessionID(f *testing.F) {
	id, _ := newSessionID()
	for _, s := range []string{id, "", strings.Repeat("g", 64), id + "=", "%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hash, err := parseSessionID(s)
		if err != nil {
			return
		}
		if !isHex(s, sessionIDBytes) || hash != hashSecret(s) || hash == s {
			t.Errorf("parseSessionID(%q) = %q", s, hash)
		}
	})
}

func TestPasswordHash(t *testing.T) {
	h := HashPassword("correct horse battery staple")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "horse") {
		t.Errorf("hash %q", h)
	}
	if !checkPassword(h, "correct horse battery staple") || checkPassword(h, "correct horse battery stapl") {
		t.Errorf("checkPassword is wrong")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", strings.Replace(h, "p=1", "p=0", 1)} {
		if checkPassword(bad, "x") {
			t.Errorf("checkPassword(%q) matched", bad)
		}
	}
	if HashPassword("same") == HashPassword("same") {
		t.Errorf("two hashes of one password are equal: no salt")
	}
}
