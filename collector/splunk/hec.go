// Package splunk receives logs as Splunk's HTTP Event Collector does:
// /services/collector/event (JSON events, one after another) and
// /services/collector/raw (one event per line), answered with HEC's codes,
// so Fluent Bit's splunk output, the OpenTelemetry collector's splunk_hec
// exporter, Vector and Splunk's logging libraries send to Vigil
// unchanged. A HEC token is a Vigil API token with the ingest role: its
// tenant is where the events go (the guard reads it from
// "Authorization: Splunk <token>", see collector.ShipperCredentials).
package splunk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

// HEC's answer codes, as Splunk documents them.
const (
	codeSuccess       = 0
	codeNoData        = 5
	codeInvalidFormat = 6
	codeServerBusy    = 9
	codeEventRequired = 12
	codeEventBlank    = 13
	codeHealthy       = 17
)

// event is one HEC event as senders write it.
type event struct {
	Time       json.RawMessage            `json:"time"`
	Host       string                     `json:"host"`
	Source     string                     `json:"source"`
	SourceType string                     `json:"sourcetype"`
	Index      string                     `json:"index"`
	Event      json.RawMessage            `json:"event"`
	Fields     map[string]json.RawMessage `json:"fields"`
}

// meta is what the query string may set for every event of a request.
type meta struct {
	host, source, sourceType, index string
}

// invalid is an event HEC refuses, with its number (from 0) in the
// request.
type invalid struct {
	code   int
	text   string
	number int
	detail string
}

// parseEvents reads a body of JSON events, concatenated with or without
// whitespace between them. Every valid event is returned, also those
// after an invalid one; a body that stops being JSON ends the reading
// there. The first invalid event is reported.
func parseEvents(tenant string, body []byte, m meta, now time.Time) ([]store.LogRecord, *invalid) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var recs []store.LogRecord
	var bad *invalid
	for n := 0; ; n++ {
		var ev event
		err := dec.Decode(&ev)
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return nil, &invalid{code: codeNoData, text: "No data", number: -1}
			}
			return recs, bad
		}
		if err != nil {
			if bad == nil || bad.number > n {
				bad = &invalid{code: codeInvalidFormat, text: "Invalid data format", number: n, detail: err.Error()}
			}
			return recs, bad
		}
		rec, why := ev.record(tenant, m, now)
		if why != nil {
			if bad == nil {
				why.number = n
				bad = why
			}
			continue
		}
		recs = append(recs, rec)
	}
}

