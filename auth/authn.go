package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Credentials are what a request presents, whatever its transport.
type Credentials struct {
	Bearer  string // the Authorization header's (or gRPC metadata's) bearer token
	Session string // the session cookie's value (HTTP only)
	Addr    string // the client's address, for the audit log and login limits
	// Certificate is the client's certificate, verified against the
	// listener's client CA; nil without mutual TLS.
	Certificate *x509.Certificate
}

// Authenticator recognises one kind of credential: API tokens, JWTs of
// the configured issuer, sessions, client certificates. A new kind is one
// more Authenticator in the Chain; nothing else changes.
type Authenticator interface {
	// Authenticate returns the identity the credentials prove. It returns
	// ErrNoCredential when they hold none of its kind, so the chain asks
	// the next; any other error is a credential of its kind that is bad,
	// and must say so without repeating the credential.
	Authenticate(ctx context.Context, c Credentials) (*Identity, error)
}

// Chain asks each authenticator in turn; the first that recognises a
// credential decides.
type Chain []Authenticator

// Authenticate implements Authenticator.
func (ch Chain) Authenticate(ctx context.Context, c Credentials) (*Identity, error) {
	for _, a := range ch {
		id, err := a.Authenticate(ctx, c)
		if !errors.Is(err, ErrNoCredential) {
			return id, err
		}
	}
	if c.Bearer != "" {
		return nil, unauthenticated("the bearer credential is not a Vigil API token, nor a JWT of an issuer Vigil accepts")
	}
	return nil, ErrNoCredential
}

// tokenCacheTTL is how long a token's row is trusted without reading the
// store again: a revocation takes effect within it on every server.
const tokenCacheTTL = 5 * time.Second

// lastUsedEvery is the granularity of a token's last use: the row is
// written again only when its last use is older than this.
const lastUsedEvery = time.Hour

// Tokens authenticates API tokens (Authorization: Bearer vigil_...).
type Tokens struct {
	Store  store.Credentials
	Now    func() time.Time
	Logger *slog.Logger

	mu    sync.Mutex
	cache map[string]cachedToken // by id; guarded by mu
}

type cachedToken struct {
	tok  store.APIToken
	read time.Time
}

