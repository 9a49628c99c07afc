package keda

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/vigil-dev/vigil/web/keda/externalscaler"
)

// The field numbers and wire types of KEDA's externalscaler.proto
// (kedacore/keda, pkg/scalers/externalscaler/externalscaler.proto, the
// version with targetSizeFloat, metricValueFloat and StreamMetricSpec),
// copied by hand from that file: the test decodes what the generated code
// produces by number, so a wrong number or type in externalscaler.proto fails
// here instead of in a cluster.

// wireField is one decoded field: number, wire type and, for scalars, the
// value as text; for messages, the decoded fields of the payload.
type wireField struct {
	num  protowire.Number
	typ  protowire.Type
	val  string
	sub  []wireField
	text string // the raw bytes, for strings
}

// decode parses b by the wire format alone; nested names which fields are
// messages (by number path) so their payload is decoded too.
func decode(t *testing.T, b []byte, nested map[protowire.Number]map[protowire.Number]bool, path protowire.Number) []wireField {
	t.Helper()
	var out []wireField
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		f := wireField{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				t.Fatal(protowire.ParseError(n))
			}
			f.val, b = fmt.Sprint(v), b[n:]
		case protowire.Fixed64Type:
			v, n := protowire.ConsumeFixed64(b)
			if n < 0 {
				t.Fatal(protowire.ParseError(n))
			}
			f.val, b = fmt.Sprintf("%#x", v), b[n:]
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				t.Fatal(protowire.ParseError(n))
			}
			b = b[n:]
			if nested[path][num] {
				f.sub = decode(t, v, nested, num)
			} else {
				f.text = string(v)
			}
		default:
			t.Fatalf("unexpected wire type %d for field %d", typ, num)
		}
		out = append(out, f)
	}
	return out
}

