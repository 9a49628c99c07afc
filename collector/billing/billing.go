// Package billing imports cloud bills into FOCUS-shaped cost lines: FinOps
// FOCUS 1.0 to 1.2, and AWS CUR (2.0 and legacy), GCP and Azure exports
// mapped onto the same columns, from CSV or Parquet files. Files are
// streamed, never loaded whole; a bad row is reported with its line (a
// Parquet file's row), column and reason while the rest of the file
// imports; a file whose format or
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

// RowError is one rejected row: a CSV file's line, or a Parquet file's row
// (1-based), which has no lines.
type RowError struct {
	Line   int    `json:"line,omitempty"`
	Row    int64  `json:"row,omitempty"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
}

func (e RowError) String() string {
	at := fmt.Sprintf("line %d", e.Line)
	if e.Row > 0 {
		at = fmt.Sprintf("row %d", e.Row)
	}
	if e.Column != "" {
		return fmt.Sprintf("%s, column %s: %s", at, e.Column, e.Reason)
	}
	return at + ": " + e.Reason
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
	// TempDir holds a Parquet file read from a stream while it imports:
	// Parquet needs random access, its footer being at the end. Empty means
	// the system's temporary directory.
	TempDir string
}

func (o Options) withDefaults() Options {
	if o.BatchSize <= 0 {
		o.BatchSize = 10000
	}
	if o.Tenant == "" {
		o.Tenant = store.DefaultTenant
	}
	return o
}

// Import streams a CSV bill into w. ImportFile and ImportStream also take
// Parquet.
func Import(ctx context.Context, w store.CostWriter, name string, r io.Reader, o Options) (Summary, error) {
	o = o.withDefaults()
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

	im := newImporter(ctx, w, name, o, &sum, m, cols, format)
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
		if err := im.add(rec, RowError{Line: line}); err != nil {
			return sum, err
		}
	}
	return sum, im.flush()
}

// importer maps records to cost lines and writes them in batches; the CSV
// and Parquet readers both feed it, so they share validation, error
// reporting and line ids.
type importer struct {
	ctx    context.Context
	w      store.CostWriter
	name   string
	o      Options
	sum    *Summary
	m      mapper
	cols   columns
	format string
	batch  []store.CostLine
	// Identical rows get numbered, so none collapses into another. This map
	// is the one thing that grows with the file: 16 bytes of key a row.
	seen map[[16]byte]int32
}

func newImporter(ctx context.Context, w store.CostWriter, name string, o Options, sum *Summary, m mapper, cols columns, format string) *importer {
	return &importer{ctx: ctx, w: w, name: name, o: o, sum: sum, m: m, cols: cols, format: format,
		batch: make([]store.CostLine, 0, o.BatchSize), seen: map[[16]byte]int32{}}
}

// add maps one record, which the caller has counted in Rows; at says where
// it is (Line or Row) for an error. The record is not retained.
func (im *importer) add(rec []string, at RowError) error {
	r := row{cols: im.cols, rec: rec}
	cl := im.m.line(&r)
	if r.err != nil {
		r.err.Line, r.err.Row = at.Line, at.Row
		im.sum.reject(*r.err)
		return nil
	}
	cl.Tenant, cl.Source = im.o.Tenant, im.format+":"+im.name
	id := rowHash(rec)
	im.seen[id]++
	cl.LineID = hex.EncodeToString(id[:])
	if n := im.seen[id]; n > 1 {
		cl.LineID += fmt.Sprintf("#%d", n)
	}
	im.batch = append(im.batch, cl)
	if len(im.batch) == im.o.BatchSize {
		if err := im.flush(); err != nil {
			return err
		}
	}
	return im.ctx.Err()
}

func (im *importer) flush() error {
	if len(im.batch) == 0 {
		return nil
	}
	if err := im.w.WriteCostLines(im.ctx, im.batch); err != nil {
		return fmt.Errorf("%s: cannot write cost lines: %w", im.name, err)
	}
	im.sum.Accepted += len(im.batch)
	im.batch = im.batch[:0]
	return nil
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
