package config

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func write(t *testing.T, path, body string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newTestReloader(t *testing.T, dir string, s *Section[[]string], opts ReloadOptions) *Reloader {
	t.Helper()
	reg, err := NewRegistry(s)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReloader(dir, reg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReloaderKeepsLastGood: a reading with errors is not taken into use;
// Status names its problems until a good reading replaces it.
func TestReloaderKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.yaml")
	write(t, file, "things: [a]\n")
	s := namesSection()
	r := newTestReloader(t, dir, s, ReloadOptions{})
	first := r.Current()
	if got := s.Of(first); !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("first reading: %v", got)
	}
	st := r.Status()
	if !st.Successful || st.LastSuccess.IsZero() || !st.LastSuccess.Equal(st.LastReload) || len(st.Problems) != 0 || st.Dir != dir {
		t.Errorf("status after the first reading: %+v", st)
	}

	write(t, file, "things: [a]\nthing: [b]\n")
	if r.Reload() {
		t.Fatal("a reading with an unknown key was taken into use")
	}
	st = r.Status()
	if r.Current() != first || st.Successful || !st.LastReload.After(st.LastSuccess) || len(st.Problems) != 1 ||
		!strings.HasPrefix(st.Problems[0].String(), file+":2: unknown top-level key \"thing\" (did you mean `things`?)") {
		t.Errorf("after a bad edit: current changed %v, status %+v", r.Current() != first, st)
	}

	write(t, file, "things: [a, b]\n")
	if !r.Reload() {
		t.Fatalf("the fixed file was refused: %v", r.Status().Problems)
	}
	if got := s.Of(r.Current()); !reflect.DeepEqual(got, []string{"a", "b"}) || !r.Status().Successful || len(r.Status().Problems) != 0 {
		t.Errorf("after the fix: %v, %+v", got, r.Status())
	}
}

// TestReloaderStartup: errors at the first reading are returned; a
// directory that does not exist is empty until it does, and once it has
// existed its disappearance keeps the last good reading.
func TestReloaderStartup(t *testing.T) {
	reg, _ := NewRegistry(namesSection())
	bad := t.TempDir()
	write(t, filepath.Join(bad, "a.yaml"), "slos: []\n")
	_, err := NewReloader(bad, reg, ReloadOptions{})
	var errs *Errors
	if err == nil || !strings.Contains(err.Error(), `a.yaml:1: unknown top-level key "slos"`) || !asErrors(err, &errs) {
		t.Errorf("a bad directory at start: %v", err)
	}

	dir := filepath.Join(t.TempDir(), "config")
	s := namesSection()
	r := newTestReloader(t, dir, s, ReloadOptions{})
	if got := s.Of(r.Current()); got != nil || !r.Status().Successful {
		t.Errorf("a missing directory: %v %+v", got, r.Status())
	}
	write(t, filepath.Join(dir, "a.yaml"), "things: [a]\n")
	if !r.Reload() || !reflect.DeepEqual(s.Of(r.Current()), []string{"a"}) {
		t.Fatalf("the directory made: %+v", r.Status())
	}
	os.RemoveAll(dir)
	if r.Reload() || !reflect.DeepEqual(s.Of(r.Current()), []string{"a"}) || r.Status().Problems[0].String() != dir+": the directory is gone" {
		t.Errorf("the directory removed: %+v", r.Status())
	}
}

func asErrors(err error, target **Errors) bool {
	e, ok := err.(*Errors)
	*target = e
	return ok
}

// counting wraps a section to count its readings.
func counting(s *Section[[]string], n *atomic.Int32) *Section[[]string] {
	inner := s.New
	s.New = func() Decoder[[]string] { n.Add(1); return inner() }
	return s
}

// waitFor polls cond for up to 20 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestReloaderNotices: Run reloads after a change, found by notification
// (polling an hour apart) or by polling alone, in the directory or a
// folder made below it after the start.
func TestReloaderNotices(t *testing.T) {
	for _, notify := range []bool{true, false} {
		t.Run(map[bool]string{true: "notify", false: "poll"}[notify], func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "a.yaml"), "things: [a]\n")
			s := namesSection()
			opts := ReloadOptions{Poll: time.Hour, Debounce: 20 * time.Millisecond}
			if !notify {
				opts.Poll = 20 * time.Millisecond
			}
			r := newTestReloader(t, dir, s, opts)
			r.noNotify = !notify
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- r.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			}()
			time.Sleep(50 * time.Millisecond) // Run has started watching
			write(t, filepath.Join(dir, "a.yaml"), "things: [a, b]\n")
			waitFor(t, "the edit", func() bool { return len(s.Of(r.Current())) == 2 })
			os.Mkdir(filepath.Join(dir, "team"), 0o755)
			time.Sleep(100 * time.Millisecond) // the folder's creation is read, and the folder watched
			write(t, filepath.Join(dir, "team", "b.yaml"), "things: [c]\n")
			waitFor(t, "a file in the new folder", func() bool { return len(s.Of(r.Current())) == 3 })
		})
	}
}

// TestReloaderDebounces: a burst of writes is read once it is over, not
// once a write.
func TestReloaderDebounces(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.yaml")
	write(t, file, "things: [a]\n")
	var readings atomic.Int32
	s := counting(namesSection(), &readings)
	r := newTestReloader(t, dir, s, ReloadOptions{Poll: time.Hour, Debounce: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	time.Sleep(50 * time.Millisecond)
	for i := 0; i < 20; i++ {
		write(t, file, fmt.Sprintf("things: [a, x%c]\n", 'a'+i))
		time.Sleep(10 * time.Millisecond)
	}
	waitFor(t, "the burst's reading", func() bool { return len(s.Of(r.Current())) == 2 && s.Of(r.Current())[1] == "xt" })
	// The first, and one after the burst (a second only if the machine
	// stalled a writer for the whole debounce).
	if n := readings.Load(); n < 2 || n > 3 {
		t.Errorf("%d readings of a burst of 20 writes, want 2", n)
	}
}

// TestReloaderPollsFasterThanDebounce: polls that come more often than the
// debounce do not keep postponing the reading of a finished change.
func TestReloaderPollsFasterThanDebounce(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), "things: [a]\n")
	s := namesSection()
	r := newTestReloader(t, dir, s, ReloadOptions{Poll: 10 * time.Millisecond, Debounce: 200 * time.Millisecond})
	r.noNotify = true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	time.Sleep(50 * time.Millisecond)
	write(t, filepath.Join(dir, "a.yaml"), "things: [a, b]\n")
	waitFor(t, "the edit", func() bool { return len(s.Of(r.Current())) == 2 })
}
