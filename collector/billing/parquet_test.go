package billing

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// pqKind is how the test writes one CSV column to Parquet.
type pqKind int

const (
	pqString         pqKind = iota
	pqDecimal12             // DECIMAL(38,12) in 16 fixed bytes
	pqDecimal15             // DECIMAL(38,15) in 16 fixed bytes
	pqDecimal11Int64        // DECIMAL(18,11) in an INT64
	pqDecimal12Bytes        // DECIMAL(38,12) in a variable BYTE_ARRAY
	pqDouble
	pqTimestamp // TIMESTAMP(MILLIS, UTC) from "2006-01-02 15:04:05"
	pqInt64
	pqTagsMap // MAP<STRING, STRING> from a JSON object
)

func (k pqKind) node() parquet.Node {
	switch k {
	case pqDecimal12:
		return parquet.Decimal(12, 38, parquet.FixedLenByteArrayType(16))
	case pqDecimal15:
		return parquet.Decimal(15, 38, parquet.FixedLenByteArrayType(16))
	case pqDecimal11Int64:
		return parquet.Decimal(11, 18, parquet.Int64Type)
	case pqDecimal12Bytes:
		return parquet.Decimal(12, 38, parquet.ByteArrayType)
	case pqDouble:
		return parquet.Leaf(parquet.DoubleType)
	case pqTimestamp:
		return parquet.TimestampAdjusted(parquet.Millisecond, true)
	case pqInt64:
		return parquet.Int(64)
	case pqTagsMap:
		return parquet.Map(parquet.String(), parquet.Optional(parquet.String()))
	}
	return parquet.String()
}

// unscaled is an exact decimal's unscaled integer at scale, failing the
// test if the text has more decimals than the column keeps.
func unscaled(t testing.TB, s string, scale int32) *big.Int {
	d := decimal.RequireFromString(s).Shift(scale)
	if !d.Equal(d.Truncate(0)) {
		t.Fatalf("%s does not fit %d decimals", s, scale)
	}
	return d.BigInt()
}

// twosComplement writes n big-endian in size bytes, or in as few as hold it
// when size is 0.
func twosComplement(n *big.Int, size int) []byte {
	if size == 0 {
		size = (n.BitLen() + 8) / 8 // one spare bit for the sign
	}
	v := new(big.Int).Set(n)
	if v.Sign() < 0 {
		v.Add(v, new(big.Int).Lsh(big.NewInt(1), uint(8*size)))
	}
	return v.FillBytes(make([]byte, size))
}

func (k pqKind) value(t testing.TB, s string) parquet.Value {
	switch k {
	case pqDecimal12, pqDecimal15:
		scale := int32(12)
		if k == pqDecimal15 {
			scale = 15
		}
		return parquet.FixedLenByteArrayValue(twosComplement(unscaled(t, s, scale), 16))
	case pqDecimal11Int64:
		return parquet.Int64Value(unscaled(t, s, 11).Int64())
	case pqDecimal12Bytes:
		return parquet.ByteArrayValue(twosComplement(unscaled(t, s, 12), 0))
	case pqDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return parquet.DoubleValue(f)
	case pqTimestamp:
		ts, err := time.Parse(time.DateTime, s)
		if err != nil {
			t.Fatal(err)
		}
		return parquet.Int64Value(ts.UnixMilli())
	case pqInt64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return parquet.Int64Value(n)
	}
	return parquet.ByteArrayValue([]byte(s))
}

