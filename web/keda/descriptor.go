package keda

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// ServiceName is the gRPC service KEDA's external scaler calls.
const ServiceName = "externalscaler.ExternalScaler"

// The descriptor below is KEDA's pkg/scalers/externalscaler/externalscaler.proto
// (package externalscaler, proto3), written out as a FileDescriptorProto:
// KEDA publishes no Go module small enough to depend on, and building it
// here needs no protoc. Field names and numbers follow KEDA's file; the
// wire test decodes messages by number to hold them to it.
//
// StreamMetricSpec is KEDA's newest, optional RPC; the others are what
// every KEDA 2.x calls.
var file = mustFile()

// Message descriptors, for building messages with dynamicpb.
var (
	scaledObjectRefDesc       = file.Messages().ByName("ScaledObjectRef")
	isActiveResponseDesc      = file.Messages().ByName("IsActiveResponse")
	getMetricSpecResponseDesc = file.Messages().ByName("GetMetricSpecResponse")
	metricSpecDesc            = file.Messages().ByName("MetricSpec")
	getMetricsRequestDesc     = file.Messages().ByName("GetMetricsRequest")
	getMetricsResponseDesc    = file.Messages().ByName("GetMetricsResponse")
	metricValueDesc           = file.Messages().ByName("MetricValue")
)

// File is the external scaler's protobuf file descriptor, for clients
// that build their messages with dynamicpb.
func File() protoreflect.FileDescriptor { return file }

func mustFile() protoreflect.FileDescriptor {
	f, err := protodesc.NewFile(fileProto(), nil)
	if err != nil {
		panic(fmt.Sprintf("keda: the external scaler descriptor is invalid: %v", err))
	}
	return f
}

func fileProto() *descriptorpb.FileDescriptorProto {
	const pkg = ".externalscaler."
	field := func(name string, number int32, typ descriptorpb.FieldDescriptorProto_Type, typeName string, repeated bool) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{
			Name:     proto.String(name),
			JsonName: proto.String(name),
			Number:   proto.Int32(number),
			Type:     typ.Enum(),
			Label:    descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
		}
		if repeated {
			f.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
		}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	const (
		str = descriptorpb.FieldDescriptorProto_TYPE_STRING
		msg = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
		i64 = descriptorpb.FieldDescriptorProto_TYPE_INT64
		dbl = descriptorpb.FieldDescriptorProto_TYPE_DOUBLE
		bol = descriptorpb.FieldDescriptorProto_TYPE_BOOL
	)
	message := func(name string, fields ...*descriptorpb.FieldDescriptorProto) *descriptorpb.DescriptorProto {
		return &descriptorpb.DescriptorProto{Name: proto.String(name), Field: fields}
	}
	// map<string, string> scalerMetadata = 3 is, on the wire and in a
	// descriptor, a repeated nested entry message with map_entry set.
	ref := message("ScaledObjectRef",
		field("name", 1, str, "", false),
		field("namespace", 2, str, "", false),
		field("scalerMetadata", 3, msg, pkg+"ScaledObjectRef.ScalerMetadataEntry", true))
	entry := message("ScalerMetadataEntry", field("key", 1, str, "", false), field("value", 2, str, "", false))
	entry.Options = &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)}
	ref.NestedType = []*descriptorpb.DescriptorProto{entry}

	method := func(name, in, out string, serverStreaming bool) *descriptorpb.MethodDescriptorProto {
		m := &descriptorpb.MethodDescriptorProto{Name: proto.String(name), InputType: proto.String(pkg + in), OutputType: proto.String(pkg + out)}
		if serverStreaming {
			m.ServerStreaming = proto.Bool(true)
		}
		return m
	}
	return &descriptorpb.FileDescriptorProto{
		Name:    proto.String("externalscaler.proto"),
		Package: proto.String("externalscaler"),
		Syntax:  proto.String("proto3"),
		Options: &descriptorpb.FileOptions{GoPackage: proto.String(".;externalscaler")},
		MessageType: []*descriptorpb.DescriptorProto{
			ref,
			message("IsActiveResponse", field("result", 1, bol, "", false)),
			message("GetMetricSpecResponse", field("metricSpecs", 1, msg, pkg+"MetricSpec", true)),
			message("MetricSpec",
				field("metricName", 1, str, "", false),
				field("targetSize", 2, i64, "", false), // deprecated by KEDA for targetSizeFloat
				field("targetSizeFloat", 3, dbl, "", false)),
			message("GetMetricsRequest",
				field("scaledObjectRef", 1, msg, pkg+"ScaledObjectRef", false),
				field("metricName", 2, str, "", false)),
			message("GetMetricsResponse", field("metricValues", 1, msg, pkg+"MetricValue", true)),
			message("MetricValue",
				field("metricName", 1, str, "", false),
				field("metricValue", 2, i64, "", false), // deprecated by KEDA for metricValueFloat
				field("metricValueFloat", 3, dbl, "", false)),
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("ExternalScaler"),
			Method: []*descriptorpb.MethodDescriptorProto{
				method("IsActive", "ScaledObjectRef", "IsActiveResponse", false),
				method("StreamIsActive", "ScaledObjectRef", "IsActiveResponse", true),
				method("GetMetricSpec", "ScaledObjectRef", "GetMetricSpecResponse", false),
				method("GetMetrics", "GetMetricsRequest", "GetMetricsResponse", false),
				method("StreamMetricSpec", "ScaledObjectRef", "GetMetricSpecResponse", true),
			},
		}},
	}
}
