// Package auth owns who may see, send and act: identities (a person
// through a session after logging in, a machine through an API token or a
// JWT of the configured issuer), roles per tenant, the tenant a request
// acts in, rate limits, and the guard that decides every request on every
// port — one HTTP middleware and one pair of gRPC interceptors — before
// any handler runs. Handlers declare the role they need (Route, Methods)
// and never check anything themselves.
//
// The guard authenticates through a Chain of Authenticators (API tokens,
// JWTs, sessions, client certificates), resolves the tenant from the identity (X-Scope-OrgID
// may only narrow it), authorizes the route's role in that tenant, then
// applies the tenant's rate limits. A missing or bad credential is 401
// (UNAUTHENTICATED), a missing role or tenant 403 (PERMISSION_DENIED)
// naming what is needed, a spent limit 429 (RESOURCE_EXHAUSTED); every
// 403 is audited. What the identities of an identity provider may do, and
// the limits, are the auth: section of the config directory (Policy).
package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

// Store is what auth keeps its state in: credentials, and the audit log
// as events.
type Store interface {
	store.Credentials
	store.EventWriter
}

// Options configure the guard.
type Options struct {
	Store Store
	// Disabled lets every request through as before auth existed: the
	// tenant is X-Scope-OrgID's.
	Disabled bool
	// AnonymousIngestTenant, when set, lets requests to ingest routes
	// without a credential send into this one tenant.
	AnonymousIngestTenant string
	SessionIdle           time.Duration // 0: DefaultSessionIdle
	SessionMaxAge         time.Duration // 0: DefaultSessionMaxAge
	// LoginLimits bound failed logins; zero: DefaultLoginLimits.
	LoginLimits LoginLimits
	// JWT, when set, accepts the JWTs of one issuer as bearer credentials.
	JWT *JWTOptions
	// OIDC, when set, signs people in through an OpenID provider, and the
	// local users' password sign-in is off unless LocalLogin keeps it, as
	// Argo CD's admin.enabled: "false" turns its admin off once SSO works.
	OIDC       *OIDCOptions
	LocalLogin bool
	// Policy returns the auth: section in force (nil: none), read at every
	// request so a reload of the config directory takes effect at once.
	Policy func() *Policy
	// Registerer takes the guard's metrics; nil: not exported.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time // nil: time.Now
}

// Session lifetimes by default: a working day idle, a week in all, as
// Grafana bounds its logins by inactivity and by age.
const (
	DefaultSessionIdle   = 12 * time.Hour
	DefaultSessionMaxAge = 7 * 24 * time.Hour
)

// Guard decides every request. Build it once and hand it to every port.
type Guard struct {
	opts     Options
	authn    Authenticator
	sessions *Sessions
	audit    *AuditLog
	oidc     *oidcLogin // nil: no OpenID provider
	login    *loginLimiter
	limits   *rateLimiter
	log      *slog.Logger
	now      func() time.Time

	lastStoreLog atomic.Int64              // when a store failure was last logged, Unix ns
	look         atomic.Pointer[LoginLook] // the sign-in page's look; nil: plain
}

// New builds the guard.
func New(opts Options) *Guard {
	g := &Guard{opts: opts, log: opts.Logger, now: opts.Now}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	if opts.Disabled {
		return g
	}
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = DefaultSessionIdle
	}
	if opts.SessionMaxAge <= 0 {
		opts.SessionMaxAge = DefaultSessionMaxAge
	}
	g.sessions = &Sessions{Store: opts.Store, Now: g.now, Idle: opts.SessionIdle, MaxAge: opts.SessionMaxAge, Logger: g.log}
	chain := Chain{&Tokens{Store: opts.Store, Now: g.now, Logger: g.log}}
	if opts.JWT != nil {
		chain = append(chain, NewJWTs(*opts.JWT, g.policy, g.now))
	}
	g.authn = append(chain, g.sessions, certificates{policy: g.policy})
	g.audit = NewAuditLog(opts.Store, g.log)
	g.login = newLoginLimiter(opts.LoginLimits, g.now)
	g.limits = newRateLimiter(opts.Registerer, g.now)
	if o := opts.OIDC; o != nil {
		if o.GroupsClaim == "" {
			o.GroupsClaim = "groups"
		}
		g.oidc = &oidcLogin{opts: *o, discovery: &discovery{issuer: o.Issuer}, now: g.now}
	}
	return g
}

