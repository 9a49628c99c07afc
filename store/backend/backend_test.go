package backend

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

func TestOpenErrors(t *testing.T) {
	cases := []struct{ url, dir, want string }{
		{"postgres://u:hunter2@db/x", "/tmp", `cannot use store URL "postgres://u:xxxxx@db/x"`},
		{"", "", "needs a data directory"},
		{"clickhouse://", "", "names no host"},
	}
	for _, c := range cases {
		_, err := Open(context.Background(), c.url, c.dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", c.url, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestOpenEmbeddedKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ev := store.Event{Tenant: "acme", ID: store.EventID(store.KindFinding, "x"), Kind: store.KindFinding, Time: at}
	for i := 0; i < 2; i++ {
		s, err := Open(ctx, "embedded://", dir)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := s.WriteEvents(ctx, []store.Event{ev}); err != nil {
				t.Fatal(err)
			}
		} else {
			got, err := s.Events(ctx, store.EventQuery{Tenant: "acme", Start: at, End: at.Add(time.Hour)})
			if err != nil || len(got) != 1 || got[0].ID != ev.ID {
				t.Errorf("after reopening: %v, %v", got, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
