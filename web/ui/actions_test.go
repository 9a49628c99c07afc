package ui

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store"
)

// asOperator makes a request come from a signed-in operator of the
// default tenant.
func asOperator(r *http.Request) *http.Request {
	id := &auth.Identity{Kind: auth.KindPerson, Name: "grace", Grants: auth.Grants{store.DefaultTenant: auth.Operator}, Session: "s"}
	return r.WithContext(auth.NewContext(r.Context(), id))
}

// TestDecide approves and rejects actions through the pages' forms, as
// an operator's browser posts them: the CSRF token, a reason, the
// confirmation and the version are required; a stale version is a
// conflict; the decision is the engine's, recorded with its actor and
// reason.
func TestDecide(t *testing.T) {
	st := fixtureStore(t)
	u := fixtureUIOf(t, st)
	h := Browser(muxOf(u))
	post := func(path string, form url.Values, cookie bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r = asOperator(r)
		if !cookie {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}
		return serve(h, r)
	}
	form := func(kv ...string) url.Values {
		f := url.Values{"csrf": {csrfToken}, "version": {"1"}, "key": {"k1"}, "confirm": {"yes"}, "reason": {"the rollback restores the budget"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				f.Del(kv[i])
			} else {
				f.Set(kv[i], kv[i+1])
			}
		}
		return f
	}
	for _, tc := range []struct {
		name, path string
		form       url.Values
		cookie     bool
		status     int
		says       string
	}{
		{"no csrf cookie", "/actions/act-rollback/approve", form(), false, 403, "The form expired"},
		{"no reason", "/actions/act-rollback/approve", form("reason", " "), true, 400, "Say why"},
		{"not confirmed", "/actions/act-rollback/approve", form("confirm", ""), true, 400, "Tick the box"},
		{"stale version", "/actions/act-rollback/approve", form("version", "7"), true, 409, "changed since this page showed it"},
		{"unknown verb", "/actions/act-rollback/promote", form(), true, 400, "is not a decision this page makes"},
		{"dry-run", "/actions/act-scale/approve", form(), true, 409, "dry-run"},
		{"unknown action", "/actions/nope/approve", form(), true, 404, "no action nope"},
	} {
		w := post(tc.path, tc.form, tc.cookie)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.says) {
			t.Errorf("%s: %d, want %d saying %q\n%.3000s", tc.name, w.Code, tc.status, tc.says, w.Body)
		}
	}
	ctx := context.Background()
	if a, _ := u.opts.Actions.Get(ctx, store.DefaultTenant, "act-rollback"); a.State != actions.Proposed {
		t.Fatalf("a refused form changed the action: %s", a.State)
	}
	w := post("/actions/act-rollback/approve?tenant=default", form(), true)
	if w.Code != 303 || w.Header().Get("Location") != "/actions/act-rollback?decided=approve&tenant=default" {
		t.Fatalf("approve: %d %v\n%.2000s", w.Code, w.Header(), w.Body)
	}
	// The same form again (a double click) decides once.
	if w := post("/actions/act-rollback/approve", form(), true); w.Code != 303 {
		t.Errorf("the same form again: %d", w.Code)
	}
	a, err := u.opts.Actions.Get(ctx, store.DefaultTenant, "act-rollback")
	if err != nil {
		t.Fatal(err)
	}
	last := a.Timeline[len(a.Timeline)-1]
	if a.State != actions.Approved || len(a.Timeline) != 2 || last.Actor != "person:grace" || last.Reason != "the rollback restores the budget" || last.Decision != actions.VerbApprove {
		t.Errorf("after approving: %s, %d steps, last %+v", a.State, len(a.Timeline), last.Transition)
	}
	// Rejecting the approved action, on its new version.
	if w := post("/actions/act-rollback/reject", form("version", "2", "key", "k2", "reason", "the provider recovered"), true); w.Code != 303 {
		t.Errorf("reject: %d\n%.2000s", w.Code, w.Body)
	}
	if a, _ := u.opts.Actions.Get(ctx, store.DefaultTenant, "act-rollback"); a.State != actions.Rejected {
		t.Errorf("after rejecting: %s", a.State)
	}
	// The page after: the decision is said, the forms are gone.
	r := asOperator(httptest.NewRequest("GET", "/actions/act-rollback?decided=reject", nil))
	body := serve(h, r).Body.String()
	if !strings.Contains(body, "you rejected this action") || strings.Contains(body, `name="reason"`) {
		t.Errorf("the page after rejecting:\n%s", body)
	}
}

// TestDecideNeedsOperator: the route table asks operator of a decision,
// as POST /api/v1/actions/{id}/approve does, and a viewer's page offers
// no form.
func TestDecideNeedsOperator(t *testing.T) {
	u := fixtureUIOf(t, fixtureStore(t))
	found := false
	for _, rt := range u.Routes() {
		if rt.Method == "POST" && strings.HasPrefix(rt.Pattern, "/actions/") {
			found = true
			if rt.Role != auth.Operator {
				t.Errorf("%s %s needs %v, want operator", rt.Method, rt.Pattern, rt.Role)
			}
		}
		if rt.Method != "GET" && rt.Role < auth.Editor {
			t.Errorf("%s %s changes something with role %v", rt.Method, rt.Pattern, rt.Role)
		}
	}
	if !found {
		t.Fatal("no decision route")
	}
	body := serve(Browser(muxOf(u)), asPerson(httptest.NewRequest("GET", "/actions/act-rollback", nil))).Body.String()
	if strings.Contains(body, `name="reason"`) || !strings.Contains(body, "needs the operator role") {
		t.Errorf("an editor's page of a proposal offers a decision")
	}
}

// TestCostCSV downloads the allocation drilled into one provider: the
// rows the page shows, as CSV, with the totals they add up to.
func TestCostCSV(t *testing.T) {
	h := fixtureUI(t, fixtureStore(t))
	w := serve(h, httptest.NewRequest("GET", "/cost?by=service&f=provider%3AAWS&from=now-7d&format=csv&table=allocation", nil))
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(w.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	rows, err := csv.NewReader(w.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// The six whole days of AWS's lines that start in the range: EC2 in
	// two regions (41.20 + 28.10 a day) and S3 (6.75), effective at 0.9,
	// list at 1.1; EC2's share is 374.22 of 410.67.
	want := [][]string{
		{"service", "currency", "billed_cost", "effective_cost", "list_cost", "lines", "share_percent"},
		{"Amazon EC2", "USD", "415.8", "374.22", "457.38", "12", "91.12"},
		{"Amazon S3", "USD", "40.5", "36.45", "44.55", "6", "8.88"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("CSV:\n%v\nwant\n%v", rows, want)
	}
	w = serve(h, httptest.NewRequest("GET", "/cost?format=pdf", nil))
	if w.Code != 400 || !strings.Contains(w.Body.String(), "download with format=csv") {
		t.Errorf("format=pdf: %d", w.Code)
	}
	w = serve(h, httptest.NewRequest("GET", "/actions/audit?format=csv&from=now-1d", nil))
	audit, err := csv.NewReader(w.Body).ReadAll()
	if err != nil || len(audit) < 2 {
		t.Fatalf("audit CSV: %v %v", audit, err)
	}
	for _, row := range audit {
		if strings.HasPrefix(row[10], "=") {
			t.Errorf("a reason starting with = is a formula in a spreadsheet: %q", row[10])
		}
	}
}
