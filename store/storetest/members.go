package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

func testMembers(t *testing.T, s store.Store) {
	c := ctx(t)
	beat := func(group, member string, at time.Time) {
		t.Helper()
		if err := s.Heartbeat(c, group, member, at); err != nil {
			t.Fatal(err)
		}
	}
	beat("analyzer", "b", base)
	beat("analyzer", "a", base.Add(time.Minute))
	beat("analyzer", "c", base.Add(-time.Hour))
	beat("analyzer", "c", base.Add(2*time.Minute)) // a later beat revives it
	beat("analyzer", "b", base.Add(-time.Hour))    // an older beat arriving late changes nothing
	beat("other", "z", base.Add(time.Minute))
	for _, tc := range []struct {
		since time.Time
		want  string
	}{
		{base, "[a b c]"},
		{base.Add(time.Second), "[a c]"},
		{base.Add(3 * time.Minute), "[]"},
	} {
		got, err := s.LiveMembers(c, "analyzer", tc.since)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("since %s: %v, want %s", tc.since.Format("15:04:05"), got, tc.want)
		}
	}
}
