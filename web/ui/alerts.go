package ui

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

type alertsData struct {
	Firing, Resolved []alertView
	Silences         []slo.Silence
	Deliveries       []deliveryView
	State            string
	CanSilence       bool
	Created          string // the id of the silence just created
	Form             silenceForm
	FormProblems     map[string]string // the posted silence form's, by field
	Problem          string
	SilencesProblem  string
	DeliveryProblem  string
}

// alertView is an alert with what the page offers for it.
type alertView struct {
	alertRow
	Matchers   string // the silence form's pre-filled matchers
	SilencedBy string // the silence in force that mutes it
}

type deliveryView struct {
	At       time.Time
	Delivery dispatch.Delivery
}

// silenceForm is what the silence form was posted with, when it must be
// shown again with a problem.
type silenceForm struct {
	Fingerprint, Matchers, Duration, Comment string
}

// alertStates are the state filter's choices.
var alertStates = []string{"", "firing", "pending", "resolved"}

// alertsDefaultFrom: alerts that resolved in the last hour would hide
// last night's incident; a day is what an on-call hand-over looks at.
const alertsDefaultFrom = "now-24h"

// silenceDurations are the form's choices.
var silenceDurations = []string{"1h", "2h", "4h", "8h", "1d", "3d", "7d"}

// alerts is the alerts page: firing and pending alerts (the latest state
// of each over the last week), those resolved in the range, the silences
// in force, a form to silence an alert with its labels as matchers, and
// (lazily, ?panel=deliveries) the delivery log of the range.
func (u *UI) alerts(w http.ResponseWriter, r *http.Request) {
	v, _ := u.alertsView(w, r)
	u.render(w, r, "alerts", v)
}

func (u *UI) alertsView(w http.ResponseWriter, r *http.Request) (*view, *alertsData) {
	v := u.newView(w, r, "Alerts", "alerts")
	tr := v.timeRangeFrom(alertsDefaultFrom, maxSLORange)
	d := &alertsData{State: v.query.Get("state"), Created: v.query.Get("silenced"), Form: silenceForm{Duration: "2h"}}
	id := auth.FromContext(r.Context())
	d.CanSilence = id == nil || id.Grants.Allows(v.Tenant, auth.Editor)
	v.Data = d
	if !slices.Contains(alertStates, d.State) {
		v.problem(&fieldError{"state", "state is firing, pending, resolved, or empty for all"}, http.StatusBadRequest)
	}
	if !v.OK() {
		return v, d
	}
	if v.Panel == "deliveries" {
		u.loadDeliveries(r, v, d, tr)
	} else {
		u.loadAlerts(r, v, d, tr)
	}
	return v, d
}

func (u *UI) loadAlerts(r *http.Request, v *view, d *alertsData, tr timeRange) {
	var rows []alertRow
	rs := u.reads(r)
	rs.do(&d.Problem, "The alerts", func(ctx context.Context) (err error) {
		from := v.Now.Add(-alertLookback)
		if tr.Start.Before(from) {
			from = tr.Start
		}
		rows, err = u.latestAlerts(ctx, v.Tenant, from, v.Now.Add(time.Second), nil)
		return err
	})
	rs.do(&d.SilencesProblem, "The silences", func(ctx context.Context) (err error) {
		d.Silences, err = slo.ActiveSilences(ctx, u.opts.Store, v.Tenant, v.Now)
		return err
	})
	rs.wait()
	for _, a := range rows {
		av := alertView{alertRow: a, Matchers: matchersText(a.Labels)}
		for _, s := range d.Silences {
			if s.Matches(a.Labels) {
				av.SilencedBy = s.ID
			}
		}
		switch {
		case d.State != "" && string(a.State) != d.State:
		case a.State == slo.StateResolved:
			if !a.Since.Before(tr.Start) && a.Since.Before(tr.End) {
				d.Resolved = append(d.Resolved, av)
			}
		default:
			d.Firing = append(d.Firing, av)
		}
	}
}

func (u *UI) loadDeliveries(r *http.Request, v *view, d *alertsData, tr timeRange) {
	rs := u.reads(r)
	rs.do(&d.DeliveryProblem, "The delivery log", func(ctx context.Context) error {
		recs, err := dispatch.Deliveries.Read(ctx, u.opts.Store, store.EventQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, Limit: 200})
		for _, rec := range recs {
			d.Deliveries = append(d.Deliveries, deliveryView{At: rec.Event.Time, Delivery: rec.Value})
		}
		return err
	})
	rs.wait()
}

