package main

import (
	"fmt"
	"os"
	"strings"
)

// secretFrom is a secret given either on the command line (value, of the
// flag name) or in a file (path, of the flag name-file), as a Kubernetes
// Secret is mounted: the file keeps it out of the process list and the
// shell's history. A trailing newline in the file is not part of it. An
// error names the flags and the file, never the secret.
func secretFrom(name, value, path string) (string, error) {
	switch {
	case path == "":
		return value, nil
	case value != "":
		return "", fmt.Errorf("--%s and --%s-file both given: give the secret one way", name, name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--%s-file: %w", name, err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("--%s-file %s is empty", name, path)
	}
	return s, nil
}
