package keda

import (
	"context"

	"google.golang.org/grpc"

	pb "github.com/vigil-dev/vigil/web/keda/externalscaler"
)

// Client calls an external scaler as KEDA does, through the generated
// client: for tests, and for checking a running Vigil by hand.
type Client struct {
	Conn grpc.ClientConnInterface
}

func (c *Client) stub() pb.ExternalScalerClient { return pb.NewExternalScalerClient(c.Conn) }

// IsActive calls IsActive.
func (c *Client) IsActive(ctx context.Context, ref ScaledObjectRef) (bool, error) {
	resp, err := c.stub().IsActive(ctx, ref.message())
	return resp.GetResult(), err
}

// GetMetricSpec calls GetMetricSpec.
func (c *Client) GetMetricSpec(ctx context.Context, ref ScaledObjectRef) ([]MetricSpec, error) {
	resp, err := c.stub().GetMetricSpec(ctx, ref.message())
	if err != nil {
		return nil, err
	}
	return metricSpecsOf(resp), nil
}

// GetMetrics calls GetMetrics.
func (c *Client) GetMetrics(ctx context.Context, ref ScaledObjectRef, metricName string) ([]MetricValue, error) {
	resp, err := c.stub().GetMetrics(ctx, getMetricsRequest(ref, metricName))
	if err != nil {
		return nil, err
	}
	return metricValuesOf(resp), nil
}

// StreamIsActive opens StreamIsActive; recv returns each activity the
// server sends, until ctx ends or the stream fails.
func (c *Client) StreamIsActive(ctx context.Context, ref ScaledObjectRef) (recv func() (bool, error), err error) {
	stream, err := c.stub().StreamIsActive(ctx, ref.message())
	if err != nil {
		return nil, err
	}
	return func() (bool, error) {
		resp, err := stream.Recv()
		return resp.GetResult(), err
	}, nil
}

// StreamMetricSpec opens StreamMetricSpec; recv returns each spec the
// server sends.
func (c *Client) StreamMetricSpec(ctx context.Context, ref ScaledObjectRef) (recv func() ([]MetricSpec, error), err error) {
	stream, err := c.stub().StreamMetricSpec(ctx, ref.message())
	if err != nil {
		return nil, err
	}
	return func() ([]MetricSpec, error) {
		resp, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		return metricSpecsOf(resp), nil
	}, nil
}
