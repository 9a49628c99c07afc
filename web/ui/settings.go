package ui

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/store"
)

// grantRow is one tenant and the role held in it.
type grantRow struct{ Tenant, Role string }

// tokenRow is an API token as an admin sees it: never its secret, nor
// its hash.
type tokenRow struct {
	ID, Name, Tenant, Role, CreatedBy, State string
	Created, Expires, LastUsed               time.Time
}

type settingsData struct {
	Who          string
	Kind         string
	Grants       []grantRow
	SignInOff    bool
	Config       *config.Status
	Build        Build
	Tokens       []tokenRow
	TokensShown  bool // the identity is an admin somewhere
	TokenProblem string
}

// settingsPage is who I am and my roles in each tenant, the config
// directory's problems from its last reading, the API tokens of the
// tenants I administer, the build, and where the API is described.
func (u *UI) settingsPage(w http.ResponseWriter, r *http.Request) {
	v := u.newView(w, r, "Settings and status", "settings")
	d := &settingsData{Build: u.opts.Build}
	v.Data = d
	id := auth.FromContext(r.Context())
	if id == nil {
		d.SignInOff, d.Who, d.TokensShown = true, "anyone (sign-in is off)", true
	} else {
		d.Who, d.Kind = id.Subject(), string(id.Kind)
		for _, t := range slicesSortedKeys(id.Grants) {
			d.Grants = append(d.Grants, grantRow{Tenant: t, Role: id.Grants[t].String()})
			d.TokensShown = d.TokensShown || id.Grants[t] == auth.Admin
		}
	}
	if u.opts.ConfigStatus != nil {
		st := u.opts.ConfigStatus()
		d.Config = &st
	}
	if d.TokensShown {
		rs := u.reads(r)
		rs.do(&d.TokenProblem, "The API tokens", func(ctx context.Context) error {
			toks, err := u.opts.Store.Tokens(ctx)
			for _, t := range toks {
				if id != nil && !adminOf(id, t.Tenant) {
					continue
				}
				d.Tokens = append(d.Tokens, tokenRow{ID: t.ID, Name: t.Name, Tenant: t.Tenant, Role: t.Role, CreatedBy: t.CreatedBy,
					Created: t.Created, Expires: t.Expires, LastUsed: t.LastUsed, State: tokenState(t, v.Now)})
			}
			return err
		})
		rs.wait()
		slices.SortStableFunc(d.Tokens, func(a, b tokenRow) int { return b.Created.Compare(a.Created) })
	}
	u.render(w, r, "settings", v)
}

// adminOf: a token of tenant t is listed to an admin of t; a token of
// every tenant only to an admin of every tenant.
func adminOf(id *auth.Identity, t string) bool {
	if t == auth.AllTenants {
		return id.Grants[auth.AllTenants] == auth.Admin
	}
	return id.Grants.Allows(t, auth.Admin)
}

func tokenState(t store.APIToken, now time.Time) string {
	switch {
	case !t.Revoked.IsZero():
		return "revoked"
	case !t.Expires.IsZero() && !now.Before(t.Expires):
		return "expired"
	}
	return "active"
}
