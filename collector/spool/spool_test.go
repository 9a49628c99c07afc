package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestAppendOldestRemoveInOrder(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := s.Append([]byte(fmt.Sprintf("batch %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if n, b := s.Len(); n != 3 || b != 3*(8+7) {
		t.Errorf("Len = %d, %d", n, b)
	}
	// A restart finds the same batches and continues the sequence.
	s, err = Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append([]byte("batch 3")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		e, ok, err := s.Oldest()
		if err != nil || !ok || string(e.Payload) != fmt.Sprintf("batch %d", i) {
			t.Fatalf("Oldest #%d = %q, %v, %v", i, e.Payload, ok, err)
		}
		if err := s.Remove(e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := s.Oldest(); ok {
		t.Errorf("spool not empty after replaying everything")
	}
	if n, b := s.Len(); n != 0 || b != 0 {
		t.Errorf("Len after draining = %d, %d", n, b)
	}
}

func TestFull(t *testing.T) {
	s, err := Open(t.TempDir(), 20)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append([]byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	if err := s.Append([]byte("0123456789")); !errors.Is(err, ErrFull) {
		t.Errorf("second append = %v, want ErrFull", err)
	}
}

func TestCorruptAndTornFiles(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, 0)
	s.Append([]byte("good one"))
	s.Append([]byte("good two"))
	// Flip a byte of the first file, and leave a torn temporary file behind.
	p := filepath.Join(dir, fmt.Sprintf("%020d.batch", 1))
	data, _ := os.ReadFile(p)
	data[len(data)-1] ^= 0xff
	os.WriteFile(p, data, 0o644)
	os.WriteFile(filepath.Join(dir, fmt.Sprintf("%020d.batch.tmp", 3)), []byte("half"), 0o644)

	s, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Len(); n != 2 {
		t.Errorf("Len = %d, want 2 (the torn temporary file is not a batch)", n)
	}
	e, ok, err := s.Oldest()
	if !ok || !errors.Is(err, ErrCorrupt) || e.Seq != 1 {
		t.Fatalf("Oldest = %v, %v, %v; want the corrupt first file", e, ok, err)
	}
	if err := s.Quarantine(e.Seq); err != nil {
		t.Fatal(err)
	}
	e, ok, err = s.Oldest()
	if err != nil || !ok || string(e.Payload) != "good two" {
		t.Errorf("after quarantine: %q, %v, %v", e.Payload, ok, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "failed", fmt.Sprintf("%020d.batch", 1))); err != nil {
		t.Errorf("quarantined file: %v", err)
	}
}

func FuzzOldest(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 'x'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("%020d.batch", 1)), data, 0o644)
		s, err := Open(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		e, ok, err := s.Oldest()
		if !ok {
			t.Fatal("file not found")
		}
		if err == nil && len(e.Payload) != len(data)-8 {
			t.Fatalf("payload of %d bytes from a %d-byte file", len(e.Payload), len(data))
		}
	})
}
