// Package billing imports cloud bills into FOCUS-shaped cost lines: FinOps
// FOCUS 1.0 to 1.2 CSV, and AWS CUR (2.0 and legacy), GCP and Azure exports
// mapped onto the same columns. Files are
// streamed, never loaded whole; a bad row is reported with its line, column
// and reason while the rest of the file imports; a file whose format or
// header is wrong is refused before anything is written. Imports are
// idempotent: a line's identity is derived from its content, so importing a
// file (or an export overlapping it) again replaces lines instead of adding
// them.
package billing

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-dev/vigil/store"
)

// Formats.
const (
	FormatAuto           = "auto"
	FormatFOCUS          = "focus"          // FinOps FOCUS 1.0, 1.1, 1.2
	FormatAWSCUR         = "aws-cur"        // AWS CUR 2.0 (snake_case columns)
	FormatAWSCURLegacy   = "aws-cur-legacy" // legacy CUR (lineItem/UnblendedCost)
	FormatGCP            = "gcp"            // GCP billing export
	FormatAzure          = "azure"          // Azure cost export, actual cost
	FormatAzureAmortized = "azure-amortized"
)

// RowError is one rejected row.
type RowError struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
}

func (e RowError) String() string {
	if e.Column != "" {
		return fmt.Sprintf("line %d, column %s: %s", e.Line, e.Column, e.Reason)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

// maxReportedErrors bounds the errors a summary lists; the count is exact.
const maxReportedErrors = 100

// Summary says what an import did.
type Summary struct {
	File     string     `json:"file"`
	Format   string     `json:"format"`
	Rows     int        `json:"rows"`
	Accepted int        `json:"accepted"`
	Rejected int        `json:"rejected"`
	Errors   []RowError `json:"errors,omitempty"` // the first 100
}

// FileError refuses a whole file; nothing of it was written.
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// Options configure an import.
type Options struct {
	Tenant    string
	Format    string // FormatAuto (by header) or a format name
	BatchSize int    // lines per write; 0 means 10,000
}

// Import streams a CSV bill into w.
func Import(ctx context.Context, w store.CostWriter, name string, r io.Reader, o Options) (Summary, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = 10000
	}
	if o.Tenant == "" {
		o.Tenant = store.DefaultTenant
	}
	sum := Summary{File: name}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // checked per row, to report the line
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("the file is empty")
		}
		return sum, &FileError{name, fmt.Errorf("cannot read the header: %w", err)}
	}
	header = append([]string(nil), header...)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // a UTF-8 byte order mark
	}
	m, cols, format, err := newMapper(header, o.Format)
	if err != nil {
		return sum, &FileError{name, err}
	}
	sum.Format = format

	batch := make([]store.CostLine, 0, o.BatchSize)
	// Identical rows get numbered, so none collapses into another. This map
	// is the one thing that grows with the file: 16 bytes of key a row.
	seen := map[[16]byte]int32{}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := w.WriteCostLines(ctx, batch); err != nil {
			return fmt.Errorf("%s: cannot write cost lines: %w", name, err)
		}
		sum.Accepted += len(batch)
		batch = batch[:0]
		return nil
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// A broken quote can swallow the rest of the file: stop here,
				// keeping what was read.
				sum.Rows++
				sum.reject(RowError{Line: pe.Line, Reason: pe.Err.Error()})
				break
			}
			return sum, fmt.Errorf("%s: %w", name, err)
		}
		sum.Rows++
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			sum.reject(RowError{Line: line, Reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(header))})
			continue
		}
		r := row{cols: cols, rec: rec}
		cl := m.line(&r)
		if r.err != nil {
			r.err.Line = line
			sum.reject(*r.err)
			continue
		}
		cl.Tenant, cl.Source = o.Tenant, format+":"+name
		id := rowHash(rec)
		seen[id]++
		cl.LineID = hex.EncodeToString(id[:])
		if n := seen[id]; n > 1 {
			cl.LineID += fmt.Sprintf("#%d", n)
		}
		batch = append(batch, cl)
		if len(batch) == o.BatchSize {
			if err := flush(); err != nil {
				return sum, err
			}
		}
		if err := ctx.Err(); err != nil {
			return sum, err
		}
	}
	return sum, flush()
}

func (s *Summary) reject(e RowError) {
	s.Rejected++
	if len(s.Errors) < maxReportedErrors {
		s.Errors = append(s.Errors, e)
	}
}

// rowHash is a line's identity: a hash of every field as written.
func rowHash(rec []string) (out [16]byte) {
	h := sha256.New()
	for _, f := range rec {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	copy(out[:], h.Sum(nil))
	return out
}
