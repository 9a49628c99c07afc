package keda

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
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

// The conversions between these structs and dynamicpb messages of the
// descriptor: the gRPC codec marshals the messages, the code reads the
// structs.

func fieldOf(m protoreflect.Message, name protoreflect.Name) protoreflect.FieldDescriptor {
	f := m.Descriptor().Fields().ByName(name)
	if f == nil {
		panic(fmt.Sprintf("keda: message %s has no field %s", m.Descriptor().FullName(), name))
	}
	return f
}

func getString(m protoreflect.Message, name protoreflect.Name) string {
	return m.Get(fieldOf(m, name)).String()
}

func setString(m protoreflect.Message, name protoreflect.Name, v string) {
	m.Set(fieldOf(m, name), protoreflect.ValueOfString(v))
}

func (r ScaledObjectRef) fill(m protoreflect.Message) {
	setString(m, "name", r.Name)
	setString(m, "namespace", r.Namespace)
	mp := m.Mutable(fieldOf(m, "scalerMetadata")).Map()
	for k, v := range r.ScalerMetadata {
		mp.Set(protoreflect.ValueOfString(k).MapKey(), protoreflect.ValueOfString(v))
	}
}

func (r ScaledObjectRef) message() *dynamicpb.Message {
	m := dynamicpb.NewMessage(scaledObjectRefDesc)
	r.fill(m)
	return m
}

func scaledObjectRefOf(m protoreflect.Message) ScaledObjectRef {
	r := ScaledObjectRef{Name: getString(m, "name"), Namespace: getString(m, "namespace"), ScalerMetadata: map[string]string{}}
	m.Get(fieldOf(m, "scalerMetadata")).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		r.ScalerMetadata[k.String()] = v.String()
		return true
	})
	return r
}

func isActiveResponse(active bool) *dynamicpb.Message {
	m := dynamicpb.NewMessage(isActiveResponseDesc)
	m.Set(fieldOf(m, "result"), protoreflect.ValueOfBool(active))
	return m
}

func isActiveOf(m protoreflect.Message) bool { return m.Get(fieldOf(m, "result")).Bool() }

func metricSpecResponse(specs []MetricSpec) *dynamicpb.Message {
	m := dynamicpb.NewMessage(getMetricSpecResponseDesc)
	list := m.Mutable(fieldOf(m, "metricSpecs")).List()
	for _, s := range specs {
		e := list.NewElement()
		em := e.Message()
		setString(em, "metricName", s.MetricName)
		em.Set(fieldOf(em, "targetSize"), protoreflect.ValueOfInt64(s.TargetSize))
		em.Set(fieldOf(em, "targetSizeFloat"), protoreflect.ValueOfFloat64(s.TargetSizeFloat))
		list.Append(e)
	}
	return m
}

func metricSpecsOf(m protoreflect.Message) []MetricSpec {
	list := m.Get(fieldOf(m, "metricSpecs")).List()
	out := make([]MetricSpec, list.Len())
	for i := range out {
		em := list.Get(i).Message()
		out[i] = MetricSpec{MetricName: getString(em, "metricName"), TargetSize: em.Get(fieldOf(em, "targetSize")).Int(),
			TargetSizeFloat: em.Get(fieldOf(em, "targetSizeFloat")).Float()}
	}
	return out
}

func getMetricsRequest(ref ScaledObjectRef, metricName string) *dynamicpb.Message {
	m := dynamicpb.NewMessage(getMetricsRequestDesc)
	ref.fill(m.Mutable(fieldOf(m, "scaledObjectRef")).Message())
	setString(m, "metricName", metricName)
	return m
}

func getMetricsRequestOf(m protoreflect.Message) (ScaledObjectRef, string) {
	return scaledObjectRefOf(m.Get(fieldOf(m, "scaledObjectRef")).Message()), getString(m, "metricName")
}

func metricsResponse(values []MetricValue) *dynamicpb.Message {
	m := dynamicpb.NewMessage(getMetricsResponseDesc)
	list := m.Mutable(fieldOf(m, "metricValues")).List()
	for _, v := range values {
		e := list.NewElement()
		em := e.Message()
		setString(em, "metricName", v.MetricName)
		em.Set(fieldOf(em, "metricValue"), protoreflect.ValueOfInt64(v.MetricValue))
		em.Set(fieldOf(em, "metricValueFloat"), protoreflect.ValueOfFloat64(v.MetricValueFloat))
		list.Append(e)
	}
	return m
}

func metricValuesOf(m protoreflect.Message) []MetricValue {
	list := m.Get(fieldOf(m, "metricValues")).List()
	out := make([]MetricValue, list.Len())
	for i := range out {
		em := list.Get(i).Message()
		out[i] = MetricValue{MetricName: getString(em, "metricName"), MetricValue: em.Get(fieldOf(em, "metricValue")).Int(),
			MetricValueFloat: em.Get(fieldOf(em, "metricValueFloat")).Float()}
	}
	return out
}
