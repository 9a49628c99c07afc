package main

import (
	"os/exec"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

type sdkmetricData = metricdata.ResourceMetrics

func metricAttrs(model string) metric.AddOption {
	return metric.WithAttributes(attribute.String("model", model))
}

func sdkmetricUnit(u string) metric.Float64HistogramOption { return metric.WithUnit(u) }

func dropDatabase(addr, db string) {
	host, port, _ := strings.Cut(addr, ":")
	exec.Command("clickhouse-client", "--host", host, "--port", port, "--query", "DROP DATABASE IF EXISTS "+db).Run()
}
