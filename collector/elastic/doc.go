package elastic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

// The fields shippers put a log line's parts in, most specific first:
// ECS (Filebeat, Elastic Agent), Logstash, Fluent Bit, and rsyslog's and
// syslog-ng's usual templates.
var (
	bodyFields     = []string{"message", "log", "msg", "event.original", "MESSAGE"}
	timeFields     = []string{"@timestamp", "timestamp", "time", "timereported", "date", "ISODATE"}
	severityFields = []string{"log.level", "level", "severity", "loglevel", "log_level", "priority", "syslog.severity", "PRIORITY"}
	serviceFields  = []string{"service.name", "service", "app", "application", "kubernetes.labels.app", "programname", "app_name", "PROGRAM"}
	traceFields    = []string{"trace.id", "trace_id", "traceId", "traceid"}
	spanFields     = []string{"span.id", "span_id", "spanId", "spanid"}
	// resourcePrefixes name what describes the sender rather than the
	// event, as OTel resource attributes do.
	resourcePrefixes = []string{"host.", "agent.", "service.", "kubernetes.", "container.", "cloud.", "ecs."}
	resourceKeys     = map[string]bool{"host": true, "hostname": true, "fromhost": true, "HOST": true}
)

// unknownService is the conventions' name for a sender that names none.
const unknownService = "unknown_service"

// record maps one bulk source document to a log record. A document
// without a message keeps its whole source as the body, so nothing sent
// is dropped; index is kept as the attribute elasticsearch.index.
func record(tenant, index string, src []byte, now time.Time) (store.LogRecord, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return store.LogRecord{}, fmt.Errorf("cannot parse the document as a JSON object: %v", err)
	}
	if dec.More() {
		return store.LogRecord{}, fmt.Errorf("the document line holds more than one JSON value")
	}
	if doc == nil {
		return store.LogRecord{}, fmt.Errorf("the document is null, not a JSON object")
	}
	fields := map[string]string{}
	flatten("", doc, fields)
	take := func(names []string) (string, bool) {
		for _, n := range names {
			if v, ok := fields[n]; ok {
				delete(fields, n)
				return v, true
			}
		}
		return "", false
	}
	r := store.LogRecord{Tenant: tenant, ID: collector.NewLogID(), ObservedUnixNano: now.UnixNano(), TimeUnixNano: now.UnixNano(), Service: unknownService}
	if v, ok := take(timeFields); ok {
		t, err := parseTime(v)
		if err != nil {
			return store.LogRecord{}, err
		}
		r.TimeUnixNano = t.UnixNano()
	}
	if v, ok := take(bodyFields); ok {
		r.Body = v
	} else {
		r.Body = strings.TrimSpace(string(src))
	}
	if v, ok := take(severityFields); ok {
		r.SeverityText = v
		r.Severity, _ = store.ParseSeverity(v)
	}
	if v, ok := take(serviceFields); ok && v != "" {
		r.Service = v
		fields["service.name"] = v // a resource attribute, as in OTLP
	}
	if v, ok := fields[firstPresent(fields, traceFields)]; ok {
		if id, err := store.ParseTraceID(v); err == nil && len(v) == 32 {
			r.TraceID = id
			take(traceFields)
		}
	}
	if v, ok := fields[firstPresent(fields, spanFields)]; ok {
		if id, err := store.ParseSpanID(v); err == nil && len(v) == 16 {
			r.SpanID = id
			take(spanFields)
		}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kv := store.KeyValue{Key: k, Value: fields[k]}
		if isResource(k) {
			r.Resource = append(r.Resource, kv)
		} else {
			r.Attributes = append(r.Attributes, kv)
		}
	}
	if index != "" {
		r.Attributes = append(r.Attributes, store.KeyValue{Key: "elasticsearch.index", Value: index})
	}
	return r, nil
}

func firstPresent(fields map[string]string, names []string) string {
	for _, n := range names {
		if _, ok := fields[n]; ok {
			return n
		}
	}
	return ""
}

func isResource(k string) bool {
	for _, p := range resourcePrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return resourceKeys[k]
}

// flatten writes a document's leaves under dotted keys, as ECS writes
// nested fields: {"log":{"level":"error"}} is log.level. Arrays stay
// whole, as JSON; null is left out.
func flatten(prefix string, v any, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if prefix != "" {
				k = prefix + "." + k
			}
			flatten(k, x, out)
		}
	case nil:
	case string:
		out[prefix] = v
	case json.Number:
		out[prefix] = v.String()
	case bool:
		out[prefix] = strconv.FormatBool(v)
	default:
		b, _ := json.Marshal(v)
		out[prefix] = string(b)
	}
}

// timeLayouts are the date forms shippers write besides RFC 3339.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	time.RFC1123Z,
}

// parseTime reads a date as Elasticsearch's default date mapping does
// (strict_date_optional_time or epoch_millis); a date without a zone is
// UTC.
func parseTime(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		if t := time.UnixMilli(ms).UTC(); inRange(t) {
			return t, nil
		}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil && inRange(t) {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse the time %q: want an RFC 3339 date, as @timestamp, or epoch milliseconds", s)
}

// inRange is true for the times a record can hold: nanoseconds since 1970
// in an int64 (up to 2262).
func inRange(t time.Time) bool { return t.Year() >= 1971 && t.Year() < 2262 }
