package auth

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

// AllTenants is the tenant of a grant that holds in every tenant: the
// local admin's, or a token made with --tenant '*' to scrape /metrics.
const AllTenants = "*"

// Kind says what proved an identity.
type Kind string

const (
	KindPerson    Kind = "person"    // a session, after a login
	KindMachine   Kind = "machine"   // an API token
	KindAnonymous Kind = "anonymous" // no credential, let in by --auth.anonymous-ingest-tenant
	KindJWT       Kind = "jwt"       // a JWT of the configured issuer; Name is its subject
	KindCert      Kind = "cert"      // a verified client certificate; Name is its subject
)

// Grants are an identity's roles: one per tenant, and maybe one in every
// tenant (AllTenants).
type Grants map[string]Role

// Allows reports whether need is allowed in the tenant.
func (g Grants) Allows(tenant string, need Role) bool {
	return g[tenant].Allows(need) || g[AllTenants].Allows(need)
}

// holds reports whether the tenant is one of the grants'.
func (g Grants) holds(tenant string) bool {
	return g[tenant] != roleUnset || g[AllTenants] != roleUnset
}

// ValidTenant checks a tenant a grant names: a tenant id, or AllTenants.
func ValidTenant(t string) error {
	if t == "" {
		return fmt.Errorf("a grant names a tenant (%s for the default one, %s for every one)", store.DefaultTenant, AllTenants)
	}
	if t == AllTenants {
		return nil
	}
	return tenant.Validate(t)
}

// Identity is who a request comes from.
type Identity struct {
	Kind   Kind
	Name   string // the user, the token's id, a JWT's or certificate's subject, or "anonymous"
	Grants Grants
	// Session is the hash of the session's id, for logging out; empty
	// for other kinds.
	Session string
}

// Subject names the identity in the audit log: person:admin, token:ID.
func (id *Identity) Subject() string {
	if id == nil {
		return "nobody"
	}
	if id.Kind == KindMachine {
		return "token:" + id.Name
	}
	return string(id.Kind) + ":" + id.Name
}

// Tenant resolves the tenant a request acts in. The identity decides;
// requested (X-Scope-OrgID) may only narrow to a tenant it holds. With
// nothing requested it is the identity's only tenant, or the default
// tenant when the identity holds that one (or every one).
func (id *Identity) Tenant(requested string) (string, error) {
	if err := tenant.Validate(requested); err != nil {
		return "", &Error{Code: CodeBadRequest, Msg: err.Error()}
	}
	if requested == AllTenants {
		return "", &Error{Code: CodeBadRequest, Msg: fmt.Sprintf("%s names every tenant, not one: name one in %s", AllTenants, tenant.Header)}
	}
	if requested != "" {
		if !id.Grants.holds(requested) {
			return "", &Error{Code: CodeForbidden, Msg: fmt.Sprintf("tenant %q is not one of yours", requested)}
		}
		return requested, nil
	}
	own := slices.Sorted(maps.Keys(id.Grants))
	switch {
	case len(own) == 1 && own[0] != AllTenants:
		return own[0], nil
	case id.Grants.holds(store.DefaultTenant):
		return store.DefaultTenant, nil
	}
	return "", &Error{Code: CodeBadRequest, Msg: fmt.Sprintf("you hold several tenants (%s): name one in %s", strings.Join(own, ", "), tenant.Header)}
}

type identityKey struct{}

// NewContext returns ctx carrying the identity.
func NewContext(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity a guard authenticated; nil when auth
// is disabled or the route is public and no credential was given.
func FromContext(ctx context.Context) *Identity {
	id, _ := ctx.Value(identityKey{}).(*Identity)
	return id
}
