package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/log/global"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
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

// logging installs the OpenTelemetry logger provider the security journal emits to
// (policies/journal): OTLP/gRPC when the standard OTEL_EXPORTER_OTLP_ENDPOINT (or
// _LOGS_ENDPOINT) is set; else one JSON line per record on stderr, where the process
// logs the rest, so that an operator without a collector still reads them.
func logging(ctx context.Context, res *resource.Resource) (func(context.Context) error, error) {
	var proc sdklog.Processor
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") != "" {
		exp, err := otlploggrpc.New(ctx)
		if err != nil {
			return nil, err
		}
		proc = sdklog.NewBatchProcessor(exp)
	} else {
		proc = sdklog.NewSimpleProcessor(jsonLines{w: os.Stderr})
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(proc), sdklog.WithResource(res))
	global.SetLoggerProvider(lp)
	return lp.Shutdown, nil
}

// jsonLines exports log records as JSON lines: time, severity, event name, body and
// attributes (the journal's fields; never a token or a contact detail).
type jsonLines struct{ w io.Writer }

func (j jsonLines) Export(_ context.Context, recs []sdklog.Record) error {
	for _, r := range recs {
		line := map[string]any{
			"time": r.Timestamp().UTC().Format(time.RFC3339Nano), "level": r.SeverityText(),
			"event": r.EventName(), "msg": r.Body().Emit(),
		}
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			line[string(kv.Key)] = kv.Value.AsInterface()
			return true
		})
		b, err := json.Marshal(line)
		if err != nil {
			return err
		}
		jsonLinesMu.Lock()
		_, err = j.w.Write(append(b, '\n'))
		jsonLinesMu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}
func (jsonLines) Shutdown(context.Context) error   { return nil }
func (jsonLines) ForceFlush(context.Context) error { return nil }

var jsonLinesMu sync.Mutex

// telemetry sets up metrics, tracing and the log records for a serving command.
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
	stopLogging, err := logging(ctx, res)
	if err != nil {
		_ = errors.Join(stopTracing(ctx), stopMetrics(ctx))
		return nil, nil, err
	}
	return h, func(ctx context.Context) error {
		return errors.Join(stopLogging(ctx), stopTracing(ctx), stopMetrics(ctx))
	}, nil
}

// startTelemetry is telemetry for a serving command with its own /metrics address
// (--metrics, serveMetrics): every process, split or not, traces, counts and logs the
// same way. stop ends both.
func startTelemetry(ctx context.Context, component string, m *metricsAddr, stderr io.Writer) (stop func(), err error) {
	h, shutdown, err := telemetry(ctx, component)
	if err != nil {
		return nil, err
	}
	stopHTTP, err := serveMetrics(m, h, stderr)
	if err != nil {
		_ = shutdown(context.Background())
		return nil, err
	}
	return func() { stopHTTP(); _ = shutdown(context.Background()) }, nil
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

// defaultMetricsAddr is where a gateway serves /metrics unless told otherwise: on
// loopback, for a local Prometheus or collector. Never the gateway's public address:
// the metrics tell who calls which service how often, and how it fails.
const defaultMetricsAddr = "127.0.0.1:9464"

// metricsAddr is the --metrics flag of a serving command: VIGIE_METRICS_ADDR when the
// flag is not given, defaultMetricsAddr when neither is; "off" serves no metrics.
type metricsAddr struct {
	addr     string
	explicit bool // given by the flag or the environment, not the default
}

func (m *metricsAddr) String() string { return m.addr }
func (m *metricsAddr) Set(v string) error {
	m.addr, m.explicit = v, true
	return nil
}

// metricsFlag adds --metrics to fs.
func metricsFlag(fs *flag.FlagSet) *metricsAddr {
	m := &metricsAddr{addr: defaultMetricsAddr}
	if v := os.Getenv("VIGIE_METRICS_ADDR"); v != "" {
		m.addr, m.explicit = v, true
	}
	fs.Var(m, "metrics", "host:port of /metrics, apart from the gateway's address (env VIGIE_METRICS_ADDR; default "+defaultMetricsAddr+"; port 0 takes a free one; off: not served)")
	return m
}

// serveMetrics serves h as /metrics on m's address, and nothing else there, until
// stop; it says where on stderr ("metrics on http://ADDR": stdout carries only the
// gateway's "listening on" line). An address given explicitly that cannot be bound is
// an error; the default one busy (another vigie on this machine) is only a warning:
// metrics never keep a command post from starting.
func serveMetrics(m *metricsAddr, h http.Handler, stderr io.Writer) (stop func(), err error) {
	if m.addr == "off" {
		return func() {}, nil
	}
	lis, err := net.Listen("tcp", m.addr)
	if err != nil {
		if !m.explicit {
			fmt.Fprintf(stderr, "metrics not served: %v (choose another address with --metrics or VIGIE_METRICS_ADDR)\n", err)
			return func() {}, nil
		}
		return nil, fmt.Errorf("metrics address: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(lis) }()
	fmt.Fprintf(stderr, "metrics on http://%s\n", lis.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	}, nil
}
