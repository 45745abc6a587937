package main

import (
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 14, point 8: /metrics (who calls which service how often, and how it fails)
// was served on the gateway's public address. It is on an address of its own,
// loopback by default (VIGIE_METRICS_ADDR, --metrics), and the gateway answers 404.
func TestMetricsAreNotOnTheGatewaysAddress(t *testing.T) {
	env := []string{"REDIS_URL=", "EVENTSTORE_URL=", "VIGIE_DATA=", "VIGIE_HTTP_ADDR=", "VIGIE_OIDC_ISSUER=",
		"VIGIE_METRICS_ADDR=127.0.0.1:0", "OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="}
	p := startVigieEnv(t, env, "serve", "--data", t.TempDir(), "--http", "127.0.0.1:0")
	hc := &http.Client{Timeout: 10 * time.Second}
	waitOK(t, hc, p.addr+"/readyz")

	resp, err := hc.Get(p.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "target_info") {
		t.Errorf("GET /metrics on the gateway's address: %d %.200s, want 404", resp.StatusCode, body)
	}

	// The address it took is on stderr ("metrics on http://ADDR"): stdout carries
	// only the gateway's listening line.
	metricsURL := metricsURLOf(t, p)
	if metricsURL == p.addr {
		t.Fatalf("metrics on the gateway's own address %s", p.addr)
	}
	text := metricsText(t, hc, metricsURL+"/metrics")
	if !hasSeries(text, "target_info") {
		t.Errorf("the metrics address serves no target_info:\n%.500s", text)
	}
	// Nothing else there: not the GraphQL endpoint, not the dashboard.
	if resp, err := hc.Get(metricsURL + "/graphql"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /graphql on the metrics address: %v %v, want 404", resp.Status, err)
	} else {
		resp.Body.Close()
	}
	p.stop(t, syscall.SIGTERM)
}

// The metrics' address never keeps a command post from starting by accident: the
// default one busy (another vigie on this machine) is a warning; one given explicitly
// that cannot be had is an error, as any address an operator configured.
// metricsURLOf waits for the "metrics on http://ADDR" line of p's stderr.
func metricsURLOf(t *testing.T, p *process) string {
	t.Helper()
	line := regexp.MustCompile(`metrics on (http://127\.0\.0\.1:\d+)`)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := line.FindStringSubmatch(p.stderr.String()); m != nil {
			return m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no \"metrics on http://ADDR\" line on stderr:\n%s", p.stderr)
		}
	}
}

func TestABusyMetricsAddress(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	h := http.NotFoundHandler()
	var stderr strings.Builder
	stop, err := serveMetrics(&metricsAddr{addr: lis.Addr().String()}, h, &stderr)
	if err != nil || !strings.Contains(stderr.String(), "metrics not served") {
		t.Errorf("the default address busy: err %v, stderr %q; want a warning and no error", err, stderr.String())
	} else {
		stop()
	}
	if _, err := serveMetrics(&metricsAddr{addr: lis.Addr().String(), explicit: true}, h, &stderr); err == nil {
		t.Error("an address given explicitly and busy: want an error")
	}
	stderr.Reset()
	stop, err = serveMetrics(&metricsAddr{addr: "off", explicit: true}, h, &stderr)
	if err != nil || stderr.Len() != 0 {
		t.Errorf("off: err %v, stderr %q; want nothing served and nothing said", err, stderr.String())
	}
	stop()
}
