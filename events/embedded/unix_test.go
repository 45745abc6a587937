package embedded_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"vigie/events/embedded"
	"vigie/events/store"
)

// shortDir is a fresh directory whose socket paths fit embedded.MaxSocketPath.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vigie")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func openStore(t *testing.T) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// A store served on a Unix socket (the all-in-one's, issue 14 point 1) is a socket
// of mode 0600 from the start, leaves nothing else beside it, and goes with its
// server. Insecure is allowed there as on loopback; the client goes through
// store.WithUnixSocket.
func TestAStoreServedOnAUnixSocket(t *testing.T) {
	st := openStore(t)
	dir := shortDir(t)
	sock := filepath.Join(dir, "eventstore.sock")
	srv, err := st.Listen(embedded.ListenConfig{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	fi, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want a socket of mode 0600", sock, fi.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("beside the socket: %v, want nothing (the private directory it was bound in is gone)", entries)
	}
	if srv.Socket() != sock || srv.Addr() != embedded.SocketHost || !strings.Contains(srv.URL(), embedded.SocketHost) {
		t.Errorf("Socket %q, Addr %q, URL %q: want the path, then %s", srv.Socket(), srv.Addr(), srv.URL(), embedded.SocketHost)
	}

	c, err := store.Open(srv.URL(), store.WithUnixSocket(sock))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Append(ctx, "incident-1", store.NoStream(), store.EventData{ID: uuid.New(), Type: "IncidentReported", Data: []byte(`{}`)}); err != nil {
		t.Fatalf("append over the insecure socket: %v", err)
	}
	c.Close()

	srv.Close()
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket outlives its server: %v", err)
	}
}

// A socket left by a server that died is replaced; one that a server still answers
// is not taken over, nor is any other file; and a path sun_path cannot hold, or
// both an address and a socket, are refused.
func TestAUnixSocketReplacesOnlyADeadOne(t *testing.T) {
	dir := shortDir(t)
	sock := filepath.Join(dir, "eventstore.sock")

	dead, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	dead.SetUnlinkOnClose(false)
	dead.Close()
	srv, err := openStore(t).Listen(embedded.ListenConfig{Socket: sock})
	if err != nil {
		t.Fatalf("over a dead socket: %v", err)
	}
	defer srv.Close()

	if other, err := openStore(t).Listen(embedded.ListenConfig{Socket: sock}); err == nil {
		other.Close()
		t.Error("a second server took over a live socket")
	}
	if c, err := net.DialTimeout("unix", sock, time.Second); err != nil {
		t.Errorf("the first server's socket is gone: %v", err)
	} else {
		c.Close()
	}

	file := filepath.Join(dir, "not-a-socket")
	if err := os.WriteFile(file, []byte("log"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]embedded.ListenConfig{
		"a regular file": {Socket: file},
		"too long":       {Socket: filepath.Join(dir, strings.Repeat("s", embedded.MaxSocketPath))},
		"both":           {Addr: "127.0.0.1:0", Socket: filepath.Join(dir, "both.sock")},
	} {
		if s, err := openStore(t).Listen(cfg); err == nil {
			s.Close()
			t.Errorf("%s: served", name)
		}
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "log" {
		t.Errorf("the regular file was touched: %q, %v", b, err)
	}
}