// LocalLogin reports whether local users sign in with a password: always
// without an OpenID provider, with one only when asked for.
func (g *Guard) LocalLogin() bool { return g.oidc == nil || g.opts.LocalLogin }

// policy is the auth: section in force; nil when there is none.
func (g *Guard) policy() *Policy {
	if g.opts.Policy == nil {
		return nil
	}
	return g.opts.Policy()
}

// Disabled is a guard that lets everything through: for tests of
// handlers, and --auth.disabled.
func Disabled() *Guard { return New(Options{Disabled: true}) }

// Enabled reports whether the guard checks anything.
func (g *Guard) Enabled() bool { return !g.opts.Disabled }

// Audit is the audit log the guard writes to; nil when disabled. Its Run
// must be part of the process's run group.
func (g *Guard) Audit() *AuditLog { return g.audit }

// HTTP wraps a route's handler in the guard, and sets the headers every
// answer carries.
func (g *Guard) HTTP(rt Route) http.Handler {
	h := g.decideHTTP(rt)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w, r)
		h.ServeHTTP(w, r)
	})
}

// decideHTTP is the guard of one route: authentication, the tenant,
// authorization, CSRF for a browser's changes, rate limits.
func (g *Guard) decideHTTP(rt Route) http.Handler {
	if g.opts.Disabled {
		return rt.Handler
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := credentialsOf(r)
		id, t, err := g.decide(r.Context(), c, r.Header.Get(tenant.Header), rt.Role, rt.Scope)
		if err == nil && rt.Role != Public && id.Session != "" && !safeMethod(r.Method) && !csrfOK(r) {
			err = &Error{Code: CodeForbidden, Msg: fmt.Sprintf("a change from a signed-in browser needs its CSRF token: send the %s header, or a csrf form field, with the token of the page", CSRFHeader)}
		}
		if err == nil && t != "" {
			err = g.limitHTTP(r, id, t)
		}
		if err != nil {
			g.refuseHTTP(w, r, rt, c, id, err)
			return
		}
		ctx := NewContext(r.Context(), id)
		if t != "" {
			ctx = tenant.NewContext(ctx, t)
		}
		rt.Handler.ServeHTTP(w, r.WithContext(ctx))
	})
}

// safeMethod reports a method that changes nothing, which a page of
// another site may make a browser send without harm.
func safeMethod(m string) bool { return m == "GET" || m == "HEAD" || m == "OPTIONS" }

// limitHTTP applies the rate limits to a request of a tenant; a body of
// unknown length is charged as it is read.
func (g *Guard) limitHTTP(r *http.Request, id *Identity, t string) error {
	l, err := g.limit(id, t, r.ContentLength)
	if err != nil {
		return err
	}
	if r.ContentLength < 0 && r.Body != nil && l != (Limits{}) {
		r.Body = owingBody{ReadCloser: r.Body, owe: func(n int64) { g.limits.owe(t, id.Subject(), l, n) }}
	}
	return nil
}

// SessionCookie is the name of the cookie that carries a session's id.
const SessionCookie = "vigil_session"

func credentialsOf(r *http.Request) Credentials {
	c := Credentials{Addr: clientAddr(r.RemoteAddr), Certificate: verifiedLeaf(r.TLS)}
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		c.Bearer = strings.TrimSpace(tok)
	}
	if ck, err := r.Cookie(SessionCookie); err == nil {
		c.Session = ck.Value
	}
	return c
}

// clientAddr is the host of a remote address. Forwarding headers are not
// trusted: a client could set them.
func clientAddr(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}

