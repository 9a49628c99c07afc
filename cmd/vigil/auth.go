package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/vigil-dev/vigil/auth"
)

// authOptions are the auth flags of the role commands.
type authOptions struct {
	disabled        bool
	anonymousIngest string
	sessionIdle     time.Duration
	sessionMaxAge   time.Duration
	publicMetrics   bool
	jwt             auth.JWTOptions
}

func (o *authOptions) register(f *pflag.FlagSet) {
	f.BoolVar(&o.disabled, "auth.disabled", false, "let every request through without a credential, of any tenant X-Scope-OrgID names, as before auth existed; logs a warning at every start. Only for a trusted network")
	f.StringVar(&o.anonymousIngest, "auth.anonymous-ingest-tenant", "", "let ingest requests without a credential (OTLP, remote write, Jaeger) send into this one tenant, for a trusted network; also opens the Jaeger agent UDP port, which cannot carry credentials. Empty: ingest needs a token")
	f.DurationVar(&o.sessionIdle, "auth.session-idle-timeout", auth.DefaultSessionIdle, "a signed-in person's session ends after this long unused")
	f.DurationVar(&o.sessionMaxAge, "auth.session-max-age", auth.DefaultSessionMaxAge, "a signed-in person's session ends this long after signing in, used or not")
	f.StringVar(&o.jwt.Issuer, "auth.jwt.issuer", "", "accept JWTs of this issuer (its iss) as bearer credentials on every port, verified against its keys (from its discovery document, or --auth.jwt.jwks-url); the auth: section maps their subjects and groups to roles. Empty: none")
	f.StringVar(&o.jwt.Audience, "auth.jwt.audience", "", "the audience (aud) a JWT must be made for; required with --auth.jwt.issuer")
	f.StringVar(&o.jwt.JWKSURL, "auth.jwt.jwks-url", "", "where the JWT issuer's keys are (a JWKS), for an issuer without a discovery document; empty: from its discovery document")
	f.StringVar(&o.jwt.GroupsClaim, "auth.jwt.groups-claim", "groups", "the JWT claim that lists the caller's groups")
	f.BoolVar(&o.publicMetrics, "web.public-metrics", false, "serve /metrics and /debug/pprof without a credential, for a Prometheus scraping without one; otherwise they need viewer and admin in every tenant (a token made with --tenant '*')")
}

// newGuard builds the guard every port shares, reading the auth: section
// in force at every request. It warns at every start when auth is
// disabled.
func newGuard(o *authOptions, st auth.Store, policy func() *auth.Policy, reg prometheus.Registerer, logger *slog.Logger) (*auth.Guard, error) {
	if o.disabled {
		logger.Warn("auth is disabled (--auth.disabled): every port takes every request without a credential, for any tenant; use it only on a trusted network")
		return auth.Disabled(), nil
	}
	if t := o.anonymousIngest; t != "" {
		if err := auth.ValidTenant(t); err != nil || t == auth.AllTenants {
			return nil, fmt.Errorf("--auth.anonymous-ingest-tenant %q: want one tenant's id", t)
		}
	}
	opts := auth.Options{Store: st, AnonymousIngestTenant: o.anonymousIngest, SessionIdle: o.sessionIdle,
		SessionMaxAge: o.sessionMaxAge, Policy: policy, Registerer: reg, Logger: logger}
	if o.jwt.Issuer != "" {
		if o.jwt.Audience == "" {
			return nil, errors.New("--auth.jwt.issuer needs --auth.jwt.audience: JWTs made for other services must not be accepted")
		}
		opts.JWT = &o.jwt
	}
	return auth.New(opts), nil
}

// announceSignIn says how to sign in, and creates the local admin on the
// first start, printing its password this once.
func announceSignIn(ctx context.Context, st auth.Store, webAddr net.Addr, logger *slog.Logger) error {
	url := "http://" + loginHost(webAddr) + "/login"
	password, err := auth.EnsureAdmin(ctx, st, time.Now())
	if err != nil {
		return err
	}
	if password != "" {
		// The one place a secret is logged, by design (as Argo CD prints
		// its initial admin password): only its hash is kept.
		logger.Warn("created the local admin: sign in as admin with the password below; it is shown only this once, change it with `vigil admin password`",
			"url", url, "user", auth.AdminUser, "password", password)
	}
	logger.Info("auth is on: people sign in at the URL as admin (or with OpenID Connect once configured); machines send API tokens made with `vigil token create --tenant T --role R`",
		"url", url)
	return nil
}

// loginHost is the host:port a person on this machine opens.
func loginHost(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
