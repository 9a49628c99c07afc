package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// logRecord is record n of a tenant: a second apart from base, its id n.
func logRecord(tenant string, n int, service string, sev store.Severity, body string) store.LogRecord {
	at := base.Add(time.Duration(n) * time.Second)
	return store.LogRecord{
		Tenant:           tenant,
		ID:               uint64(1_000_000 + n),
		TimeUnixNano:     at.UnixNano() + 7, // nanoseconds must survive
		ObservedUnixNano: at.UnixNano() + 1000,
		Service:          service,
		Severity:         sev,
		SeverityText:     sev.String(),
		Body:             body,
		ScopeName:        "app/logger",
		Resource:         store.Attributes{{Key: "service.name", Value: service}, {Key: "host.name", Value: "node-1"}},
		Attributes:       store.Attributes{{Key: "n", Value: fmt.Sprint(n)}},
	}
}

func testLogs(t *testing.T, s store.Store) {
	c := ctx(t)
	recs := []store.LogRecord{
		logRecord("acme", 0, "chat-gateway", store.SeverityInfo, "request served in 120ms"),
		logRecord("acme", 1, "chat-gateway", store.SeverityError, "Upstream CONNECTION refused: dial tcp 10.0.0.7:443"),
		logRecord("acme", 2, "ranker", store.SeverityWarn, "slow scoring, model=ranker-v2"),
		logRecord("acme", 3, "ranker", store.SeverityFatal, "connection pool exhausted; refusing requests"),
		logRecord("acme", 4, "chat-gateway", store.SeverityDebug, "cache miss für Schlüssel 42"),
		logRecord("globex", 5, "chat-gateway", store.SeverityError, "connection refused"),
	}
	recs[1].TraceID, recs[1].SpanID = traceID(7), spanID(3)
	recs[3].Attributes = append(recs[3].Attributes, store.KeyValue{Key: "pool", Value: "db"})
	recs[4].Resource, recs[4].Attributes = nil, nil
	if err := s.WriteLogs(c, recs); err != nil {
		t.Fatalf("WriteLogs: %v", err)
	}
	all := store.LogQuery{Tenant: "acme", Start: base.Add(-time.Hour), End: base.Add(time.Hour)}
	cases := []struct {
		name string
		q    func(q store.LogQuery) store.LogQuery
		want []int
	}{
		{"all newest first", func(q store.LogQuery) store.LogQuery { return q }, []int{4, 3, 2, 1, 0}},
		{"open range", func(q store.LogQuery) store.LogQuery { q.Start, q.End = time.Time{}, time.Time{}; return q }, []int{4, 3, 2, 1, 0}},
		{"service", func(q store.LogQuery) store.LogQuery { q.Service = "ranker"; return q }, []int{3, 2}},
		{"severity error and above", func(q store.LogQuery) store.LogQuery { q.MinSeverity = store.SeverityError; return q }, []int{3, 1}},
		{"a word, any case", func(q store.LogQuery) store.LogQuery { q.Text = "Connection"; return q }, []int{3, 1}},
		{"every word", func(q store.LogQuery) store.LogQuery { q.Text = "refused connection"; return q }, []int{1}},
		{"a word with digits", func(q store.LogQuery) store.LogQuery { q.Text = "10.0.0.7"; return q }, []int{1}},
		{"not a prefix", func(q store.LogQuery) store.LogQuery { q.Text = "refus"; return q }, nil},
		{"a word of another tenant", func(q store.LogQuery) store.LogQuery { q.Tenant = "globex"; q.Text = "refused"; return q }, []int{5}},
		{"unicode words", func(q store.LogQuery) store.LogQuery { q.Text = "SCHLÜSSEL für"; return q }, []int{4}},
		{"attribute", func(q store.LogQuery) store.LogQuery { q.Attributes = map[string]string{"pool": "db"}; return q }, []int{3}},
		{"resource attribute", func(q store.LogQuery) store.LogQuery {
			q.Attributes = map[string]string{"host.name": "node-1"}
			return q
		}, []int{3, 2, 1, 0}},
		{"trace", func(q store.LogQuery) store.LogQuery { q.TraceID = traceID(7); return q }, []int{1}},
		{"time range", func(q store.LogQuery) store.LogQuery {
			q.Start, q.End = recs[1].Time(), recs[3].Time()
			return q
		}, []int{2, 1}},
		{"limit", func(q store.LogQuery) store.LogQuery { q.Limit = 2; return q }, []int{4, 3}},
		{"after a cursor", func(q store.LogQuery) store.LogQuery {
			q.After = &store.LogCursor{TimeUnixNano: recs[3].TimeUnixNano, ID: recs[3].ID}
			return q
		}, []int{2, 1, 0}},
		{"everything", func(q store.LogQuery) store.LogQuery {
			q.Service, q.MinSeverity, q.Text, q.TraceID = "chat-gateway", store.SeverityWarn, "upstream", traceID(7)
			return q
		}, []int{1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Logs(c, tc.q(all))
			if err != nil {
				t.Fatal(err)
			}
			var want []store.LogRecord
			for _, i := range tc.want {
				want = append(want, recs[i])
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %d records:\n%+v\nwant %d:\n%+v", len(got), got, len(want), want)
			}
		})
	}
	if _, err := s.Logs(c, store.LogQuery{Tenant: "acme", Text: "--- ..."}); err == nil {
		t.Errorf("a search for no word was answered")
	}
}

