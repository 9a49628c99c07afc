package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLockedDataDirectory: the commands that open the embedded store say
// which server holds it and what to do, in one line, exit 1.
func TestLockedDataDirectory(t *testing.T) {
	dir := t.TempDir()
	v := startServe(t, "", "--data-dir", dir)
	url := "http://" + v.web // a loopback address is recorded as it is
	for _, c := range []struct {
		args []string
		hint string
	}{
		{[]string{"import", "billing", "bill.csv"}, "give an editor's token in VIGIL_TOKEN or --token-file and this command asks it, or pass --server " + url},
		{[]string{"cost", "reprice", "--from", "2026-01-01", "--to", "2026-01-02"}, "give an editor's token in VIGIL_TOKEN or --token-file and this command asks it, or pass --server " + url},
		{[]string{"recommend"}, "give a viewer's token in VIGIL_TOKEN or --token-file and this command asks it, or pass --server " + url},
		{[]string{"token", "list"}, "give an admin's token in VIGIL_TOKEN or --token-file and this command asks it, or pass --server " + url},
		{[]string{"admin", "password"}, "stop it first"},
	} {
		out, err := exec.Command(binary, append(c.args, "--data-dir", dir)...).CombinedOutput()
		msg := strings.TrimSpace(string(out))
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || strings.Count(msg, "\n") != 0 ||
			!strings.Contains(msg, "store is locked by another process") || !strings.Contains(msg, "vigil serve (pid ") ||
			!strings.Contains(msg, url) || !strings.Contains(msg, c.hint) {
			t.Errorf("vigil %s: %v\n%s", strings.Join(c.args, " "), err, out)
		}
	}
	v.stop(t)
	// A clean stop removes the record: a later lock is not this server's.
	if _, err := os.Stat(filepath.Join(dir, serverFileName)); !os.IsNotExist(err) {
		t.Errorf("%s after the server stopped: %v", serverFileName, err)
	}
}
