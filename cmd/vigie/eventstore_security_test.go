package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"vigie/events/storetest"
)

// dialSecure connects the official client as an operator would, with the store's CA.
func dialSecure(t *testing.T, cred, addr, data string, tls bool) *esdb.Client {
	t.Helper()
	if cred != "" {
		cred += "@"
	}
	return storetest.Official(t, fmt.Sprintf("esdb://%s%s?tls=%t&tlsCAFile=%s", cred, addr, tls, filepath.Join(data, "eventstore", "ca.pem")), storetest.FailFast)
}

// probe appends to a fresh stream and reads it back; it returns the first error.
func probe(ctx context.Context, c *esdb.Client) error {
	stream := "probe-" + uuid.NewString()
	ev := esdb.EventData{EventID: uuid.New(), EventType: "Probe", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}
	if _, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, ev); err != nil {
		return err
	}
	rs, err := c.ReadStream(ctx, stream, esdb.ReadStreamOptions{}, 1)
	if err != nil {
		return err
	}
	defer rs.Close()
	_, err = rs.Recv()
	return err
}

func esdbCode(err error) esdb.ErrorCode {
	if e, ok := esdb.FromError(err); !ok {
		return e.Code()
	}
	return -1
}

// `vigie serve eventstore --secure` (issue 15, points 2 and 3): users and TLS on
// loopback, the admin's password and a private CA made at the first start and reused,
// users added and removed while it serves.
func TestServeEventstoreSecure(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := startVigie(t, "serve", "eventstore", "--secure", "--data", data, "--listen", "127.0.0.1:0")
	pwFile := filepath.Join(data, "eventstore", "admin.password")
	waitFor(t, "the password's path on stderr", func() bool { return strings.Contains(p.stderr.String(), "admin password in "+pwFile) })
	fi, err := os.Stat(pwFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: mode %v, want 0600", pwFile, fi.Mode().Perm())
	}
	pwb, err := os.ReadFile(pwFile)
	if err != nil {
		t.Fatal(err)
	}
	pw := strings.TrimSpace(string(pwb))
	if strings.Contains(p.stderr.String(), pw) {
		t.Fatal("the password itself is on stderr")
	}
	ca, err := os.ReadFile(filepath.Join(data, "eventstore", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}

	if err := probe(ctx, dialSecure(t, "admin:"+pw, p.addr, data, true)); err != nil {
		t.Fatalf("admin over TLS: %v", err)
	}
	if err := probe(ctx, dialSecure(t, "admin:guess", p.addr, data, true)); esdbCode(err) != esdb.ErrorCodeUnauthenticated {
		t.Errorf("wrong password: %v, want ErrorCodeUnauthenticated", err)
	}
	if err := probe(ctx, dialSecure(t, "", p.addr, data, true)); esdbCode(err) != esdb.ErrorCodeAccessDenied {
		t.Errorf("no credentials: %v, want ErrorCodeAccessDenied", err)
	}
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	if err := probe(pctx, dialSecure(t, "admin:"+pw, p.addr, data, false)); err == nil {
		t.Error("plaintext connection served")
	}
	pcancel()

	// A user added while the store serves, password generated and printed once.
	out, errOut, code := runVigie(t, nil, "eventstore", "user", "add", "projector", "--data", data)
	if code != exitOK {
		t.Fatalf("user add: exit %d: %s", code, errOut)
	}
	opw := strings.TrimSpace(out)
	if opw == "" || strings.Contains(out, "\n"+opw) || strings.Contains(errOut, opw) {
		t.Fatalf("user add printed %q on stdout, %q on stderr: want the password once, on stdout", out, errOut)
	}
	projector := dialSecure(t, "projector:"+opw, p.addr, data, true)
	waitFor(t, "the new user accepted", func() bool { return probe(ctx, projector) == nil })
	if _, errOut, code := runVigie(t, nil, "eventstore", "user", "remove", "projector", "--data", data); code != exitOK {
		t.Fatalf("user remove: exit %d: %s", code, errOut)
	}
	waitFor(t, "the removed user refused", func() bool { return esdbCode(probe(ctx, projector)) == esdb.ErrorCodeUnauthenticated })
	if _, _, code := runVigie(t, nil, "eventstore", "user", "remove", "admin", "--data", data); code == exitOK {
		t.Fatal("the last user was removed")
	}
	p.stop(t, syscall.SIGTERM)

	// The next start reuses the CA and the password, and prints neither path again.
	p = startVigie(t, "serve", "eventstore", "--secure", "--data", data, "--listen", "127.0.0.1:0")
	if err := probe(ctx, dialSecure(t, "admin:"+pw, p.addr, data, true)); err != nil {
		t.Fatalf("after a restart, admin over TLS with the first CA: %v", err)
	}
	if again, _ := os.ReadFile(filepath.Join(data, "eventstore", "ca.pem")); !bytes.Equal(again, ca) {
		t.Error("the CA changed at restart")
	}
	if s := p.stderr.String(); strings.Contains(s, "admin password in") || strings.Contains(s, "CA certificate in") {
		t.Errorf("restart printed the first start's lines again:\n%s", s)
	}
	file := filepath.Join(t.TempDir(), "vigie.tgz")
	if _, errOut, code := runVigie(t, nil, "backup", "--data", data, "--to", file); code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, errOut)
	}
	p.stop(t, syscall.SIGTERM)

	// A restore over the store keeps its users and its CA: the clients' credentials and
	// CA file go on working with the restored log.
	if _, errOut, code := runVigie(t, nil, "restore", "--from", file, "--data", data, "--force"); code != exitOK {
		t.Fatalf("restore: exit %d: %s", code, errOut)
	}
	p = startVigie(t, "serve", "eventstore", "--secure", "--data", data, "--listen", "127.0.0.1:0")
	if err := probe(ctx, dialSecure(t, "admin:"+pw, p.addr, data, true)); err != nil {
		t.Errorf("after a restore, admin over TLS with the first CA: %v", err)
	}
	if again, _ := os.ReadFile(filepath.Join(data, "eventstore", "ca.pem")); !bytes.Equal(again, ca) {
		t.Error("the CA changed with the restore")
	}
	p.stop(t, syscall.SIGTERM)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15 s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestServeEventstoreInsecureOnlyOnLoopbackAndSaysSo(t *testing.T) {
	for _, args := range [][]string{
		{"--insecure", "--listen", "0.0.0.0:0"},
		{"--insecure", "--secure", "--listen", "127.0.0.1:0"},
	} {
		_, errOut, code := runVigie(t, nil, append([]string{"serve", "eventstore", "--data", t.TempDir()}, args...)...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d; stderr %s", args, code, exitUsage, errOut)
		}
	}
	p := startVigie(t, "serve", "eventstore", "--insecure", "--data", t.TempDir(), "--listen", "127.0.0.1:0")
	waitFor(t, "the insecure start saying so", func() bool { return strings.Contains(p.stderr.String(), "no users and no TLS") })
	p.stop(t, syscall.SIGTERM)
}