func render(fs []wireField) string {
	var parts []string
	for _, f := range fs {
		switch {
		case f.sub != nil:
			parts = append(parts, fmt.Sprintf("%d:{%s}", f.num, render(f.sub)))
		case f.typ == protowire.BytesType:
			parts = append(parts, fmt.Sprintf("%d:%q", f.num, f.text))
		default:
			parts = append(parts, fmt.Sprintf("%d/%d:%s", f.num, f.typ, f.val))
		}
	}
	return strings.Join(parts, " ")
}

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWireMatchesKEDA(t *testing.T) {
	const (
		varint  = "/0:" // wire type 0
		fixed64 = "/1:" // wire type 1 (double)
	)
	// 1.5 as a double is 0x3ff8000000000000, 4.0 is 0x4010000000000000.
	for _, tc := range []struct {
		name   string
		msg    proto.Message
		nested map[protowire.Number]map[protowire.Number]bool
		want   string
	}{
		// GetMetricsResponse { repeated MetricValue metricValues = 1; }
		// MetricValue { string metricName = 1; int64 metricValue = 2;
		// double metricValueFloat = 3; }
		{"GetMetricsResponse", metricsResponse([]MetricValue{{MetricName: "vigil-chat-replicas", MetricValue: 4, MetricValueFloat: 4}}),
			map[protowire.Number]map[protowire.Number]bool{0: {1: true}},
			`1:{1:"vigil-chat-replicas" 2` + varint + `4 3` + fixed64 + `0x4010000000000000}`},
		// GetMetricSpecResponse { repeated MetricSpec metricSpecs = 1; }
		// MetricSpec { string metricName = 1; int64 targetSize = 2;
		// double targetSizeFloat = 3; }
		{"GetMetricSpecResponse", metricSpecResponse([]MetricSpec{{MetricName: "m", TargetSize: 1, TargetSizeFloat: 1.5}}),
			map[protowire.Number]map[protowire.Number]bool{0: {1: true}},
			`1:{1:"m" 2` + varint + `1 3` + fixed64 + `0x3ff8000000000000}`},
		// IsActiveResponse { bool result = 1; }
		{"IsActiveResponse", &pb.IsActiveResponse{Result: true}, nil, `1` + varint + `1`},
		// GetMetricsRequest { ScaledObjectRef scaledObjectRef = 1; string
		// metricName = 2; } ScaledObjectRef { string name = 1; string
		// namespace = 2; map<string, string> scalerMetadata = 3; }, the
		// map's entries { key = 1; value = 2; }.
		{"GetMetricsRequest", getMetricsRequest(ScaledObjectRef{Name: "chat", Namespace: "inference", ScalerMetadata: map[string]string{"service": "chat"}}, "vigil-chat-replicas"),
			map[protowire.Number]map[protowire.Number]bool{0: {1: true}, 1: {3: true}},
			`1:{1:"chat" 2:"inference" 3:{1:"service" 2:"chat"}} 2:"vigil-chat-replicas"`},
	} {
		if got := render(decode(t, marshal(t, tc.msg), tc.nested, 0)); got != tc.want {
			t.Errorf("%s on the wire:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// TestDecodesKEDAsRequest builds a GetMetricsRequest by field number, as
// KEDA's generated code writes it, and reads it back through the
// descriptor.
func TestDecodesKEDAsRequest(t *testing.T) {
	str := func(b []byte, num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
	}
	sub := func(b []byte, num protowire.Number, payload []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), payload)
	}
	var ref []byte
	ref = str(ref, 1, "chat")
	ref = str(ref, 2, "inference")
	ref = sub(ref, 3, str(str(nil, 1, "service"), 2, "chat-gateway"))
	ref = sub(ref, 3, str(str(nil, 1, "latencySLO"), 2, "0.8"))
	var req []byte
	req = sub(req, 1, ref)
	req = str(req, 2, "vigil-chat-gateway-replicas")

	m := &pb.GetMetricsRequest{}
	if err := proto.Unmarshal(req, m); err != nil {
		t.Fatal(err)
	}
	got, name := scaledObjectRefOf(m.GetScaledObjectRef()), m.GetMetricName()
	keys := make([]string, 0, len(got.ScalerMetadata))
	for k, v := range got.ScalerMetadata {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	if got.Name != "chat" || got.Namespace != "inference" || name != "vigil-chat-gateway-replicas" || strings.Join(keys, ",") != "latencySLO=0.8,service=chat-gateway" {
		t.Errorf("decoded %+v %q", got, name)
	}
}

func TestDescriptorNames(t *testing.T) {
	svc := pb.File_externalscaler_proto.Services().ByName("ExternalScaler")
	if svc == nil || svc.FullName() != "externalscaler.ExternalScaler" {
		t.Fatalf("service %v", svc)
	}
	var got []string
	for i := range svc.Methods().Len() {
		m := svc.Methods().Get(i)
		got = append(got, fmt.Sprintf("%s(%s) %v %s", m.Name(), m.Input().Name(), m.IsStreamingServer(), m.Output().Name()))
	}
	want := "IsActive(ScaledObjectRef) false IsActiveResponse, StreamIsActive(ScaledObjectRef) true IsActiveResponse, " +
		"GetMetricSpec(ScaledObjectRef) false GetMetricSpecResponse, GetMetrics(GetMetricsRequest) false GetMetricsResponse, " +
		"StreamMetricSpec(ScaledObjectRef) true GetMetricSpecResponse"
	if s := strings.Join(got, ", "); s != want {
		t.Errorf("methods:\n got %s\nwant %s", s, want)
	}
	if f := (&pb.ScaledObjectRef{}).ProtoReflect().Descriptor().Fields().ByName("scalerMetadata"); f == nil || !f.IsMap() || f.MapKey().Kind().String() != "string" || f.MapValue().Kind().String() != "string" {
		t.Errorf("scalerMetadata is not map<string, string>: %v", f)
	}
}

// FuzzScaledObjectRef feeds arbitrary bytes, as a client may send them,
// through the decoding and metadata parsing the server does: neither may
// panic, since grpc-go does not recover a handler's panic.
func FuzzScaledObjectRef(f *testing.F) {
	f.Add(marshalRef(ScaledObjectRef{Name: "chat", Namespace: "inference", ScalerMetadata: map[string]string{"service": "chat", "latencySLO": "0.8", "history": "1h"}}))
	f.Add(marshalRef(ScaledObjectRef{ScalerMetadata: map[string]string{"service": "x", "targetPerReplica": "NaN", "replicas": "-1", "tenant": "../"}}))
	f.Add([]byte{0x1a, 0x03, 0x0a, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &pb.ScaledObjectRef{}
		if proto.Unmarshal(b, m) != nil {
			return
		}
		ref := scaledObjectRefOf(m)
		tr, err := ParseTrigger(ref)
		if err != nil {
			return
		}
		if tr.Query.Service == "" || tr.Query.Tenant == "" || !(tr.Query.SLO > 0 || tr.Query.Target > 0) || tr.History < 60e9 {
			t.Errorf("accepted %+v as %+v", ref, tr)
		}
		if name := tr.MetricName(); strings.TrimLeft(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			t.Errorf("metric name %q", name)
		}
	})
}

func marshalRef(r ScaledObjectRef) []byte {
	b, err := proto.Marshal(r.message())
	if err != nil {
		panic(err)
	}
	return b
}
