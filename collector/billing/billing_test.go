package billing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/clickhouse"
	"github.com/vigil-dev/vigil/store/embedded"
)

// The sample's known totals (testdata/README.md).
const (
	wantBilled    = "20.52022672899"
	wantEffective = "14.97651418586"
)

var wantProviders = map[string]string{"AWS": "18.0066386184", "Microsoft": "1.97651418586", "Oracle": "0.53707392473"}

func importSample(t *testing.T, s store.CostWriter) Summary {
	t.Helper()
	f, err := os.Open("testdata/focus_1.0_sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := Import(context.Background(), s, "focus_1.0_sample.csv", f, Options{Tenant: "acme", BatchSize: 300})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func checkSampleTotals(t *testing.T, s store.Store) {
	checkTotals(t, s, func() Summary { return importSample(t, s) })
}

// checkTotals imports the sample twice with imp and checks the store holds
// its known totals after each.
func checkTotals(t *testing.T, s store.Store, imp func() Summary) {
	for round := 1; round <= 2; round++ { // the second import must change nothing
		sum := imp()
		if sum.Format != FormatFOCUS || sum.Rows != 1000 || sum.Accepted != 1000 || sum.Rejected != 0 {
			t.Fatalf("import %d: %+v", round, sum)
		}
		q := store.CostQuery{Tenant: "acme", Start: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}
		total, err := s.CostTotals(context.Background(), q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(total) != 1 || total[0].Currency != "USD" || total[0].BilledCost.String() != wantBilled || total[0].EffectiveCost.String() != wantEffective || total[0].Lines != 1000 {
			t.Errorf("import %d: total %+v, want billed %s effective %s over 1000 lines", round, total, wantBilled, wantEffective)
		}
		by, err := s.CostTotals(context.Background(), q, []store.CostDimension{store.DimProvider})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, g := range by {
			got[g.Keys[0]] = g.BilledCost.String()
		}
		if fmt.Sprint(got) != fmt.Sprint(wantProviders) {
			t.Errorf("import %d: by provider %v, want %v", round, got, wantProviders)
		}
		cats, err := s.CostTotals(context.Background(), q, []store.CostDimension{store.DimChargeCategory})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]uint64{}
		for _, g := range cats {
			counts[g.Keys[0]] = g.Lines
		}
		if counts["Usage"] != 997 || counts["Adjustment"] != 2 || counts["Credit"] != 1 {
			t.Errorf("charge categories %v", counts)
		}
	}
}

func TestFOCUSSampleEmbedded(t *testing.T) {
	s, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkSampleTotals(t, s)
}

func TestFOCUSSampleClickHouse(t *testing.T) {
	addr := os.Getenv("VIGIL_TEST_CLICKHOUSE")
	if addr == "" {
		if os.Getenv("VIGIL_TEST_STRICT") != "" {
			t.Fatal("VIGIL_TEST_STRICT is set but VIGIL_TEST_CLICKHOUSE names no server")
		}
		t.Skip("VIGIL_TEST_CLICKHOUSE is not set")
	}
	cfg, err := clickhouse.ParseURL(fmt.Sprintf("clickhouse://%s/vigil_billing_%d", addr, time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	s, err := clickhouse.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.DropDatabase(context.Background()); s.Close() }()
	checkSampleTotals(t, s)
}

// memWriter keeps what it is given.
type memWriter struct {
	mu    sync.Mutex
	lines []store.CostLine
}

func (m *memWriter) WriteCostLines(_ context.Context, l []store.CostLine) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lines = append(m.lines, l...)
	return nil
}

const header = "BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargeClass,ChargeDescription,ChargePeriodEnd,ChargePeriodStart,ContractedCost,EffectiveCost,InvoiceIssuerName,ListCost,PricingQuantity,PricingUnit,ProviderName,PublisherName,ServiceCategory,ServiceName,Tags\n"

func focusRow(billed, periodStart, tags string) string {
	return fmt.Sprintf("%s,acct,Main,USD,2024-10-01T00:00:00Z,2024-09-01T00:00:00Z,Usage,,GPU,2024-09-02T00:00:00Z,%s,0,%s,AWS,0,1,Hours,AWS,AWS,AI and Machine Learning,EC2,%s\n", billed, periodStart, billed, tags)
}

func TestRowErrors(t *testing.T) {
	csvText := header +
		focusRow("1.5", "2024-09-01T00:00:00Z", `"{""team"": ""search"", ""cost_center"": 42}"`) + // line 2: good
		focusRow("lots", "2024-09-01T00:00:00Z", "") + // line 3: non-numeric cost
		focusRow("2", "yesterday", "") + // line 4: bad date
		focusRow("3", "2024-09-01 10:00:00", "{broken") + // line 5: bad tags
		"1,2,3\n" + // line 6: wrong field count
		focusRow("4", "2024-09-01", "") // line 7: good, a bare date
	w := &memWriter{}
	sum, err := Import(context.Background(), w, "bill.csv", strings.NewReader(csvText), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range sum.Errors {
		got = append(got, e.String())
	}
	want := []string{
		`line 3, column BilledCost: "lots" is not a number`,
		`line 4, column ChargePeriodStart: "yesterday" is not a date-time (want ISO 8601, e.g. 2024-09-01T00:00:00Z or 2024-09-01 00:00:00)`,
		`line 5, column Tags: is not a JSON object: invalid character 'b' looking for beginning of object key string`,
		`line 6: has 3 fields, the header has 22`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if sum.Rows != 6 || sum.Accepted != 2 || sum.Rejected != 4 || len(w.lines) != 2 {
		t.Fatalf("summary %+v, %d lines written", sum, len(w.lines))
	}
	if v, _ := w.lines[0].Tags.Get("cost_center"); v != "42" || w.lines[0].Tenant != store.DefaultTenant {
		t.Errorf("tags %v tenant %q", w.lines[0].Tags, w.lines[0].Tenant)
	}
}

func TestFileErrorsWriteNothing(t *testing.T) {
	for _, c := range []struct {
		name, text, format, want string
	}{
		{"missing column", strings.Replace(header, "BilledCost,", "", 1) + "x\n", "auto", "unknown billing format: the header is none of FOCUS"},
		{"missing column, format given", strings.Replace(header, "EffectiveCost,", "", 1) + "x\n", "focus", "not a focus file: missing required column(s) EffectiveCost"},
		{"unknown format", "a,b,c\n1,2,3\n", "auto", "unknown billing format"},
		{"unknown format name", header, "sap", `unknown billing format "sap"`},
		{"empty", "", "auto", "the file is empty"},
	} {
		w := &memWriter{}
		_, err := Import(context.Background(), w, "bill.csv", strings.NewReader(c.text), Options{Format: c.format})
		var fe *FileError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "bill.csv: ") {
			t.Errorf("%s: %v, want a file error containing %q", c.name, err, c.want)
		}
		if len(w.lines) != 0 {
			t.Errorf("%s: %d lines written from a refused file", c.name, len(w.lines))
		}
	}
}

func TestIdenticalRowsStayDistinct(t *testing.T) {
	text := header + focusRow("1", "2024-09-01T00:00:00Z", "") + focusRow("1", "2024-09-01T00:00:00Z", "")
	w := &memWriter{}
	if _, err := Import(context.Background(), w, "b.csv", strings.NewReader(text), Options{}); err != nil {
		t.Fatal(err)
	}
	if len(w.lines) != 2 || w.lines[0].LineID == w.lines[1].LineID {
		t.Errorf("identical rows share an id: %v", w.lines)
	}
	w2 := &memWriter{}
	Import(context.Background(), w2, "b.csv", strings.NewReader(text), Options{})
	if w2.lines[1].LineID != w.lines[1].LineID {
		t.Error("ids differ between imports of the same file")
	}
}

func FuzzImport(f *testing.F) {
	f.Add(header + focusRow("1.5", "2024-09-01T00:00:00Z", `"{""a"": ""b""}"`))
	f.Add(header + "\"unterminated")
	f.Fuzz(func(t *testing.T, text string) {
		w := &memWriter{}
		sum, err := Import(context.Background(), w, "f.csv", strings.NewReader(text), Options{})
		if err != nil {
			return
		}
		if sum.Accepted+sum.Rejected != sum.Rows || len(w.lines) != sum.Accepted {
			t.Fatalf("inconsistent summary %+v with %d lines written", sum, len(w.lines))
		}
	})
}
