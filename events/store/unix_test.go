package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"vigie/events/embedded"
	"vigie/events/store"
)

// socketDir is a fresh directory whose socket path fits embedded.MaxSocketPath
// (t.TempDir's names carry the test's, and may not).
func socketDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vigie")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// The all-in-one's way to its own store (issue 14, point 1): no TCP port, a Unix
// socket of mode 0600, and still TLS and the password of this start, through the
// official client.
func TestTheOfficialClientReachesTheStoreThroughAUnixSocket(t *testing.T) {
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pw, err := embedded.NewPassword()
	if err != nil {
		t.Fatal(err)
	}
	cert, roots, err := embedded.EphemeralTLS()
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(socketDir(t), "eventstore.sock")
	srv, err := st.Listen(embedded.ListenConfig{Socket: sock, Certificate: &cert, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if fi, err := os.Stat(sock); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want a socket of mode 0600", sock, fi.Mode())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	open := func(url string, opts ...store.Option) *store.Client {
		t.Helper()
		c, err := store.Open(url, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	c := open(srv.ClientURL(), store.WithUnixSocket(sock), store.WithRootCAs(roots))
	ev := store.EventData{ID: uuid.New(), Type: "IncidentReported", Data: []byte(`{"place":"Nîmes"}`)}
	if _, err := c.Append(ctx, "incident-1", store.NoStream(), ev); err != nil {
		t.Fatalf("append through the socket: %v", err)
	}
	got, err := c.ReadStream(ctx, "incident-1", store.Start, store.Forwards, 10)
	if err != nil {
		t.Fatalf("read through the socket: %v", err)
	}
	if len(got) != 1 || got[0].ID != ev.ID || string(got[0].Data) != string(ev.Data) {
		t.Fatalf("read back %+v, want the event appended", got)
	}

	// Refused: a wrong password, none, and a client that does not trust the
	// certificate of this start (its TLS is verified, against the name "localhost").
	// One discovery attempt: a call that gave up while the official client still
	// discovers would linger past Close (see Client.Close).
	const once = "&maxDiscoverAttempts=1"
	for name, c := range map[string]*store.Client{
		"wrong password": open(strings.Replace(srv.ClientURL(), pw, "guess", 1)+once, store.WithUnixSocket(sock), store.WithRootCAs(roots)),
		"no password":    open(srv.URL()+once, store.WithUnixSocket(sock), store.WithRootCAs(roots)),
		"untrusted":      open(srv.ClientURL()+once, store.WithUnixSocket(sock)),
	} {
		short, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := c.Append(short, "role-dep:30", store.Any(), store.EventData{ID: uuid.New(), Type: "RoleGranted", Data: []byte(`{"role":"prefecture"}`)})
		if err == nil {
			t.Errorf("%s: append accepted", name)
		}
		t.Logf("%s: %v", name, err)
		if _, err := c.ReadStream(short, "incident-1", store.Start, store.Forwards, 10); err == nil {
			t.Errorf("%s: the stream was read", name)
		}
		cancel()
	}

	srv.Close()
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket outlives its server: %v", err)
	}
}

// A socket serves one node: a connection string that discovers a cluster is refused
// rather than silently reduced to the socket.
func TestAUnixSocketWantsASingleNode(t *testing.T) {
	for _, url := range []string{"esdb+discover://localhost:2113", "esdb://a:2113,b:2113,c:2113"} {
		if c, err := store.Open(url, store.WithUnixSocket("/nonexistent/eventstore.sock")); err == nil {
			c.Close()
			t.Errorf("%s with a Unix socket: accepted", url)
		}
	}
}
