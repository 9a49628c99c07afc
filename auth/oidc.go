package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCOptions configure people's sign-in through an OpenID provider, with
// the authorization code flow and PKCE. The provider says who a person is
// and which groups they are in; the auth: section says what those groups
// may do in Vigil.
type OIDCOptions struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is Vigil's callback as the provider knows it, e.g.
	// https://vigil.example.com/login/oidc/callback; Vigil serves its path.
	RedirectURL string
	// Scopes are asked for besides openid, e.g. profile, email, groups.
	Scopes []string
	// GroupsClaim names the claim listing the person's groups, read from
	// the ID token or, when it has none, from the userinfo endpoint.
	GroupsClaim string
}

// oidcLogin is the sign-in through the provider.
type oidcLogin struct {
	opts      OIDCOptions
	discovery *discovery
	now       func() time.Time
}

// flightCookie holds a sign-in in flight between leaving for the
// provider and coming back: its state, nonce and PKCE verifier. It is
// HttpOnly and lives ten minutes; a browser that edits its own only spoils
// its own sign-in, and a callback with another browser's code fails the
// state check, which is what stops a forged sign-in.
const (
	flightCookie = "vigil_oidc"
	flightMaxAge = 10 * time.Minute
)

type flight struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
}

// StartPath is where a browser begins an OpenID Connect sign-in.
const StartPath = "/login/oidc"

func (o *oidcLogin) callbackPath() string {
	u, err := url.Parse(o.opts.RedirectURL)
	if err != nil || u.Path == "" {
		return "/login/oidc/callback"
	}
	return u.Path
}

func (o *oidcLogin) config(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: o.opts.ClientID, ClientSecret: o.opts.ClientSecret, RedirectURL: o.opts.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, o.opts.Scopes...)}
}

// providerName is what the sign-in button names: the provider's host.
func (o *oidcLogin) providerName() string {
	if u, err := url.Parse(o.opts.Issuer); err == nil && u.Host != "" {
		return u.Host
	}
	return "OpenID Connect"
}

// routes are the sign-in's two public routes: its start and its callback.
func (g *Guard) oidcRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: StartPath, Role: Public, Handler: http.HandlerFunc(g.oidcStart)},
		{Method: "GET", Pattern: g.oidc.callbackPath(), Role: Public, Handler: http.HandlerFunc(g.oidcCallback)},
	}
}

