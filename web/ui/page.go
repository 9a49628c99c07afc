package ui

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/tenant"
)

// view is what a page's templates read: the request's state, shared by
// the layout, and the page's own Data.
type view struct {
	Title string
	Nav   string // the navigation entry of the page
	Path  string
	Panel string     // the panel asked for alone (?panel=), "" for the page
	query url.Values // the URL's parameters, without panel

	Tenant    string // the tenant the page shows
	Tenants   []string
	AnyTenant bool // the identity may pick any tenant (a grant for *, or sign-in off)
	User      string
	SignOut   bool // a person's session: offer to sign out
	CSRF      string
	Theme     string
	Range     timeRange
	Problems  map[string]string // by parameter: what is wrong with it
	Status    int
	Data      any
	Now       time.Time
}

// fieldError is what is wrong with one URL parameter.
type fieldError struct{ Field, Msg string }

// newView reads the state every page shares from the request.
func (u *UI) newView(w http.ResponseWriter, r *http.Request, title, nav string) *view {
	q := r.URL.Query()
	q.Del("panel")
	v := &view{Title: title, Nav: nav, Path: r.URL.Path, Panel: r.URL.Query().Get("panel"), query: q, Theme: themeOf(r), Problems: map[string]string{}, Status: http.StatusOK, Now: u.opts.Now().UTC()}
	v.Tenant, _ = tenant.FromHTTP(r)
	if id := auth.FromContext(r.Context()); id != nil {
		v.User, v.SignOut = id.Name, id.Kind == auth.KindPerson
		for _, t := range slices.Sorted(maps.Keys(id.Grants)) {
			if t == auth.AllTenants {
				v.AnyTenant = true
			} else {
				v.Tenants = append(v.Tenants, t)
			}
		}
		v.CSRF = auth.CSRFToken(w, r)
	} else {
		v.AnyTenant = true
	}
	if !slices.Contains(v.Tenants, v.Tenant) {
		v.Tenants = append([]string{v.Tenant}, v.Tenants...)
	}
	return v
}

// problem records what is wrong with a parameter, and the page's status.
func (v *view) problem(fe *fieldError, status int) {
	if fe == nil {
		return
	}
	v.Problems[fe.Field] = fe.Msg
	if v.Status == http.StatusOK || status == http.StatusBadRequest {
		v.Status = status
	}
}

// OK reports whether the URL had no problem, so the page reads data.
func (v *view) OK() bool { return len(v.Problems) == 0 }

// timeRange reads the page's range, by default the last hour, recording
// a problem.
func (v *view) timeRange(maxSpan time.Duration) timeRange {
	return v.timeRangeFrom(defaultFrom, maxSpan)
}

// timeRangeFrom reads the page's range, by default from def to now.
func (v *view) timeRangeFrom(def string, maxSpan time.Duration) timeRange {
	tr, fe := parseRange(v.query.Get("from"), v.query.Get("to"), def, v.Now, maxSpan)
	v.problem(fe, http.StatusBadRequest)
	if fe != nil {
		tr.Start, tr.End = v.Now.Add(-time.Hour), v.Now
	}
	v.Range = tr
	return tr
}

// Here is the current page's URL with some parameters replaced (an empty
// value removes one): what a sort header or a quick range links to.
func (v *view) Here(kv ...string) string { return v.link(v.Path, v.query, kv) }

// Link is another page's URL that keeps the tenant and the time range,
// with the parameters kv.
func (v *view) Link(path string, kv ...string) string {
	keep := url.Values{}
	for _, k := range []string{"tenant", "from", "to"} {
		if val := v.query.Get(k); val != "" {
			keep.Set(k, val)
		}
	}
	return v.link(path, keep, kv)
}