// record maps an event: the event is the body (an object as its JSON),
// fields are attributes, host, source, sourcetype and index are kept
// under the names the OpenTelemetry collector's Splunk receiver uses.
func (ev *event) record(tenant string, m meta, now time.Time) (store.LogRecord, *invalid) {
	raw := bytes.TrimSpace(ev.Event)
	if len(raw) == 0 || string(raw) == "null" {
		return store.LogRecord{}, &invalid{code: codeEventRequired, text: "Event field is required"}
	}
	var body string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &body); err != nil {
			return store.LogRecord{}, &invalid{code: codeInvalidFormat, text: "Invalid data format", detail: err.Error()}
		}
	} else {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return store.LogRecord{}, &invalid{code: codeInvalidFormat, text: "Invalid data format", detail: err.Error()}
		}
		body = buf.String()
	}
	if strings.TrimSpace(body) == "" {
		return store.LogRecord{}, &invalid{code: codeEventBlank, text: "Event field cannot be blank"}
	}
	r := store.LogRecord{Tenant: tenant, ID: collector.NewLogID(), TimeUnixNano: now.UnixNano(), ObservedUnixNano: now.UnixNano(), Body: body, Service: unknownService}
	if len(ev.Time) > 0 && string(ev.Time) != "null" {
		t, err := parseTime(ev.Time)
		if err != nil {
			return store.LogRecord{}, &invalid{code: codeInvalidFormat, text: "Invalid data format", detail: err.Error()}
		}
		r.TimeUnixNano = t
	}
	fields := map[string]string{}
	for k, v := range ev.Fields {
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(bytes.TrimSpace(v)) // numbers and arrays as written
		}
		fields[k] = s
	}
	// An object event may carry its own level, as logging libraries write
	// {"message": ..., "severity": ...}.
	var obj map[string]any
	if raw[0] == '{' && json.Unmarshal(raw, &obj) == nil {
		for _, k := range severityFields {
			if s, ok := obj[k].(string); ok {
				if _, dup := fields[k]; !dup {
					fields[k] = s
				}
			}
		}
	}
	for _, k := range severityFields {
		if v, ok := fields[k]; ok {
			delete(fields, k)
			r.SeverityText = v
			r.Severity, _ = store.ParseSeverity(v)
			break
		}
	}
	if v, ok := fields["otel.log.severity.number"]; ok {
		var n int
		if _, err := fmt.Sscan(v, &n); err == nil && n > 0 && n <= 24 {
			r.Severity = store.Severity(n)
			delete(fields, "otel.log.severity.number")
		}
	}
	for _, k := range serviceFields {
		if v := fields[k]; v != "" {
			r.Service = v
			delete(fields, k)
			break
		}
	}
	if v, ok := fields["trace_id"]; ok {
		if id, err := store.ParseTraceID(v); err == nil && len(v) == 32 {
			r.TraceID = id
			delete(fields, "trace_id")
		}
	}
	if v, ok := fields["span_id"]; ok {
		if id, err := store.ParseSpanID(v); err == nil && len(v) == 16 {
			r.SpanID = id
			delete(fields, "span_id")
		}
	}
	r.Resource = append(r.Resource, store.KeyValue{Key: "service.name", Value: r.Service})
	host := first(ev.Host, m.host)
	if host != "" {
		r.Resource = append(r.Resource, store.KeyValue{Key: "host.name", Value: host})
	}
	for _, kv := range []store.KeyValue{
		{Key: "com.splunk.source", Value: first(ev.Source, m.source)},
		{Key: "com.splunk.sourcetype", Value: first(ev.SourceType, m.sourceType)},
		{Key: "com.splunk.index", Value: first(ev.Index, m.index)},
	} {
		if kv.Value != "" {
			r.Attributes = append(r.Attributes, kv)
		}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r.Attributes = append(r.Attributes, store.KeyValue{Key: k, Value: fields[k]})
	}
	return r, nil
}

var (
	severityFields = []string{"otel.log.severity.text", "severity", "level", "log.level", "loglevel"}
	serviceFields  = []string{"service.name", "service", "app"}
)

const unknownService = "unknown_service"

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// parseTime reads HEC's time: epoch seconds with an optional fraction,
// as a number or a string, exactly (no float rounding of nanoseconds).
func parseTime(raw json.RawMessage) (int64, error) {
	s := strings.Trim(string(raw), `"`)
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() <= 0 {
		return 0, fmt.Errorf("cannot parse the time %s: want epoch seconds, e.g. 1764583200.123", raw)
	}
	ns := new(big.Rat).Mul(r, big.NewRat(int64(time.Second), 1))
	n := new(big.Int).Quo(ns.Num(), ns.Denom())
	if !n.IsInt64() || n.Int64() < int64(365*24*time.Hour) {
		return 0, fmt.Errorf("cannot use the time %s: out of range", raw)
	}
	return n.Int64(), nil
}

// parseRaw reads a raw body: every non-blank line is an event.
func parseRaw(tenant string, body []byte, m meta, now time.Time) ([]store.LogRecord, *invalid) {
	var recs []store.LogRecord
	for _, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ev := event{Event: mustJSON(string(line))}
		rec, _ := ev.record(tenant, m, now)
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return nil, &invalid{code: codeNoData, text: "No data", number: -1}
	}
	return recs, nil
}

func mustJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}
