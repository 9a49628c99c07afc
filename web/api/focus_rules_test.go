package api

import (
	"encoding/json"
	"regexp"
	"slices"

	"github.com/shopspring/decimal"
)

// The FOCUS validator's published rules, as the round-trip test applies
// them: the FinOps Foundation's focus_validator repository
// (github.com/finopsfoundation/focus_validator).
//
//   - 1.0: release v1.0.0 (commit 7f80091), the rule files of
//     focus_validator/rules/base_rule_definitions listed under "1.0" in
//     focus_validator/rules/version_sets.yaml, each rule named by its file.
//     Four of them still name columns by their FOCUS 1.0-preview names
//     (Provider, Publisher, InvoiceIssuer, ResourceID): they check the 1.0
//     names (ProviderName, PublisherName, InvoiceIssuerName, ResourceId).
//     SkuPriceId_Nullable is left out: its SQL reads ChargeType, a column
//     FOCUS 1.0 does not have.
//   - 1.2: release v2.0.1, focus_validator/rules/model-1.2.json, each rule
//     by its ModelRuleId: the Dataset Presence rules that are MUST without
//     applicability criteria, and the Static Column rules without criteria
//     or a condition (nor one in prose only, as InvoiceId-C-005-C's "when
//     the charge is associated with an invoice") that check nullability (MUST NOT be null), a type
//     (Decimal, String, DateTime), a decimal value, a national currency or
//     a list of allowed values (and ChargeClass-C-005-C, "Correction" when
//     not null). Rules that depend on provider capabilities, on other
//     columns or on several rows are not encoded.
//   - 1.1: the validator publishes no 1.1 rule set; the 1.2 model's rules
//     are applied to the columns a 1.1 export has.
//
// As the validator does, a list of allowed values, a type or a format is
// checked on the values that are not null; nullability is its own rule.
type focusRule struct {
	id     string
	column string
	check  focusCheck
	values []string // checkOneOf
}

type focusCheck int

const (
	checkRequired focusCheck = iota // the column is present
	checkNotNull
	checkOneOf
	checkDecimal
	checkText
	checkDateTime
	checkCurrency
	checkJSONObject
)

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// holds reports whether a cell of the rule's column passes it.
func (r focusRule) holds(cell string) bool {
	if r.check == checkNotNull {
		return !focusNull(cell)
	}
	if focusNull(cell) {
		return true
	}
	switch r.check {
	case checkOneOf:
		return slices.Contains(r.values, cell)
	case checkDecimal:
		_, err := decimal.NewFromString(cell)
		return err == nil
	case checkDateTime:
		return isFOCUSTime(cell)
	case checkCurrency:
		return currencyCode.MatchString(cell)
	case checkJSONObject:
		var m map[string]any
		return json.Unmarshal([]byte(cell), &m) == nil
	}
	return true // checkRequired is checked on the header; any text is a string
}

