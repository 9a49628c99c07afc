package bench

import (
	"context"
	"os"
	"testing"

	"github.com/vigil-dev/vigil/store/embedded"
)

// The generated file is valid FOCUS: every line imports.
func TestImportBillingGenerated(t *testing.T) {
	s, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := ImportBilling(context.Background(), s, 2500)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Rows != 2500 || res.Summary.Accepted != 2500 || res.Summary.Rejected != 0 || res.PeakRSSKB <= 0 {
		t.Errorf("%+v", res)
	}
}

// The generated Parquet file holds the same valid FOCUS lines.
func TestImportBillingParquetGenerated(t *testing.T) {
	s, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir := t.TempDir()
	res, err := ImportBillingParquet(context.Background(), s, 2500, dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Format != "focus" || res.Summary.Rows != 2500 || res.Summary.Accepted != 2500 || res.Summary.Rejected != 0 || res.PeakRSSKB <= 0 || res.FileBytes <= 0 {
		t.Errorf("%+v", res)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}
