package embedded

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// TestTypedAttributesMigration opens a database at schema version 4,
// holding a span from before attribute types were stored, and checks that
// the migration keeps its attributes as strings and that spans written
// after it keep their types.
func TestTypedAttributesMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("duckdb", filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE vigil_schema (version INTEGER NOT NULL, applied TIMESTAMP NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const before = 4 // the version before typed attributes
	for v := 1; v <= before; v++ {
		if _, err := db.ExecContext(ctx, migrations[v-1]); err != nil {
			t.Fatalf("migration %d: %v", v, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO vigil_schema VALUES (?, ?)`, v, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	oldID := store.TraceID{15: 1}
	_, err = db.ExecContext(ctx, `INSERT INTO spans VALUES ('acme', ?, ?, 1000, ?, ?, ?, '', 'chat', 'op', 2, 0, '', '', '',
		['service.name'], ['chat'], ['http.response.status_code'], ['200'], '', '', '', '', '', '', '', 0, 0, 0, 0)`,
		start, start.UnixNano(), oldID[:], []byte{7: 1}, make([]byte, 8))
	if err != nil {
		t.Fatalf("insert a version-4 span: %v", err)
	}
	db.Close()

	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open migrates: %v", err)
	}
	defer s.Close()
	got, err := s.Trace(ctx, "acme", oldID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Attributes{{Key: "http.response.status_code", Value: "200"}}
	if len(got) != 1 || !reflect.DeepEqual(got[0].Attributes, want) || got[0].Resource[0].Type != store.AttrString {
		t.Fatalf("old span reads %+v, want attributes %+v, all strings", got, want)
	}

	newID := store.TraceID{15: 2}
	typed := store.Span{Tenant: "acme", TraceID: newID, SpanID: store.SpanID{7: 2}, Service: "chat", Operation: "op", StartUnixNano: start.UnixNano(), DurationNano: 1000,
		Attributes: store.Attributes{{Key: "http.response.status_code", Value: "200", Type: store.AttrInt}}}
	if err := s.WriteSpans(ctx, []store.Span{typed}); err != nil {
		t.Fatal(err)
	}
	got, err = s.Trace(ctx, "acme", newID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0].Attributes, typed.Attributes) {
		t.Fatalf("new span reads %+v, want attributes %+v", got, typed.Attributes)
	}
}

// TestTraceIndexMigration opens a database at schema version 8 holding
// spans of two tenants, one trace with the id's first bit set (its key is
// above int64's range), and checks that the migration files them under
// the key WriteSpans uses, so Trace finds them and only for their tenant.
func TestTraceIndexMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("duckdb", filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE vigil_schema (version INTEGER NOT NULL, applied TIMESTAMP NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const before = 8 // the last version without the trace index
	for v := 1; v <= before; v++ {
		if _, err := db.ExecContext(ctx, migrations[v-1]); err != nil {
			t.Fatalf("migration %d: %v", v, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO vigil_schema VALUES (?, ?)`, v, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	high := store.TraceID{0: 0xfe, 1: 0xdc, 7: 0x01, 15: 1}
	low := store.TraceID{7: 0x02, 15: 2}
	for i, sp := range []struct {
		tenant string
		id     store.TraceID
		at     time.Time
	}{{"acme", high, start}, {"acme", high, start.Add(time.Hour)}, {"initech", low, start}} {
		_, err = db.ExecContext(ctx, `INSERT INTO spans VALUES (?, ?, ?, 1000, ?, ?, ?, '', 'chat', 'op', 2, 0, '', '', '',
			[], [], [], [], '', '', '', '', '', '', '', 0, 0, 0, 0, [], [])`,
			sp.tenant, sp.at, sp.at.UnixNano(), sp.id[:], []byte{7: byte(i + 1)}, make([]byte, 8))
		if err != nil {
			t.Fatalf("insert a version-8 span: %v", err)
		}
	}
	db.Close()

	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open migrates: %v", err)
	}
	defer s.Close()
	var key uint64
	var first, last int64
	if err := s.db.QueryRowContext(ctx, `SELECT trace_key, first_ns, last_ns FROM trace_runs WHERE tenant = 'acme'`).Scan(&key, &first, &last); err != nil {
		t.Fatal(err)
	}
	if key != traceKey(high) || first != start.UnixNano() || last != start.Add(time.Hour).UnixNano() {
		t.Errorf("trace_runs has key %x, starts %d-%d; want %x, %d-%d", key, first, last,
			traceKey(high), start.UnixNano(), start.Add(time.Hour).UnixNano())
	}
	if got, err := s.Trace(ctx, "acme", high); err != nil || len(got) != 2 {
		t.Errorf("Trace(acme) = %d spans, %v; want 2", len(got), err)
	}
	if got, err := s.Trace(ctx, "initech", low); err != nil || len(got) != 1 {
		t.Errorf("Trace(initech) = %d spans, %v; want 1", len(got), err)
	}
	if _, err := s.Trace(ctx, "initech", high); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Trace of another tenant's trace: %v, want ErrNotFound", err)
	}
}
