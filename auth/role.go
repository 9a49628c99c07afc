package auth

import (
	"fmt"
	"strings"
)

// Role is what an identity may do in a tenant, and what a route needs.
// Viewer < Editor < Operator < Admin are ordered: each may do what the ones
// before it may. Ingest stands apart, as Mimir keeps its write permission
// apart from reading: it may only send data, and sending needs Ingest or
// Admin. Public is a route's need only, never a grant: no credential is
// asked for.
type Role uint8

const (
	roleUnset Role = iota // the zero value: a route that declares no role
	Viewer                // reads everything of the tenant
	Editor                // changes what people own: silences, budgets, billing imports
	Operator              // acts: approves, rejects, aborts and runs actions
	Admin                 // tokens, users, config, the audit log; may also send data
	Ingest                // sends data, nothing else
	Public                // a route's need: open to anyone, e.g. /healthz
)

var roleNames = [...]string{roleUnset: "", Viewer: "viewer", Editor: "editor", Operator: "operator", Admin: "admin", Ingest: "ingest", Public: "public"}

func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return fmt.Sprintf("Role(%d)", r)
}

// Grantable are the roles a token or a person may hold, in order.
var Grantable = []Role{Viewer, Editor, Operator, Admin, Ingest}

// ParseRole reads a grantable role's name.
func ParseRole(s string) (Role, error) {
	for _, r := range Grantable {
		if r.String() == s {
			return r, nil
		}
	}
	names := make([]string, len(Grantable))
	for i, r := range Grantable {
		names[i] = r.String()
	}
	return roleUnset, fmt.Errorf("unknown role %q: want one of %s", s, strings.Join(names, ", "))
}

// ordered reports whether r is on the viewer-to-admin ladder.
func (r Role) ordered() bool { return r >= Viewer && r <= Admin }

// Allows reports whether holding r is enough for a route that needs need.
func (r Role) Allows(need Role) bool {
	switch {
	case need == Public:
		return true
	case need == Ingest:
		return r == Ingest || r == Admin
	case need.ordered() && r.ordered():
		return r >= need
	}
	return false
}
