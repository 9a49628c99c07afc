package auth

import (
	"fmt"
	"net/http"
	"strings"
)

// Scope says what a route's role is needed in.
type Scope uint8

const (
	// TenantScope: the role is needed in the tenant the request acts in
	// (its identity's, narrowed by X-Scope-OrgID). Every route of a
	// tenant's data.
	TenantScope Scope = iota
	// ServerScope: the route is about Vigil itself, not a tenant (its
	// /metrics, its profiles), and shows every tenant's names: the role is
	// needed in every tenant (a grant for *).
	ServerScope
)

// Route is one HTTP route and the role it needs: the one place a route's
// access is declared. A package that serves routes lists them as Routes
// where it registers them; the guard decides every request before the
// handler runs, so handlers never check anything themselves.
type Route struct {
	Method  string // e.g. GET; empty matches every method
	Pattern string // a net/http ServeMux path pattern, e.g. /api/v1/slos/{name}
	Role    Role   // what the route needs; Public for none
	Scope   Scope
	Handler http.Handler
}

// String is the route as a ServeMux pattern: "GET /api/v1/slos".
func (rt Route) String() string {
	if rt.Method == "" {
		return rt.Pattern
	}
	return rt.Method + " " + rt.Pattern
}

// Mux is a ServeMux whose every route declares its role and runs behind
// the guard. A route without a role cannot be registered.
type Mux struct {
	guard  *Guard
	mux    *http.ServeMux
	routes []Route
}

// NewMux returns an empty mux behind the guard.
func NewMux(g *Guard) *Mux { return &Mux{guard: g, mux: http.NewServeMux()} }

// Handle registers routes. It panics on a route that declares no role, as
// ServeMux panics on a conflicting pattern: both are programming errors
// that the first test run finds.
func (m *Mux) Handle(routes ...Route) {
	for _, rt := range routes {
		switch {
		case rt.Role == roleUnset:
			panic(fmt.Sprintf("auth: route %s declares no role", rt))
		case rt.Handler == nil:
			panic(fmt.Sprintf("auth: route %s has no handler", rt))
		}
		m.mux.Handle(rt.String(), m.guard.HTTP(rt))
		m.routes = append(m.routes, rt)
	}
}

// ServeHTTP routes a request.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

// Routes lists what was registered, in order: the route table.
func (m *Mux) Routes() []Route { return append([]Route(nil), m.routes...) }

// Declaring lets a package that registers its routes with
// HandleFunc("METHOD /pattern", handler), as on a ServeMux, register them
// here, each declaring role: every route of such a package needs the same.
func (m *Mux) Declaring(role Role) *RoleMux { return &RoleMux{m: m, role: role} }

// RoleMux registers routes that all need one role.
type RoleMux struct {
	m    *Mux
	role Role
}

// HandleFunc registers one route; pattern is a ServeMux pattern.
func (rm *RoleMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	rm.m.Handle(Route{Method: method, Pattern: strings.TrimSpace(path), Role: rm.role, Handler: http.HandlerFunc(h)})
}