// oidcStart sends the browser to the provider's sign-in page.
func (g *Guard) oidcStart(w http.ResponseWriter, r *http.Request) {
	p, err := g.oidc.discovery.provider(r.Context())
	if err != nil {
		g.storeFailed(StartPath, err)
		g.renderLogin(w, r, http.StatusServiceUnavailable, loginView{Problem: "Vigil cannot reach the identity provider now. Please try again."})
		return
	}
	fl := flight{State: randomHex(16), Nonce: randomHex(16), Verifier: oauth2.GenerateVerifier()}
	value, _ := json.Marshal(fl)
	http.SetCookie(w, &http.Cookie{Name: flightCookie, Value: base64.RawURLEncoding.EncodeToString(value), Path: "/", MaxAge: int(flightMaxAge.Seconds()),
		HttpOnly: true, Secure: secureCookies(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, g.oidc.config(p).AuthCodeURL(fl.State, oidc.Nonce(fl.Nonce), oauth2.S256ChallengeOption(fl.Verifier)), http.StatusFound)
}

// takeFlight reads the sign-in in flight and clears its cookie: a state
// is good for one callback.
func takeFlight(w http.ResponseWriter, r *http.Request) (flight, bool) {
	var fl flight
	c, err := r.Cookie(flightCookie)
	if err != nil {
		return fl, false
	}
	http.SetCookie(w, &http.Cookie{Name: flightCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secureCookies(r), SameSite: http.SameSiteLaxMode})
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || json.Unmarshal(raw, &fl) != nil || fl.State == "" || fl.Verifier == "" {
		return fl, false
	}
	return fl, true
}

// oidcCallback finishes a sign-in: the state checked against the
// browser's, the code redeemed with the PKCE verifier, the ID token
// verified (issuer, audience, expiry, nonce), the groups mapped to roles.
func (g *Guard) oidcCallback(w http.ResponseWriter, r *http.Request) {
	q, addr := r.URL.Query(), clientAddr(r.RemoteAddr)
	fl, ok := takeFlight(w, r)
	switch {
	case q.Get("error") != "":
		// The provider's words (access_denied, ...) are no secret.
		g.renderLogin(w, r, http.StatusUnauthorized, loginView{Problem: "The identity provider did not sign you in: " + clip(q.Get("error")+" "+q.Get("error_description"), 200)})
		return
	case !ok || !sameHash(q.Get("state"), fl.State):
		g.renderLogin(w, r, http.StatusBadRequest, loginView{Problem: "The sign-in expired or began in another browser. Please sign in again."})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	person, err := g.oidc.verify(ctx, q.Get("code"), fl)
	if err != nil {
		g.log.Warn("an OpenID Connect sign-in failed", "addr", addr, "err", err)
		g.audit.Record(r.Context(), "", Audit{Action: ActionLoginFailed, Actor: "anonymous:anonymous", Addr: addr, Detail: "OpenID Connect: " + clip(err.Error(), 200)})
		g.renderLogin(w, r, http.StatusBadGateway, loginView{Problem: "The identity provider's answer could not be verified. Please sign in again."})
		return
	}
	grants := g.policy().GrantsOf(person.groups, nil)
	if len(grants) == 0 {
		g.audit.Record(r.Context(), "", Audit{Action: ActionLoginFailed, Actor: "person:" + person.name, Addr: addr, Target: person.name, Detail: "no group mapped to a role: " + clip(strings.Join(person.groups, ", "), 200)})
		g.renderLogin(w, r, http.StatusForbidden, loginView{Problem: fmt.Sprintf("You are signed in as %s, but none of your groups holds a role in Vigil. Ask an admin to map one of them in the auth: section.", person.name)})
		return
	}
	g.startSession(w, r, person.name, grants, addr, "OpenID Connect; groups: "+clip(strings.Join(person.groups, ", "), 200))
}

// person is who the provider signed in.
type person struct {
	name   string
	groups []string
}

// verify redeems the code and reads who signed in.
func (o *oidcLogin) verify(ctx context.Context, code string, fl flight) (person, error) {
	p, err := o.discovery.provider(ctx)
	if err != nil {
		return person{}, err
	}
	tok, err := o.config(p).Exchange(ctx, code, oauth2.VerifierOption(fl.Verifier))
	if err != nil {
		return person{}, fmt.Errorf("cannot redeem the code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return person{}, errors.New("the token response has no ID token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: o.opts.ClientID, Now: o.now}).Verify(ctx, raw)
	if err != nil {
		return person{}, fmt.Errorf("invalid ID token: %w", err)
	}
	if !sameHash(idt.Nonce, fl.Nonce) {
		return person{}, errors.New("the ID token's nonce is not this sign-in's")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return person{}, fmt.Errorf("invalid ID token claims: %w", err)
	}
	if !hasClaims(claims, o.opts.GroupsClaim) && p.UserInfoEndpoint() != "" {
		more, err := o.userinfo(ctx, p, tok, idt.Subject)
		if err != nil {
			return person{}, err
		}
		for k, v := range more {
			claims[k] = v
		}
	}
	return person{name: nameOf(claims, idt.Subject), groups: stringsOf(claims[o.opts.GroupsClaim])}, nil
}

// userinfo reads the person's claims from the userinfo endpoint, for
// providers that keep groups or names out of the ID token.
func (o *oidcLogin) userinfo(ctx context.Context, p *oidc.Provider, tok *oauth2.Token, subject string) (map[string]any, error) {
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return nil, fmt.Errorf("cannot read the userinfo: %w", err)
	}
	if ui.Subject != subject {
		return nil, errors.New("the userinfo is of another subject than the ID token")
	}
	var claims map[string]any
	if err := ui.Claims(&claims); err != nil {
		return nil, fmt.Errorf("invalid userinfo claims: %w", err)
	}
	return claims, nil
}

// hasClaims reports whether an ID token says all Vigil needs: the
// groups, and a name to show. Many providers keep both for the userinfo
// endpoint when an access token is issued too (OpenID Connect Core 5.4).
func hasClaims(claims map[string]any, groupsClaim string) bool {
	_, groups := claims[groupsClaim]
	return groups && nameOf(claims, "") != ""
}

// nameOf is the name a person goes by in Vigil: their email, their user
// name at the provider, or their subject.
func nameOf(claims map[string]any, subject string) string {
	for _, k := range []string{"email", "preferred_username"} {
		if s, ok := claims[k].(string); ok && s != "" {
			return s
		}
	}
	return subject
}

// clip cuts a string from elsewhere for a page or a log.
func clip(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return string(r)
}