// toParquet converts a CSV bill to Parquet, every column optional, the
// literal NULL (and, but in strings, an empty field) as null, rowsPerGroup
// rows a row group; columns not in kinds are strings, and drop leaves
// columns out.
func toParquet(t testing.TB, csvText []byte, kinds map[string]pqKind, rowsPerGroup int64, drop ...string) []byte {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(csvText))
	header, err := cr.Read()
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]int{}
	group := parquet.Group{}
	for i, h := range header {
		if slices.Contains(drop, h) {
			continue
		}
		at[h] = i
		group[h] = parquet.Optional(kinds[h].node())
	}
	schema := parquet.NewSchema("focus", group)
	var out bytes.Buffer
	w := parquet.NewWriter(&out, schema, parquet.MaxRowsPerRowGroup(rowsPerGroup), parquet.Compression(&parquet.Snappy))
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var row parquet.Row
		for i, path := range schema.Columns() {
			k, s := kinds[path[0]], rec[at[path[0]]]
			null := s == "NULL" || (s == "" && k != pqString)
			switch {
			case null:
				row = append(row, parquet.NullValue().Level(0, 0, i))
			case k == pqTagsMap:
				var m map[string]string
				if err := json.Unmarshal([]byte(s), &m); err != nil {
					t.Fatal(err)
				}
				keys := slices.Sorted(func(yield func(string) bool) {
					for k := range m {
						if !yield(k) {
							return
						}
					}
				})
				if len(keys) == 0 {
					row = append(row, parquet.NullValue().Level(0, 1, i)) // an empty map
				}
				for j, key := range keys {
					rep := min(j, 1)
					if path[len(path)-1] == "key" {
						row = append(row, parquet.ByteArrayValue([]byte(key)).Level(rep, 2, i))
					} else {
						row = append(row, parquet.ByteArrayValue([]byte(m[key])).Level(rep, 3, i))
					}
				}
			default:
				row = append(row, k.value(t, s).Level(0, 1, i))
			}
		}
		if _, err := w.WriteRows([]parquet.Row{row}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// The sample as exact decimals and timestamps, its tags as a map; and
// with its costs as doubles and its tags as JSON text.
var (
	sampleDecimalKinds = map[string]pqKind{
		"BilledCost": pqDecimal12, "EffectiveCost": pqDecimal12, "ListCost": pqDecimal12, "ContractedCost": pqDecimal12,
		"PricingQuantity": pqDecimal11Int64, "ContractedUnitPrice": pqDecimal11Int64, "ConsumedQuantity": pqDecimal15,
		"ListUnitPrice": pqDecimal12Bytes, "Id": pqInt64, "Tags": pqTagsMap,
		"BillingPeriodStart": pqTimestamp, "BillingPeriodEnd": pqTimestamp, "ChargePeriodStart": pqTimestamp, "ChargePeriodEnd": pqTimestamp,
	}
	sampleDoubleKinds = map[string]pqKind{
		"BilledCost": pqDouble, "EffectiveCost": pqDouble, "ListCost": pqDouble, "ContractedCost": pqDouble,
		"PricingQuantity": pqDouble, "ConsumedQuantity": pqDouble,
		"BillingPeriodStart": pqTimestamp, "BillingPeriodEnd": pqTimestamp, "ChargePeriodStart": pqTimestamp, "ChargePeriodEnd": pqTimestamp,
	}
)

func sampleCSV(t testing.TB) []byte {
	b, err := os.ReadFile("testdata/focus_1.0_sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The sample imports from Parquet to exactly the CSV's totals, through the
// file entry point (which knows Parquet by its bytes, not its name), and a
// second import changes nothing.
func TestParquetSampleEmbedded(t *testing.T) {
	for _, c := range []struct {
		name  string
		kinds map[string]pqKind
	}{{"decimal", sampleDecimalKinds}, {"double", sampleDoubleKinds}} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sample.bill") // no .parquet: detection is by content
			if err := os.WriteFile(path, toParquet(t, sampleCSV(t), c.kinds, 300), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := embedded.Open(context.Background(), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			checkTotals(t, s, func() Summary {
				sum, err := ImportFile(context.Background(), s, path, Options{Tenant: "acme", BatchSize: 300})
				if err != nil {
					t.Fatal(err)
				}
				return sum
			})
		})
	}
}

var update = flag.Bool("update", false, "rewrite testdata/focus_1.0_sample.parquet from the CSV sample")

// sampleParquet is the committed Parquet twin of the CSV sample, which
// the CLI's and the API's tests import; go test -run TestSampleParquetFixture
// -update rewrites it.
const sampleParquet = "testdata/focus_1.0_sample.parquet"

func TestSampleParquetFixture(t *testing.T) {
	if *update {
		if err := os.WriteFile(sampleParquet, toParquet(t, sampleCSV(t), sampleDecimalKinds, 400), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pq, err := os.ReadFile(sampleParquet)
	if err != nil {
		t.Fatal(err)
	}
	want, got := &memWriter{}, &memWriter{}
	if _, err := Import(context.Background(), want, "s.csv", bytes.NewReader(sampleCSV(t)), Options{}); err != nil {
		t.Fatal(err)
	}
	sum, err := ImportParquet(context.Background(), got, sampleParquet, bytes.NewReader(pq), int64(len(pq)), Options{})
	if err != nil || sum.Accepted != 1000 || len(got.lines) != 1000 {
		t.Fatalf("%+v %v", sum, err)
	}
	for i := range want.lines {
		if w, g := comparable(want.lines[i]), comparable(got.lines[i]); !reflect.DeepEqual(w, g) {
			t.Fatalf("line %d\n got %+v\nwant %+v", i+1, g, w)
		}
	}
}

// Every line from Parquet is the line from CSV, field by field, but for
// its id and source, which name the bytes it came from.
func TestParquetMatchesCSV(t *testing.T) {
	want := &memWriter{}
	if _, err := Import(context.Background(), want, "s.csv", bytes.NewReader(sampleCSV(t)), Options{}); err != nil {
		t.Fatal(err)
	}
	for name, kinds := range map[string]map[string]pqKind{"decimal": sampleDecimalKinds, "double": sampleDoubleKinds, "strings": nil} {
		got := &memWriter{}
		pq := toParquet(t, sampleCSV(t), kinds, 128)
		sum, err := ImportParquet(context.Background(), got, "s.parquet", bytes.NewReader(pq), int64(len(pq)), Options{})
		if err != nil || sum.Rows != 1000 || sum.Accepted != 1000 {
			t.Fatalf("%s: %+v %v", name, sum, err)
		}
		for i := range want.lines {
			w, g := comparable(want.lines[i]), comparable(got.lines[i])
			if !reflect.DeepEqual(w, g) {
				t.Fatalf("%s: line %d\n got %+v\nwant %+v", name, i+1, g, w)
			}
		}
	}
}

// comparable blanks a line's id and source and writes its amounts in
// their shortest form (0.5 and 0.500 are the same cost).
func comparable(l store.CostLine) store.CostLine {
	l.LineID, l.Source = "", ""
	for _, d := range []*decimal.Decimal{&l.BilledCost, &l.EffectiveCost, &l.ListCost, &l.ContractedCost, &l.PricingQuantity, &l.ConsumedQuantity} {
		*d = decimal.RequireFromString(d.String())
	}
	return l
}

// A bad row is reported by its row number and column, with the reason the
// CSV path gives, and the rest imports.
func TestParquetRowErrors(t *testing.T) {
	text := header +
		focusRow("1.5", "2024-09-01T00:00:00Z", `"{""team"": ""search""}"`) + // row 1: good
		focusRow("lots", "2024-09-01T00:00:00Z", "") + // row 2: non-numeric cost
		focusRow("2", "yesterday", "") + // row 3: bad date
		focusRow("3", "2024-09-01 10:00:00", "{broken") + // row 4: bad tags
		focusRow("4", "2024-09-01", "") // row 5: good
	pq := toParquet(t, []byte(text), nil, 2)
	w := &memWriter{}
	sum, err := ImportParquet(context.Background(), w, "bill.parquet", bytes.NewReader(pq), int64(len(pq)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range sum.Errors {
		got = append(got, e.String())
	}
	want := []string{
		`row 2, column BilledCost: "lots" is not a number`,
		`row 3, column ChargePeriodStart: "yesterday" is not a date-time (want ISO 8601, e.g. 2024-09-01T00:00:00Z or 2024-09-01 00:00:00)`,
		`row 4, column Tags: is not a JSON object: invalid character 'b' looking for beginning of object key string`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if sum.Format != FormatFOCUS || sum.Rows != 5 || sum.Accepted != 2 || sum.Rejected != 3 || len(w.lines) != 2 {
		t.Fatalf("summary %+v, %d lines written", sum, len(w.lines))
	}
	if v, _ := w.lines[0].Tags.Get("team"); v != "search" {
		t.Errorf("tags %v", w.lines[0].Tags)
	}
	b, _ := json.Marshal(sum.Errors[0])
	if string(b) != `{"row":2,"column":"BilledCost","reason":"\"lots\" is not a number"}` {
		t.Errorf("JSON error %s", b)
	}
}

// A truncated file, one that is not Parquet inside, and one missing a
// mandatory column are refused by name before anything is written, by
// every entry point.
func TestParquetFileErrorsWriteNothing(t *testing.T) {
	whole := toParquet(t, sampleCSV(t), sampleDecimalKinds, 300)
	noEffective := toParquet(t, sampleCSV(t), sampleDecimalKinds, 300, "EffectiveCost")
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", whole[:len(whole)/2], `is not a whole Parquet file: it begins with "PAR1" but does not end with it, so it was truncated`},
		{"footer lost", whole[:len(whole)-1], "is not a whole Parquet file"},
		{"not Parquet inside", []byte("PAR1 these are not the bytes you are looking for PAR1"), "cannot read the Parquet footer"},
		{"missing column", noEffective, "not a focus file: missing required column(s) EffectiveCost"},
	} {
		imports := map[string]func(w store.CostWriter) error{
			"ImportParquet": func(w store.CostWriter) error {
				_, err := ImportParquet(context.Background(), w, "bill.parquet", bytes.NewReader(c.data), int64(len(c.data)), Options{})
				return err
			},
			"ImportStream": func(w store.CostWriter) error {
				_, err := ImportStream(context.Background(), w, "bill.parquet", bytes.NewReader(c.data), Options{TempDir: t.TempDir()})
				return err
			},
			"ImportFile": func(w store.CostWriter) error {
				path := filepath.Join(t.TempDir(), "bill.parquet")
				os.WriteFile(path, c.data, 0o600)
				_, err := ImportFile(context.Background(), w, path, Options{})
				return err
			},
		}
		for entry, imp := range imports {
			w := &memWriter{}
			err := imp(w)
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bill.parquet: ") {
				t.Errorf("%s, %s: %v, want a file error containing %q", c.name, entry, err, c.want)
			}
			if len(w.lines) != 0 {
				t.Errorf("%s, %s: %d lines written from a refused file", c.name, entry, len(w.lines))
			}
		}
	}
}

// A stream is CSV or Parquet by its first bytes, and the spooled Parquet
// copy is removed.
func TestImportStreamDetects(t *testing.T) {
	dir := t.TempDir()
	pq := toParquet(t, sampleCSV(t), sampleDecimalKinds, 1000)
	for name, data := range map[string][]byte{"csv": sampleCSV(t), "parquet": pq} {
		w := &memWriter{}
		sum, err := ImportStream(context.Background(), w, "upload", bytes.NewReader(data), Options{TempDir: dir})
		if err != nil || sum.Format != FormatFOCUS || sum.Accepted != 1000 {
			t.Errorf("%s: %+v %v", name, sum, err)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// GCP's export as BigQuery writes it to Parquet: nested records become
// dotted columns, repeated ones JSON arrays, as the CSV mapping reads them.
func TestParquetNestedGCP(t *testing.T) {
	type label struct {
		Key   string `parquet:"key"`
		Value string `parquet:"value"`
	}
	type credit struct {
		Name   string  `parquet:"name"`
		Amount float64 `parquet:"amount"`
	}
	type gcpRow struct {
		Cost     float64   `parquet:"cost"`
		Currency string    `parquet:"currency"`
		Start    time.Time `parquet:"usage_start_time,timestamp(microsecond)"`
		End      time.Time `parquet:"usage_end_time,timestamp(microsecond)"`
		Service  struct {
			Description string `parquet:"description"`
		} `parquet:"service"`
		Labels  []label  `parquet:"labels"`
		Credits []credit `parquet:"credits"`
	}
	start := time.Date(2024, 9, 1, 10, 0, 0, 0, time.UTC)
	r := gcpRow{Cost: 2.5, Currency: "USD", Start: start, End: start.Add(time.Hour),
		Labels: []label{{"team", "search"}, {"env", "prod"}}, Credits: []credit{{"SUD", -0.5}, {"promo", -0.25}}}
	r.Service.Description = "Vertex AI"
	bare := gcpRow{Cost: 1, Currency: "USD", Start: start, End: start.Add(time.Hour)}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, []gcpRow{r, bare}); err != nil {
		t.Fatal(err)
	}
	w := &memWriter{}
	sum, err := ImportParquet(context.Background(), w, "gcp.parquet", bytes.NewReader(buf.Bytes()), int64(buf.Len()), Options{})
	if err != nil || sum.Format != FormatGCP || sum.Accepted != 2 {
		t.Fatalf("%+v %v", sum, err)
	}
	l := w.lines[0]
	if l.ServiceName != "Vertex AI" || l.BilledCost.String() != "2.5" || l.EffectiveCost.String() != "1.75" || !l.ChargePeriodStart.Equal(start) {
		t.Errorf("line %+v", l)
	}
	if v, _ := l.Tags.Get("team"); v != "search" || len(l.Tags) != 2 {
		t.Errorf("tags %v", l.Tags)
	}
	if b := w.lines[1]; len(b.Tags) != 0 || b.EffectiveCost.String() != "1" {
		t.Errorf("bare line %+v", b)
	}
}

func TestDecimalText(t *testing.T) {
	for _, c := range []struct {
		bytes []byte
		scale int
		want  string
	}{
		{[]byte{0x05}, 2, "0.05"},
		{[]byte{0xfb}, 2, "-0.05"},
		{[]byte{0x30, 0x39}, 0, "12345"},
		{[]byte{0x30, 0x39}, 3, "12.345"},
		{[]byte{0x30, 0x39}, 5, "0.12345"},
		{twosComplement(big.NewInt(-800000), 16), 12, "-0.000000800000"},
		{twosComplement(new(big.Int).Lsh(big.NewInt(1), 100), 16), 12, "1267650600228229401.496703205376"},
	} {
		if got := string(appendDecimal(nil, unscaledText(c.bytes), c.scale)); got != c.want {
			t.Errorf("%x scale %d: %s, want %s", c.bytes, c.scale, got, c.want)
		}
	}
}

func FuzzImportParquet(f *testing.F) {
	text := strings.Join(strings.SplitAfter(string(sampleCSV(f)), "\n")[:6], "")
	f.Add(toParquet(f, []byte(text), sampleDecimalKinds, 2))
	f.Add(toParquet(f, []byte(text), sampleDoubleKinds, 5))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang is a failure too, and the fuzzer keeps an input that
		// crashes its worker.
		hang := time.AfterFunc(10*time.Second, func() { panic("ImportParquet ran for 10s") })
		defer hang.Stop()
		w := &memWriter{}
		sum, err := ImportParquet(context.Background(), w, "f.parquet", bytes.NewReader(data), int64(len(data)), Options{})
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("not a file error: %v", err)
			}
			if len(w.lines) != 0 {
				t.Fatalf("%d lines written from a refused file", len(w.lines))
			}
			return
		}
		if sum.Accepted+sum.Rejected != sum.Rows || len(w.lines) != sum.Accepted {
			t.Fatalf("inconsistent summary %+v with %d lines written", sum, len(w.lines))
		}
	})
}

// discard is a CostWriter that keeps nothing, so a benchmark measures the
// reader and the mapping alone.
type discard struct{}

func (discard) WriteCostLines(context.Context, []store.CostLine) error { return nil }

// BenchmarkImportSample reads the 1,000-row sample from memory as CSV and
// as its Parquet twin, with a writer that keeps nothing.
func BenchmarkImportSample(b *testing.B) {
	csvData := sampleCSV(b)
	pq, err := os.ReadFile(sampleParquet)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, imp func() (Summary, error)) {
		b.ReportAllocs()
		for b.Loop() {
			if sum, err := imp(); err != nil || sum.Accepted != 1000 {
				b.Fatal(sum, err)
			}
		}
		b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "rows/s")
	}
	b.Run("csv", func(b *testing.B) {
		run(b, func() (Summary, error) {
			return Import(context.Background(), discard{}, "s.csv", bytes.NewReader(csvData), Options{})
		})
	})
	b.Run("parquet", func(b *testing.B) {
		run(b, func() (Summary, error) {
			return ImportParquet(context.Background(), discard{}, "s.parquet", bytes.NewReader(pq), int64(len(pq)), Options{})
		})
	})
}

// A row group that cannot be decoded rejects its rows, by number, and the
// row groups around it import.
func TestParquetBadRowGroup(t *testing.T) {
	pq, err := os.ReadFile(sampleParquet)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(pq), int64(len(pq)))
	if err != nil {
		t.Fatal(err)
	}
	// Break the first page header of row group 2 (rows 401 to 800).
	off := f.Metadata().RowGroups[1].Columns[0].MetaData.DataPageOffset
	bad := bytes.Clone(pq)
	for i := off; i < off+8; i++ {
		bad[i] = 0xff
	}
	w := &memWriter{}
	sum, err := ImportParquet(context.Background(), w, "bad.parquet", bytes.NewReader(bad), int64(len(bad)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 1000 || sum.Accepted != 600 || sum.Rejected != 400 || len(w.lines) != 600 || len(sum.Errors) != 1 {
		t.Fatalf("%+v, %d lines written", sum, len(w.lines))
	}
	if e := sum.Errors[0].String(); !strings.HasPrefix(e, "row 401: cannot read row group 2, so its last 400 row(s): ") {
		t.Errorf("error %s", e)
	}
}

// Each Parquet type is written as the text the CSV mapping reads.
func TestParquetTypesAsText(t *testing.T) {
	type rec struct {
		Nanos    int64             `parquet:"nanos,timestamp(nanosecond)"`
		Micros   int64             `parquet:"micros,timestamp(microsecond:local)"`
		Legacy   deprecated.Int96  `parquet:"legacy"`
		Day      int32             `parquet:"day,date"`
		Clock    int64             `parquet:"clock,time(microsecond)"`
		Dec32    int32             `parquet:"dec32,decimal(2:9)"`
		Count    uint32            `parquet:"count,uint(32)"`
		Big      uint64            `parquet:"big,uint(64)"`
		Single   float32           `parquet:"single"`
		Double   float64           `parquet:"double"`
		Flag     bool              `parquet:"flag"`
		ID       [16]byte          `parquet:"id,uuid"`
		Opt      *string           `parquet:"opt,optional"`
		Values   []int64           `parquet:"values,list"`
		Tags     map[string]string `parquet:"tags"`
		Empty    []string          `parquet:"empty,list"`
		Resource struct {
			Name string `parquet:"name"`
		} `parquet:"resource"`
	}
	// 2024-09-01T12:30:00.5Z; Julian day 2460555 is 2024-09-01.
	ts := time.Date(2024, 9, 1, 12, 30, 0, 500_000_000, time.UTC)
	nanosOfDay := uint64(12*time.Hour + 30*time.Minute + 500*time.Millisecond)
	r := rec{Nanos: ts.UnixNano(), Micros: ts.UnixMicro(), Legacy: deprecated.Int96{uint32(nanosOfDay), uint32(nanosOfDay >> 32), 2460555},
		Day: int32(ts.Unix() / 86400), Clock: int64((12*time.Hour + 30*time.Minute + 5*time.Microsecond) / time.Microsecond),
		Dec32: -5, Count: math.MaxUint32, Big: math.MaxUint64, Single: 0.1, Double: 0.1, Flag: true,
		ID:     [16]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0},
		Values: []int64{1, -2}, Tags: map[string]string{"team": `se"arch`}}
	r.Resource.Name = "gpu-1"
	var buf bytes.Buffer
	if err := parquet.Write(&buf, []rec{r}); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	pcols, err := parquetColumns(f.Root())
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]parquet.Row, 1)
	if n, _ := f.RowGroups()[0].Rows().ReadRows(rows); n != 1 {
		t.Fatal("no row")
	}
	leaves := make([][]parquet.Value, numLeaves(pcols))
	splitRow(rows[0], leaves)
	got := map[string]string{}
	for _, c := range pcols {
		got[c.name] = string(c.text(nil, leaves))
	}
	want := map[string]string{
		"nanos": "2024-09-01T12:30:00.5Z", "micros": "2024-09-01T12:30:00.5Z", "legacy": "2024-09-01T12:30:00.5Z",
		"day": "2024-09-01", "clock": "12:30:00.000005", "dec32": "-0.05", "count": "4294967295", "big": "18446744073709551615",
		"single": "0.1", "double": "0.1", "flag": "true", "id": "12345678-9abc-def0-1234-56789abcdef0", "opt": "",
		"values": "[1,-2]", "tags": `{"team":"se\"arch"}`, "empty": "", "resource.name": "gpu-1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

// A footer whose column chunks claim more than the file holds is refused
// before any page is read.
func TestParquetSizeClaims(t *testing.T) {
	data, err := os.ReadFile("testdata/focus_1.0_sample.parquet")
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkParquetSizes(f, int64(len(data))); err != nil {
		t.Errorf("the sample is refused: %v", err)
	}
	if err := checkParquetSizes(f, 100); err == nil || !strings.Contains(err.Error(), "claims") {
		t.Errorf("chunks larger than the file: %v", err)
	}
}
