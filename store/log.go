package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Severity is a log record's severity in OpenTelemetry's numbering: 1-4
// trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal; 0 is
// unspecified.
type Severity int8

// The first number of each severity range.
const (
	SeverityUnspecified Severity = 0
	SeverityTrace       Severity = 1
	SeverityDebug       Severity = 5
	SeverityInfo        Severity = 9
	SeverityWarn        Severity = 13
	SeverityError       Severity = 17
	SeverityFatal       Severity = 21
)

var severityNames = []struct {
	name string
	sev  Severity
}{{"trace", SeverityTrace}, {"debug", SeverityDebug}, {"info", SeverityInfo}, {"warn", SeverityWarn}, {"error", SeverityError}, {"fatal", SeverityFatal}}

// String is the range's name ("error"), "unspecified" for 0.
func (s Severity) String() string {
	for i := len(severityNames) - 1; i >= 0; i-- {
		if s >= severityNames[i].sev && s <= SeverityFatal+3 {
			return severityNames[i].name
		}
	}
	return "unspecified"
}

// ParseSeverity reads a severity name as shippers write it: OTel's
// (trace, debug, info, warn, error, fatal), syslog's (emerg, alert,
// crit, err, warning, notice), the usual spellings of log libraries
// (warning, critical, panic) and their upper-case forms, or a syslog
// priority digit 0-7. ok is false for anything else.
func ParseSeverity(s string) (Severity, bool) {
	sev, ok := severityWords[strings.ToLower(strings.TrimSpace(s))]
	return sev, ok
}

// severityWords are the names ParseSeverity knows; syslog's levels map
// into OTel's ranges as the OpenTelemetry collector's syslog receiver
// maps them.
var severityWords = map[string]Severity{
	"trace": SeverityTrace, "verbose": SeverityTrace, "finest": SeverityTrace,
	"debug": SeverityDebug, "dbg": SeverityDebug, "fine": SeverityDebug, "7": SeverityDebug,
	"info": SeverityInfo, "information": SeverityInfo, "informational": SeverityInfo, "inf": SeverityInfo, "6": SeverityInfo,
	"notice": SeverityInfo + 1, "5": SeverityInfo + 1,
	"warn": SeverityWarn, "warning": SeverityWarn, "wrn": SeverityWarn, "4": SeverityWarn,
	"error": SeverityError, "err": SeverityError, "severe": SeverityError, "3": SeverityError,
	"critical": SeverityFatal, "crit": SeverityFatal, "2": SeverityFatal,
	"alert": SeverityFatal + 1, "1": SeverityFatal + 1,
	"fatal": SeverityFatal + 2, "emerg": SeverityFatal + 2, "emergency": SeverityFatal + 2, "panic": SeverityFatal + 2, "0": SeverityFatal + 2,
}

// LogRecord is one log line with the columns Vigil filters on promoted out
// of its attributes.
type LogRecord struct {
	Tenant string
	// ID tells records with the same time apart, for paging; the receiver
	// draws it at random, and it stays with the record through the spool.
	// Below 2^63 (MaxLogID).
	ID               uint64
	TimeUnixNano     int64 // when the event happened; the observed time when the sender gave none
	ObservedUnixNano int64 // when a collector first saw it
	Service          string
	Severity         Severity
	SeverityText     string // as the sender wrote it
	Body             string
	TraceID          TraceID // zero: not in a trace
	SpanID           SpanID
	ScopeName        string
	Resource         Attributes
	Attributes       Attributes
}

// Time returns the record's time.
func (r *LogRecord) Time() time.Time { return time.Unix(0, r.TimeUnixNano).UTC() }

// LogQuery selects log records, newest first. Zero fields do not filter.
type LogQuery struct {
	Tenant      string
	Service     string
	MinSeverity Severity // records at or above it
	// Text must be found in the body: every word of it (Tokens), in any
	// order and any case.
	Text string
	// Attributes must all equal the record's attribute, or its resource's.
	Attributes map[string]string
	TraceID    TraceID // zero: any
	Start, End time.Time
	Limit      int        // at most this many; 0 means DefaultLogLimit
	After      *LogCursor // the page after this record
}

// DefaultLogLimit is how many records a LogQuery without a limit returns.
const DefaultLogLimit = 100

// LogCursor is where a page of logs ended: the time and id of its last
// record. Records are ordered by time, then id, both descending.
type LogCursor struct {
	TimeUnixNano int64
	ID           uint64
}

// LogWriter writes log records.
type LogWriter interface {
	WriteLogs(ctx context.Context, logs []LogRecord) error
}

// LogReader finds log records.
type LogReader interface {
	// Logs returns the records matching q, newest first (ties by id,
	// descending), after q.After when it is set.
	Logs(ctx context.Context, q LogQuery) ([]LogRecord, error)
}

// Limits of the token index.
const (
	// MaxTokenBytes: a longer word is indexed, and searched for, by its
	// first MaxTokenBytes bytes, so a hash or a base64 blob does not
	// bloat the index.
	MaxTokenBytes = 48
	// MaxTokensPerRecord bounds the distinct words indexed of one body;
	// words after them are not found by a text search.
	MaxTokensPerRecord = 256
)

// Tokens splits text into the words the full-text index keeps: runs of
// letters and digits, lower-cased, each once, in order of appearance, cut
// to MaxTokenBytes (at a rune boundary) and at most MaxTokensPerRecord.
// Both backends index the tokens Go computes here, and a search looks up
// the tokens of its text, so indexing and searching cannot disagree.
func Tokens(text string) []string {
	var out []string
	seen := map[string]struct{}{}
	start := -1
	emit := func(end int) {
		w := text[start:end]
		if len(w) > MaxTokenBytes {
			cut := MaxTokenBytes
			for cut > 0 && !utf8.RuneStart(w[cut]) {
				cut--
			}
			w = w[:cut]
		}
		w = strings.ToLower(w)
		if _, ok := seen[w]; !ok {
			seen[w] = struct{}{}
			out = append(out, w)
		}
		start = -1
	}
	for i, r := range text {
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			emit(i)
			if len(out) == MaxTokensPerRecord {
				return out
			}
		}
	}
	if start >= 0 && len(out) < MaxTokensPerRecord {
		emit(len(text))
	}
	return out
}

// MaxLogID is the largest log record id: database/sql, through which the
// embedded store reads, binds no uint64 with the high bit set.
const MaxLogID = math.MaxInt64

// ValidateLog checks what every backend needs of a record.
func ValidateLog(r *LogRecord) error {
	switch {
	case r.ID > MaxLogID:
		return fmt.Errorf("log record id %d is above %d", r.ID, uint64(MaxLogID))
	case r.TimeUnixNano <= 0:
		return fmt.Errorf("log record has no time")
	case r.Severity < 0 || r.Severity > SeverityFatal+3:
		return fmt.Errorf("log record has severity number %d, outside 0-24", r.Severity)
	}
	return nil
}

// LogSLIQuery counts a service's log lines per minute for a log-based
// SLI: every line of the service is an event, and one is bad when its
// severity is at or above MinSeverity.
type LogSLIQuery struct {
	Tenant      string
	Service     string
	MinSeverity Severity  // lines at or above it are bad; above zero
	Start, End  time.Time // log time in [Start, End)
}

// LogSLIReader counts the events of a log-based SLI.
type LogSLIReader interface {
	// LogSLICounts returns one entry per minute that has lines of the
	// service, ascending: Good the lines below q.MinSeverity (a line
	// without a severity is good), Total all of them.
	LogSLICounts(ctx context.Context, q LogSLIQuery) ([]MinuteCounts, error)
}
