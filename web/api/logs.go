package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// LogReader is what GET /api/v1/logs needs of the store.
type LogReader interface {
	Logs(ctx context.Context, q store.LogQuery) ([]store.LogRecord, error)
}

// maxLogsPage bounds one page of logs.
const maxLogsPage = 1000

// defaultLogWindow is how far back a search without from looks (one
// with a trace id looks everywhere: a trace's logs are few).
const defaultLogWindow = 24 * time.Hour

// logRecord is a log record as the API answers it.
type logRecord struct {
	Time           time.Time         `json:"time"`
	ObservedTime   time.Time         `json:"observed_time"`
	Service        string            `json:"service"`
	Severity       string            `json:"severity"`
	SeverityNumber int               `json:"severity_number"`
	SeverityText   string            `json:"severity_text,omitempty"`
	Body           string            `json:"body"`
	TraceID        string            `json:"trace_id,omitempty"`
	SpanID         string            `json:"span_id,omitempty"`
	Scope          string            `json:"scope,omitempty"`
	Resource       map[string]string `json:"resource,omitempty"`
	Attributes     map[string]string `json:"attributes,omitempty"`
}

type logsPage struct {
	Logs          []logRecord `json:"logs"`
	NextPageToken string      `json:"next_page_token,omitempty"`
}

// logs answers GET /api/v1/logs: the tenant's log records matching
// service, severity (that level and above), q (every word in the body),
// attr (key=value, repeated), trace_id, from and to, newest first, limit
// at a time; next_page_token continues where a page ended.
func (a *API) logs(r *http.Request, org string) (any, error) {
	q, err := a.logQuery(r, org)
	if err != nil {
		return nil, err
	}
	recs, err := a.Store.Logs(r.Context(), q)
	if err != nil {
		if q.Text != "" && len(store.Tokens(q.Text)) == 0 {
			return nil, badRequest("q %q: search for at least one word (letters or digits)", q.Text)
		}
		return nil, err
	}
	page := logsPage{Logs: make([]logRecord, len(recs))}
	for i := range recs {
		page.Logs[i] = apiLog(&recs[i])
	}
	if len(recs) == q.Limit {
		last := recs[len(recs)-1]
		page.NextPageToken = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d %d", last.TimeUnixNano, last.ID))
	}
	return page, nil
}

func (a *API) logQuery(r *http.Request, org string) (store.LogQuery, error) {
	p := r.URL.Query()
	q := store.LogQuery{Tenant: org, Service: p.Get("service"), Text: p.Get("q"), Limit: store.DefaultLogLimit}
	if s := p.Get("severity"); s != "" {
		sev, ok := store.ParseSeverity(s)
		if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= 24 {
			sev, ok = store.Severity(n), true
		}
		if !ok {
			return q, badRequest("severity %q: want trace, debug, info, warn, error or fatal, or a number from 1 to 24", s)
		}
		q.MinSeverity = sev
	}
	if s := p.Get("trace_id"); s != "" {
		id, err := store.ParseTraceID(s)
		if err != nil {
			return q, badRequest("trace_id: %v", err)
		}
		q.TraceID = id
	}
	for _, kv := range p["attr"] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return q, badRequest("attr %q: want key=value", kv)
		}
		if q.Attributes == nil {
			q.Attributes = map[string]string{}
		}
		q.Attributes[k] = v
	}
	var err error
	if s := p.Get("to"); s != "" {
		if q.End, err = apiTime(s, "to"); err != nil {
			return q, err
		}
	}
	if s := p.Get("from"); s != "" {
		if q.Start, err = apiTime(s, "from"); err != nil {
			return q, err
		}
	} else if q.TraceID.IsZero() {
		end := q.End
		if end.IsZero() {
			end = a.now()
		}
		q.Start = end.Add(-defaultLogWindow)
	}
	if !q.Start.IsZero() && !q.End.IsZero() && !q.Start.Before(q.End) {
		return q, badRequest("from %s is not before to %s", q.Start.Format(time.RFC3339), q.End.Format(time.RFC3339))
	}
	if s := p.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 || q.Limit > maxLogsPage {
			return q, badRequest("limit %q: want a whole number from 1 to %d", s, maxLogsPage)
		}
	}
	if tok := p.Get("page_token"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		var c store.LogCursor
		if _, serr := fmt.Sscanf(string(raw), "%d %d", &c.TimeUnixNano, &c.ID); err != nil || serr != nil || c.ID > store.MaxLogID {
			return q, badRequest("page_token %q is not one this API gave", tok)
		}
		q.After = &c
	}
	return q, nil
}

func apiLog(r *store.LogRecord) logRecord {
	out := logRecord{
		Time: r.Time(), ObservedTime: time.Unix(0, r.ObservedUnixNano).UTC(), Service: r.Service,
		Severity: r.Severity.String(), SeverityNumber: int(r.Severity), SeverityText: r.SeverityText, Body: r.Body,
		Scope: r.ScopeName, Resource: attrMap(r.Resource), Attributes: attrMap(r.Attributes),
	}
	if !r.TraceID.IsZero() {
		out.TraceID = r.TraceID.String()
	}
	if !r.SpanID.IsZero() {
		out.SpanID = r.SpanID.String()
	}
	return out
}

func attrMap(a store.Attributes) map[string]string {
	if len(a) == 0 {
		return nil
	}
	m := make(map[string]string, len(a))
	for _, kv := range a {
		m[kv.Key] = kv.Value
	}
	return m
}
