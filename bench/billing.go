package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/collector/billing"
	"github.com/vigil-dev/vigil/store"
)

// focusHeader is the FOCUS 1.0 sample's column list.
const focusHeader = "AvailabilityZone,BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargeClass,ChargeDescription,ChargeFrequency,ChargePeriodEnd,ChargePeriodStart,CommitmentDiscountCategory,CommitmentDiscountId,CommitmentDiscountName,CommitmentDiscountStatus,CommitmentDiscountType,ConsumedQuantity,ConsumedUnit,ContractedCost,ContractedUnitPrice,EffectiveCost,InvoiceIssuerName,ListCost,ListUnitPrice,PricingCategory,PricingQuantity,PricingUnit,ProviderName,PublisherName,RegionId,RegionName,ResourceId,ResourceName,ResourceType,ServiceCategory,ServiceName,SkuId,SkuPriceId,SubAccountId,SubAccountName,Tags"

// GenerateFOCUS writes a FOCUS 1.0 CSV of n distinct hourly GPU and
// inference lines, shaped like the public sample (NULLs, quoted numbers, a
// JSON Tags column).
func GenerateFOCUS(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprintln(bw, focusHeader)
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	services := []string{"Amazon Elastic Compute Cloud", "Amazon SageMaker", "Amazon Bedrock", "Amazon Simple Storage Service"}
	teams := []string{"search", "chat", "ranking", "platform"}
	for i := 0; i < n; i++ {
		hour := start.Add(time.Duration(i%(24*30)) * time.Hour)
		cents := 1 + (i*7919)%100000
		cost := strconv.Itoa(cents/100) + "." + fmt.Sprintf("%02d", cents%100) + "123456789"
		fmt.Fprintf(bw, "NULL,%s,\"123456789012\",\"Main\",\"USD\",\"2026-11-01 00:00:00\",\"2026-10-01 00:00:00\",\"Usage\",NULL,\"GPU instance hour\",\"Usage-Based\",\"%s\",\"%s\",NULL,NULL,NULL,NULL,NULL,1.000000000000000,\"Hours\",%s,0,%s,\"Amazon Web Services, Inc.\",%s,\"3.06\",\"Standard\",1.00000000000,\"Hours\",\"AWS\",\"Amazon Web Services, Inc.\",\"us-east-1\",\"US East (N. Virginia)\",\"i-%012d\",NULL,NULL,\"AI and Machine Learning\",\"%s\",\"SKU%d\",\"SKU%d.PRICE\",\"%d\",\"Team %d\",\"{\"\"team\"\": \"\"%s\"\", \"\"env\"\": \"\"prod\"\"}\"\n",
			cost, hour.Add(time.Hour).Format("2006-01-02 15:04:05"), hour.Format("2006-01-02 15:04:05"), cost, cost, cost,
			i, services[i%len(services)], i%500, i%500, 100000+i%50, i%50, teams[i%len(teams)])
	}
	return bw.Flush()
}

// BillingResult is what an import run measured.
type BillingResult struct {
	Summary   billing.Summary
	Elapsed   time.Duration
	PeakRSSKB int64 // VmHWM of this process after the run
	// For Parquet: the generated file's size, and whether PeakRSSKB is the
	// import's alone (the high-water mark was reset after writing it).
	FileBytes        int64
	PeakIsImportOnly bool
}

// ImportBilling generates n rows and streams them through the importer
// into w, as `vigil import billing` would a file.
func ImportBilling(ctx context.Context, w store.CostWriter, n int) (BillingResult, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(GenerateFOCUS(pw, n)) }()
	start := time.Now()
	sum, err := billing.Import(ctx, w, "generated.csv", pr, billing.Options{})
	pr.Close()
	res := BillingResult{Summary: sum, Elapsed: time.Since(start), PeakRSSKB: peakRSSKB()}
	return res, err
}

// peakRSSKB reads this process's peak resident set size from Linux's
// /proc/self/status; 0 elsewhere.
func peakRSSKB() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}
