package ui

import (
	"bytes"
	"encoding/json"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/tenant"
)

// pageRoots are the first path segments of the pages.
var pageRoots = []string{"services", "traces", "llm", "cost", "slos", "drift", "canaries", "recommendations", "alerts", "actions", "settings"}

func isPage(path string) bool {
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return slices.Contains(pageRoots, first)
}

// Browser wraps the web port's handler for people using the pages: a
// page's ?tenant= selects the tenant as X-Scope-OrgID does (which only
// narrows what the identity holds: the guard still decides), so a link
// carries its tenant; and the guard's refusals of a page, JSON for API
// clients, become what a browser can use: a signed-out visitor is sent
// to /login, and a page it may not see says why in HTML.
func Browser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isPage(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if t := r.URL.Query().Get("tenant"); t != "" && r.Header.Get(tenant.Header) == "" {
			r = r.Clone(r.Context())
			r.Header.Set(tenant.Header, t)
		}
		rw := &refusals{ResponseWriter: w}
		next.ServeHTTP(rw, r)
		if rw.code != 0 {
			refused(w, r, rw.code, rw.body.Bytes())
		}
	})
}

// refusals holds back the guard's JSON refusals (401, 403, 400) of a
// page; everything else, the pages' own HTML answers included, passes.
type refusals struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (rw *refusals) WriteHeader(code int) {
	refusal := code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusBadRequest
	if refusal && strings.HasPrefix(rw.Header().Get("Content-Type"), "application/json") {
		rw.code = code
		return
	}
	rw.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController flush a page's stream (the live
// timeline's events) through to the connection.
func (rw *refusals) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

func (rw *refusals) Write(b []byte) (int, error) {
	if rw.code != 0 {
		return rw.body.Write(b)
	}
	return rw.ResponseWriter.Write(b)
}

var refusedPage = template.Must(template.New("refused").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not allowed · Vigil</title></head>
<body><main><h1>Vigil cannot show this page</h1><p role="alert">{{.}}</p>
<p><a href="/">Go to your pages</a> · <a href="/login">Sign in as someone else</a></p></main></body></html>
`))

// refused answers a held-back refusal: signed out, to /login (htmx is
// told with HX-Redirect, as it follows no redirect into a fragment);
// otherwise the guard's reason as a page.
func refused(w http.ResponseWriter, r *http.Request, code int, body []byte) {
	w.Header().Del("WWW-Authenticate")
	if code == http.StatusUnauthorized {
		if r.Header.Get("HX-Request") == "true" {
			w.Header().Set("HX-Redirect", "/login")
			w.WriteHeader(code)
			return
		}
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	var msg struct{ Error string }
	json.Unmarshal(body, &msg)
	headers(w)
	w.WriteHeader(code)
	refusedPage.Execute(w, msg.Error)
}

// home sends a visitor to sign in, or to the services page of a tenant it
// holds: its only one, the default, or the first by name.
func (u *UI) home(w http.ResponseWriter, r *http.Request) {
	id := auth.FromContext(r.Context())
	if id == nil && u.opts.SignIn {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	to := "/services"
	if id != nil {
		if _, err := id.Tenant(""); err != nil {
			for _, t := range slices.Sorted(maps.Keys(id.Grants)) {
				if t != auth.AllTenants {
					to += "?" + url.Values{"tenant": {t}}.Encode()
					break
				}
			}
		}
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