// testLogPaging pages through records that share their times: the cursor
// (time, id) must neither skip nor repeat one.
func testLogPaging(t *testing.T, s store.Store) {
	c := ctx(t)
	var recs []store.LogRecord
	for i := range 25 {
		r := logRecord("acme", i/4, "chat-gateway", store.SeverityInfo, fmt.Sprintf("line %d of the batch", i))
		r.ID = uint64(i*7919%97+1) << 56 // ids in no order, up to 2^63
		recs = append(recs, r)
	}
	if err := s.WriteLogs(c, recs); err != nil {
		t.Fatal(err)
	}
	q := store.LogQuery{Tenant: "acme", Text: "batch", Limit: 4}
	seen := map[uint64]bool{}
	var last *store.LogRecord
	for page := 0; ; page++ {
		got, err := s.Logs(c, q)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			r := got[i]
			if seen[r.ID] {
				t.Fatalf("page %d repeats record %d", page, r.ID)
			}
			seen[r.ID] = true
			if last != nil && (r.TimeUnixNano > last.TimeUnixNano || r.TimeUnixNano == last.TimeUnixNano && r.ID > last.ID) {
				t.Fatalf("page %d: record %d/%d comes after %d/%d", page, r.TimeUnixNano, r.ID, last.TimeUnixNano, last.ID)
			}
			last = &r
		}
		if len(got) < q.Limit {
			break
		}
		q.After = &store.LogCursor{TimeUnixNano: last.TimeUnixNano, ID: last.ID}
	}
	if len(seen) != len(recs) {
		t.Errorf("paging found %d of %d records", len(seen), len(recs))
	}
}

func testLogsInvalid(t *testing.T, s store.Store) {
	c := ctx(t)
	bad := logRecord("acme", 0, "x", store.SeverityInfo, "no time")
	bad.TimeUnixNano = 0
	if err := s.WriteLogs(c, []store.LogRecord{logRecord("acme", 1, "x", store.SeverityInfo, "fine"), bad}); err == nil {
		t.Fatal("a record without a time was written")
	}
	big := logRecord("acme", 2, "x", store.SeverityInfo, "id too large")
	big.ID = store.MaxLogID + 1
	if err := s.WriteLogs(c, []store.LogRecord{big}); err == nil {
		t.Fatal("a record with an id above MaxLogID was written")
	}
	got, err := s.Logs(c, store.LogQuery{Tenant: "acme"})
	if err != nil || len(got) != 0 {
		t.Errorf("a refused batch left %d records (%v)", len(got), err)
	}
}