func (v *view) link(path string, base url.Values, kv []string) string {
	q := maps.Clone(base)
	if q == nil {
		q = url.Values{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// Param is a URL parameter's value.
func (v *view) Param(name string) string { return v.query.Get(name) }

// Params are a repeated URL parameter's values.
func (v *view) Params(name string) []string { return v.query[name] }

// Absolute is this view with its range made absolute: the link to copy,
// which shows the same data tomorrow.
func (v *view) Absolute() string {
	return v.Here("from", absolute(v.Range.Start), "to", absolute(v.Range.End))
}

// quickRange is one of the time picker's ranges.
type quickRange struct {
	Label, URL string
	Current    bool
}

// QuickRanges are the picker's relative ranges, the current one marked.
func (v *view) QuickRanges() []quickRange {
	ago, rel := v.Range.relative()
	var out []quickRange
	for _, q := range quickRanges {
		out = append(out, quickRange{Label: "Last " + q, URL: v.Here("from", "now-"+q, "to", "now"), Current: rel && ago == q})
	}
	return out
}

// ZoomOut, Earlier and Later are the picker's moves.
func (v *view) ZoomOut() string { f, t := v.Range.zoomOut(); return v.Here("from", f, "to", t) }
func (v *view) Earlier() string { f, t := v.Range.shift(-1); return v.Here("from", f, "to", t) }
func (v *view) Later() string   { f, t := v.Range.shift(1); return v.Here("from", f, "to", t) }

// RangeLabel says what the range is, in words.
func (v *view) RangeLabel() string {
	if ago, ok := v.Range.relative(); ok {
		return "Last " + ago
	}
	return fmt.Sprintf("%s to %s UTC", v.Range.Start.Format("2006-01-02 15:04:05"), v.Range.End.Format("2006-01-02 15:04:05"))
}

// themeCookie remembers the theme a person chose: light, dark or system;
// the sign-in page reads it too.
const themeCookie = auth.ThemeCookie

// themeOf is the theme to render, so the page never flashes the other.
func themeOf(r *http.Request) string {
	if c, err := r.Cookie(themeCookie); err == nil && (c.Value == "light" || c.Value == "dark") {
		return c.Value
	}
	return "system"
}

// contentSecurity lets a page load its own scripts, styles, images and
// fragments, and nothing else: no inline script or style anywhere.
const contentSecurity = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// headers are auth's page headers with a policy that admits the page's
// own static files.
func headers(w http.ResponseWriter) {
	auth.PageHeaders(w)
	w.Header().Set("Content-Security-Policy", contentSecurity)
	w.Header().Set("Vary", "HX-Request")
}

// render answers the page: whole for a browser's GET, #app's content for
// htmx, one panel with ?panel=. A template that fails is a programming
// error: it is logged and answered with 500 before any byte was sent.
func (u *UI) render(w http.ResponseWriter, r *http.Request, page string, v *view) {
	name := "layout"
	switch {
	case r.URL.Query().Get("panel") != "":
		name = "panel-" + r.URL.Query().Get("panel")
	case r.Header.Get("HX-Request") == "true":
		name = "app"
	}
	t := u.pages[page]
	if t.Lookup(name) == nil {
		v.problem(&fieldError{"panel", fmt.Sprintf("this page has no panel %q", r.URL.Query().Get("panel"))}, http.StatusBadRequest)
		name = "layout"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		u.log.Error("cannot render a page", "page", page, "template", name, "err", err)
		http.Error(w, "Vigil cannot render this page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	headers(w)
	w.WriteHeader(v.Status)
	w.Write(buf.Bytes())
}

// sortHeader is a sortable column's header: where it links, and its
// aria-sort.
type sortHeader struct{ URL, Aria string }

// SortBy is the header of column col when the table is sorted by
// current: a click sorts by the column, descending first, and ascending
// when it already is.
func (v *view) SortBy(current, col string) sortHeader {
	switch current {
	case "-" + col:
		return sortHeader{URL: v.Here("sort", col), Aria: "descending"}
	case col:
		return sortHeader{URL: v.Here("sort", "-"+col), Aria: "ascending"}
	}
	return sortHeader{URL: v.Here("sort", "-"+col), Aria: "none"}
}

// param is one URL parameter, for a form's hidden fields.
type param struct{ Name, Value string }

// Keep is every URL parameter but the named ones: the hidden fields that
// carry the rest of the view through a form that changes those.
func (v *view) Keep(except ...string) []param {
	var out []param
	for _, k := range slices.Sorted(maps.Keys(v.query)) {
		if slices.Contains(except, k) {
			continue
		}
		for _, val := range v.query[k] {
			out = append(out, param{k, val})
		}
	}
	return out
}

// navEntry is one page of the navigation.
type navEntry struct{ Key, Label, Path, Shortcut string }

// NavEntries is the navigation: every page, with its keyboard shortcut.
func (v *view) NavEntries() []navEntry {
	return []navEntry{
		{"services", "Services", "/services", "g s"},
		{"traces", "Traces", "/traces", "g t"},
		{"llm", "LLM usage", "/llm", "g l"},
		{"cost", "Cost", "/cost", "g c"},
		{"slos", "SLOs", "/slos", "g o"},
		{"drift", "Drift", "/drift", "g d"},
		{"canaries", "Canaries", "/canaries", "g n"},
		{"recommendations", "Recommendations", "/recommendations", "g r"},
		{"alerts", "Alerts", "/alerts", "g a"},
		{"actions", "Actions", "/actions", "g i"},
		{"settings", "Settings", "/settings", "g ,"},
	}
}

// queryEscape escapes a URL parameter's value.
func queryEscape(s string) string { return url.QueryEscape(s) }

// slicesSortedKeys are a map's keys, sorted: a page lists them in the
// same order every time.
func slicesSortedKeys[K cmp.Ordered, V any](m map[K]V) []K { return slices.Sorted(maps.Keys(m)) }
