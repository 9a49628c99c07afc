package rightsize

import (
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// Patch is a Kubernetes strategic-merge patch of one workload's container
// resources, for kubectl patch --type strategic --patch-file.
type Patch struct {
	Namespace, Kind, Workload string
	// Doc is the patch: apiVersion, kind, metadata, and the pod template's
	// containers with the requests and limits to change, merged by
	// container name. A limit the strategy drops (KRR's CPU limit) is nil,
	// which deletes it. Doc is nil when Skipped says why there is none.
	Doc     map[string]any
	Skipped string
}

// Why a workload gets no patch.
const (
	SkipNoPodTemplate = "no pod template to patch"
	SkipNoChange      = "nothing to change"
)

// podTemplate is where a kind keeps its pod spec, and its API group.
var podTemplate = map[string]struct {
	apiVersion string
	path       []string
}{
	"Deployment":  {"apps/v1", []string{"spec", "template", "spec"}},
	"StatefulSet": {"apps/v1", []string{"spec", "template", "spec"}},
	"DaemonSet":   {"apps/v1", []string{"spec", "template", "spec"}},
	"ReplicaSet":  {"apps/v1", []string{"spec", "template", "spec"}},
	"CronJob":     {"batch/v1", []string{"spec", "jobTemplate", "spec", "template", "spec"}},
}

// Patches returns one patch per workload, in the order the workloads first
// appear in recs. Values that were skipped or already match are left out.
func Patches(recs []Recommendation) []Patch {
	type wl struct{ ns, kind, name string }
	var order []wl
	byWorkload := map[wl][]Recommendation{}
	for _, r := range recs {
		k := wl{r.Namespace, r.Kind, r.Workload}
		if _, ok := byWorkload[k]; !ok {
			order = append(order, k)
		}
		byWorkload[k] = append(byWorkload[k], r)
	}
	out := make([]Patch, 0, len(order))
	for _, k := range order {
		p := Patch{Namespace: k.ns, Kind: k.kind, Workload: k.name}
		t, ok := podTemplate[k.kind]
		if !ok {
			p.Skipped = SkipNoPodTemplate
			out = append(out, p)
			continue
		}
		var containers []any
		for _, r := range byWorkload[k] {
			if res := resourcesPatch(r.Values); len(res) > 0 {
				containers = append(containers, map[string]any{"name": r.Container, "resources": res})
			}
		}
		if len(containers) == 0 {
			p.Skipped = SkipNoChange
			out = append(out, p)
			continue
		}
		var spec any = map[string]any{"containers": containers}
		for i := len(t.path) - 1; i >= 0; i-- {
			spec = map[string]any{t.path[i]: spec}
		}
		p.Doc = spec.(map[string]any)
		p.Doc["apiVersion"], p.Doc["kind"] = t.apiVersion, k.kind
		p.Doc["metadata"] = map[string]any{"name": k.name, "namespace": k.ns}
		out = append(out, p)
	}
	return out
}

// resourcesPatch is a container's "resources" in a patch: requests and
// limits by resource, nil for a setting to delete.
func resourcesPatch(values []Value) map[string]map[string]any {
	res := map[string]map[string]any{}
	for _, v := range values {
		if v.Skipped != "" || v.Current == v.Recommended {
			continue
		}
		section := string(v.Setting) + "s"
		if res[section] == nil {
			res[section] = map[string]any{}
		}
		if v.Recommended == 0 {
			res[section][string(v.Resource)] = nil
		} else {
			res[section][string(v.Resource)] = v.RecommendedQuantity
		}
	}
	return res
}

// WritePatches writes the patches of recs as a YAML stream, one document
// per workload, and a comment for each workload that gets none.
func WritePatches(w io.Writer, recs []Recommendation) error {
	first := true
	for _, p := range Patches(recs) {
		switch p.Skipped {
		case SkipNoPodTemplate:
			fmt.Fprintf(w, "# %s/%s (%s): %s\n", p.Namespace, p.Workload, p.Kind, p.Skipped)
			continue
		case SkipNoChange:
			fmt.Fprintf(w, "# %s/%s/%s: %s\n", p.Namespace, p.Kind, p.Workload, p.Skipped)
			continue
		}
		b, err := yaml.Marshal(p.Doc)
		if err != nil {
			return err
		}
		if !first {
			fmt.Fprintln(w, "---")
		}
		first = false
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
