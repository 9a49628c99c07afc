package billing

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/vigil-dev/vigil/store"
)

// parquetMagic begins and ends every (unencrypted) Parquet file.
const parquetMagic = "PAR1"

// ImportFile imports the bill in the file at path, CSV or Parquet: a file
// that begins with Parquet's magic bytes is read as Parquet, whatever its
// name, anything else as CSV. A file that cannot be read at random (a pipe)
// is read once as ImportStream reads it.
func ImportFile(ctx context.Context, w store.CostWriter, path string, o Options) (Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return Summary{File: path}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Summary{File: path}, err
	}
	if !st.Mode().IsRegular() {
		return ImportStream(ctx, w, path, f, o)
	}
	head := make([]byte, len(parquetMagic))
	if n, _ := f.ReadAt(head, 0); n == len(head) && string(head) == parquetMagic {
		return ImportParquet(ctx, w, path, f, st.Size(), o)
	}
	return Import(ctx, w, path, f, o)
}

// ImportStream imports a bill read once from r, CSV or Parquet, told apart
// by Parquet's magic bytes at its start. A Parquet file is first copied to a
// temporary file in o.TempDir, removed afterwards: its footer, at the end,
// says where everything else is, so it cannot be read front to back. The
// copy's size is whatever bounds r (an HTTP upload limit).
func ImportStream(ctx context.Context, w store.CostWriter, name string, r io.Reader, o Options) (Summary, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(len(parquetMagic)); string(head) != parquetMagic {
		return Import(ctx, w, name, br, o)
	}
	tmp, err := os.CreateTemp(o.TempDir, "vigil-billing-*.parquet")
	if err != nil {
		return Summary{File: name}, fmt.Errorf("%s: cannot keep the Parquet file while it imports: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, err := io.Copy(tmp, br)
	if err != nil {
		return Summary{File: name}, fmt.Errorf("%s: cannot read the Parquet file: %w", name, err)
	}
	return ImportParquet(ctx, w, name, tmp, size, o)
}

// maxChunkBytes bounds what one column chunk may claim to decompress to:
// no bill's column needs a gigabyte, so a footer claiming more is refused
// before any page is read rather than tried.
const maxChunkBytes = 1 << 30

// checkParquetSizes refuses a footer whose column chunks claim more than
// maxChunkBytes uncompressed, or more than the file holds compressed.
// Page headers can still lie within those bounds; this catches the cheap
// bombs, not a determined one.
func checkParquetSizes(f *parquet.File, size int64) error {
	for g, rg := range f.Metadata().RowGroups {
		for _, c := range rg.Columns {
			md := c.MetaData
			if md.TotalUncompressedSize > maxChunkBytes || md.TotalUncompressedSize < 0 || md.TotalCompressedSize > size || md.TotalCompressedSize < 0 {
				return fmt.Errorf("row group %d, column %s: claims %d bytes (%d compressed) in a file of %d: refused", g+1,
					strings.Join(md.PathInSchema, "."), md.TotalUncompressedSize, md.TotalCompressedSize, size)
			}
		}
	}
	return nil
}

// ImportParquet streams a Parquet bill of size bytes from r into w, one row
// group at a time and within it page by page, never the whole file. Each
// row becomes the same text record a CSV row is (see parquetColumn for how
// each type is written) and goes through the same mapping, validation and
// line ids; errors name the row (1-based) and the column. The header check
// happens before anything is written, as for CSV.
func ImportParquet(ctx context.Context, w store.CostWriter, name string, r io.ReaderAt, size int64, o Options) (Summary, error) {
	sum := Summary{File: name}
	if err := checkParquetMagic(r, size); err != nil {
		return sum, &FileError{name, err}
	}
	o = o.withDefaults()
	var f *parquet.File
	var pcols []parquetColumn
	err := safely(func() (err error) {
		f, err = parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
		if err != nil {
			return fmt.Errorf("cannot read the Parquet footer: %w", err)
		}
		if err := checkParquetSizes(f, size); err != nil {
			return err
		}
		pcols, err = parquetColumns(f.Root())
		return err
	})
	if err != nil {
		return sum, &FileError{name, err}
	}
	header := make([]string, len(pcols))
	for i, c := range pcols {
		header[i] = c.name
	}
	m, cols, format, err := newMapper(header, o.Format)
	if err != nil {
		return sum, &FileError{name, err}
	}
	sum.Format = format
	im := newImporter(ctx, w, name, o, &sum, m, cols, format)

	rec := make([]string, len(pcols))
	ends := make([]int, len(pcols))
	var text []byte
	rows := make([]parquet.Row, 256)
	leaves := make([][]parquet.Value, numLeaves(pcols))
	var n int64 // rows read before this one
	for g, rg := range f.RowGroups() {
		first := n // the row group's rows are first+1 ...
		err := readRowGroup(rg, rows, func(row parquet.Row) error {
			n++
			sum.Rows++
			splitRow(row, leaves)
			// One string a row, cut into fields, as encoding/csv does.
			text = text[:0]
			for i := range pcols {
				text = pcols[i].text(text, leaves)
				ends[i] = len(text)
			}
			all, start := string(text), 0
			for i, end := range ends {
				rec[i], start = all[start:end], end
			}
			return im.add(rec, RowError{Row: n})
		})
		var re *readError
		if errors.As(err, &re) {
			// A row group stands alone: reject the rest of this one, as a
			// CSV file's broken quote rejects the rest of it, and go on.
			rest := max(first+rg.NumRows()-n, 0)
			sum.Rows += int(rest)
			sum.Rejected += int(rest)
			if len(sum.Errors) < maxReportedErrors {
				sum.Errors = append(sum.Errors, RowError{Row: n + 1, Reason: fmt.Sprintf("cannot read row group %d, so its last %d row(s): %v", g+1, rest, re.err)})
			}
			n += rest
			continue
		}
		if err != nil {
			return sum, err
		}
	}
	return sum, im.flush()
}

// checkParquetMagic refuses a file that does not begin and end with PAR1,
// above all a truncated one, which has lost its footer.
func checkParquetMagic(r io.ReaderAt, size int64) error {
	m := len(parquetMagic)
	if size < int64(2*m) {
		return fmt.Errorf("is not a Parquet file: %d bytes is too short for one", size)
	}
	head, tail := make([]byte, m), make([]byte, m)
	if _, err := r.ReadAt(head, 0); err != nil {
		return fmt.Errorf("cannot read the Parquet file: %w", err)
	}
	if string(head) != parquetMagic {
		return fmt.Errorf("is not a Parquet file: it does not begin with %q", parquetMagic)
	}
	if _, err := r.ReadAt(tail, size-int64(m)); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("cannot read the Parquet file: %w", err)
	}
	switch string(tail) {
	case parquetMagic:
		return nil
	case "PARE":
		return errors.New("is an encrypted Parquet file, which cannot be imported")
	}
	return fmt.Errorf("is not a whole Parquet file: it begins with %q but does not end with it, so it was truncated and its footer, which describes its columns, is lost", parquetMagic)
}

// readError is a failure to decode the file's pages, as against a failure
// to write what was decoded.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }

// readRowGroup calls fn for each row of rg, reading a few hundred rows at a
// time into buf; fn must not keep the row.
func readRowGroup(rg parquet.RowGroup, buf []parquet.Row, fn func(parquet.Row) error) error {
	var rows parquet.Rows
	if err := safely(func() error { rows = rg.Rows(); return nil }); err != nil {
		return &readError{err}
	}
	defer safely(rows.Close)
	for {
		var k int
		var err error
		if perr := safely(func() error { k, err = rows.ReadRows(buf); return nil }); perr != nil {
			return &readError{perr}
		}
		for _, row := range buf[:k] {
			if err := fn(row); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &readError{err}
		}
		if k == 0 {
			return &readError{errors.New("the reader returned no rows and no error")}
		}
	}
}

// safely runs a call into the Parquet decoder, a third-party library fed
// untrusted bytes that panics on some malformed files: such a panic is a
// broken file, reported as an error, not a broken server.
func safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the file is malformed: %v", p)
		}
	}()
	return fn()
}

// splitRow points leaves[c] at the values of leaf column c in row, which
// holds them ordered by column.
func splitRow(row parquet.Row, leaves [][]parquet.Value) {
	for i := range leaves {
		leaves[i] = nil
	}
	for i := 0; i < len(row); {
		c := row[i].Column()
		j := i + 1
		for j < len(row) && row[j].Column() == c {
			j++
		}
		if c >= 0 && c < len(leaves) {
			leaves[c] = row[i:j]
		}
		i = j
	}
}

func numLeaves(pcols []parquetColumn) int {
	n := 0
	for _, c := range pcols {
		for _, l := range c.leaves {
			n = max(n, l.index+1)
		}
	}
	return n
}
