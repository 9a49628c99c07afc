// Package spool keeps batches on disk while the store cannot take them, and
// gives them back oldest first. Each batch is one file, written to a
// temporary name, synced and renamed, so a crash never leaves half a batch
// where replay would find it.
package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// ErrFull is returned when a batch would take the spool over its limit.
var ErrFull = errors.New("spool is full")

const suffix = ".batch"

// Spool is a directory of spooled batches. It is safe for concurrent use.
type Spool struct {
	dir      string
	maxBytes int64

	mu    sync.Mutex
	next  uint64 // sequence number of the next file
	bytes int64  // total size of the files
	count int
}

// Open opens (creating) the spool in dir, counting what a previous run left.
func Open(dir string, maxBytes int64) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create spool directory: %w", err)
	}
	s := &Spool{dir: dir, maxBytes: maxBytes, next: 1}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read spool directory: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			os.Remove(filepath.Join(dir, name)) // a write cut short: never acknowledged
			continue
		}
		seq, ok := parseName(name)
		if !ok {
			continue
		}
		if info, err := e.Info(); err == nil {
			s.bytes += info.Size()
		}
		s.count++
		if seq >= s.next {
			s.next = seq + 1
		}
	}
	return s, nil
}

func parseName(name string) (uint64, bool) {
	if !strings.HasSuffix(name, suffix) {
		return 0, false
	}
	seq, err := strconv.ParseUint(strings.TrimSuffix(name, suffix), 10, 64)
	return seq, err == nil
}

func (s *Spool) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, suffix))
}

// Append stores a batch durably (fsync) and returns once it is on disk.
func (s *Spool) Append(payload []byte) error {
	frame := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint32(frame[0:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(frame[4:8], crc32.ChecksumIEEE(payload))
	copy(frame[8:], payload)

	s.mu.Lock()
	if s.maxBytes > 0 && s.bytes+int64(len(frame)) > s.maxBytes {
		s.mu.Unlock()
		return ErrFull
	}
	seq := s.next
	s.next++
	s.bytes += int64(len(frame))
	s.count++
	s.mu.Unlock()

	if err := writeFileSync(s.path(seq), frame); err != nil {
		s.mu.Lock()
		s.bytes -= int64(len(frame))
		s.count--
		s.mu.Unlock()
		return fmt.Errorf("cannot spool batch: %w", err)
	}
	return nil
}

func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	// Sync the directory so the rename itself survives a crash.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Len returns the number of spooled batches and their total size.
func (s *Spool) Len() (batches int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count, s.bytes
}

// Entry is a spooled batch.
type Entry struct {
	Seq     uint64
	Payload []byte
}

// ErrCorrupt wraps a batch file that fails its checksum or framing.
var ErrCorrupt = errors.New("corrupt spool file")

// Oldest returns the oldest batch without removing it; ok is false when the
// spool is empty. A corrupt file is returned as an error wrapping
// ErrCorrupt, with its Seq set so the caller can quarantine it.
func (s *Spool) Oldest() (e Entry, ok bool, err error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return Entry{}, false, err
	}
	var seqs []uint64
	for _, de := range entries {
		if seq, ok := parseName(de.Name()); ok {
			seqs = append(seqs, seq)
		}
	}
	if len(seqs) == 0 {
		return Entry{}, false, nil
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	e.Seq = seqs[0]
	data, err := os.ReadFile(s.path(e.Seq))
	if err != nil {
		return e, true, err
	}
	if len(data) < 8 || int(binary.BigEndian.Uint32(data[0:4])) != len(data)-8 ||
		crc32.ChecksumIEEE(data[8:]) != binary.BigEndian.Uint32(data[4:8]) {
		return e, true, fmt.Errorf("%w %s", ErrCorrupt, s.path(e.Seq))
	}
	e.Payload = data[8:]
	return e, true, nil
}

// Remove deletes a replayed batch.
func (s *Spool) Remove(seq uint64) error {
	return s.drop(seq, func(p string) error { return os.Remove(p) })
}

// Quarantine moves a batch that cannot be replayed into the failed/
// subdirectory, out of the replay order, for a person to look at.
func (s *Spool) Quarantine(seq uint64) error {
	return s.drop(seq, func(p string) error {
		failed := filepath.Join(s.dir, "failed")
		if err := os.MkdirAll(failed, 0o755); err != nil {
			return err
		}
		return os.Rename(p, filepath.Join(failed, filepath.Base(p)))
	})
}

func (s *Spool) drop(seq uint64, op func(path string) error) error {
	p := s.path(seq)
	info, err := os.Stat(p)
	if err != nil {
		return err
	}
	if err := op(p); err != nil {
		return err
	}
	s.mu.Lock()
	s.bytes -= info.Size()
	s.count--
	s.mu.Unlock()
	return nil
}
