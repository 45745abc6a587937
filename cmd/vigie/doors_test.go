package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"vigie/events/embedded"
	"vigie/events/store"
)

// Issue 14, point 1, from a local attacker's side: `vigie serve` opens the gateway's
// port and no other TCP port but the metrics address. Its event store is served on a
// Unix socket in the data directory, of mode 0600, which answers nobody without the
// password the process made at start (a local process read the whole log and made
// itself prefecture); the read models and the services are reached in memory: nothing
// answers the Redis protocol or serves the services' gRPC.
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
	// The gateway and the metrics address (loopback, VIGIE_METRICS_ADDR); before
	// issue 14 also Redis, the services and the event store.
	if len(others) > 0 {
		t.Errorf("serve listens on %v besides the gateway %s and the metrics address: want no other TCP port", others, gateway)
	}

	// The event store's socket: DATA/eventstore.sock (this test's data directory is
	// short enough for a socket path), this user's only.
	sock := filepath.Join(data, "eventstore.sock")
	if fi, err := os.Lstat(sock); err != nil {
		t.Errorf("no event store socket: %v", err)
	} else if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want a socket of mode 0600", sock, fi.Mode())
	}

	// Whatever answers, the socket or a port that should not be there: no Redis, and
	// no log to the official client, trusting any certificate (the attacker does not
	// have the process's), without credentials or with wrong ones.
	doors := []door{{"unix", sock}}
	for _, addr := range others {
		doors = append(doors, door{"tcp", addr})
	}
	for _, d := range doors {
		if c, err := net.DialTimeout(d.network, d.addr, 2*time.Second); err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			io.WriteString(c, "*1\r\n$4\r\nPING\r\n")
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") {
				t.Errorf("%s answers Redis without authentication", d.addr)
			}
		}
		for _, userinfo := range []string{"", "admin:changeit@"} {
			for _, query := range []string{"tls=true&tlsVerifyCert=false", "tls=false"} {
				d.refusesTheLog(t, userinfo, query)
			}
		}
		// And a plain TLS handshake gives nothing either but a certificate.
		if c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, d.network, d.addr, &tls.Config{InsecureSkipVerify: true}); err == nil {
			c.Close()
		}
	}

	srv.stop(t)
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the event store socket outlives serve: %v", err)
	}
}

// door is where a local process might knock: a Unix socket or a TCP port.
type door struct{ network, addr string }

// refusesTheLog: the official client, with credentials userinfo ("user:password@"
// or none) and the TLS settings of query, neither reads the log nor appends a role
// grant through d.
func (d door) refusesTheLog(t *testing.T, userinfo, query string) {
	t.Helper()
	host := d.addr
	if d.network == "unix" {
		host = embedded.SocketHost
	}
	url := "esdb://" + userinfo + host + "?" + query
	cfg, err := esdb.ParseConnectionString(url)
	if err != nil {
		t.Fatal(err)
	}
	if d.network == "unix" {
		// What store.WithUnixSocket does: gRPC's unix resolver, named localhost.
		cfg.Address = (&neturl.URL{Scheme: "unix", Path: d.addr}).String()
		url += " through " + d.addr
	}
	cfg.Logger = esdb.NoopLogging()
	cfg.MaxDiscoverAttempts = 2
	c, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
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
}

// listenPrivately's socket goes to a private directory of its own when the data
// directory's path is too long for a socket, or when there is none; the directory
// goes with the server.
func TestTheStoreSocketFallsBackToAPrivateDirectory(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat("d", embedded.MaxSocketPath))
	if err := os.MkdirAll(long, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, dataDir := range map[string]string{"a long data directory": long, "none": ""} {
		es, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		srv, opts, err := listenPrivately(es, dataDir)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sock := srv.Socket()
		dir := filepath.Dir(sock)
		if strings.HasPrefix(sock, long) {
			t.Errorf("%s: the socket %s is in the data directory", name, sock)
		}
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: the socket's directory %s: %v, %v; want mode 0700", name, dir, fi.Mode(), err)
		}
		if fi, err := os.Lstat(sock); err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %s: %v, %v; want a socket of mode 0600", name, sock, fi.Mode(), err)
		}
		c, err := store.Open(srv.ClientURL(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if _, err := c.Append(ctx, "incident-1", store.NoStream(), store.EventData{ID: uuid.New(), Type: "IncidentReported", Data: []byte(`{}`)}); err != nil {
			t.Errorf("%s: append through the socket: %v", name, err)
		}
		cancel()
		c.Close()
		srv.Close()
		es.Close()
		if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the socket's directory outlives the server: %v", name, err)
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
