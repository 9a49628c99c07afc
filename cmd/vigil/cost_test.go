package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const focusSample = "../../collector/billing/testdata/focus_1.0_sample.csv"

type costResponse struct {
	Groups []struct {
		Group      map[string]string
		BilledCost string `json:"billed_cost"`
		Lines      uint64
	}
}

func checkCostTotal(t *testing.T, v *vigilServer) {
	t.Helper()
	var resp costResponse
	v.getJSON(t, "/api/v1/cost?from=2024-01-01&to=2025-01-01", &resp)
	if len(resp.Groups) != 1 || resp.Groups[0].BilledCost != "20.52022672899" || resp.Groups[0].Lines != 1000 {
		t.Errorf("cost total: %+v", resp.Groups)
	}
}

// TestImportBillingCLI imports with `vigil import billing` (twice), then
// reads the total from a serve on the same data directory.
func TestImportBillingCLI(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 2; i++ {
		out, err := exec.Command(binary, "import", "billing", "--data-dir", dir, focusSample).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "1000 accepted, 0 rejected") {
			t.Fatalf("import: %v\n%s", err, out)
		}
	}
	bad := dir + "/bad.csv"
	os.WriteFile(bad, []byte("a,b\n1,2\n"), 0o644)
	out, err := exec.Command(binary, "import", "billing", "--data-dir", dir, bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unknown billing format") {
		t.Errorf("bad file: %v\n%s", err, out)
	}
	v := startServe(t, "", "--data-dir", dir)
	checkCostTotal(t, v)
	v.stop(t)
}

// TestImportBillingAPI posts the sample to a running serve on ClickHouse.
func TestImportBillingAPI(t *testing.T) {
	ch := needClickHouse(t)
	db := fmt.Sprintf("vigil_cost_%d", time.Now().UnixNano())
	defer dropDatabase(ch, db)
	v := startServe(t, "clickhouse://"+ch+"/"+db)
	data, err := os.ReadFile(focusSample)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		resp, err := http.Post("http://"+v.web+"/api/v1/billing/import?name=sample.csv", "text/csv", bytes.NewReader(data))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("import: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	checkCostTotal(t, v)
	v.stop(t)
}
