// Package deploy holds what an operator deploys Vigil with: the Helm
// chart (helm/vigil), Kubernetes manifests, the ClickHouse cluster's
// settings, a Dockerfile and a compose file. Its tests render the chart
// with Helm itself and create every object it makes on a real Kubernetes
// API server, so the server, not a schema guess, judges them.
package deploy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vigil-dev/vigil/actions/kube/kubetest"
)

const chart = "helm/vigil"

// helmBin builds (once, cached under .cache/helm) and returns the Helm CLI
// of tools/helm.
func helmBin(t *testing.T) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(filepath.Join("..", "scripts", "helm"))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/helm: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// helm runs the Helm CLI and returns its output, or its error with what
// it printed.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(helmBin(t), args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), errors.New(strings.TrimSpace(stderr.String() + "\n" + stdout.String()))
	}
	return stdout.String(), nil
}

// cases are the value sets the chart is rendered with: the defaults of
// each mode, and everything optional switched on.
var cases = []struct {
	name string
	set  []string
	// kinds counts the objects of each kind the chart must render.
	kinds map[string]int
}{
	{
		name: "fleet",
		set:  []string{"store.url=clickhouse://clickhouse:9000/vigil?cluster=vigil"},
		kinds: map[string]int{"ServiceAccount": 1, "ConfigMap": 1, "Deployment": 3, "Service": 3,
			"HorizontalPodAutoscaler": 1, "PodDisruptionBudget": 3},
	},
	{
		name: "fleet-everything",
		set: []string{"store.url=clickhouse://vigil@clickhouse:9000/vigil?cluster=vigil", "store.password=s3cret",
			"config.slos\\.yaml=slos: []\n", "collector.jaegerAgent=true", "collector.autoscaling.targetQueueItems=5000",
			"web.keda.enabled=true", "actions.enabled=true", "actions.namespaces={{ACTIONS_NS}}", "publicMetrics=true",
			"serviceMonitor.enabled=true", "podMonitor.enabled=true"},
		kinds: map[string]int{"ServiceAccount": 1, "ConfigMap": 1, "Secret": 1, "Deployment": 3, "Service": 3,
			"HorizontalPodAutoscaler": 1, "PodDisruptionBudget": 3, "Role": 1, "RoleBinding": 1,
			"ServiceMonitor": 1, "PodMonitor": 1},
	},
	{
		name:  "single",
		set:   []string{"mode=single", "persistence.size=1Gi"},
		kinds: map[string]int{"ServiceAccount": 1, "ConfigMap": 1, "Deployment": 1, "Service": 1, "PersistentVolumeClaim": 1},
	},
}

func setArgs(set []string, actionsNS string) []string {
	var args []string
	for _, s := range set {
		args = append(args, "--set", strings.ReplaceAll(s, "{ACTIONS_NS}", actionsNS))
	}
	return args
}

func TestChartLint(t *testing.T) {
	for _, c := range cases {
		out, err := helm(t, append([]string{"lint", "--strict", chart}, setArgs(c.set, "llm")...)...)
		if err != nil {
			t.Errorf("%s: helm lint: %v", c.name, err)
		} else if !strings.Contains(out, "0 chart(s) failed") {
			t.Errorf("%s: helm lint:\n%s", c.name, out)
		}
	}
}

