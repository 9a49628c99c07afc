package slo

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/OpenSLO/go-sdk/pkg/openslosdk"

	"github.com/vigil-dev/vigil/config"
)

// TestOpenSLOAgainstSDK is the differential test of Vigil's OpenSLO reading
// with the reference implementation, github.com/OpenSLO/go-sdk v0.9.2 (what
// oslo validates with), as the oracle. Each file under testdata/openslo/sdk
// is one case: under valid/ the SDK decodes and validates it, under
// invalid/ it refuses it. Vigil's lint (the SLO section read alone, errors
// only) must say the same, but for the cases of openSLODifferences, where
// Vigil deliberately differs (README.md, "OpenSLO", lists them with their
// reasons); the SDK must still say what the folder says for those.
func TestOpenSLOAgainstSDK(t *testing.T) {
	var cases, agree, differ int
	for _, want := range []string{"valid", "invalid"} {
		files, err := filepath.Glob(filepath.Join("testdata/openslo/sdk", want, "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no cases in %s: %v", want, err)
		}
		for _, file := range files {
			cases++
			name := want + "/" + filepath.Base(file)
			sdkValid, sdkErr := sdkVerdict(t, file)
			if sdkValid != (want == "valid") {
				t.Errorf("%s: the SDK says valid=%v (%v): the case is in the wrong folder", name, sdkValid, sdkErr)
				continue
			}
			problems := vigilErrors(t, file)
			reason, listed := openSLODifferences[name]
			switch vigilValid := len(problems) == 0; {
			case vigilValid == sdkValid && listed:
				t.Errorf("%s: Vigil now agrees with the SDK; drop it from openSLODifferences (%s)", name, reason)
			case vigilValid == sdkValid:
				agree++
			case listed:
				differ++
			default:
				t.Errorf("%s: the SDK says valid=%v (%v), Vigil says valid=%v:\n%s", name, sdkValid, sdkErr, vigilValid, strings.Join(problems, "\n"))
			}
		}
	}
	t.Logf("%d cases: %d agree with the SDK, %d are listed differences", cases, agree, differ)
	for name := range openSLODifferences {
		if _, err := os.Stat(filepath.Join("testdata/openslo/sdk", name)); err != nil {
			t.Errorf("openSLODifferences lists %s, which is no case", name)
		}
	}
}

// sdkVerdict decodes and validates a file as oslo validate does.
func sdkVerdict(t *testing.T, file string) (bool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	objects, err := openslosdk.Decode(bytes.NewReader(data), openslosdk.FormatYAML)
	if err != nil {
		return false, err
	}
	if err := openslosdk.Validate(objects...); err != nil {
		return false, err
	}
	return true, nil
}

// vigilErrors lints a file as vigil lint does with the SLO section alone:
// what no section claims is an error too.
func vigilErrors(t *testing.T, file string) []string {
	r, err := config.NewRegistry(Section(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	_, problems, err := r.Load([]string{file})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range problems {
		if p.Severity == config.Error {
			out = append(out, p.String())
		}
	}
	return out
}

// openSLODifferences are the cases where Vigil deliberately disagrees with
// the SDK, with the reason; README.md lists them.
var openSLODifferences = map[string]string{
	"valid/v1-alert-condition-lte.yaml":   "a burn-rate condition with op lt or lte fires while the budget burns slowly, i.e. while the service is healthy; the spec's own example writes lte for \"exceeds\", so Vigil refuses it rather than alert the wrong way round",
	"valid/v1-slo-composite.yaml":         "composite SLOs (an indicator per objective, compositeWeight) are not evaluated: Vigil asks for one SLO per indicator",
	"valid/v1-slo-dangling-ref.yaml":      "Vigil resolves references (indicatorRef, metricSourceRef, alertPolicyRef, conditionRef, targetRef) across the config directory and refuses one to nothing; the SDK validates each object alone",
	"valid/v1-sli-appdynamics.yaml":       "a data source Vigil cannot query (AppDynamics), read as gauges (counter: false), which Vigil's Prometheus ratios are not",
	"valid/v1-slo-datadog.yaml":           "a data source Vigil cannot query: it reads Prometheus series selectors over the metrics it stores and its own spans (type Vigil)",
	"valid/v1-slo-no-objectives.yaml":     "an SLO without objectives has nothing to evaluate",
	"invalid/v1alpha-ratio-no-value.yaml": "openslo/v1alpha's schema asks every objective for a value, but a ratio objective compares none: Vigil does not ask for it (and warns that it is ignored when given)",
	"invalid/v2alpha-service-field.yaml":  "openslo.com/v2alpha SLOs name their service with serviceRef in the go-sdk and with service in the older spec text: Vigil reads both",
}