// matchersText writes labels one key=value a line, sorted.
func matchersText(labels map[string]string) string {
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		lines = append(lines, k+"="+labels[k])
	}
	return strings.Join(lines, "\n")
}

// maxSilenceForm bounds the silence form's body.
const maxSilenceForm = 64 << 10

// createSilence takes the silence form: matchers (key=value a line), a
// duration and a comment. The form carries the CSRF token of its page,
// checked against the cookie (double submit); on success the browser is
// sent back to the alerts page, which shows the silence.
func (u *UI) createSilence(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSilenceForm)
	formErr := r.ParseForm()
	if !csrfSent(w, r, formErr) {
		u.silenceProblem(w, r, "csrf", "The form expired: reload the page and try again.", http.StatusForbidden)
		return
	}
	form := silenceForm{Fingerprint: r.PostFormValue("fingerprint"), Matchers: r.PostFormValue("matchers"), Duration: r.PostFormValue("duration"), Comment: strings.TrimSpace(r.PostFormValue("comment"))}
	s, field, err := u.saveSilence(r, form)
	if err != nil {
		u.silenceProblem(w, r, field, err.Error(), http.StatusBadRequest, form)
		return
	}
	q := url.Values{"silenced": {s.ID}}
	if t := r.URL.Query().Get("tenant"); t != "" {
		q.Set("tenant", t)
	}
	http.Redirect(w, r, "/alerts?"+q.Encode(), http.StatusSeeOther)
}

// saveSilence checks the form and records the silence; a problem names
// the form's field.
func (u *UI) saveSilence(r *http.Request, f silenceForm) (slo.Silence, string, error) {
	matchers := map[string]string{}
	for _, line := range strings.Split(f.Matchers, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, val, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return slo.Silence{}, "matchers", fmt.Errorf("%q is not label=value", line)
		}
		matchers[strings.TrimSpace(k)] = strings.TrimSpace(val)
	}
	d, err := parseSpan(f.Duration)
	if err != nil {
		return slo.Silence{}, "duration", fmt.Errorf("the duration is one of %s", strings.Join(silenceDurations, ", "))
	}
	if f.Comment == "" {
		return slo.Silence{}, "comment", errors.New("say why the alert is silenced: the comment is what the next person on call reads")
	}
	t := tenantOf(r)
	by := "anonymous"
	if id := auth.FromContext(r.Context()); id != nil {
		by = id.Subject()
	}
	now := u.opts.Now()
	s, err := slo.SaveSilence(r.Context(), u.opts.Store, slo.Silence{Tenant: t, Matchers: matchers, StartsAt: now, EndsAt: now.Add(d), CreatedBy: by, Comment: f.Comment})
	var invalid *slo.InvalidSilenceError
	if errors.As(err, &invalid) {
		return s, "matchers", err
	}
	if err != nil {
		return s, "save", fmt.Errorf("Vigil could not record the silence: %v", err)
	}
	return s, "", nil
}

// csrfSent checks the form's CSRF token against its cookie (double
// submit), as the guard does for a session; here too, so that a page
// served with sign-in off still refuses a form another site posts.
func csrfSent(w http.ResponseWriter, r *http.Request, formErr error) bool {
	sent := r.PostFormValue("csrf")
	return formErr == nil && sent != "" && subtle.ConstantTimeCompare([]byte(auth.CSRFToken(w, r)), []byte(sent)) == 1
}

// tenantOf is the tenant the request acts in.
func tenantOf(r *http.Request) string {
	t, _ := tenant.FromHTTP(r)
	return t
}

// silenceProblem shows the alerts page again with the form's problem.
func (u *UI) silenceProblem(w http.ResponseWriter, r *http.Request, field, msg string, status int, form ...silenceForm) {
	get := r.Clone(r.Context())
	get.Method = http.MethodGet
	v, d := u.alertsView(w, get)
	if len(form) > 0 {
		d.Form = form[0]
	}
	d.FormProblems = map[string]string{field: msg}
	v.Status = status
	u.render(w, get, "alerts", v)
}
