package rightsize

import (
	"bytes"
	"testing"

	"github.com/shopspring/decimal"
)

// rec builds a recommendation with values as resource/setting: current,
// recommended; the quantities are filled in as finish fills them.
func rec(ns, kind, workload, container string, values ...Value) Recommendation {
	for i := range values {
		v := &values[i]
		v.CurrentQuantity, v.RecommendedQuantity = Quantity(v.Resource, v.Current), Quantity(v.Resource, v.Recommended)
	}
	return Recommendation{Namespace: ns, Kind: kind, Workload: workload, Container: container, Values: values}
}

func TestWritePatches(t *testing.T) {
	recs := []Recommendation{
		// Two containers of one Deployment, merged into one document: the
		// CPU limit KRR drops is null, unchanged and skipped values are
		// left out.
		rec("shop", "Deployment", "api", "app",
			Value{Resource: "cpu", Setting: "request", Current: 1, Recommended: 0.4},
			Value{Resource: "cpu", Setting: "limit", Current: 2, Recommended: 0},
			Value{Resource: "memory", Setting: "request", Current: GiB, Recommended: 345 * MiB},
			Value{Resource: "memory", Setting: "limit", Current: GiB, Recommended: GiB}),
		rec("shop", "Job", "migrate", "db", Value{Resource: "cpu", Setting: "request", Current: 1, Recommended: 0.5}),
		rec("shop", "Deployment", "api", "sidecar",
			Value{Resource: "memory", Setting: "request", Current: 0, Recommended: 64 * MiB},
			Value{Resource: "cpu", Setting: "request", Current: 1, Recommended: 1, Skipped: "too few samples"}),
		rec("batch", "CronJob", "report", "run", Value{Resource: "memory", Setting: "limit", Current: 512 * MiB, Recommended: 300 * MiB}),
		rec("batch", "StatefulSet", "db", "pg", Value{Resource: "cpu", Setting: "request", Current: 2, Recommended: 1.5, Skipped: "too few samples"}),
	}
	var out bytes.Buffer
	if err := WritePatches(&out, recs); err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: apps/v1
kind: Deployment
metadata:
    name: api
    namespace: shop
spec:
    template:
        spec:
            containers:
                - name: app
                  resources:
                    limits:
                        cpu: null
                    requests:
                        cpu: 400m
                        memory: 345Mi
                - name: sidecar
                  resources:
                    requests:
                        memory: 64Mi
# shop/migrate (Job): no pod template to patch
---
apiVersion: batch/v1
kind: CronJob
metadata:
    name: report
    namespace: batch
spec:
    jobTemplate:
        spec:
            template:
                spec:
                    containers:
                        - name: run
                          resources:
                            limits:
                                memory: 300Mi
# batch/StatefulSet/db: nothing to change
`
	if out.String() != want {
		t.Errorf("patches:\n%s\nwant:\n%s", out.String(), want)
	}

	ps := Patches(recs)
	if len(ps) != 4 || ps[1].Skipped != SkipNoPodTemplate || ps[1].Doc != nil || ps[3].Skipped != SkipNoChange || ps[0].Doc["kind"] != "Deployment" {
		t.Errorf("patches: %+v", ps)
	}
	if Patches(nil) == nil || len(Patches(nil)) != 0 {
		t.Errorf("no recommendations: %v", Patches(nil))
	}
}

func TestWriteTable(t *testing.T) {
	r := rec("shop", "Deployment", "api", "app",
		Value{Resource: "cpu", Setting: "request", Current: 1, Recommended: 0.4},
		Value{Resource: "cpu", Setting: "limit", Current: 0, Recommended: 0},
		Value{Resource: "memory", Setting: "request", Current: GiB, Recommended: GiB, Skipped: "too few samples"})
	r.Severity, r.MonthlySaving = SeverityCritical, decimal.RequireFromString("31.793098871094")
	var out bytes.Buffer
	if err := WriteTable(&out, []Recommendation{r}); err != nil {
		t.Fatal(err)
	}
	want := "NAMESPACE  KIND        WORKLOAD  CONTAINER  CPU REQUEST    CPU LIMIT       MEMORY REQUEST  MEMORY LIMIT  SEVERITY  SAVING/MONTH\n" +
		"shop       Deployment  api       app        1000m -> 400m  unset -> unset  1024Mi -> ?     -             CRITICAL  $31.79\n"
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}
