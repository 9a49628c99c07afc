package cost

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"
)

// InstanceType is a machine type's capacity and hourly price.
type InstanceType struct {
	Type     string `yaml:"type"`
	Provider string `yaml:"provider"`
	CPUCores int    `yaml:"cpu_cores"`
	RAMGiB   int    `yaml:"ram_gib"`
	GPUs     int    `yaml:"gpus"`
	GPUModel string `yaml:"gpu_model"`
	Hourly   string `yaml:"hourly"` // USD, a decimal string
}

// Node returns a node of this type, priced at its hourly price.
func (t InstanceType) Node(name string) (Node, error) {
	h, err := decimal.NewFromString(t.Hourly)
	if err != nil {
		return Node{}, fmt.Errorf("instance type %s: hourly %q is not a number", t.Type, t.Hourly)
	}
	return Node{Name: name, CPUCores: decimal.NewFromInt(int64(t.CPUCores)), RAMGiB: decimal.NewFromInt(int64(t.RAMGiB)), GPUs: decimal.NewFromInt(int64(t.GPUs)), HourlyCost: h}, nil
}

//go:embed default_instances.yaml
var defaultInstances []byte

// InstanceTable finds instance types by name, case-insensitively; later
// rows override earlier ones.
type InstanceTable map[string]InstanceType

// DefaultInstances returns the built-in table.
func DefaultInstances() InstanceTable {
	t := InstanceTable{}
	if err := t.Load(defaultInstances); err != nil {
		panic("built-in instance table: " + err.Error())
	}
	return t
}

// Load adds a YAML file's instances: list.
func (t InstanceTable) Load(data []byte) error {
	var f struct {
		Instances []InstanceType `yaml:"instances"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return err
	}
	for i, it := range f.Instances {
		if it.Type == "" {
			return fmt.Errorf("instances[%d].type: missing", i)
		}
		if _, err := it.Node(""); err != nil {
			return fmt.Errorf("instances[%d].hourly: %w", i, err)
		}
		if it.CPUCores <= 0 || it.RAMGiB <= 0 || it.GPUs < 0 {
			return fmt.Errorf("instances[%d]: cpu_cores and ram_gib must be positive, gpus not negative", i)
		}
		t[strings.ToLower(it.Type)] = it
	}
	return nil
}

// Lookup finds an instance type.
func (t InstanceTable) Lookup(name string) (InstanceType, bool) {
	it, ok := t[strings.ToLower(name)]
	return it, ok
}
