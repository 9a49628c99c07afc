package bench

import (
	"context"
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
