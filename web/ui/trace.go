package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// firstRows is how many waterfall rows the page's first answer holds as
// HTML; the island shows every row, windowed.
const firstRows = 200

type traceData struct {
	ID       string
	Found    bool
	W        waterfall
	Rows     []spanRow // the first rows, as HTML
	More     int       // rows the HTML leaves to the island
	Island   waterfallJSON
	Services []string
	Errors   int
	Tokens   int64
	Cost     decimal.Decimal
	Critical []spanRow
	Selected *spanDetail
	Problem  string
	// Logs are the records that name the trace, oldest first: the first
	// traceLogLimit of them, More when there are others.
	Logs        []logRow
	LogsMore    bool
	LogsProblem string
}

// traceLogLimit bounds the logs a trace page shows; the API pages through
// the rest.
const traceLogLimit = 500

// traceLogMargin widens the trace's time range for its logs: a service
// may log about a request a little before its span starts (a queue) or
// after it ends (a flush), and the range lets the store skip the days
// the trace is not in.
const traceLogMargin = 5 * time.Minute

// logRow is one log record of the trace.
type logRow struct {
	Time     time.Time
	Offset   time.Duration // from the trace's start; negative before it
	Severity string        // the range's name, for the class and the text
	Text     string        // as the sender wrote it, when it differs
	Service  string
	Span     string // the span's id when the trace has the span
	Body     string
}

// spanRow is one row of the waterfall as HTML.
type spanRow struct {
	ID, Service, Name string
	Depth             int
	Offset, Duration  time.Duration
	X, Width          float64 // the bar, per mille of the trace
	Error, Critical   bool
	Selected          bool
}

// waterfallJSON is every row for the island, compact: [start µs,
// duration µs, depth, service index, name, flags (1 error, 2 critical),
// span id].
type waterfallJSON struct {
	Total    int64    `json:"total"`
	Services []string `json:"services"`
	Rows     [][]any  `json:"rows"`
	Selected string   `json:"selected"`
}

