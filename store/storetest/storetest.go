// Package storetest is the conformance suite every store backend runs: the
// same cases, the same expected answers, so a query means the same on
// ClickHouse and on the embedded DuckDB store.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Opener returns a new, empty store for one test; the suite closes it.
type Opener func(t *testing.T) store.Store

// Run runs every conformance case against the backend.
func Run(t *testing.T, open Opener) {
	cases := []conformanceCase{
		{"SpansRoundTrip", testSpansRoundTrip},
		{"TypedAttributes", testTypedAttributes},
		{"TraceNotFound", testTraceNotFound},
		{"Traces", testTraces},
		{"FindTraces", testFindTraces},
		{"ServicesAndOperations", testServicesAndOperations},
		{"SpanExemplars", testSpanExemplars},
		{"Metrics", testMetrics},
		{"MetricQuerier", testMetricQuerier},
		{"CostLines", testCostLines},
		{"CostIdempotent", testCostIdempotent},
		{"Rollups", testRollups},
		{"HourlyRollups", testHourlyRollups},
		{"Events", testEvents},
		{"Usage", testUsage},
		{"Reprice", testReprice},
		{"SLICounts", testSLICounts},
		{"SpanDurations", testSpanDurations},
		{"Throughput", testThroughput},
		{"SpanStats", testSpanStats},
		{"TraceSummaries", testTraceSummaries},
		{"Members", testMembers},
		{"SpanValues", testSpanValues},
		{"LogSLICounts", testLogSLICounts},
		{"LargeBatches", testLargeBatches},
		{"Retention", testRetention},
		{"Users", testUsers},
		{"Tokens", testTokens},
		{"Sessions", testSessions},
	}
	run(t, open, append(cases, logCases...))
}

// logCases are the cases of log search.
var logCases = []conformanceCase{
	{"Logs", testLogs},
	{"LogPaging", testLogPaging},
	{"LogsInvalid", testLogsInvalid},
}

// RunLogs runs the log search cases alone: a backend with more than one
// way to search runs them again with its other plan.
func RunLogs(t *testing.T, open Opener) { run(t, open, logCases) }

type conformanceCase struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

func run(t *testing.T, open Opener, cases []conformanceCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			c.fn(t, s)
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// base is a fixed instant all cases build times from, so runs are
// repeatable; it is a few days in the past so retention cases make sense.
var base = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
