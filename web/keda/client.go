package keda

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Client calls an external scaler as KEDA does, over the same
// descriptor: for tests, and for checking a running Vigil by hand.
type Client struct {
	Conn grpc.ClientConnInterface
}

func method(name string) string { return "/" + ServiceName + "/" + name }

// IsActive calls IsActive.
func (c *Client) IsActive(ctx context.Context, ref ScaledObjectRef) (bool, error) {
	resp := dynamicpb.NewMessage(isActiveResponseDesc)
	if err := c.Conn.Invoke(ctx, method("IsActive"), ref.message(), resp); err != nil {
		return false, err
	}
	return isActiveOf(resp), nil
}

// GetMetricSpec calls GetMetricSpec.
func (c *Client) GetMetricSpec(ctx context.Context, ref ScaledObjectRef) ([]MetricSpec, error) {
	resp := dynamicpb.NewMessage(getMetricSpecResponseDesc)
	if err := c.Conn.Invoke(ctx, method("GetMetricSpec"), ref.message(), resp); err != nil {
		return nil, err
	}
	return metricSpecsOf(resp), nil
}

// GetMetrics calls GetMetrics.
func (c *Client) GetMetrics(ctx context.Context, ref ScaledObjectRef, metricName string) ([]MetricValue, error) {
	resp := dynamicpb.NewMessage(getMetricsResponseDesc)
	if err := c.Conn.Invoke(ctx, method("GetMetrics"), getMetricsRequest(ref, metricName), resp); err != nil {
		return nil, err
	}
	return metricValuesOf(resp), nil
}

// StreamIsActive opens StreamIsActive; recv returns each activity the
// server sends, until ctx ends or the stream fails.
func (c *Client) StreamIsActive(ctx context.Context, ref ScaledObjectRef) (recv func() (bool, error), err error) {
	stream, err := c.open(ctx, "StreamIsActive", ref)
	if err != nil {
		return nil, err
	}
	return func() (bool, error) {
		resp := dynamicpb.NewMessage(isActiveResponseDesc)
		if err := stream.RecvMsg(resp); err != nil {
			return false, err
		}
		return isActiveOf(resp), nil
	}, nil
}

// StreamMetricSpec opens StreamMetricSpec; recv returns each spec the
// server sends.
func (c *Client) StreamMetricSpec(ctx context.Context, ref ScaledObjectRef) (recv func() ([]MetricSpec, error), err error) {
	stream, err := c.open(ctx, "StreamMetricSpec", ref)
	if err != nil {
		return nil, err
	}
	return func() ([]MetricSpec, error) {
		resp := dynamicpb.NewMessage(getMetricSpecResponseDesc)
		if err := stream.RecvMsg(resp); err != nil {
			return nil, err
		}
		return metricSpecsOf(resp), nil
	}, nil
}

func (c *Client) open(ctx context.Context, name string, ref ScaledObjectRef) (grpc.ClientStream, error) {
	stream, err := c.Conn.NewStream(ctx, &grpc.StreamDesc{StreamName: name, ServerStreams: true}, method(name))
	if err != nil {
		return nil, err
	}
	if err := stream.SendMsg(ref.message()); err != nil {
		return nil, err
	}
	return stream, stream.CloseSend()
}
