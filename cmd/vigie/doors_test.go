package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// Issue 14, point 1, from a local attacker's side: `vigie serve` opens the gateway's
// port and, besides it, only its event store's, which answers nobody without the
// password the process made at start (a local process read the whole log and made
// itself prefecture). The read models and the services are reached in memory: no
// port answers the Redis protocol or serves the services' gRPC.
func TestTheAllInOneOpensNoUnauthenticatedDoor(t *testing.T) {
	for _, k := range []string{"REDIS_URL", "EVENTSTORE_URL", "VIGIE_DATA", "VIGIE_HTTP_ADDR", "VIGIE_OIDC_ISSUER"} {
		t.Setenv(k, "")
	}
	before := listeningSockets(t)
	data := t.TempDir()
	srv := startInProcess(t, func(ctx context.Context, stdout, stderr io.Writer) int {
		return run(ctx, []string{"serve", "--data", data, "--http", "127.0.0.1:0"}, stdout, stderr)
	})
	defer srv.stop(t)
	opened := newSockets(before, listeningSockets(t))
	t.Logf("serve listens on %v", opened)
	gateway := strings.TrimPrefix(srv.addr, "http://")
	var others []string
	for _, a := range opened {
		if a != gateway && !servesMetrics(a) {
			others = append(others, a)
		}
	}
	// The gateway, the metrics address (loopback, VIGIE_METRICS_ADDR) and the event
	// store; before this change also Redis and the services.
	if len(others) > 1 {
		t.Errorf("serve listens on %v besides the gateway %s: want the event store's port at most", others, gateway)
	}
	for _, addr := range others {
		// No Redis behind it: a PING is not answered +PONG.
		if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			io.WriteString(c, "*1\r\n$4\r\nPING\r\n")
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") {
				t.Errorf("%s answers Redis without authentication", addr)
			}
		}
		// The event store, with the official client, trusting any certificate (the
		// attacker does not have the process's), and no credentials or wrong ones.
		for _, url := range []string{
			"esdb://" + addr + "?tls=true&tlsVerifyCert=false",
			"esdb://admin:changeit@" + addr + "?tls=true&tlsVerifyCert=false",
			"esdb://" + addr + "?tls=false",
		} {
			cfg, err := esdb.ParseConnectionString(url)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Logger = esdb.NoopLogging()
			cfg.MaxDiscoverAttempts = 2
			c, err := esdb.NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{}, 100)
			if err == nil {
				// An empty page (io.EOF) is an answer too: the store let the caller in.
				if _, err = rs.Recv(); err == nil || errors.Is(err, io.EOF) {
					t.Errorf("%s: the log is readable", url)
				}
				rs.Close()
			}
			grant := esdb.EventData{EventID: uuid.New(), EventType: "RoleGranted", ContentType: esdb.ContentTypeJson,
				Data: []byte(`{"subject":"intrus","role":"prefecture","domain":"dep:30"}`)}
			if _, err := c.AppendToStream(ctx, "role-dep:30", esdb.AppendToStreamOptions{}, grant); err == nil {
				t.Errorf("%s: a role grant was appended", url)
			}
			cancel()
			c.Close()
		}
		// And a plain TLS handshake gives nothing either but a certificate.
		if c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true}); err == nil {
			c.Close()
		}
	}
}

// servesMetrics: addr is the metrics address (Prometheus text on GET /metrics), which
// point 8 of the issue allows beside the gateway, on loopback.
func servesMetrics(addr string) bool {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + addr + "/metrics")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