// trace is a trace's page: its summary, its waterfall (windowed by an
// island, usable at 10,000 spans), the critical path, and the selected
// span's detail (?span=), which ?panel=span answers alone.
func (u *UI) trace(w http.ResponseWriter, r *http.Request) {
	d := &traceData{ID: r.PathValue("id")}
	v := u.newView(w, r, "Trace "+d.ID, "traces")
	v.Data = d
	id, err := store.ParseTraceID(d.ID)
	if err != nil || id.IsZero() {
		v.problem(&fieldError{"id", fmt.Sprintf("%q is not a trace id: want up to 32 hex digits.", d.ID)}, http.StatusBadRequest)
		u.render(w, r, "trace", v)
		return
	}
	var spans []store.Span
	rs := u.reads(r)
	rs.do(&d.Problem, "The trace", func(ctx context.Context) (err error) {
		spans, err = u.opts.Store.Trace(ctx, v.Tenant, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	rs.wait()
	if len(spans) == 0 && d.Problem == "" {
		v.problem(&fieldError{"id", fmt.Sprintf("There is no trace %s in tenant %s (it may have been dropped by retention).", id, v.Tenant)}, http.StatusNotFound)
	}
	if len(spans) > 0 {
		d.Found = true
		wf := layout(spans)
		d.fill(v, wf)
		// The logs read once the trace's range is known, which lets the
		// store prune by time; the selected span's panel shows its own.
		rs := u.reads(r)
		rs.do(&d.LogsProblem, "The trace's logs", func(ctx context.Context) error {
			return d.readLogs(ctx, u.opts.Store, v.Tenant, id, wf)
		})
		rs.wait()
	}
	u.render(w, r, "trace", v)
}

// readLogs reads the records that name the trace, at most
// traceLogLimit, and keeps them oldest first.
func (d *traceData) readLogs(ctx context.Context, st store.LogReader, tenant string, id store.TraceID, wf waterfall) error {
	q := store.LogQuery{Tenant: tenant, TraceID: id, Limit: traceLogLimit + 1,
		Start: time.Unix(0, wf.Start).Add(-traceLogMargin), End: time.Unix(0, wf.Start+wf.Total).Add(traceLogMargin)}
	recs, err := st.Logs(ctx, q)
	if err != nil {
		return err
	}
	if len(recs) > traceLogLimit {
		recs, d.LogsMore = recs[:traceLogLimit], true
	}
	spans := make(map[store.SpanID]bool, len(wf.Spans))
	for _, s := range wf.Spans {
		spans[s.SpanID] = true
	}
	d.Logs = make([]logRow, 0, len(recs))
	for i := len(recs) - 1; i >= 0; i-- {
		rec := &recs[i]
		row := logRow{Time: rec.Time(), Offset: time.Duration(rec.TimeUnixNano - wf.Start), Severity: rec.Severity.String(),
			Service: rec.Service, Body: rec.Body}
		if !strings.EqualFold(rec.SeverityText, row.Severity) {
			row.Text = rec.SeverityText
		}
		if spans[rec.SpanID] {
			row.Span = rec.SpanID.String()
		}
		d.Logs = append(d.Logs, row)
		if d.Selected != nil && row.Span == d.Selected.ID {
			own := row // in the span's detail, from the span's start, as its events
			own.Offset = time.Duration(rec.TimeUnixNano - d.Selected.Span.StartUnixNano)
			d.Selected.Logs = append(d.Selected.Logs, own)
		}
	}
	return nil
}

func (d *traceData) fill(v *view, wf waterfall) {
	d.W = wf
	selected := v.query.Get("span")
	d.Island = waterfallJSON{Total: wf.Total / 1000, Selected: selected, Rows: make([][]any, 0, len(wf.Spans))}
	svcIndex := map[string]int{}
	for i, s := range wf.Spans {
		if _, ok := svcIndex[s.Service]; !ok {
			svcIndex[s.Service] = len(d.Island.Services)
			d.Island.Services = append(d.Island.Services, s.Service)
		}
		row := wf.row(i, selected)
		flags := 0
		if row.Error {
			flags, d.Errors = 1, d.Errors+1
		}
		if row.Critical {
			flags |= 2
			d.Critical = append(d.Critical, row)
		}
		d.Island.Rows = append(d.Island.Rows, []any{(s.StartUnixNano - wf.Start) / 1000, s.DurationNano / 1000, wf.Depth[i], svcIndex[s.Service], s.Operation, flags, row.ID})
		if i < firstRows {
			d.Rows = append(d.Rows, row)
		}
		d.Tokens += s.InputTokens + s.OutputTokens
		d.Cost = d.Cost.Add(s.Cost)
		if row.Selected {
			d.Selected = newSpanDetail(s, wf.Start)
		}
	}
	d.More = len(wf.Spans) - len(d.Rows)
	d.Services = slices.Clone(d.Island.Services)
	slices.Sort(d.Services)
	if selected != "" && d.Selected == nil {
		v.problem(&fieldError{"span", fmt.Sprintf("The trace has no span %q.", selected)}, http.StatusNotFound)
	}
}

func (wf waterfall) row(i int, selected string) spanRow {
	s := wf.Spans[i]
	total := float64(max(wf.Total, 1))
	r := spanRow{ID: s.SpanID.String(), Service: s.Service, Name: s.Operation, Depth: wf.Depth[i],
		Offset: time.Duration(s.StartUnixNano - wf.Start), Duration: time.Duration(s.DurationNano),
		Error: s.StatusCode == store.StatusError, Critical: wf.Critical[i]}
	r.X = 1000 * float64(s.StartUnixNano-wf.Start) / total
	r.Width = max(1000*float64(s.DurationNano)/total, 2)
	r.Selected = r.ID == selected
	return r
}

// spanDetail is the selected span, with its GenAI messages apart.
type spanDetail struct {
	Span               store.Span
	ID, Parent         string
	Offset             time.Duration
	Attributes         store.Attributes
	Prompt, Completion store.Attributes
	Events             []eventView
	Logs               []logRow // the records that name the span
}

type eventView struct {
	Offset     time.Duration
	Name       string
	Attributes store.Attributes
}

// genAIPrompt and genAICompletion are the attribute prefixes and event
// names under which the GenAI conventions (old and new) record what went
// into a model call and what came out.
var (
	genAIPrompt     = []string{"gen_ai.prompt", "gen_ai.input.messages", "gen_ai.system_instructions", "gen_ai.system.message", "gen_ai.user.message", "gen_ai.tool.message", "gen_ai.assistant.message"}
	genAICompletion = []string{"gen_ai.completion", "gen_ai.output.messages", "gen_ai.choice"}
)

func hasAnyPrefix(s string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(s, p) })
}

func newSpanDetail(s store.Span, traceStart int64) *spanDetail {
	d := &spanDetail{Span: s, ID: s.SpanID.String(), Offset: time.Duration(s.StartUnixNano - traceStart)}
	if !s.ParentSpanID.IsZero() {
		d.Parent = s.ParentSpanID.String()
	}
	for _, a := range s.Attributes {
		switch {
		case hasAnyPrefix(a.Key, genAIPrompt):
			d.Prompt = append(d.Prompt, a)
		case hasAnyPrefix(a.Key, genAICompletion):
			d.Completion = append(d.Completion, a)
		default:
			d.Attributes = append(d.Attributes, a)
		}
	}
	for _, e := range s.Events {
		ev := eventView{Offset: time.Duration(e.TimeUnixNano - s.StartUnixNano), Name: e.Name, Attributes: e.Attributes}
		switch {
		case hasAnyPrefix(e.Name, genAIPrompt):
			d.Prompt = append(d.Prompt, e.Attributes...)
		case hasAnyPrefix(e.Name, genAICompletion):
			d.Completion = append(d.Completion, e.Attributes...)
		default:
			d.Events = append(d.Events, ev)
		}
	}
	return d
}
