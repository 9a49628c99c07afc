package billing

import (
	"context"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/store"
)

func importText(t *testing.T, text, format string) ([]store.CostLine, Summary) {
	t.Helper()
	w := &memWriter{}
	sum, err := Import(context.Background(), w, "export.csv", strings.NewReader(text), Options{Format: format})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rejected > 0 {
		t.Fatalf("rejected: %v", sum.Errors)
	}
	return w.lines, sum
}

func TestAWSCUR2(t *testing.T) {
	text := "identity_line_item_id,bill_payer_account_id,line_item_usage_account_id,line_item_line_item_type,line_item_usage_start_date,line_item_usage_end_date,line_item_product_code,line_item_usage_type,line_item_resource_id,line_item_usage_amount,line_item_currency_code,line_item_unblended_cost,line_item_net_unblended_cost,pricing_public_on_demand_cost,pricing_unit,product_region_code,savings_plan_savings_plan_effective_cost,resource_tags\n" +
		`a,111,222,Usage,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,AmazonEC2,USE1-BoxUsage:p4d.24xlarge,i-1,1,USD,32.77,30.00,32.77,Hrs,us-east-1,,"{""user_team"": ""search""}"` + "\n" +
		`b,111,222,SavingsPlanCoveredUsage,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,AmazonEC2,USE1-BoxUsage:g5.xlarge,i-2,1,USD,1.006,,1.006,Hrs,us-east-1,0.60,` + "\n" +
		`c,111,222,Tax,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,AmazonEC2,,,,USD,2.50,,,,,,` + "\n" +
		`d,111,222,RIFee,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,AmazonEC2,,,,USD,100,,,,,,` + "\n" +
		`e,111,222,Refund,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,AmazonEC2,,,,USD,-5,,,,,,` + "\n"
	lines, sum := importText(t, text, FormatAuto)
	if sum.Format != FormatAWSCUR || len(lines) != 5 {
		t.Fatalf("%+v", sum)
	}
	checks := []struct {
		name      string
		got, want string
	}{
		{"net unblended wins", lines[0].BilledCost.String(), "30"},
		{"list cost", lines[0].ListCost.String(), "32.77"},
		{"tag key without user_", mustTag(lines[0], "team"), "search"},
		{"billing period from usage", lines[0].BillingPeriodStart.Format("2006-01-02") + "/" + lines[0].BillingPeriodEnd.Format("2006-01-02"), "2026-10-01/2026-11-01"},
		{"savings plan effective cost", lines[1].EffectiveCost.String(), "0.6"},
		{"savings plan billed", lines[1].BilledCost.String(), "1.006"},
		{"categories", lines[1].ChargeCategory + " " + lines[2].ChargeCategory + " " + lines[3].ChargeCategory + " " + lines[4].ChargeCategory + "/" + lines[4].ChargeClass, "Usage Tax Purchase Credit/Correction"},
		{"service, sku, account", lines[0].ServiceName + " " + lines[0].SkuID + " " + lines[0].SubAccountID, "AmazonEC2 USE1-BoxUsage:p4d.24xlarge 222"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func mustTag(l store.CostLine, k string) string { v, _ := l.Tags.Get(k); return v }

func TestAWSCURLegacy(t *testing.T) {
	text := "identity/LineItemId,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/ProductCode,lineItem/UnblendedCost,lineItem/CurrencyCode,resourceTags/user:team,bill/BillingPeriodStartDate,bill/BillingPeriodEndDate\n" +
		"x,Usage,2026-10-03T00:00:00Z,2026-10-03T01:00:00Z,AmazonSageMaker,4.10,USD,ranking,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z\n"
	lines, sum := importText(t, text, FormatAuto)
	if sum.Format != FormatAWSCURLegacy || lines[0].BilledCost.String() != "4.1" || mustTag(lines[0], "team") != "ranking" || lines[0].ServiceName != "AmazonSageMaker" {
		t.Errorf("%+v %+v", sum, lines)
	}
}

func TestGCP(t *testing.T) {
	text := "billing_account_id,service.description,sku.description,usage_start_time,usage_end_time,project.id,labels,location.region,cost,currency,usage.amount,usage.unit,credits,cost_type,invoice.month\n" +
		`01A,Vertex AI,Gemini 2.5 Pro input tokens,2026-10-05 10:00:00 UTC,2026-10-05 11:00:00 UTC,ml-prod,"[{""key"":""team"",""value"":""chat""}]",us-central1,12.50,USD,5000000,count,"[{""name"":""CUD"",""amount"":-2.5},{""name"":""free tier"",""amount"":-1}]",regular,202610` + "\n" +
		`01A,Vertex AI,tax,2026-10-05 10:00:00 UTC,2026-10-05 11:00:00 UTC,ml-prod,,,1,USD,,,"[{""amount"":-3}]",tax,202610` + "\n"
	lines, sum := importText(t, text, FormatAuto)
	if sum.Format != FormatGCP || len(lines) != 2 {
		t.Fatalf("%+v", sum)
	}
	l := lines[0]
	if l.BilledCost.String() != "12.5" || l.EffectiveCost.String() != "9" || mustTag(l, "team") != "chat" || l.SubAccountID != "ml-prod" || l.ProviderName != "Google Cloud" {
		t.Errorf("%+v", l)
	}
	if lines[1].EffectiveCost.String() != "0" || lines[1].ChargeCategory != "Tax" {
		t.Errorf("credits beyond the cost must floor at zero: %+v", lines[1])
	}
}

func TestAzure(t *testing.T) {
	text := "Date,SubscriptionId,ResourceGroup,ResourceId,MeterCategory,MeterName,Quantity,UnitOfMeasure,CostInBillingCurrency,PaygCostInBillingCurrency,BillingCurrencyCode,ChargeType,PricingModel,Tags\n" +
		`10/05/2026,sub-1,rg,/subscriptions/sub-1/vm1,Virtual Machines,NC24ads A100 v4,1,1 Hour,3.67,3.67,USD,Usage,OnDemand,"""team"": ""search"",""env"": ""prod"""` + "\n" +
		`10/05/2026,sub-1,rg,/subscriptions/sub-1/vm2,Virtual Machines,ND96 H100 v5,1,1 Hour,60.00,98.32,USD,Usage,Reservation,` + "\n"
	actual, sum := importText(t, text, FormatAuto)
	if sum.Format != FormatAzure || actual[0].BilledCost.String() != "3.67" || mustTag(actual[0], "team") != "search" || actual[1].PricingCategory != "Committed" || actual[1].BilledCost.String() != "60" {
		t.Errorf("actual: %+v %+v", sum, actual)
	}
	if actual[0].ChargePeriodStart.Format("2006-01-02") != "2026-10-05" {
		t.Errorf("US date: %s", actual[0].ChargePeriodStart)
	}
	amortized, _ := importText(t, text, FormatAzureAmortized)
	if amortized[1].BilledCost.String() != "0" || amortized[1].EffectiveCost.String() != "60" || amortized[0].BilledCost.String() != "3.67" {
		t.Errorf("amortised: %+v", amortized)
	}
}
