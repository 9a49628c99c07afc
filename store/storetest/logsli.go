package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// testLogSLICounts: a service's lines per minute, the good ones below the
// severity; other services and tenants, and lines outside [Start, End),
// are not counted; a line without a severity is good.
func testLogSLICounts(t *testing.T, s store.Store) {
	c := ctx(t)
	var recs []store.LogRecord
	add := func(tenant string, at time.Duration, service string, sev store.Severity) {
		r := logRecord(tenant, len(recs), service, sev, "line")
		r.TimeUnixNano = base.Add(at).UnixNano()
		recs = append(recs, r)
	}
	// Minute 0: 3 lines, one error. Minute 1: 2 lines, a fatal and one
	// without a severity. Minute 3: a warning, at the minute's last
	// nanosecond. Minute 5: at End, left out.
	add("acme", 0, "chat", store.SeverityInfo)
	add("acme", 10*time.Second, "chat", store.SeverityError)
	add("acme", 59*time.Second, "chat", store.SeverityDebug)
	add("acme", 60*time.Second, "chat", store.SeverityFatal+2)
	add("acme", 61*time.Second, "chat", store.SeverityUnspecified)
	add("acme", 4*time.Minute-time.Nanosecond, "chat", store.SeverityWarn)
	add("acme", 5*time.Minute, "chat", store.SeverityError)
	add("acme", 30*time.Second, "ranker", store.SeverityError)
	add("globex", 30*time.Second, "chat", store.SeverityError)
	add("acme", -time.Nanosecond, "chat", store.SeverityError)
	if err := s.WriteLogs(c, recs); err != nil {
		t.Fatalf("WriteLogs: %v", err)
	}
	got, err := s.LogSLICounts(c, store.LogSLIQuery{Tenant: "acme", Service: "chat", MinSeverity: store.SeverityError, Start: base, End: base.Add(5 * time.Minute)})
	if err != nil {
		t.Fatalf("LogSLICounts: %v", err)
	}
	want := []store.MinuteCounts{
		{Minute: base, Good: 2, Total: 3},
		{Minute: base.Add(time.Minute), Good: 1, Total: 2},
		{Minute: base.Add(3 * time.Minute), Good: 1, Total: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LogSLICounts =\n%v\nwant\n%v", got, want)
	}
	// Warnings and above are bad.
	got, err = s.LogSLICounts(c, store.LogSLIQuery{Tenant: "acme", Service: "chat", MinSeverity: store.SeverityWarn, Start: base.Add(3 * time.Minute), End: base.Add(4 * time.Minute)})
	if err != nil || !reflect.DeepEqual(got, []store.MinuteCounts{{Minute: base.Add(3 * time.Minute), Good: 0, Total: 1}}) {
		t.Errorf("LogSLICounts, warn and above: %v %v", got, err)
	}
	if _, err := s.LogSLICounts(c, store.LogSLIQuery{Tenant: "acme", Service: "chat", Start: base, End: base.Add(time.Minute)}); err == nil {
		t.Error("LogSLICounts without a severity: no error")
	}
}
