package rightsize

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable writes recommendations as a table for a terminal: each
// container's CPU and memory requests and limits as "current ->
// recommended" ("?" where the strategy had too little to go on), its
// severity and its monthly saving.
func WriteTable(w io.Writer, recs []Recommendation) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tKIND\tWORKLOAD\tCONTAINER\tCPU REQUEST\tCPU LIMIT\tMEMORY REQUEST\tMEMORY LIMIT\tSEVERITY\tSAVING/MONTH")
	for i := range recs {
		r := &recs[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t$%s\n", r.Namespace, r.Kind, r.Workload, r.Container,
			tableCell(r, CPU, Request), tableCell(r, CPU, Limit), tableCell(r, Memory, Request), tableCell(r, Memory, Limit),
			r.Severity, r.MonthlySaving.StringFixed(2))
	}
	return tw.Flush()
}

// tableCell is one setting as "current -> recommended"; "-" when the
// strategy has no such value.
func tableCell(r *Recommendation, resource Resource, setting Setting) string {
	v, ok := r.Get(resource, setting)
	if !ok {
		return "-"
	}
	q := func(s string) string {
		if s == "" {
			return "unset"
		}
		return s
	}
	if v.Skipped != "" {
		return q(v.CurrentQuantity) + " -> ?"
	}
	return q(v.CurrentQuantity) + " -> " + q(v.RecommendedQuantity)
}
