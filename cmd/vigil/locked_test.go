package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLockedDataDirectory: the commands that open the embedded store say
// what to do when vigil serve holds it.
func TestLockedDataDirectory(t *testing.T) {
	dir := t.TempDir()
	v := startServe(t, "", "--data-dir", dir)
	for _, c := range []struct {
		args []string
		hint string
	}{
		{[]string{"import", "billing", "bill.csv"}, "use its POST /api/v1/billing/import"},
		{[]string{"cost", "reprice", "--from", "2026-01-01", "--to", "2026-01-02"}, "stop it first"},
		{[]string{"recommend"}, "pass --server to ask its API"},
		{[]string{"token", "list"}, "stop it first"},
		{[]string{"admin", "password"}, "stop it first"},
	} {
		out, err := exec.Command(binary, append(c.args, "--data-dir", dir)...).CombinedOutput()
		msg := strings.TrimSpace(string(out))
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || strings.Count(msg, "\n") != 0 ||
			!strings.Contains(msg, "store is locked by another process") || !strings.Contains(msg, "is vigil serve running on "+dir+"? "+c.hint) {
			t.Errorf("vigil %s: %v\n%s", strings.Join(c.args, " "), err, out)
		}
	}
	v.stop(t)
}