// Authenticate implements Authenticator.
func (a *Tokens) Authenticate(ctx context.Context, c Credentials) (*Identity, error) {
	if c.Bearer == "" {
		return nil, ErrNoCredential
	}
	id, secret, err := ParseToken(c.Bearer)
	if err != nil {
		return nil, ErrNoCredential // maybe another kind's (a JWT)
	}
	tok, err := a.lookup(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && !sameHash(tok.Hash, hashSecret(secret)) {
		return nil, unauthenticated("invalid API token")
	}
	if err != nil {
		return nil, err
	}
	now := a.Now()
	switch {
	case !tok.Revoked.IsZero():
		return nil, unauthenticated(fmt.Sprintf("API token %s was revoked", id))
	case !tok.Expires.IsZero() && !now.Before(tok.Expires):
		return nil, unauthenticated(fmt.Sprintf("API token %s expired", id))
	}
	role, err := ParseRole(tok.Role)
	if err != nil {
		return nil, fmt.Errorf("API token %s: %w", id, err)
	}
	a.used(ctx, tok, now)
	return &Identity{Kind: KindMachine, Name: id, Grants: Grants{tok.Tenant: role}}, nil
}

// lookup reads a token through the cache. Only tokens found are cached,
// so a token made a moment ago works at once.
func (a *Tokens) lookup(ctx context.Context, id string) (store.APIToken, error) {
	now := a.Now()
	a.mu.Lock()
	c, ok := a.cache[id]
	a.mu.Unlock()
	if ok && now.Sub(c.read) < tokenCacheTTL {
		return c.tok, nil
	}
	tok, err := a.Store.Token(ctx, id)
	if err != nil && ok && !errors.Is(err, store.ErrNotFound) {
		// The store does not answer: a token verified before stays trusted
		// until it does, so an outage does not stop ingest, which spools
		// meanwhile. A revocation waits for the store, as it must.
		return c.tok, nil
	}
	if err != nil {
		return tok, err
	}
	a.remember(tok, now)
	return tok, nil
}

func (a *Tokens) remember(tok store.APIToken, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cache == nil || len(a.cache) > 10000 {
		a.cache = map[string]cachedToken{} // bounded: tokens are few, a flood of ids is not
	}
	a.cache[tok.ID] = cachedToken{tok: tok, read: now}
}

// used records the token's use when the stored one is coarser than
// lastUsedEvery. A failure only loses that record: it is logged, and not
// tried again before lastUsedEvery has passed.
func (a *Tokens) used(ctx context.Context, tok store.APIToken, now time.Time) {
	if now.Sub(tok.LastUsed) < lastUsedEvery {
		return
	}
	tok.LastUsed = now
	if err := a.Store.PutToken(ctx, tok); err != nil {
		a.Logger.Warn("cannot record an API token's use", "token", tok.ID, "err", err)
	}
	a.remember(tok, now)
}

// Sessions keeps people's logins on the server: the browser holds a
// random id, the store its hash, the grants at login, and when it ends.
type Sessions struct {
	Store  store.Credentials
	Now    func() time.Time
	Idle   time.Duration // a session unused this long ends
	MaxAge time.Duration // a session ends this long after login, used or not
	Logger *slog.Logger
}

// seenEvery is how stale a session's last use may be in the store: well
// under any idle timeout, and one write a minute per browser at most.
const seenEvery = time.Minute

// Start opens a session for a user and returns the cookie value (the id,
// never stored) and when the session ends at the latest.
func (s *Sessions) Start(ctx context.Context, user string, g Grants) (cookie string, expires time.Time, err error) {
	id, hash := newSessionID()
	now := s.Now()
	roles := map[string]string{}
	for t, r := range g {
		roles[t] = r.String()
	}
	ss := store.Session{IDHash: hash, User: user, Roles: roles, Created: now, LastSeen: now,
		IdleExpires: now.Add(s.Idle), Expires: now.Add(s.MaxAge)}
	if err := s.Store.PutSession(ctx, ss); err != nil {
		return "", time.Time{}, fmt.Errorf("cannot start a session: %w", err)
	}
	return id, ss.Expires, nil
}

// End ends the session whose id hashes to hash; its cookie is worthless
// from then on, wherever it was copied.
func (s *Sessions) End(ctx context.Context, hash string) error {
	ss, err := s.Store.Session(ctx, hash)
	if err != nil {
		return fmt.Errorf("cannot end a session: %w", err)
	}
	ss.Ended = s.Now()
	if err := s.Store.PutSession(ctx, ss); err != nil {
		return fmt.Errorf("cannot end a session: %w", err)
	}
	return nil
}

// Authenticate implements Authenticator for the session cookie.
func (s *Sessions) Authenticate(ctx context.Context, c Credentials) (*Identity, error) {
	if c.Session == "" {
		return nil, ErrNoCredential
	}
	hash, err := parseSessionID(c.Session)
	if err != nil {
		return nil, unauthenticated("malformed session cookie: log in again")
	}
	ss, err := s.Store.Session(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, unauthenticated("unknown session: log in again")
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if !ss.Ended.IsZero() || !now.Before(ss.Expires) || !now.Before(ss.IdleExpires) {
		return nil, unauthenticated("your session ended: log in again")
	}
	g := Grants{}
	for t, name := range ss.Roles {
		if r, err := ParseRole(name); err == nil {
			g[t] = r
		}
	}
	s.seen(ctx, ss, now)
	return &Identity{Kind: KindPerson, Name: ss.User, Grants: g, Session: hash}, nil
}

// seen moves the idle expiry on, at most once per seenEvery.
func (s *Sessions) seen(ctx context.Context, ss store.Session, now time.Time) {
	if now.Sub(ss.LastSeen) < seenEvery {
		return
	}
	ss.LastSeen, ss.IdleExpires = now, now.Add(s.Idle)
	if err := s.Store.PutSession(ctx, ss); err != nil {
		s.Logger.Warn("cannot record a session's use", "user", ss.User, "err", err)
	}
}
