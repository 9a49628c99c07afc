package bench

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/collector/billing"
	"github.com/vigil-dev/vigil/store"
)

// parquetRowsPerGroup is the generated file's row group: about 100 MB
// uncompressed, as Spark and the cloud exporters write them.
const parquetRowsPerGroup = 100_000

// focusDecimals and focusTimestamps are the generated file's typed
// columns; the others are strings, Tags a map.
var (
	focusDecimals   = []string{"BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ConsumedQuantity", "PricingQuantity", "ContractedUnitPrice", "ListUnitPrice"}
	focusTimestamps = []string{"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"}
)

const decimalScale = 12

// GenerateFOCUSParquet writes the lines GenerateFOCUS writes as a Parquet
// file shaped like the cloud exporters' FOCUS Parquet: amounts as
// DECIMAL(38,12), dates as UTC timestamps, Tags as a map<string,string>,
// nulls as nulls.
func GenerateFOCUSParquet(w io.Writer, n int) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(GenerateFOCUS(pw, n)) }()
	defer pr.Close()
	cr := csv.NewReader(bufio.NewReader(pr))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return err
	}
	header = slices.Clone(header)
	group := parquet.Group{}
	for _, h := range header {
		var node parquet.Node = parquet.String()
		switch {
		case slices.Contains(focusDecimals, h):
			node = parquet.Decimal(decimalScale, 38, parquet.FixedLenByteArrayType(16))
		case slices.Contains(focusTimestamps, h):
			node = parquet.TimestampAdjusted(parquet.Millisecond, true)
		case h == "Tags":
			node = parquet.Map(parquet.String(), parquet.Optional(parquet.String()))
		}
		group[h] = parquet.Optional(node)
	}
	schema := parquet.NewSchema("focus", group)
	at := map[string]int{}
	for i, h := range header {
		at[h] = i
	}
	pw2 := parquet.NewWriter(w, schema, parquet.MaxRowsPerRowGroup(parquetRowsPerGroup), parquet.Compression(&parquet.Snappy))
	paths := schema.Columns()
	row := make(parquet.Row, 0, len(paths)+4)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		row = row[:0]
		for i, path := range paths {
			name := path[0]
			s := rec[at[name]]
			if s == "NULL" {
				row = append(row, parquet.NullValue().Level(0, 0, i))
				continue
			}
			switch {
			case slices.Contains(focusDecimals, name):
				d, err := decimal.NewFromString(s)
				if err != nil {
					return err
				}
				u := d.Shift(decimalScale)
				if !u.Equal(u.Truncate(0)) {
					return fmt.Errorf("%s %s has more than %d decimals", name, s, decimalScale)
				}
				row = append(row, parquet.FixedLenByteArrayValue(twosComplement16(u.BigInt())).Level(0, 1, i))
			case slices.Contains(focusTimestamps, name):
				t, err := time.Parse(time.DateTime, s)
				if err != nil {
					return err
				}
				row = append(row, parquet.Int64Value(t.UnixMilli()).Level(0, 1, i))
			case name == "Tags":
				var m map[string]string
				if err := json.Unmarshal([]byte(s), &m); err != nil {
					return err
				}
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				isKey := path[len(path)-1] == "key"
				for j, k := range keys {
					if isKey {
						row = append(row, parquet.ByteArrayValue([]byte(k)).Level(min(j, 1), 2, i))
					} else {
						row = append(row, parquet.ByteArrayValue([]byte(m[k])).Level(min(j, 1), 3, i))
					}
				}
				if len(keys) == 0 {
					row = append(row, parquet.NullValue().Level(0, 1, i))
				}
			default:
				row = append(row, parquet.ByteArrayValue([]byte(s)).Level(0, 1, i))
			}
		}
		if _, err := pw2.WriteRows([]parquet.Row{row}); err != nil {
			return err
		}
	}
	return pw2.Close()
}

// twosComplement16 is a DECIMAL's unscaled value in 16 big-endian bytes.
func twosComplement16(n *big.Int) []byte {
	v := new(big.Int).Set(n)
	if v.Sign() < 0 {
		v.Add(v, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	return v.FillBytes(make([]byte, 16))
}

// ImportBillingParquet generates n rows as a Parquet file in dir (removed
// afterwards), then imports it as `vigil import billing` would, timing the
// import alone. The peak RSS is the import's alone too where Linux lets a
// process reset its high-water mark (/proc/self/clear_refs); the writer,
// which holds a row group, has run before.
func ImportBillingParquet(ctx context.Context, w store.CostWriter, n int, dir string) (BillingResult, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return BillingResult{}, err
		}
	}
	f, err := os.CreateTemp(dir, "vigil-bench-*.parquet")
	if err != nil {
		return BillingResult{}, err
	}
	defer os.Remove(f.Name())
	bw := bufio.NewWriterSize(f, 1<<20)
	err = GenerateFOCUSParquet(bw, n)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return BillingResult{}, fmt.Errorf("cannot generate the Parquet file: %w", err)
	}
	st, err := os.Stat(f.Name())
	if err != nil {
		return BillingResult{}, err
	}
	runtime.GC()
	debug.FreeOSMemory()
	reset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	start := time.Now()
	sum, err := billing.ImportFile(ctx, w, f.Name(), billing.Options{})
	res := BillingResult{Summary: sum, Elapsed: time.Since(start), PeakRSSKB: peakRSSKB(), FileBytes: st.Size(), PeakIsImportOnly: reset}
	return res, err
}
