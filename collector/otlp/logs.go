package otlp

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

// Logs maps an OTLP log export to log records. A record without a time
// takes its observed time, and without either the time it arrived (now),
// as the OTel data model says a receiver should. Invalid records are left
// out and counted in rejected, with the first reason in msg.
func Logs(tenant string, ld plog.Logs, now time.Time) (logs []store.LogRecord, rejected int, msg string) {
	logs = make([]store.LogRecord, 0, ld.LogRecordCount())
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := rl.Resource().Attributes()
		resource := attributes(res)
		service := unknownService
		if v, ok := res.Get("service.name"); ok && v.AsString() != "" {
			service = v.AsString()
		}
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			lrs := sl.LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				sev := store.Severity(lr.SeverityNumber())
				if sev < 0 || sev > store.SeverityFatal+3 {
					if rejected == 0 {
						msg = fmt.Sprintf("log record %d of scope %q: severity number %d is outside 0-24", k, sl.Scope().Name(), sev)
					}
					rejected++
					continue
				}
				if sev == 0 {
					sev, _ = store.ParseSeverity(lr.SeverityText())
				}
				observed := int64(lr.ObservedTimestamp())
				if observed <= 0 {
					observed = now.UnixNano()
				}
				at := int64(lr.Timestamp())
				if at <= 0 {
					at = observed
				}
				logs = append(logs, store.LogRecord{
					Tenant:           tenant,
					ID:               collector.NewLogID(),
					TimeUnixNano:     at,
					ObservedUnixNano: observed,
					Service:          service,
					Severity:         sev,
					SeverityText:     lr.SeverityText(),
					Body:             lr.Body().AsString(),
					TraceID:          store.TraceID(lr.TraceID()),
					SpanID:           store.SpanID(lr.SpanID()),
					ScopeName:        sl.Scope().Name(),
					Resource:         resource,
					Attributes:       attributes(lr.Attributes()),
				})
			}
		}
	}
	return logs, rejected, msg
}