var focusRules = map[string][]focusRule{
	"1.0": {
		{"AvailabilityZone_IsString", "AvailabilityZone", checkText, nil},
		{"BilledCost_IsDecimal", "BilledCost", checkDecimal, nil},
		{"BilledCost_NotNull", "BilledCost", checkNotNull, nil},
		{"BilledCost_Required", "BilledCost", checkRequired, nil},
		{"BillingAccountId_Required", "BillingAccountId", checkRequired, nil},
		{"BillingAccountId_IsString", "BillingAccountId", checkText, nil},
		{"BillingAccountId_NotNull", "BillingAccountId", checkNotNull, nil},
		{"BillingAccountName_Required", "BillingAccountName", checkRequired, nil},
		{"BillingAccountName_IsString", "BillingAccountName", checkText, nil},
		{"BillingCurrency_Required", "BillingCurrency", checkRequired, nil},
		{"BillingCurrency_IsCurrencyCode", "BillingCurrency", checkCurrency, nil},
		{"BillingCurrency_NotNull", "BillingCurrency", checkNotNull, nil},
		{"BillingPeriodEnd_Required", "BillingPeriodEnd", checkRequired, nil},
		{"BillingPeriodEnd_IsDateTime", "BillingPeriodEnd", checkDateTime, nil},
		{"BillingPeriodEnd_NotNull", "BillingPeriodEnd", checkNotNull, nil},
		{"BillingPeriodStart_Required", "BillingPeriodStart", checkRequired, nil},
		{"BillingPeriodStart_IsDateTime", "BillingPeriodStart", checkDateTime, nil},
		{"BillingPeriodStart_NotNull", "BillingPeriodStart", checkNotNull, nil},
		{"ChargeCategory_Required", "ChargeCategory", checkRequired, nil},
		{"ChargeCategory_NotNull", "ChargeCategory", checkNotNull, nil},
		{"ChargeCategory_IsString", "ChargeCategory", checkText, nil},
		{"ChargeClass_Required", "ChargeClass", checkRequired, nil},
		{"ChargeClass_IsString", "ChargeClass", checkText, nil},
		{"ChargeClass_Enum", "ChargeClass", checkOneOf, []string{"Correction"}},
		{"ChargeDescription_Required", "ChargeDescription", checkRequired, nil},
		{"ChargeDescription_IsString", "ChargeDescription", checkText, nil},
		{"ChargeFrequency_Enum", "ChargeFrequency", checkOneOf, []string{"One-Time", "Recurring", "Usage-Based"}},
		{"ChargeFrequency_IsString", "ChargeFrequency", checkText, nil},
		{"ChargeFrequency_NotNull", "ChargeFrequency", checkNotNull, nil},
		{"ChargePeriodEnd_Required", "ChargePeriodEnd", checkRequired, nil},
		{"ChargePeriodEnd_IsDateTime", "ChargePeriodEnd", checkDateTime, nil},
		{"ChargePeriodEnd_NotNull", "ChargePeriodEnd", checkNotNull, nil},
		{"ChargePeriodStart_Required", "ChargePeriodStart", checkRequired, nil},
		{"ChargePeriodStart_IsDateTime", "ChargePeriodStart", checkDateTime, nil},
		{"ChargePeriodStart_NotNull", "ChargePeriodStart", checkNotNull, nil},
		{"CommitmentDiscountCategory_Required", "CommitmentDiscountCategory", checkRequired, nil},
		{"CommitmentDiscountCategory_Enum", "CommitmentDiscountCategory", checkOneOf, []string{"Spend", "Usage"}},
		{"CommitmentDiscountCategory_IsString", "CommitmentDiscountCategory", checkText, nil},
		{"CommitmentDiscountId_Required", "CommitmentDiscountId", checkRequired, nil},
		{"CommitmentDiscountId_IsString", "CommitmentDiscountId", checkText, nil},
		{"CommitmentDiscountName_Required", "CommitmentDiscountName", checkRequired, nil},
		{"CommitmentDiscountName_IsString", "CommitmentDiscountName", checkText, nil},
		{"CommitmentDiscountType_Required", "CommitmentDiscountType", checkRequired, nil},
		{"CommitmentDiscountType_IsString", "CommitmentDiscountType", checkText, nil},
		{"CommitmentDiscountStatus_Required", "CommitmentDiscountStatus", checkRequired, nil},
		{"CommitmentDiscountStatus_IsString", "CommitmentDiscountStatus", checkText, nil},
		{"CommitmentDiscountStatus_Enum", "CommitmentDiscountStatus", checkOneOf, []string{"Used", "Unused"}},
		{"ConsumedQuantity_Required", "ConsumedQuantity", checkRequired, nil},
		{"ConsumedQuantity_IsDecimal", "ConsumedQuantity", checkDecimal, nil},
		{"ConsumedUnit_Required", "ConsumedUnit", checkRequired, nil},
		{"ConsumedUnit_IsString", "ConsumedUnit", checkText, nil},
		{"ContractedCost_Required", "ContractedCost", checkRequired, nil},
		{"ContractedCost_IsDecimal", "ContractedCost", checkDecimal, nil},
		{"ContractedCost_NotNull", "ContractedCost", checkNotNull, nil},
		{"ContractedUnitPrice_Required", "ContractedUnitPrice", checkRequired, nil},
		{"ContractedUnitPrice_IsDecimal", "ContractedUnitPrice", checkDecimal, nil},
		{"EffectiveCost_Required", "EffectiveCost", checkRequired, nil},
		{"EffectiveCost_IsDecimal", "EffectiveCost", checkDecimal, nil},
		{"EffectiveCost_NotNull", "EffectiveCost", checkNotNull, nil},
		{"InvoiceIssuer_Required", "InvoiceIssuerName", checkRequired, nil},
		{"InvoiceIssuer_IsString", "InvoiceIssuerName", checkText, nil},
		{"InvoiceIssuer_NotNull", "InvoiceIssuerName", checkNotNull, nil},
		{"ListCost_Required", "ListCost", checkRequired, nil},
		{"ListCost_IsDecimal", "ListCost", checkDecimal, nil},
		{"ListCost_NotNull", "ListCost", checkNotNull, nil},
		{"ListUnitPrice_Required", "ListUnitPrice", checkRequired, nil},
		{"ListUnitPrice_IsDecimal", "ListUnitPrice", checkDecimal, nil},
		{"PricingCategory_Required", "PricingCategory", checkRequired, nil},
		{"PricingCategory_Enum_1.0", "PricingCategory", checkOneOf, []string{"Standard", "Dynamic", "Committed", "Other"}},
		{"PricingCategory_IsString", "PricingCategory", checkText, nil},
		{"PricingQuantity_Required", "PricingQuantity", checkRequired, nil},
		{"PricingQuantity_IsDecimal", "PricingQuantity", checkDecimal, nil},
		{"PricingUnit_Required", "PricingUnit", checkRequired, nil},
		{"PricingUnit_IsString", "PricingUnit", checkText, nil},
		{"Provider_Required", "ProviderName", checkRequired, nil},
		{"Provider_IsString", "ProviderName", checkText, nil},
		{"Provider_NotNull", "ProviderName", checkNotNull, nil},
		{"Publisher_Required", "PublisherName", checkRequired, nil},
		{"Publisher_IsString", "PublisherName", checkText, nil},
		{"Publisher_NotNull", "PublisherName", checkNotNull, nil},
		{"RegionId_Required", "RegionId", checkRequired, nil},
		{"RegionId_IsString", "RegionId", checkText, nil},
		{"RegionName_Required", "RegionName", checkRequired, nil},
		{"RegionName_IsString", "RegionName", checkText, nil},
		{"ResourceID_Required", "ResourceId", checkRequired, nil},
		{"ResourceID_IsString", "ResourceId", checkText, nil},
		{"ResourceName_Required", "ResourceName", checkRequired, nil},
		{"ResourceName_IsString", "ResourceName", checkText, nil},
		{"ResourceType_Required", "ResourceType", checkRequired, nil},
		{"ResourceType_IsString", "ResourceType", checkText, nil},
		{"ServiceCategory_Required", "ServiceCategory", checkRequired, nil},
		{"ServiceCategory_Enum", "ServiceCategory", checkOneOf, []string{"AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases", "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things", "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security", "Storage", "Web", "Other"}},
		{"ServiceCategory_IsString", "ServiceCategory", checkText, nil},
		{"ServiceCategory_NotNull", "ServiceCategory", checkNotNull, nil},
		{"ServiceName_Required", "ServiceName", checkRequired, nil},
		{"ServiceName_IsString", "ServiceName", checkText, nil},
		{"ServiceName_NotNull", "ServiceName", checkNotNull, nil},
		{"SkuId_Required", "SkuId", checkRequired, nil},
		{"SkuId_IsString", "SkuId", checkText, nil},
		{"SkuPriceId_Required", "SkuPriceId", checkRequired, nil},
		{"SkuPriceId_IsString", "SkuPriceId", checkText, nil},
		{"SubAccountId_Required", "SubAccountId", checkRequired, nil},
		{"SubAccountId_IsString", "SubAccountId", checkText, nil},
		{"SubAccountName_Required", "SubAccountName", checkRequired, nil},
		{"SubAccountName_IsString", "SubAccountName", checkText, nil},
		{"Tags_Required", "Tags", checkRequired, nil},
		{"Tags_IsJSONObject", "Tags", checkJSONObject, nil},
	},
	"1.1": focusRules12,
	"1.2": focusRules12,
}

