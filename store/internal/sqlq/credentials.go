package sqlq

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// The credential tables (users, api_tokens, sessions) are small and read a
// row at a time by key; a row is replaced by a newer version of itself, so
// reads take the surviving rows (final). Times are Int64 nanoseconds, 0
// for none. Roles are parallel tenant and role arrays, sorted by tenant.

// UserColumns are a user's columns, in the order User reads them and
// UserValues gives them.
const UserColumns = "name, password_hash, role_tenants, role_names, created_ns, updated_ns, version"

// UserValues returns a user's values in the order of UserColumns.
func UserValues(u *store.User) []any {
	rt, rn := splitRoles(u.Roles)
	return []any{u.Name, u.PasswordHash, rt, rn, nanos(u.Created), nanos(u.Updated), u.Version()}
}

// TokenColumns are an API token's columns.
const TokenColumns = "id, hash, name, tenant, role, created_ns, expires_ns, revoked_ns, last_used_ns, created_by, revoked_by, version"

// TokenValues returns a token's values in the order of TokenColumns.
func TokenValues(t *store.APIToken) []any {
	return []any{t.ID, t.Hash, t.Name, t.Tenant, t.Role, nanos(t.Created), nanos(t.Expires), nanos(t.Revoked), nanos(t.LastUsed), t.CreatedBy, t.RevokedBy, t.Version()}
}

// SessionColumns are a session's columns.
const SessionColumns = "id_hash, user_name, role_tenants, role_names, created_ns, last_seen_ns, idle_expires_ns, expires_ns, ended_ns, version"

// SessionValues returns a session's values in the order of SessionColumns.
func SessionValues(s *store.Session) []any {
	rt, rn := splitRoles(s.Roles)
	return []any{s.IDHash, s.User, rt, rn, nanos(s.Created), nanos(s.LastSeen), nanos(s.IdleExpires), nanos(s.Expires), nanos(s.Ended), s.Version()}
}

// User reads a user by name.
func (r *Reader) User(ctx context.Context, name string) (store.User, error) {
	var u store.User
	var rt, rn []string
	var created, updated, version int64
	q := Query{SQL: "SELECT " + UserColumns + " FROM " + r.d.final("users") + " WHERE name = ?", Args: []any{name}}
	dest := []any{&u.Name, &u.PasswordHash, r.conn.Strings(&rt), r.conn.Strings(&rn), &created, &updated, &version}
	err := r.only(ctx, "read user "+name, q, dest)
	u.Roles, u.Created, u.Updated = joinRoles(rt, rn), fromNanos(created), fromNanos(updated)
	return u, err
}

// tokens reads the tokens where cond holds, oldest first.
func (r *Reader) tokens(ctx context.Context, what, cond string, args ...any) ([]store.APIToken, error) {
	var t store.APIToken
	var created, expires, revoked, used, version int64
	q := Query{SQL: "SELECT " + TokenColumns + " FROM " + r.d.final("api_tokens") + " WHERE " + cond + " ORDER BY created_ns, id", Args: args}
	dest := []any{&t.ID, &t.Hash, &t.Name, &t.Tenant, &t.Role, &created, &expires, &revoked, &used, &t.CreatedBy, &t.RevokedBy, &version}
	return collect(ctx, r, what, q, dest, func() (store.APIToken, error) {
		t.Created, t.Expires, t.Revoked, t.LastUsed = fromNanos(created), fromNanos(expires), fromNanos(revoked), fromNanos(used)
		return t, nil
	})
}

// Token reads a token by id.
func (r *Reader) Token(ctx context.Context, id string) (store.APIToken, error) {
	ts, err := r.tokens(ctx, "read token "+id, "id = ?", id)
	if err != nil {
		return store.APIToken{}, err
	}
	if len(ts) == 0 {
		return store.APIToken{}, fmt.Errorf("token %s: %w", id, store.ErrNotFound)
	}
	return ts[0], nil
}

// Tokens lists every token, oldest first.
func (r *Reader) Tokens(ctx context.Context) ([]store.APIToken, error) {
	return r.tokens(ctx, "list tokens", "1 = 1")
}

// Session reads a session by the hash of its id.
func (r *Reader) Session(ctx context.Context, idHash string) (store.Session, error) {
	var s store.Session
	var rt, rn []string
	var created, seen, idle, expires, ended, version int64
	q := Query{SQL: "SELECT " + SessionColumns + " FROM " + r.d.final("sessions") + " WHERE id_hash = ?", Args: []any{idHash}}
	dest := []any{&s.IDHash, &s.User, r.conn.Strings(&rt), r.conn.Strings(&rn), &created, &seen, &idle, &expires, &ended, &version}
	err := r.only(ctx, "read a session", q, dest)
	s.Roles = joinRoles(rt, rn)
	s.Created, s.LastSeen, s.IdleExpires, s.Expires, s.Ended = fromNanos(created), fromNanos(seen), fromNanos(idle), fromNanos(expires), fromNanos(ended)
	return s, err
}

// only runs a lookup by key and scans its row into dest; no row is
// store.ErrNotFound.
func (r *Reader) only(ctx context.Context, what string, q Query, dest []any) error {
	found := false
	if err := r.each(ctx, what, q, dest, func() error { found = true; return nil }); err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("cannot %s: %w", what, store.ErrNotFound)
	}
	return nil
}

func splitRoles(m map[string]string) (tenants, roles []string) {
	tenants = slices.Sorted(maps.Keys(m))
	roles = make([]string, len(tenants))
	for i, t := range tenants {
		roles[i] = m[t]
	}
	return tenants, roles
}

func joinRoles(tenants, roles []string) map[string]string {
	m := make(map[string]string, len(tenants))
	for i, t := range tenants {
		if i < len(roles) {
			m[t] = roles[i]
		}
	}
	return m
}

// nanos is a time as stored: nanoseconds, 0 for none.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
