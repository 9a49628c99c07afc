package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// focusSampleParquet is focus_1.0_sample.csv as Parquet (see its README).
const focusSampleParquet = "../../collector/billing/testdata/focus_1.0_sample.parquet"

// TestImportBillingParquetCLI imports the sample's Parquet twin, under a
// name that does not say Parquet, twice; serve then reports the CSV's
// total. A truncated copy is refused by name.
func TestImportBillingParquetCLI(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(focusSampleParquet)
	if err != nil {
		t.Fatal(err)
	}
	bill := filepath.Join(dir, "bill.export")
	os.WriteFile(bill, data, 0o644)
	for i := 0; i < 2; i++ {
		out, err := exec.Command(binary, "import", "billing", "--data-dir", dir, bill).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "bill.export: focus, 1000 rows, 1000 accepted, 0 rejected") {
			t.Fatalf("import: %v\n%s", err, out)
		}
	}
	cut := filepath.Join(dir, "cut.parquet")
	os.WriteFile(cut, data[:len(data)/3], 0o644)
	out, err := exec.Command(binary, "import", "billing", "--data-dir", dir, cut).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cut.parquet: is not a whole Parquet file") {
		t.Errorf("truncated file: %v\n%s", err, out)
	}
	v := startServe(t, "", "--data-dir", dir)
	checkCostTotal(t, v)
	v.stop(t)
}
