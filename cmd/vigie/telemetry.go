package main

import (
	"context"
	"errors"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// metrics installs an OpenTelemetry meter provider exported in the Prometheus text
// format, and returns the /metrics handler and the provider's shutdown.
func metrics(res *resource.Resource) (http.Handler, func(context.Context) error, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res))
	otel.SetMeterProvider(mp)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), mp.Shutdown, nil
}

// tracing installs the W3C trace-context propagator (so gRPC calls carry the trace)
// and, when the standard OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT) is set, a
// tracer provider exporting spans over OTLP/gRPC; without it spans are not recorded.
func tracing(ctx context.Context, res *resource.Resource) (func(context.Context) error, error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracegrpc.New(ctx)
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// telemetry sets up metrics and tracing for a serving command.
func telemetry(ctx context.Context, component string) (http.Handler, func(context.Context) error, error) {
	res := serviceResource(ctx, component)
	h, stopMetrics, err := metrics(res)
	if err != nil {
		return nil, nil, err
	}
	stopTracing, err := tracing(ctx, res)
	if err != nil {
		_ = stopMetrics(ctx)
		return nil, nil, err
	}
	return h, func(ctx context.Context) error { return errors.Join(stopTracing(ctx), stopMetrics(ctx)) }, nil
}

// serviceResource names the component in metrics and traces ("vigie-projector", …);
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, win.
func serviceResource(ctx context.Context, component string) *resource.Resource {
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "vigie-"+component)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return resource.Default()
	}
	return res
}
