package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// logColumns are the shared log columns, then timestamp (the DateTime
// that partitions logs) and tokens (the words log_tokens_mv indexes).
const logColumns = sqlq.LogColumns + ", timestamp, tokens"

// WriteLogs inserts log records in one batch, column by column, as
// WriteSpans does.
func (s *Store) WriteLogs(ctx context.Context, logs []store.LogRecord) error {
	n := len(logs)
	if n == 0 {
		return nil
	}
	var (
		tenant, service, sevText, body, traceID, spanID, scope = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		timeNs, observed                                       = make([]int64, n), make([]int64, n)
		id                                                     = make([]uint64, n)
		severity                                               = make([]int8, n)
		timestamp                                              = make([]time.Time, n)
		resKeys, resVals, attrKeys, attrVals, tokens           = make([][]string, n), make([][]string, n), make([][]string, n), make([][]string, n), make([][]string, n)
	)
	for i := range logs {
		r := &logs[i]
		if err := store.ValidateLog(r); err != nil {
			return fmt.Errorf("log record %d: %w", i, err)
		}
		tenant[i], service[i], sevText[i], body[i], scope[i] = r.Tenant, r.Service, r.SeverityText, r.Body, r.ScopeName
		traceID[i], spanID[i] = string(r.TraceID[:]), string(r.SpanID[:])
		timeNs[i], observed[i], id[i], severity[i] = r.TimeUnixNano, r.ObservedUnixNano, r.ID, int8(r.Severity)
		timestamp[i] = dateTime(r.Time())
		resKeys[i], resVals[i] = r.Resource.Split()
		attrKeys[i], attrVals[i] = r.Attributes.Split()
		tokens[i] = store.Tokens(r.Body)
	}
	// In the order of logColumns.
	return s.insertColumns(ctx, "logs", logColumns, []any{
		tenant, timeNs, observed, id, service, severity, sevText, body,
		traceID, spanID, scope, resKeys, resVals, attrKeys, attrVals,
		timestamp, tokens,
	})
}
