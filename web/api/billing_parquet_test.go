package api

import (
	"bytes"
	"mime/multipart"
	"os"
	"strings"
	"testing"
)

func sampleParquet(t *testing.T) []byte {
	b, err := os.ReadFile("../../collector/billing/testdata/focus_1.0_sample.parquet")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A Parquet bill is told from CSV by its bytes, as a raw body or a form's
// file, imports to the CSV's totals, and a second import changes nothing;
// a truncated one is refused with a 400 naming the problem.
func TestImportParquet(t *testing.T) {
	h := setup(t)
	code, body := do(t, h, "POST", "/api/v1/billing/import?name=sample.parquet", "application/vnd.apache.parquet", sampleParquet(t))
	if code != 200 || !strings.Contains(body, `"accepted":1000`) || !strings.Contains(body, `"format":"focus"`) {
		t.Fatalf("raw import: %d %s", code, body)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "sample-again.bin")
	fw.Write(sampleParquet(t))
	mw.Close()
	if code, body := do(t, h, "POST", "/api/v1/billing/import", mw.FormDataContentType(), form.Bytes()); code != 200 || !strings.Contains(body, `"accepted":1000`) {
		t.Fatalf("multipart import: %d %s", code, body)
	}
	if code, body := do(t, h, "GET", "/api/v1/cost?from=2024-01-01&to=2025-01-01", "", nil); code != 200 || !strings.Contains(body, `"billed_cost":"20.52022672899"`) || !strings.Contains(body, `"lines":1000`) {
		t.Errorf("total: %d %s", code, body)
	}
	pq := sampleParquet(t)
	code, body = do(t, h, "POST", "/api/v1/billing/import?name=cut.parquet", "application/octet-stream", pq[:len(pq)/2])
	if code != 400 || !strings.Contains(body, "cut.parquet: is not a whole Parquet file") {
		t.Errorf("truncated: %d %s", code, body)
	}
}
