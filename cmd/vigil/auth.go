package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
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
	oidc            auth.OIDCOptions
	oidcSecretFile  string
	localAdmin      bool
}

func (o *authOptions) register(f *pflag.FlagSet) {
	f.BoolVar(&o.disabled, "auth.disabled", false, "let every request through without a credential, of any tenant X-Scope-OrgID names, as before auth existed; logs a warning at every start. Only for a trusted network")
	f.StringVar(&o.anonymousIngest, "auth.anonymous-ingest-tenant", "", "let ingest requests without a credential (OTLP, remote write, Jaeger) send into this one tenant, for a trusted network; also opens the Jaeger agent UDP port, which cannot carry credentials. Empty: ingest needs a token")
	f.DurationVar(&o.sessionIdle, "auth.session-idle-timeout", auth.DefaultSessionIdle, "a signed-in person's session ends after this long unused")
	f.DurationVar(&o.sessionMaxAge, "auth.session-max-age", auth.DefaultSessionMaxAge, "a signed-in person's session ends this long after signing in, used or not")
	f.StringVar(&o.oidc.Issuer, "auth.oidc.issuer", "", "sign people in through this OpenID provider (its issuer URL, e.g. https://keycloak.example.com/realms/acme), with the authorization code flow and PKCE; the auth: section maps their groups to roles. With it the local admin's password sign-in is off unless --auth.local-admin. Empty: only the local admin")
	f.StringVar(&o.oidc.ClientID, "auth.oidc.client-id", "", "Vigil's client id at the OpenID provider")
	f.StringVar(&o.oidc.ClientSecret, "auth.oidc.client-secret", "", "Vigil's client secret at the OpenID provider (prefer --auth.oidc.client-secret-file)")
	f.StringVar(&o.oidcSecretFile, "auth.oidc.client-secret-file", "", "file holding Vigil's client secret at the OpenID provider")
	f.StringVar(&o.oidc.RedirectURL, "auth.oidc.redirect-url", "", "Vigil's callback as registered at the provider, e.g. https://vigil.example.com/login/oidc/callback; Vigil serves its path")
	f.StringSliceVar(&o.oidc.Scopes, "auth.oidc.scopes", []string{"profile", "email"}, "scopes asked for besides openid; add groups for providers that send groups only when asked (Dex, Okta)")
	f.StringVar(&o.oidc.GroupsClaim, "auth.oidc.groups-claim", "groups", "the claim listing a person's groups, from the ID token or else the userinfo endpoint")
	f.BoolVar(&o.localAdmin, "auth.local-admin", false, "with --auth.oidc.issuer, keep the local admin's password sign-in too (a break-glass account); without an OpenID provider it is always on")
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
	if o.oidc.Issuer != "" {
		oidc, err := o.oidcOptions()
		if err != nil {
			return nil, err
		}
		opts.OIDC, opts.LocalLogin = oidc, o.localAdmin
	}
	return auth.New(opts), nil
}

// oidcOptions checks the OpenID Connect flags and reads the client secret.
func (o *authOptions) oidcOptions() (*auth.OIDCOptions, error) {
	opts := o.oidc
	secret, err := secretFrom("auth.oidc.client-secret", opts.ClientSecret, o.oidcSecretFile)
	if err != nil {
		return nil, err
	}
	opts.ClientSecret = secret
	u, err := url.Parse(opts.RedirectURL)
	switch {
	case opts.ClientID == "":
		return nil, errors.New("--auth.oidc.issuer needs --auth.oidc.client-id")
	case opts.RedirectURL == "" || err != nil || u.Host == "" || u.Path == "" || u.Path == "/" || u.Path == "/login":
		return nil, errors.New("--auth.oidc.issuer needs --auth.oidc.redirect-url, Vigil's callback URL as registered at the provider, e.g. https://vigil.example.com/login/oidc/callback")
	}
	return &opts, nil
}

// announceSignIn says how to sign in, and creates the local admin on the
// first start, printing its password this once, unless an OpenID provider
// signs people in.
func announceSignIn(ctx context.Context, st auth.Store, guard *auth.Guard, o *authOptions, webAddr net.Addr, overTLS bool, logger *slog.Logger) error {
	url := "http://" + loginHost(webAddr) + "/login"
	if overTLS {
		url = "https://" + loginHost(webAddr) + "/login"
	}
	if !guard.LocalLogin() {
		logger.Info("auth is on: people sign in at the URL through the OpenID provider, with the roles the auth: section gives their groups; the local admin's password sign-in is off (--auth.local-admin keeps it); machines send API tokens made with `vigil token create --tenant T --role R`",
			"url", url, "issuer", o.oidc.Issuer)
		return nil
	}
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