// decide authenticates and authorizes one request needing role need: the
// identity and the tenant it acts in ("" for public and server-scoped
// routes), or a refusal (*Error, or a store failure). A refusal for want
// of a role returns the identity too, for the audit log.
func (g *Guard) decide(ctx context.Context, c Credentials, requested string, need Role, scope Scope) (*Identity, string, error) {
	id, err := g.authn.Authenticate(ctx, c)
	switch {
	case need == Public:
		return id, "", nil // a bad credential does not close an open route
	case err == ErrNoCredential && need == Ingest && g.opts.AnonymousIngestTenant != "":
		id = &Identity{Kind: KindAnonymous, Name: "anonymous", Grants: Grants{g.opts.AnonymousIngestTenant: Ingest}}
	case err == ErrNoCredential:
		return nil, "", unauthenticated("authentication required: send an API token (Authorization: Bearer vigil_...) or log in at /login")
	case err != nil:
		return nil, "", err
	}
	if scope == ServerScope {
		if !id.Grants[AllTenants].Allows(need) {
			return id, "", &Error{Code: CodeForbidden, Msg: fmt.Sprintf("this needs the %s role in every tenant (%s=%s)", need, AllTenants, need)}
		}
		return id, "", nil
	}
	t, err := id.Tenant(requested)
	if err != nil {
		return id, "", err
	}
	if !id.Grants.Allows(t, need) {
		return id, t, &Error{Code: CodeForbidden, Msg: fmt.Sprintf("this needs the %s role in tenant %q", need, t)}
	}
	return id, t, nil
}

// storeDown is the answer when the store cannot say whether a credential
// is good: a client retries (503, UNAVAILABLE), as during any outage.
const storeDown = "cannot check the credential now: the store does not answer; retry later"

// storeFailed logs a failure of the store or the OpenID provider, at most
// once every storeLogEvery: an outage fails every request.
func (g *Guard) storeFailed(where string, err error) {
	now := g.now().UnixNano()
	last := g.lastStoreLog.Load()
	if now-last >= int64(storeLogEvery) && g.lastStoreLog.CompareAndSwap(last, now) {
		g.log.Error("cannot check credentials: the store or the OpenID provider does not answer", "route", where, "err", err)
	}
}

const storeLogEvery = 10 * time.Second

// refuseHTTP answers a refusal: 401 with WWW-Authenticate, 403 (audited),
// 400, 429 with Retry-After, or 503 for a store or an OpenID provider that
// does not answer, as JSON {"error": ...}, the shape of every Vigil API
// error.
func (g *Guard) refuseHTTP(w http.ResponseWriter, r *http.Request, rt Route, c Credentials, id *Identity, err error) {
	code := http.StatusServiceUnavailable
	msg := storeDown
	if e, ok := err.(*Error); ok {
		code, msg = e.HTTPStatus(), e.Msg
	}
	switch code {
	case http.StatusUnauthorized:
		challenge := `Bearer realm="vigil"`
		if c.Bearer != "" || c.Session != "" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	case http.StatusForbidden:
		g.forbidden(r.Context(), id, c.Addr, r.Method+" "+r.URL.Path, r.Header.Get(tenant.Header), msg)
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", err.(*Error).retryAfterSeconds())
	case http.StatusServiceUnavailable:
		g.storeFailed(rt.String(), err)
		w.Header().Set("Retry-After", "5")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// forbidden audits a 403 in the tenant the request was for (the
// identity's own when it named none).
func (g *Guard) forbidden(ctx context.Context, id *Identity, addr, target, requested, why string) {
	t := requested
	if t == "" || tenant.Validate(t) != nil {
		t = store.DefaultTenant
		if id != nil {
			if own, err := id.Tenant(""); err == nil {
				t = own
			}
		}
	}
	g.audit.Record(ctx, t, Audit{Action: ActionForbidden, Actor: id.Subject(), Addr: addr, Target: target, Detail: why})
}
