package auth

import (
	"context"
	_ "embed"
	"errors"
	"html/template"
	"math"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/store"
)

//go:embed login.html
var loginHTML string

var loginPage = template.Must(template.New("login").Parse(loginHTML))

// ThemeCookie holds the theme a person chose for the pages: light or
// dark; without it, the browser's preference.
const ThemeCookie = "vigil_theme"

// csrfCookie holds the token a form must echo (double submit): a page of
// another site can make a browser post, but cannot read the cookie to put
// it in the form.
const csrfCookie = "vigil_csrf"

// Routes are the sign-in pages: GET and POST /login, POST /logout, and
// with an OpenID provider the start and callback of its sign-in. They are
// public (a person signs in before having an identity) and check their
// own form's CSRF token, or the sign-in's state.
func (g *Guard) Routes() []Route {
	routes := []Route{
		{Method: "GET", Pattern: "/login", Role: Public, Handler: http.HandlerFunc(g.loginForm)},
		{Method: "POST", Pattern: "/login", Role: Public, Handler: http.HandlerFunc(g.loginSubmit)},
		{Method: "POST", Pattern: "/logout", Role: Public, Handler: http.HandlerFunc(g.logout)},
	}
	if g.oidc != nil {
		routes = append(routes, g.oidcRoutes()...)
	}
	return routes
}

// LoginLook is how the sign-in page looks: the stylesheet and the icon
// of the pages it leads to, so that signing in looks like the rest of
// the UI. The zero value is a plain page.
type LoginLook struct {
	// Stylesheet and Icon are URLs Vigil serves: the pages' policy
	// admits no other origin.
	Stylesheet, Icon string
}

// SetLoginLook makes the sign-in page look like the pages whose
// stylesheet and icon look names. The UI calls it as it is built; it is
// safe to call while the guard serves.
func (g *Guard) SetLoginLook(look LoginLook) { g.look.Store(&look) }

type loginView struct {
	LoginLook
	Theme    string // light, dark or system, from the pages' theme cookie
	Off      bool
	Local    bool   // the password form is shown
	Provider string // the OpenID provider's name, when there is one
	CSRF     string
	User     string
	Problem  string
}

func (g *Guard) loginForm(w http.ResponseWriter, r *http.Request) {
	if id := FromContext(r.Context()); id != nil && id.Kind == KindPerson {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	g.renderLogin(w, r, http.StatusOK, loginView{})
}

func (g *Guard) renderLogin(w http.ResponseWriter, r *http.Request, code int, v loginView) {
	v.Off, v.Local = g.opts.Disabled, g.LocalLogin()
	if look := g.look.Load(); look != nil {
		v.LoginLook = *look
	}
	// The theme the pages render with (their theme switch sets the
	// cookie), so the sign-in page never flashes the other one.
	v.Theme = "system"
	if c, err := r.Cookie(ThemeCookie); err == nil && (c.Value == "light" || c.Value == "dark") {
		v.Theme = c.Value
	}
	if g.oidc != nil {
		v.Provider = g.oidc.providerName()
	}
	if !v.Off {
		v.CSRF = CSRFToken(w, r)
	}
	PageHeaders(w)
	w.WriteHeader(code)
	loginPage.Execute(w, v)
}

// PageHeaders are the headers of Vigil's server-rendered pages: scripts,
// styles and images from Vigil only and never inline, no framing, nothing
// cached. The guard adds nosniff, and HSTS over TLS, to every answer.
func PageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// securityHeaders are set on every answer of every port: no sniffing of
// types, and over TLS, HSTS, so a browser never comes back over plain
// HTTP.
func securityHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// CSRFHeader is the header a page's script sends its CSRF token in.
const CSRFHeader = "X-CSRF-Token"

// CSRFToken returns the token a page's forms (field csrf) and scripts
// (header X-CSRF-Token) must send with every change, setting its cookie
// when the browser has none yet. The guard checks it on every request
// that changes something and is authenticated by a session.
func CSRFToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && isHex(c.Value, 16) {
		return c.Value
	}
	tok := randomHex(16)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, Secure: secureCookies(r), SameSite: http.SameSiteStrictMode})
	return tok
}

// csrfOK checks the token a request sends, in the header or in a posted
// form's field, against its cookie (double submit): a page of another
// site can make a browser send a request, but cannot read the cookie to
// put it in the request. A multipart form must send the header: its body
// is not read here.
func csrfOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || !isHex(c.Value, 16) {
		return false
	}
	if h := r.Header.Get(CSRFHeader); h != "" {
		return sameHash(c.Value, h)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return false
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxCheckedFormBytes)
	return sameHash(c.Value, r.PostFormValue("csrf"))
}

