package demo

import (
	"bytes"
	"fmt"
	"time"
)

// focusHeader is the FOCUS 1.0 column list, in the order of the FinOps
// Foundation's sample file.
const focusHeader = "AvailabilityZone,BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargeClass,ChargeDescription,ChargeFrequency,ChargePeriodEnd,ChargePeriodStart,CommitmentDiscountCategory,CommitmentDiscountId,CommitmentDiscountName,CommitmentDiscountStatus,CommitmentDiscountType,ConsumedQuantity,ConsumedUnit,ContractedCost,ContractedUnitPrice,EffectiveCost,InvoiceIssuerName,ListCost,ListUnitPrice,PricingCategory,PricingQuantity,PricingUnit,ProviderName,PublisherName,RegionId,RegionName,ResourceId,ResourceName,ResourceType,ServiceCategory,ServiceName,SkuId,SkuPriceId,SubAccountId,SubAccountName,Tags"

// billLine is one day of one resource.
type billLine struct {
	provider, publisher, service, category, description, sku string
	resource, resourceName, resourceType, region             string
	quantity, unitPrice                                      float64
	unit, app                                                string
}

// billLines are the fleet's daily charges: the GPU nodes the pods run on
// (the resource ids are the node names, so bill lines split over the
// workloads of their nodes), the hosted model's API spend, the vector
// database and the object store.
func billLines(day time.Time, apiDollars float64) []billLine {
	ec2 := func(node, typ string, price float64, app string) billLine {
		return billLine{"AWS", "Amazon Web Services, Inc.", "Amazon Elastic Compute Cloud", "Compute", fmt.Sprintf("$%.4f per On Demand Linux %s Instance Hour", price, typ),
			"EC2-" + typ, node, node, "Instance", "us-east-1", 24, price, "Hours", app}
	}
	spread := 0.1 * wobble("api", day) // ±10% from day to day
	return []billLine{
		ec2("ip-10-0-1-17", "p4d.24xlarge", 32.7726, "chat-model"),
		ec2("ip-10-0-3-21", "g5.xlarge", 1.006, "embedding"),
		ec2("ip-10-0-3-22", "g5.xlarge", 1.006, "embedding"),
		{"OpenAI", "OpenAI", "OpenAI API", "AI and Machine Learning", "gpt-4o-mini tokens", "gpt-4o-mini",
			"org-assistant/proj-support", "support assistant", "API project", "global", apiDollars * (1 + spread), 1, "USD", "llm-gateway"},
		{"Qdrant", "Qdrant", "Qdrant Cloud", "Databases", "Hybrid cloud cluster, 3 nodes", "qdrant-hc-3",
			"qdrant-kb-prod", "kb", "Cluster", "us-east-1", 24, 0.52, "Hours", "vector-search"},
		{"AWS", "Amazon Web Services, Inc.", "Amazon Simple Storage Service", "Storage", "$0.023 per GB-month of storage", "S3-Standard",
			"assistant-models", "assistant-models", "Bucket", "us-east-1", 3100.0 / 30, 0.023, "GB-Month", "chat-model"},
	}
}

// Bill is a FOCUS 1.0 CSV of the fleet's charges for the days [from, to),
// one line per resource and day. On the day anomalyDay (when in range),
// a runaway batch job re-embeds the knowledge base through the hosted
// model API and its spend is five times the usual.
func Bill(from, to, anomalyDay time.Time) []byte {
	var b bytes.Buffer
	b.WriteString(focusHeader + "\n")
	for day := from; day.Before(to); day = day.AddDate(0, 0, 1) {
		api := 18.0
		if day.Equal(anomalyDay) {
			api = 92
		}
		periodStart := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
		for i, l := range billLines(day, api) {
			cost := l.quantity * l.unitPrice
			fmt.Fprintf(&b, "NULL,%.6f,\"210987654321\",\"Assistant\",\"USD\",\"%s\",\"%s\",\"Usage\",NULL,\"%s\",\"Usage-Based\",\"%s\",\"%s\",NULL,NULL,NULL,NULL,NULL,%.6f,\"%s\",%.6f,%.6f,%.6f,\"%s\",%.6f,%.6f,\"Standard\",%.6f,\"%s\",\"%s\",\"%s\",\"%s\",NULL,\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"Production\",\"{\"\"team\"\": \"\"assistant\"\", \"\"app\"\": \"\"%s\"\", \"\"env\"\": \"\"prod\"\"}\"\n",
				cost, periodStart.AddDate(0, 1, 0).Format(time.DateTime), periodStart.Format(time.DateTime), l.description,
				day.AddDate(0, 0, 1).Format(time.DateTime), day.Format(time.DateTime),
				l.quantity, l.unit, cost, l.unitPrice, cost, l.publisher, cost, l.unitPrice, l.quantity, l.unit,
				l.provider, l.publisher, l.region, l.resource, l.resourceName, l.resourceType, l.category, l.service,
				l.sku, fmt.Sprintf("%s.%d", l.sku, i), "210987654321", l.app)
		}
	}
	return b.Bytes()
}
