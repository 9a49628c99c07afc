package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// openInChildEnv names the data directory the test binary, run again as a
// child, opens (see TestOpenLockedByAnotherProcess).
const openInChildEnv = "VIGIL_TEST_EMBEDDED_OPEN_DIR"

// TestMain lets the test binary stand in for a second process opening the
// same file: DuckDB shares one instance per file inside a process, so the
// lock only shows between processes.
func TestMain(m *testing.M) {
	if dir := os.Getenv(openInChildEnv); dir != "" {
		s, err := embedded.Open(context.Background(), dir)
		switch {
		case err == nil:
			s.Close()
			fmt.Println("opened")
		case errors.Is(err, store.ErrLocked):
			fmt.Println("locked: " + err.Error())
		default:
			fmt.Println("other: " + err.Error())
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// openInChild opens dir in another process and returns what it saw.
func openInChild(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), openInChildEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestOpenLockedByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	s, err := embedded.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	got := openInChild(t, dir)
	if !strings.HasPrefix(got, "locked: ") || !strings.Contains(got, embedded.FileName) {
		t.Errorf("opening a file another process has open: %q, want store.ErrLocked naming the file", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Once closed, the other process opens it.
	if got := openInChild(t, dir); got != "opened" {
		t.Errorf("after closing: %q, want opened", got)
	}
	// Another failure is not a lock.
	file := dir + "/not-a-directory"
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := embedded.Open(context.Background(), file); err == nil || errors.Is(err, store.ErrLocked) {
		t.Errorf("a data directory that is a file: %v, want an error that is not store.ErrLocked", err)
	}
}
