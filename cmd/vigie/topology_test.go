package main

import (
	"net"
	"slices"
	"testing"
)

// topology is Vigie deployed as separate processes: the event store, the three
// services, the projector and the gateway.
type topology struct {
	eventstore, incidents, resources, alerts, projector, gateway *process
	esURL                                                        string
	metricsAddr                                                  string // the gateway's /metrics (VIGIE_METRICS_ADDR)
}

// startTopology starts every component as its own process on data, with the read
// models in redisURL. alertsEnv configures the alerts service (its providers); nothing
// of the developer's environment decides where a component goes: each variable is
// given, or emptied (tracing off, development-mode tokens).
func startTopology(t *testing.T, data, redisURL string, alertsEnv []string) *topology {
	t.Helper()
	es := startVigie(t, "serve", "eventstore", "--data", data, "--listen", "127.0.0.1:0")
	esURL := "esdb://" + es.addr + "?tls=false"
	base := []string{"EVENTSTORE_URL=" + esURL, "REDIS_URL=", "VIGIE_DATA=", "VIGIE_HTTP_ADDR=",
		"VIGIE_INCIDENTS_ADDR=", "VIGIE_RESOURCES_ADDR=", "VIGIE_ALERTS_ADDR=", "VIGIE_OIDC_ISSUER=",
		"OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="}
	with := func(kv ...string) []string { return append(slices.Clone(base), kv...) }
	// One after the other: the first service creates the signing key in --data.
	inc := startVigieEnv(t, base, "serve", "incidents", "--data", data, "--listen", "127.0.0.1:0")
	res := startVigieEnv(t, base, "serve", "resources", "--data", data, "--listen", "127.0.0.1:0")
	alr := startVigieEnv(t, with(alertsEnv...), "serve", "alerts", "--data", data, "--listen", "127.0.0.1:0")
	proj := startVigieEnv(t, with("REDIS_URL="+redisURL), "serve", "projector", "--data", data, "--listen", "127.0.0.1:0")
	// Metrics on an address of their own, never the gateway's public one.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := l.Addr().String()
	l.Close()
	gw := startVigieEnv(t, with("REDIS_URL="+redisURL, "VIGIE_INCIDENTS_ADDR="+inc.addr, "VIGIE_RESOURCES_ADDR="+res.addr, "VIGIE_ALERTS_ADDR="+alr.addr, "VIGIE_METRICS_ADDR="+metricsAddr),
		"serve", "gateway", "--data", data, "--http", "127.0.0.1:0")
	return &topology{eventstore: es, incidents: inc, resources: res, alerts: alr, projector: proj, gateway: gw, esURL: esURL, metricsAddr: metricsAddr}
}