var focusRules12 = []focusRule{
	{"AvailabilityZone-C-001-M", "AvailabilityZone", checkText, nil},
	{"BilledCost-C-001-M", "BilledCost", checkDecimal, nil},
	{"BilledCost-C-003-M", "BilledCost", checkNotNull, nil},
	{"BilledCost-C-004-M", "BilledCost", checkDecimal, nil},
	{"BillingAccountId-C-001-M", "BillingAccountId", checkNotNull, nil},
	{"BillingAccountId-C-002-M", "BillingAccountId", checkText, nil},
	{"BillingAccountName-C-001-M", "BillingAccountName", checkText, nil},
	{"BillingAccountType-C-001-M", "BillingAccountType", checkText, nil},
	{"BillingCurrency-C-001-M", "BillingCurrency", checkText, nil},
	{"BillingCurrency-C-004-M", "BillingCurrency", checkNotNull, nil},
	{"BillingCurrency-C-006-M", "BillingCurrency", checkCurrency, nil},
	{"BillingPeriodEnd-C-001-M", "BillingPeriodEnd", checkDateTime, nil},
	{"BillingPeriodEnd-C-003-M", "BillingPeriodEnd", checkNotNull, nil},
	{"BillingPeriodStart-C-001-M", "BillingPeriodStart", checkDateTime, nil},
	{"BillingPeriodStart-C-003-M", "BillingPeriodStart", checkNotNull, nil},
	{"CapacityReservationId-C-001-M", "CapacityReservationId", checkText, nil},
	{"CapacityReservationStatus-C-001-M", "CapacityReservationStatus", checkText, nil},
	{"CapacityReservationStatus-C-006-M", "CapacityReservationStatus", checkOneOf, []string{"Used", "Unused"}},
	{"ChargeCategory-C-001-M", "ChargeCategory", checkText, nil},
	{"ChargeCategory-C-002-M", "ChargeCategory", checkNotNull, nil},
	{"ChargeCategory-C-003-M", "ChargeCategory", checkOneOf, []string{"Usage", "Purchase", "Tax", "Credit", "Adjustment"}},
	{"ChargeClass-C-001-M", "ChargeClass", checkText, nil},
	{"ChargeClass-C-005-C", "ChargeClass", checkOneOf, []string{"Correction"}},
	{"ChargeDescription-C-001-M", "ChargeDescription", checkText, nil},
	{"ChargeFrequency-C-001-M", "ChargeFrequency", checkText, nil},
	{"ChargeFrequency-C-002-M", "ChargeFrequency", checkNotNull, nil},
	{"ChargeFrequency-C-003-M", "ChargeFrequency", checkOneOf, []string{"One-Time", "Recurring", "Usage-Based"}},
	{"ChargePeriodEnd-C-001-M", "ChargePeriodEnd", checkDateTime, nil},
	{"ChargePeriodEnd-C-003-M", "ChargePeriodEnd", checkNotNull, nil},
	{"ChargePeriodStart-C-001-M", "ChargePeriodStart", checkDateTime, nil},
	{"ChargePeriodStart-C-003-M", "ChargePeriodStart", checkNotNull, nil},
	{"CommitmentDiscountCategory-C-001-M", "CommitmentDiscountCategory", checkText, nil},
	{"CommitmentDiscountCategory-C-005-M", "CommitmentDiscountCategory", checkOneOf, []string{"Spend", "Usage"}},
	{"CommitmentDiscountId-C-001-M", "CommitmentDiscountId", checkText, nil},
	{"CommitmentDiscountName-C-001-M", "CommitmentDiscountName", checkText, nil},
	{"CommitmentDiscountQuantity-C-001-M", "CommitmentDiscountQuantity", checkDecimal, nil},
	{"CommitmentDiscountStatus-C-001-M", "CommitmentDiscountStatus", checkText, nil},
	{"CommitmentDiscountStatus-C-005-M", "CommitmentDiscountStatus", checkOneOf, []string{"Active", "Expired", "Pending"}},
	{"CommitmentDiscountType-C-001-M", "CommitmentDiscountType", checkText, nil},
	{"CommitmentDiscountUnit-C-001-M", "CommitmentDiscountUnit", checkText, nil},
	{"ConsumedQuantity-C-001-M", "ConsumedQuantity", checkDecimal, nil},
	{"ConsumedUnit-C-001-M", "ConsumedUnit", checkText, nil},
	{"ContractedCost-C-001-M", "ContractedCost", checkDecimal, nil},
	{"ContractedCost-C-003-M", "ContractedCost", checkNotNull, nil},
	{"ContractedUnitPrice-C-002-M", "ContractedUnitPrice", checkDecimal, nil},
	{"CostAndUsage-D-005-M", "BillingAccountName", checkRequired, nil},
	{"CostAndUsage-D-006-M", "BilledCost", checkRequired, nil},
	{"CostAndUsage-D-008-M", "ChargeCategory", checkRequired, nil},
	{"CostAndUsage-D-009-M", "BillingPeriodStart", checkRequired, nil},
	{"CostAndUsage-D-010-M", "BillingPeriodEnd", checkRequired, nil},
	{"CostAndUsage-D-021-M", "PublisherName", checkRequired, nil},
	{"CostAndUsage-D-023-M", "InvoiceIssuerName", checkRequired, nil},
	{"CostAndUsage-D-024-M", "BillingAccountId", checkRequired, nil},
	{"CostAndUsage-D-025-M", "ChargeDescription", checkRequired, nil},
	{"CostAndUsage-D-026-M", "ChargeClass", checkRequired, nil},
	{"CostAndUsage-D-028-M", "ChargePeriodEnd", checkRequired, nil},
	{"CostAndUsage-D-030-M", "ContractedCost", checkRequired, nil},
	{"CostAndUsage-D-031-M", "EffectiveCost", checkRequired, nil},
	{"CostAndUsage-D-032-M", "ListCost", checkRequired, nil},
	{"CostAndUsage-D-035-M", "BillingCurrency", checkRequired, nil},
	{"CostAndUsage-D-036-M", "PricingQuantity", checkRequired, nil},
	{"CostAndUsage-D-037-M", "ChargePeriodStart", checkRequired, nil},
	{"CostAndUsage-D-038-M", "ProviderName", checkRequired, nil},
	{"CostAndUsage-D-040-M", "ServiceCategory", checkRequired, nil},
	{"CostAndUsage-D-041-M", "ServiceName", checkRequired, nil},
	{"CostAndUsage-D-068-M", "PricingUnit", checkRequired, nil},
	{"EffectiveCost-C-001-M", "EffectiveCost", checkDecimal, nil},
	{"EffectiveCost-C-003-M", "EffectiveCost", checkNotNull, nil},
	{"InvoiceId-C-001-M", "InvoiceId", checkText, nil},
	{"InvoiceIssuerName-C-001-M", "InvoiceIssuerName", checkText, nil},
	{"InvoiceIssuerName-C-003-M", "InvoiceIssuerName", checkNotNull, nil},
	{"ListCost-C-001-M", "ListCost", checkDecimal, nil},
	{"ListCost-C-003-M", "ListCost", checkNotNull, nil},
	{"ListUnitPrice-C-001-M", "ListUnitPrice", checkDecimal, nil},
	{"PricingCategory-C-001-M", "PricingCategory", checkText, nil},
	{"PricingCategory-C-007-M", "PricingCategory", checkOneOf, []string{"Standard", "Committed", "Dynamic", "Other"}},
	{"PricingCurrency-C-001-M", "PricingCurrency", checkText, nil},
	{"PricingCurrency-C-004-M", "PricingCurrency", checkNotNull, nil},
	{"PricingCurrencyContractedUnitPrice-C-001-M", "PricingCurrencyContractedUnitPrice", checkDecimal, nil},
	{"PricingCurrencyEffectiveCost-C-001-M", "PricingCurrencyEffectiveCost", checkDecimal, nil},
	{"PricingCurrencyEffectiveCost-C-003-M", "PricingCurrencyEffectiveCost", checkNotNull, nil},
	{"PricingCurrencyListUnitPrice-C-001-M", "PricingCurrencyListUnitPrice", checkDecimal, nil},
	{"PricingQuantity-C-001-M", "PricingQuantity", checkDecimal, nil},
	{"PricingUnit-C-001-M", "PricingUnit", checkText, nil},
	{"ProviderName-C-001-M", "ProviderName", checkText, nil},
	{"ProviderName-C-003-M", "ProviderName", checkNotNull, nil},
	{"PublisherName-C-001-M", "PublisherName", checkText, nil},
	{"PublisherName-C-003-M", "PublisherName", checkNotNull, nil},
	{"RegionId-C-001-M", "RegionId", checkText, nil},
	{"RegionName-C-001-M", "RegionName", checkText, nil},
	{"ResourceId-C-001-M", "ResourceId", checkText, nil},
	{"ResourceName-C-001-M", "ResourceName", checkText, nil},
	{"ResourceType-C-001-M", "ResourceType", checkText, nil},
	{"ServiceCategory-C-001-M", "ServiceCategory", checkText, nil},
	{"ServiceCategory-C-002-M", "ServiceCategory", checkNotNull, nil},
	{"ServiceCategory-C-003-M", "ServiceCategory", checkOneOf, []string{"AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases", "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things", "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security", "Storage", "Web", "Other"}},
	{"ServiceName-C-001-M", "ServiceName", checkText, nil},
	{"ServiceName-C-003-M", "ServiceName", checkNotNull, nil},
	{"ServiceSubcategory-C-001-M", "ServiceSubcategory", checkText, nil},
	{"ServiceSubcategory-C-002-M", "ServiceSubcategory", checkNotNull, nil},
	{"ServiceSubcategory-C-003-M", "ServiceSubcategory", checkOneOf, []string{"AI Platforms", "Bots", "Generative AI", "Machine Learning", "Natural Language Processing", "Other (AI and Machine Learning)", "Analytics Platforms", "Business Intelligence", "Data Processing", "Search", "Streaming Analytics", "Other (Analytics)", "Productivity and Collaboration", "Other (Business Applications)", "Containers", "End User Computing", "Quantum Compute", "Serverless Compute", "Virtual Machines", "Other (Compute)", "Caching", "Data Warehouses", "Ledger Databases", "NoSQL Databases", "Relational Databases", "Time Series Databases", "Other (Databases)", "Developer Platforms", "Continuous Integration and Deployment", "Development Environments", "Source Code Management", "Quality Assurance", "Other (Developer Tools)", "Identity and Access Management", "Other (Identity)", "API Management", "Messaging", "Workflow Orchestration", "Other (Integration)", "IoT Analytics", "IoT Platforms", "Other (Internet of Things)", "Architecture", "Compliance", "Cost Management", "Data Governance", "Disaster Recovery", "Endpoint Management", "Observability", "Support", "Other (Management and Governance)", "Content Creation", "Gaming", "Media Streaming", "Mixed Reality", "Other (Media)", "Data Migration", "Resource Migration", "Other (Migration)", "Other (Mobile)", "Multicloud Integration", "Other (Multicloud)", "Application Networking", "Content Delivery", "Network Connectivity", "Network Infrastructure", "Network Routing", "Network Security", "Other (Networking)", "Secret Management", "Security Posture Management", "Threat Detection and Response", "Other (Security)", "Backup Storage", "Block Storage", "File Storage", "Object Storage", "Storage Platforms", "Other (Storage)", "Application Platforms", "Other (Web)", "Other (Other)"}},
	{"SkuId-C-001-M", "SkuId", checkText, nil},
	{"SkuMeter-C-001-M", "SkuMeter", checkText, nil},
	{"SkuPriceId-C-001-M", "SkuPriceId", checkText, nil},
	{"SubAccountId-C-001-M", "SubAccountId", checkText, nil},
	{"SubAccountName-C-001-M", "SubAccountName", checkText, nil},
	{"SubAccountType-C-001-M", "SubAccountType", checkText, nil},
}
