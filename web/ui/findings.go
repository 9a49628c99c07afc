package ui

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/store"
)

// canaryRun is one canary analysis and when it was recorded.
type canaryRun struct {
	At time.Time
	canary.Analysis
}

// canaryGroup is one canary (a service's canary against its baseline):
// its newest analysis in full and its verdicts over the range.
type canaryGroup struct {
	Subject string
	Latest  canaryRun
	Runs    []canaryRun // oldest first
	Failed  int
}

type canariesData struct {
	Groups  []canaryGroup
	Problem string
}

// canariesPage shows every canary judged in the range: baseline against
// canary per metric with the test, statistic, p-value, effect and
// verdict of its newest analysis, and its verdicts over time as Argo
// Rollouts draws analysis runs, a dot each.
func (u *UI) canariesPage(w http.ResponseWriter, r *http.Request) {
	v := u.newView(w, r, "Canaries", "canaries")
	tr := v.timeRangeFrom("now-24h", maxDriftRange)
	d := &canariesData{}
	v.Data = d
	if !v.OK() {
		u.render(w, r, "canaries", v)
		return
	}
	var recs []store.Decoded[canary.Analysis]
	rs := u.reads(r)
	rs.do(&d.Problem, "The canary analyses", func(ctx context.Context) (err error) {
		recs, err = canary.Analyses.Read(ctx, u.opts.Store, store.EventQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, Limit: 2000})
		return err
	})
	rs.wait()
	groups := map[string]*canaryGroup{}
	for _, rec := range recs { // newest first
		a := rec.Value
		subject := a.Spec.Service + "/" + a.Spec.Canary
		if a.Monitor != "" {
			subject = a.Monitor + " (" + subject + ")"
		}
		g := groups[subject]
		if g == nil {
			g = &canaryGroup{Subject: subject, Latest: canaryRun{At: rec.Event.Time, Analysis: a}}
			groups[subject] = g
		}
		g.Runs = append(g.Runs, canaryRun{At: rec.Event.Time, Analysis: a})
		if a.Verdict == canary.VerdictFail {
			g.Failed++
		}
	}
	for _, k := range slicesSortedKeys(groups) {
		g := groups[k]
		slices.Reverse(g.Runs)
		d.Groups = append(d.Groups, *g)
	}
	// Failing canaries first.
	slices.SortStableFunc(d.Groups, func(a, b canaryGroup) int {
		return boolRank(a.Latest.Verdict != canary.VerdictFail) - boolRank(b.Latest.Verdict != canary.VerdictFail)
	})
	u.render(w, r, "canaries", v)
}

// adviceRow is a workload's newest advice, with its patch.
type adviceRow struct {
	At time.Time
	rightsize.Advice
	Patch   string // a strategic-merge patch (resources) or a kubectl command (replicas)
	Saving  string
	Subject string
}

type recommendationsData struct {
	Rows    []adviceRow
	Problem string
}

// recommendationsPage shows each workload's newest right-sizing and
// replica advice in the range, with its evidence (usage percentiles,
// current against recommended, the monthly saving) and the patch to
// apply it.
func (u *UI) recommendationsPage(w http.ResponseWriter, r *http.Request) {
	v := u.newView(w, r, "Recommendations", "recommendations")
	tr := v.timeRangeFrom("now-7d", maxDriftRange)
	d := &recommendationsData{}
	v.Data = d
	if !v.OK() {
		u.render(w, r, "recommendations", v)
		return
	}
	var recs []store.Decoded[rightsize.Advice]
	rs := u.reads(r)
	rs.do(&d.Problem, "The recommendations", func(ctx context.Context) (err error) {
		recs, err = rightsize.Advices.Read(ctx, u.opts.Store, store.EventQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, Limit: 2000})
		return err
	})
	rs.wait()
	seen := map[string]bool{}
	for _, rec := range recs { // newest first
		a := rec.Value
		if seen[a.Subject()] {
			continue
		}
		seen[a.Subject()] = true
		row := adviceRow{At: rec.Event.Time, Advice: a, Subject: a.Subject()}
		if a.Replicas != nil {
			row.Patch = fmt.Sprintf("kubectl scale %s/%s -n %s --replicas=%d", strings.ToLower(cmpOr(a.Kind, "deployment")), a.Workload, cmpOr(a.Namespace, "default"), a.Replicas.Recommended)
		}
		if len(a.Resources) > 0 {
			var buf bytes.Buffer
			if err := rightsize.WritePatches(&buf, a.Resources); err != nil {
				row.Patch = "the patch could not be written: " + err.Error()
			} else {
				row.Patch = strings.TrimSpace(buf.String())
			}
			var saving float64
			for _, rc := range a.Resources {
				f, _ := rc.MonthlySaving.Float64()
				saving += f
			}
			row.Saving = fmt.Sprintf("$%.2f", saving)
		}
		d.Rows = append(d.Rows, row)
	}
	u.render(w, r, "recommendations", v)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