// secureCookies: cookies are Secure over TLS, and on loopback, where
// browsers treat plain HTTP as secure; elsewhere over plain HTTP a Secure
// cookie would never come back and nobody could sign in.
func secureCookies(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// maxFormBytes bounds a login form; maxCheckedFormBytes any other form
// the guard reads for its CSRF token.
const (
	maxFormBytes        = 16 << 10
	maxCheckedFormBytes = 1 << 20
)

func (g *Guard) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if g.opts.Disabled || !g.LocalLogin() {
		g.renderLogin(w, r, http.StatusNotFound, loginView{Problem: "Signing in with a password is off here."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil || !csrfOK(r) {
		g.renderLogin(w, r, http.StatusForbidden, loginView{Problem: "The form expired. Please sign in again."})
		return
	}
	name, password, addr := r.PostFormValue("username"), r.PostFormValue("password"), clientAddr(r.RemoteAddr)
	u, err := g.opts.Store.User(r.Context(), name)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		g.log.Error("cannot read a user to sign in", "err", err)
		g.renderLogin(w, r, http.StatusInternalServerError, loginView{User: name, Problem: "Vigil cannot read its users now. Please try again."})
		return
	}
	limited := ""
	if known {
		limited = u.Name
	}
	if wait := g.login.wait(limited, addr); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		g.renderLogin(w, r, http.StatusTooManyRequests, loginView{User: name, Problem: "Too many failed sign-ins. Please wait and try again."})
		return
	}
	hash := dummyHash() // an unknown user costs a wrong password's time
	if known {
		hash = u.PasswordHash
	}
	if !checkPassword(hash, password) || !known {
		g.login.failed(limited, addr)
		g.audit.Record(r.Context(), "", loginFailed(limited, addr))
		g.renderLogin(w, r, http.StatusUnauthorized, loginView{User: name, Problem: "Wrong user name or password."})
		return
	}
	g.startSession(w, r, u.Name, grantsOf(u.Roles), addr, "password")
}

// grantsOf reads stored roles; a role this Vigil does not know grants
// nothing.
func grantsOf(roles map[string]string) Grants {
	g := Grants{}
	for t, name := range roles {
		if role, err := ParseRole(name); err == nil {
			g[t] = role
		}
	}
	return g
}

// loginFailed is the audit record of a failed login. An unknown user name
// is not recorded: it may be a password typed in the wrong field.
func loginFailed(user, addr string) Audit {
	a := Audit{Action: ActionLoginFailed, Actor: "anonymous:anonymous", Addr: addr, Detail: "wrong password"}
	if user == "" {
		a.Detail = "unknown user"
	} else {
		a.Actor, a.Target = "person:"+user, user
	}
	return a
}

// startSession signs a person in with their grants; how says how they
// proved who they are, for the audit log.
func (g *Guard) startSession(w http.ResponseWriter, r *http.Request, name string, grants Grants, addr, how string) {
	id, expires, err := g.sessions.Start(r.Context(), name, grants)
	if err != nil {
		g.log.Error("cannot start a session", "user", name, "err", err)
		g.renderLogin(w, r, http.StatusInternalServerError, loginView{Problem: "Vigil cannot start a session now. Please try again."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", Expires: expires, HttpOnly: true,
		Secure: secureCookies(r), SameSite: http.SameSiteLaxMode})
	g.audit.Record(r.Context(), "", Audit{Action: ActionLogin, Actor: "person:" + name, Addr: addr, Target: name, Detail: how})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the session in the store, not only in this browser, and
// clears the cookie.
func (g *Guard) logout(w http.ResponseWriter, r *http.Request) {
	if g.opts.Disabled {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil || !csrfOK(r) {
		http.Error(w, "the form expired: reload the page and sign out again", http.StatusForbidden)
		return
	}
	if id := FromContext(r.Context()); id != nil && id.Session != "" {
		if err := g.endSession(r.Context(), id, clientAddr(r.RemoteAddr)); err != nil {
			g.log.Error("cannot end a session", "user", id.Name, "err", err)
			http.Error(w, "Vigil cannot end the session now; try again", http.StatusInternalServerError)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secureCookies(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (g *Guard) endSession(ctx context.Context, id *Identity, addr string) error {
	if err := g.sessions.End(ctx, id.Session); err != nil {
		return err
	}
	g.audit.Record(ctx, "", Audit{Action: ActionLogout, Actor: id.Subject(), Addr: addr, Target: id.Name})
	return nil
}
