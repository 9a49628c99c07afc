package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// serverFileName is the file vigil serve (any role with the web port)
// writes in the data directory while it holds the embedded store, so a
// command that finds the store locked can name — or ask — the server that
// holds it. It holds no secret.
const serverFileName = "vigil.server.json"

// serverFile is what the file says.
type serverFile struct {
	URL string `json:"url"` // the web port, as a person on this machine opens it
	PID int    `json:"pid"`
}

// writeServerFile records this process's web URL in dir; the returned
// function removes the file again.
func writeServerFile(dir, url string) (remove func(), err error) {
	path := filepath.Join(dir, serverFileName)
	b, _ := json.Marshal(serverFile{URL: url, PID: os.Getpid()})
	// Write then rename, so a reader never sees half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("cannot record the server's address in %s: %w", dir, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("cannot record the server's address in %s: %w", dir, err)
	}
	return func() { os.Remove(path) }, nil
}

// readServerFile returns the server recorded in dir, if its process is
// still alive; ok is false when there is none (or it died without removing
// the file).
func readServerFile(dir string) (sf serverFile, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, serverFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return sf, false, nil
	}
	if err != nil {
		return sf, false, err
	}
	if err := json.Unmarshal(b, &sf); err != nil || sf.URL == "" || sf.PID <= 0 {
		return sf, false, fmt.Errorf("%s: not a server record (%q)", filepath.Join(dir, serverFileName), b)
	}
	// Signal 0 checks the process exists; EPERM means it does, as another user's.
	if err := syscall.Kill(sf.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return sf, false, nil
	}
	return sf, true, nil
}
