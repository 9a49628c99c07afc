package web

import (
	_ "embed"
	"html/template"
	"maps"
	"net/http"
	"slices"

	"github.com/vigil-dev/vigil/auth"
)

//go:embed home.html
var homeHTML string

var homePage = template.Must(template.New("home").Parse(homeHTML))

type homeView struct {
	Off    bool
	Who    string
	Kind   auth.Kind
	Grants []grantView
	CSRF   string
}

type grantView struct{ Tenant, Role string }

// home says who is signed in, with which roles: a stand-in until the web
// UI replaces it. Signed out, it sends a browser to /login.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	id := auth.FromContext(r.Context())
	v := homeView{Off: !s.opts.Guard.Enabled()}
	switch {
	case id == nil && !v.Off:
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	case id != nil:
		v.Who, v.Kind, v.CSRF = id.Name, id.Kind, auth.CSRFToken(w, r)
		for _, t := range slices.Sorted(maps.Keys(id.Grants)) {
			name := t
			if t == auth.AllTenants {
				name = "every tenant"
			}
			v.Grants = append(v.Grants, grantView{Tenant: name, Role: id.Grants[t].String()})
		}
	}
	auth.PageHeaders(w)
	homePage.Execute(w, v)
}
