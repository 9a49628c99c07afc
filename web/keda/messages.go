package keda

import (
	pb "github.com/vigil-dev/vigil/web/keda/externalscaler"
)

// ScaledObjectRef names the ScaledObject KEDA asks about, with its
// trigger's metadata.
type ScaledObjectRef struct {
	Name, Namespace string
	ScalerMetadata  map[string]string
}

// MetricSpec is one metric the HPA scales on and its target.
type MetricSpec struct {
	MetricName      string
	TargetSize      int64
	TargetSizeFloat float64
}

// MetricValue is one metric's current value.
type MetricValue struct {
	MetricName       string
	MetricValue      int64
	MetricValueFloat float64
}

// The conversions between these structs and the generated messages: the
// scaler's logic reads plain structs, the wire is the generated code's.

func (r ScaledObjectRef) message() *pb.ScaledObjectRef {
	return &pb.ScaledObjectRef{Name: r.Name, Namespace: r.Namespace, ScalerMetadata: r.ScalerMetadata}
}

// scaledObjectRefOf never returns a nil map, so the trigger's lookups need
// no check.
func scaledObjectRefOf(m *pb.ScaledObjectRef) ScaledObjectRef {
	r := ScaledObjectRef{Name: m.GetName(), Namespace: m.GetNamespace(), ScalerMetadata: m.GetScalerMetadata()}
	if r.ScalerMetadata == nil {
		r.ScalerMetadata = map[string]string{}
	}
	return r
}

func metricSpecResponse(specs []MetricSpec) *pb.GetMetricSpecResponse {
	m := &pb.GetMetricSpecResponse{}
	for _, s := range specs {
		m.MetricSpecs = append(m.MetricSpecs, &pb.MetricSpec{MetricName: s.MetricName, TargetSize: s.TargetSize, TargetSizeFloat: s.TargetSizeFloat})
	}
	return m
}

func metricSpecsOf(m *pb.GetMetricSpecResponse) []MetricSpec {
	out := make([]MetricSpec, 0, len(m.GetMetricSpecs()))
	for _, s := range m.GetMetricSpecs() {
		out = append(out, MetricSpec{MetricName: s.GetMetricName(), TargetSize: s.GetTargetSize(), TargetSizeFloat: s.GetTargetSizeFloat()})
	}
	return out
}

func metricsResponse(values []MetricValue) *pb.GetMetricsResponse {
	m := &pb.GetMetricsResponse{}
	for _, v := range values {
		m.MetricValues = append(m.MetricValues, &pb.MetricValue{MetricName: v.MetricName, MetricValue: v.MetricValue, MetricValueFloat: v.MetricValueFloat})
	}
	return m
}

func metricValuesOf(m *pb.GetMetricsResponse) []MetricValue {
	out := make([]MetricValue, 0, len(m.GetMetricValues()))
	for _, v := range m.GetMetricValues() {
		out = append(out, MetricValue{MetricName: v.GetMetricName(), MetricValue: v.GetMetricValue(), MetricValueFloat: v.GetMetricValueFloat()})
	}
	return out
}

func getMetricsRequest(ref ScaledObjectRef, metricName string) *pb.GetMetricsRequest {
	return &pb.GetMetricsRequest{ScaledObjectRef: ref.message(), MetricName: metricName}
}