// TestChartRefusesBadValues: values that cannot work fail the render with
// a message naming the value.
func TestChartRefusesBadValues(t *testing.T) {
	for _, c := range []struct {
		set  []string
		want string
	}{
		{nil, "store.url is required in fleet mode"},
		{[]string{"store.url=clickhouse://ch:9000/vigil", "actions.enabled=true"}, "actions.enabled needs actions.namespaces"},
	} {
		_, err := helm(t, append([]string{"template", "vigil", chart}, setArgs(c.set, "")...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("helm template --set %v: %v, want an error containing %q", c.set, err, c.want)
		}
	}
}

// TestChartObjectsAccepted renders the chart with each value set and
// creates every object on the test cluster's API server.
func TestChartObjectsAccepted(t *testing.T) {
	cluster := kubetest.Connect(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	installMonitorCRDs(t, cluster, dyn)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cluster.Kube.Discovery()))
	ctx := context.Background()

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ns := kubetest.Namespace(t, cluster)
			actionsNS := kubetest.Namespace(t, cluster)
			out, err := helm(t, append([]string{"template", "vigil", chart, "--namespace", ns}, setArgs(c.set, actionsNS)...)...)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			objs := decodeAll(t, out)
			kinds := map[string]int{}
			for _, o := range objs {
				kinds[o.GetKind()]++
				gvk := o.GroupVersionKind()
				m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
				if err != nil {
					t.Errorf("%s %s: the API server serves no such kind: %v", gvk, o.GetName(), err)
					continue
				}
				objNS := o.GetNamespace()
				if objNS == "" {
					objNS = ns
				}
				if _, err := dyn.Resource(m.Resource).Namespace(objNS).Create(ctx, o, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
					t.Errorf("creating %s %s/%s: %v", o.GetKind(), objNS, o.GetName(), err)
				}
			}
			// The server judges strictly: the same Deployment with a field
			// Kubernetes does not know is refused, so the creations above
			// passing means something.
			for _, o := range objs {
				if o.GetKind() != "Deployment" {
					continue
				}
				bad := o.DeepCopy()
				bad.SetName(o.GetName() + "-bad")
				unstructured.SetNestedField(bad.Object, int64(1), "spec", "replicaz")
				gvr := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
				if _, err := dyn.Resource(gvr).Namespace(ns).Create(ctx, bad, metav1.CreateOptions{FieldValidation: "Strict"}); err == nil || !strings.Contains(err.Error(), "replicaz") {
					t.Errorf("a Deployment with an unknown field: %v, want it refused", err)
				}
				break
			}
			if !mapsEqual(kinds, c.kinds) {
				t.Errorf("rendered kinds %v, want %v", kinds, c.kinds)
			}
		})
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// decodeAll reads the documents of a rendered chart.
func decodeAll(t *testing.T, manifests string) []*unstructured.Unstructured {
	t.Helper()
	d := yaml.NewYAMLOrJSONDecoder(strings.NewReader(manifests), 4096)
	var objs []*unstructured.Unstructured
	for {
		var o map[string]any
		if err := d.Decode(&o); err == io.EOF {
			return objs
		} else if err != nil {
			t.Fatalf("decoding the rendered chart: %v", err)
		}
		if o == nil {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: o})
	}
}

func kubeconfig(t *testing.T) string {
	t.Helper()
	// kubetest.Connect skipped or failed without it.
	return os.Getenv("VIGIL_TEST_KUBE")
}

// installMonitorCRDs registers the Prometheus Operator's ServiceMonitor
// and PodMonitor kinds, as an operator's install would, so the chart's
// monitors can be created. Their schema here keeps any spec: the API
// server checks the objects' kind, version and metadata, not the
// operator's full schema (which the operator's CRDs, not Vigil, own).
func installMonitorCRDs(t *testing.T, cluster kubetest.Cluster, dyn dynamic.Interface) {
	t.Helper()
	ctx := context.Background()
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	for _, kind := range []string{"ServiceMonitor", "PodMonitor"} {
		plural := strings.ToLower(kind) + "s"
		crd := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1",
			"kind":       "CustomResourceDefinition",
			"metadata":   map[string]any{"name": plural + ".monitoring.coreos.com"},
			"spec": map[string]any{
				"group": "monitoring.coreos.com",
				"scope": "Namespaced",
				"names": map[string]any{"kind": kind, "plural": plural, "singular": strings.ToLower(kind), "listKind": kind + "List"},
				"versions": []any{map[string]any{
					"name": "v1", "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{
						"type": "object",
						"properties": map[string]any{
							"spec": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true},
						},
					}},
				}},
			},
		}}
		_, err := dyn.Resource(gvr).Create(ctx, crd, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating the %s CRD: %v", kind, err)
		}
	}
	// The API server serves a new CRD's kinds a moment after creating it.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		rs, err := cluster.Kube.Discovery().ServerResourcesForGroupVersion("monitoring.coreos.com/v1")
		if err == nil && len(rs.APIResources) == 2 {
			return
		}
	}
	t.Fatal("the API server does not serve the monitoring.coreos.com/v1 kinds 30 s after their CRDs were created")
}
