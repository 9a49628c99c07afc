package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

func testUsers(t *testing.T, s store.Store) {
	c := ctx(t)
	if _, err := s.User(c, "admin"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing user: %v, want ErrNotFound", err)
	}
	u := store.User{Name: "admin", PasswordHash: "$argon2id$first", Roles: map[string]string{"*": "admin"}, Created: base, Updated: base}
	put := func(u store.User) {
		t.Helper()
		if err := s.PutUser(c, u); err != nil {
			t.Fatal(err)
		}
	}
	put(u)
	changed := u
	changed.PasswordHash, changed.Updated = "$argon2id$second", base.Add(time.Hour)
	put(changed)
	stale := u
	stale.PasswordHash, stale.Updated = "$argon2id$stale", base.Add(time.Minute) // an older write arriving late
	put(stale)
	got, err := s.User(c, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, changed) {
		t.Errorf("user:\n got %+v\nwant %+v", got, changed)
	}
}

func testTokens(t *testing.T, s store.Store) {
	c := ctx(t)
	put := func(tok store.APIToken) {
		t.Helper()
		if err := s.PutToken(c, tok); err != nil {
			t.Fatal(err)
		}
	}
	a := store.APIToken{ID: "aaaa", Hash: "h1", Name: "ci", Tenant: "acme", Role: "ingest", Created: base, Expires: base.Add(90 * 24 * time.Hour), CreatedBy: "cli"}
	b := store.APIToken{ID: "bbbb", Hash: "h2", Tenant: "*", Role: "viewer", Created: base.Add(time.Second)}
	put(b)
	put(a)
	// The server records a's use while the CLI revokes it; the server's
	// write, later by the clock, must not undo the revocation.
	revoked := a
	revoked.Revoked, revoked.RevokedBy = base.Add(time.Hour), "cli"
	put(revoked)
	used := a
	used.LastUsed = base.Add(2 * time.Hour)
	put(used)
	usedB := b
	usedB.LastUsed = base.Add(time.Hour)
	put(usedB)
	got, err := s.Token(c, "aaaa")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, revoked) {
		t.Errorf("revoked token:\n got %+v\nwant %+v", got, revoked)
	}
	all, err := s.Tokens(c)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(len(all)) != "2" || !reflect.DeepEqual(all[0], revoked) || !reflect.DeepEqual(all[1], usedB) {
		t.Errorf("tokens, oldest first:\n got %+v\nwant [%+v %+v]", all, revoked, usedB)
	}
	if _, err := s.Token(c, "cccc"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing token: %v, want ErrNotFound", err)
	}
}

func testSessions(t *testing.T, s store.Store) {
	c := ctx(t)
	put := func(ss store.Session) {
		t.Helper()
		if err := s.PutSession(c, ss); err != nil {
			t.Fatal(err)
		}
	}
	ss := store.Session{IDHash: "feed", User: "admin", Roles: map[string]string{"acme": "viewer", "beta": "editor"},
		Created: base, LastSeen: base, IdleExpires: base.Add(time.Hour), Expires: base.Add(24 * time.Hour)}
	put(ss)
	seen := ss
	seen.LastSeen, seen.IdleExpires = base.Add(10*time.Minute), base.Add(70*time.Minute)
	put(seen)
	ended := seen
	ended.Ended = base.Add(20 * time.Minute)
	put(ended)
	late := seen // a request in flight at logout records itself after it
	late.LastSeen = base.Add(30 * time.Minute)
	put(late)
	got, err := s.Session(c, "feed")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ended) {
		t.Errorf("session:\n got %+v\nwant %+v", got, ended)
	}
	if _, err := s.Session(c, "beef"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing session: %v, want ErrNotFound", err)
	}
}
