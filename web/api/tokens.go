package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store"
)

// The API tokens of machines, managed by admins over HTTP as well as by
// `vigil token`: a running server holds the embedded store, so without
// these an admin could not make a token without stopping it. An admin of
// a tenant sees and manages that tenant's tokens; an admin of every
// tenant manages every token, as `vigil token` on the store does. A token
// the caller may not see answers 404, as if it did not exist.

// tokenRoutes are the token routes: all admin.
func (a *API) tokenRoutes() []auth.Route {
	return []auth.Route{
		{Method: "GET", Pattern: "/api/v1/tokens", Role: auth.Admin, Handler: a.handle(a.tokens)},
		{Method: "POST", Pattern: "/api/v1/tokens", Role: auth.Admin, Handler: a.handle(a.createToken)},
		{Method: "DELETE", Pattern: "/api/v1/tokens/{id}", Role: auth.Admin, Handler: a.handle(a.revokeToken)},
	}
}

// managesTokensOf reports whether the request may see and manage tokens
// of tenant t: with admin in every tenant, every token; otherwise those
// of the tenant the request acts in. With auth disabled there is no
// identity and everything is allowed, as everywhere.
func managesTokensOf(r *http.Request, org, t string) bool {
	id := auth.FromContext(r.Context())
	if id == nil || id.Grants[auth.AllTenants].Allows(auth.Admin) {
		return true
	}
	return t == org
}

// tokens lists the tokens the caller manages, oldest first; ?tenant=
// keeps one tenant's (* for the tokens of every tenant).
func (a *API) tokens(r *http.Request, org string) (any, error) {
	only := r.URL.Query().Get("tenant")
	if only != "" {
		if err := auth.ValidTenant(only); err != nil {
			return nil, badRequest("tenant: %v", err)
		}
	}
	toks, err := a.Store.Tokens(r.Context())
	if err != nil {
		return nil, err
	}
	now := a.now()
	out := []auth.TokenInfo{}
	for _, t := range toks {
		if managesTokensOf(r, org, t.Tenant) && (only == "" || t.Tenant == only) {
			out = append(out, auth.DescribeToken(t, now))
		}
	}
	return out, nil
}

// tokenRequest is the body of POST /api/v1/tokens.
type tokenRequest struct {
	Name    string `json:"name"`
	Tenant  string `json:"tenant"`  // empty: the request's tenant
	Role    string `json:"role"`    // viewer, editor, operator, admin or ingest
	Expires string `json:"expires"` // 90d, 12h or never; empty: never
}

// createdToken is a new token and, once, its secret.
type createdToken struct {
	Token string `json:"token"`
	auth.TokenInfo
}

// createToken makes a token and answers its secret, the only time anyone
// sees it.
func (a *API) createToken(r *http.Request, org string) (any, error) {
	var in tokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, badRequest("cannot read the token request: %v", err)
	}
	role, err := auth.ParseRole(in.Role)
	if err != nil {
		return nil, badRequest("role: %v", err)
	}
	if in.Tenant == "" {
		in.Tenant = org
	}
	if err := auth.ValidTenant(in.Tenant); err != nil {
		return nil, badRequest("tenant: %v", err)
	}
	if in.Expires == "" {
		in.Expires = "never"
	}
	now := a.now()
	expires, err := auth.ParseExpiry(in.Expires, now)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	if !managesTokensOf(r, org, in.Tenant) {
		return nil, &statusError{http.StatusForbidden, fmt.Errorf("a token of tenant %q needs admin there: send X-Scope-OrgID: %s, or for every tenant (*) be admin in every tenant", in.Tenant, in.Tenant)}
	}
	actor := auth.FromContext(r.Context()).Subject()
	tok, rec, err := auth.CreateToken(r.Context(), a.Store, auth.TokenSpec{Name: in.Name, Tenant: in.Tenant, Role: role, Expires: expires}, actor, now)
	if err != nil {
		return nil, err
	}
	return createdToken{Token: tok, TokenInfo: auth.DescribeToken(rec, now)}, nil
}

// revokeToken revokes a token for good; revoking it again changes
// nothing.
func (a *API) revokeToken(r *http.Request, org string) (any, error) {
	id := r.PathValue("id")
	notFound := &statusError{http.StatusNotFound, fmt.Errorf("no token %s", id)}
	tok, err := a.Store.Token(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !managesTokensOf(r, org, tok.Tenant)) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	tok, err = auth.RevokeToken(r.Context(), a.Store, id, auth.FromContext(r.Context()).Subject(), a.now())
	if err != nil {
		return nil, err
	}
	return auth.DescribeToken(tok, a.now()), nil
}