func TestEventstoreUserPasswordFromStdin(t *testing.T) {
	data := t.TempDir()
	old := userStdin
	defer func() { userStdin = old }()
	userStdin = strings.NewReader("first-password\n")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"eventstore", "user", "add", "ops", "--password-stdin", "--data", data}, &out, &errOut); code != exitOK {
		t.Fatalf("add: %d %s", code, errOut.String())
	}
	if out.Len() != 0 {
		t.Fatalf("a password from stdin was printed: %q", out.String())
	}
	userStdin = strings.NewReader("second-password\n")
	if code := run(context.Background(), []string{"eventstore", "user", "passwd", "ops", "--password-stdin", "--data", data}, &out, &errOut); code != exitOK {
		t.Fatalf("passwd: %d %s", code, errOut.String())
	}
	if code := run(context.Background(), []string{"eventstore", "user", "add", "ops", "--data", data}, &out, &errOut); code == exitOK {
		t.Fatal("a user added twice")
	}
	if code := run(context.Background(), []string{"eventstore", "user", "passwd", "nobody", "--data", data}, &out, &errOut); code == exitOK {
		t.Fatal("passwd of an unknown user")
	}
	fi, err := os.Stat(filepath.Join(data, "eventstore", "users.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("users file: %v, %v", fi, err)
	}
}

// Off loopback, or with certificate files, users and TLS are on without --secure; the
// listen host is in the certificate. (The decision is tested without binding a port.)
func TestEventstoreSecureByDefaultOffLoopback(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := filepath.Join(t.TempDir(), "eventstore")
	var stderr bytes.Buffer
	lc, err := eventstoreSecurity(dir, "192.0.2.7:2113", "", "", []string{"store.example"}, false, false, log, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if lc.Users == nil || lc.CertFile == "" {
		t.Fatalf("off loopback: users %v, certificate %q; want both", lc.Users != nil, lc.CertFile)
	}
	if !strings.Contains(stderr.String(), "admin password in "+filepath.Join(dir, "admin.password")) || !strings.Contains(stderr.String(), "CA certificate in ") {
		t.Errorf("first start's stderr: %q", stderr.String())
	}
	pair, err := tls.LoadX509KeyPair(lc.CertFile, lc.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"192.0.2.7", "store.example", "localhost", "127.0.0.1"} {
		if err := leaf.VerifyHostname(n); err != nil {
			t.Errorf("certificate: %v", err)
		}
	}
	lc, err = eventstoreSecurity(filepath.Join(t.TempDir(), "eventstore"), "127.0.0.1:0", "", "", nil, false, false, log, io.Discard)
	if err != nil || lc.Users != nil || lc.CertFile != "" {
		t.Fatalf("loopback without flags: users %v, certificate %q, %v; want insecure", lc.Users != nil, lc.CertFile, err)
	}
}
