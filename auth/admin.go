package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// AdminUser is the local account Vigil creates on first start when no
// identity provider is configured, as Argo CD creates its admin.
const AdminUser = "admin"

// EnsureAdmin creates the local admin, an admin in every tenant, with a
// random password, unless it exists. It returns the password only when it
// created the account: the caller shows it once, and only its hash is
// kept. Two servers starting on one store at once may both create it; the
// one whose row the store kept returns the password, the other "".
func EnsureAdmin(ctx context.Context, st store.Credentials, now time.Time) (password string, err error) {
	_, err = st.User(ctx, AdminUser)
	if err == nil {
		return "", nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("cannot look for the local admin: %w", err)
	}
	password = NewPassword()
	u := store.User{Name: AdminUser, PasswordHash: HashPassword(password), Roles: map[string]string{AllTenants: Admin.String()}, Created: now, Updated: now}
	if err := st.PutUser(ctx, u); err != nil {
		return "", fmt.Errorf("cannot create the local admin: %w", err)
	}
	kept, err := st.User(ctx, AdminUser)
	if err != nil {
		return "", fmt.Errorf("cannot read the local admin back: %w", err)
	}
	if kept.PasswordHash != u.PasswordHash {
		return "", nil
	}
	return password, nil
}

// SetPassword changes a local user's password and audits it.
func SetPassword(ctx context.Context, st Store, user, password, actor string, now time.Time) error {
	if len(password) < 12 {
		return errors.New("a password needs at least 12 characters")
	}
	u, err := st.User(ctx, user)
	if err != nil {
		return fmt.Errorf("cannot change the password of %s: %w", user, err)
	}
	u.PasswordHash, u.Updated = HashPassword(password), now
	if err := st.PutUser(ctx, u); err != nil {
		return fmt.Errorf("cannot change the password of %s: %w", user, err)
	}
	return audit(ctx, st, "", now, Audit{Action: ActionPasswordChanged, Actor: actor, Target: user})
}

// TokenSpec is what a new API token may do.
type TokenSpec struct {
	Name    string
	Tenant  string // a tenant, or * for every tenant
	Role    Role
	Expires time.Time // zero: never
}

// CreateToken makes an API token, stores its hash and audits it. The
// token itself is returned once, for the caller to show.
func CreateToken(ctx context.Context, st Store, spec TokenSpec, actor string, now time.Time) (token string, rec store.APIToken, err error) {
	if err := ValidTenant(spec.Tenant); err != nil {
		return "", rec, err
	}
	if !spec.Expires.IsZero() && !spec.Expires.After(now) {
		return "", rec, errors.New("a token must expire in the future")
	}
	token, id, hash := NewToken()
	rec = store.APIToken{ID: id, Hash: hash, Name: spec.Name, Tenant: spec.Tenant, Role: spec.Role.String(), Created: now, Expires: spec.Expires, CreatedBy: actor}
	if err := st.PutToken(ctx, rec); err != nil {
		return "", rec, fmt.Errorf("cannot store the token: %w", err)
	}
	return token, rec, audit(ctx, st, tokenTenant(spec.Tenant), now, Audit{Action: ActionTokenCreated, Actor: actor, Target: id,
		Detail: fmt.Sprintf("role %s in tenant %s", spec.Role, spec.Tenant)})
}

// RevokeToken revokes a token for good and audits it.
func RevokeToken(ctx context.Context, st Store, id, actor string, now time.Time) (store.APIToken, error) {
	tok, err := st.Token(ctx, id)
	if err != nil {
		return tok, fmt.Errorf("cannot revoke token %s: %w", id, err)
	}
	if !tok.Revoked.IsZero() {
		return tok, nil
	}
	tok.Revoked, tok.RevokedBy = now, actor
	if err := st.PutToken(ctx, tok); err != nil {
		return tok, fmt.Errorf("cannot revoke token %s: %w", id, err)
	}
	return tok, audit(ctx, st, tokenTenant(tok.Tenant), now, Audit{Action: ActionTokenRevoked, Actor: actor, Target: id})
}

// tokenTenant is the tenant whose audit log records a token's life: its
// own, or the default one for a token of every tenant.
func tokenTenant(t string) string {
	if t == AllTenants {
		return store.DefaultTenant
	}
	return t
}

// audit writes one record at once: for commands, which have no AuditLog
// running.
func audit(ctx context.Context, w store.EventWriter, tenant string, at time.Time, a Audit) error {
	ev, err := AuditEvent(tenant, at, a)
	if err == nil {
		err = w.WriteEvents(ctx, []store.Event{ev})
	}
	if err != nil {
		return fmt.Errorf("cannot write the audit record: %w", err)
	}
	return nil
}
