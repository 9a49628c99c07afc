package store

import (
	"context"
	"time"
)

// Credentials are auth's state: local users, API tokens and sessions. They
// live in tables of their own, never in the events table, which retention
// drops. Each row is replaced whole by a newer version of itself (an
// update writes the full row); what makes a version newer is the row's
// own content (see the types), so two writers racing — a revocation from
// the CLI and the server recording a token's use — cannot undo each
// other's terminal change. Secrets are never stored: only hashes.
type Credentials interface {
	// PutUser writes a user, replacing an older version of it.
	PutUser(ctx context.Context, u User) error
	// User reads a user by name; ErrNotFound when there is none.
	User(ctx context.Context, name string) (User, error)
	// PutToken writes a token, replacing an older version of it.
	PutToken(ctx context.Context, t APIToken) error
	// Token reads a token by id; ErrNotFound when there is none.
	Token(ctx context.Context, id string) (APIToken, error)
	// Tokens lists every token, revoked and expired ones too, oldest first.
	Tokens(ctx context.Context) ([]APIToken, error)
	// PutSession writes a session, replacing an older version of it.
	PutSession(ctx context.Context, s Session) error
	// Session reads a session by the hash of its id; ErrNotFound when
	// there is none.
	Session(ctx context.Context, idHash string) (Session, error)
}

// terminal is added to the version of a row in a state that no later
// write may leave (revoked, ended): such a row outranks every version
// written before or after it from the wall clock alone.
const terminal = int64(1) << 62

// User is a local account: a person who logs in with a password. The
// version is Updated.
type User struct {
	Name         string
	PasswordHash string            // a PHC string (argon2id); never the password
	Roles        map[string]string // tenant (or * for every tenant) → role
	Created      time.Time
	Updated      time.Time
}

// Version orders the rows of one user: the latest update wins.
func (u User) Version() int64 { return u.Updated.UnixNano() }

// APIToken is a machine's credential. Its version is the latest of its
// times, and a revoked token outranks any unrevoked version of itself.
type APIToken struct {
	ID        string // public: listed and revoked by
	Hash      string // SHA-256 of the secret, hex
	Name      string // what it is for, e.g. "ci-deploy"
	Tenant    string // a tenant, or * for every tenant
	Role      string
	Created   time.Time
	Expires   time.Time // zero: never
	Revoked   time.Time // zero: not revoked
	LastUsed  time.Time // zero: never; coarse (the writer decides how)
	CreatedBy string
	RevokedBy string
}

// Version orders the rows of one token.
func (t APIToken) Version() int64 {
	v := latest(t.Created, t.LastUsed, t.Revoked).UnixNano()
	if !t.Revoked.IsZero() {
		v += terminal
	}
	return v
}

// Session is a person's login, kept on the server: the browser holds only
// a random id whose SHA-256 is IDHash. Its version is LastSeen, and an
// ended session outranks any live version of itself.
type Session struct {
	IDHash      string
	User        string
	Roles       map[string]string // tenant → role, as at login
	Created     time.Time
	LastSeen    time.Time
	IdleExpires time.Time // LastSeen plus the idle timeout
	Expires     time.Time // absolute: Created plus the maximum age
	Ended       time.Time // zero: live
}

// Version orders the rows of one session.
func (s Session) Version() int64 {
	v := latest(s.Created, s.LastSeen, s.Ended).UnixNano()
	if !s.Ended.IsZero() {
		v += terminal
	}
	return v
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}
