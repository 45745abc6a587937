package embedded_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"vigie/events/embedded"
	"vigie/events/storetest"
)

// secureStore serves a store as `vigie serve eventstore --secure` does: users file
// and private CA made in its directory at first start.
func secureStore(t *testing.T, dir string) (srv *embedded.Server, adminPW string, tlsFiles embedded.TLSFiles) {
	t.Helper()
	_, err := embedded.EnsureUsers(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, embedded.AdminPasswordFile))
	if err != nil {
		t.Fatal(err)
	}
	tlsFiles, err = embedded.EnsureTLS(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	users, err := embedded.LoadUsers(filepath.Join(dir, embedded.UsersFile))
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(embedded.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv, err = st.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0", Users: users, CertFile: tlsFiles.Cert, KeyFile: tlsFiles.Key})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); st.Close() })
	return srv, strings.TrimSpace(string(b)), tlsFiles
}

// tryAppendRead appends one event to a fresh stream and reads $all's first event, and
// returns the first error's esdb code (or -1 when both succeed).
func tryAppendRead(ctx context.Context, c *esdb.Client) (appendErr, readErr error) {
	ev := esdb.EventData{EventID: uuid.New(), EventType: "Probe", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}
	stream := "probe-" + uuid.NewString()
	_, appendErr = c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{}, ev)
	// Its own stream, not $all: reading $all is for admins (the server's default ACL).
	rs, err := c.ReadStream(ctx, stream, esdb.ReadStreamOptions{}, 1)
	if err == nil {
		_, err = rs.Recv()
		rs.Close()
	}
	return appendErr, err
}

func codeOf(err error) esdb.ErrorCode {
	if e, ok := esdb.FromError(err); !ok {
		return e.Code()
	}
	return -1
}

func TestSecureStoreUsersAndTLS(t *testing.T) {
	dir := t.TempDir()
	srv, pw, files := secureStore(t, dir)
	for _, f := range []string{embedded.UsersFile, embedded.AdminPasswordFile, embedded.CAKeyFile, embedded.ServerKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	if users, _ := os.ReadFile(filepath.Join(dir, embedded.UsersFile)); bytes.Contains(users, []byte(pw)) {
		t.Fatal("the users file holds the password itself")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := func(cred string, tls bool) string {
		if cred != "" {
			cred += "@"
		}
		return fmt.Sprintf("esdb://%s%s?tls=%t&tlsCAFile=%s", cred, srv.Addr(), tls, files.CA)
	}

	admin := storetest.Official(t, url("admin:"+pw, true), storetest.FailFast)
	if a, r := tryAppendRead(ctx, admin); a != nil || r != nil {
		t.Fatalf("admin over TLS, verified against the CA: append %v, read %v", a, r)
	}

	// The real server's answers: wrong credentials Unauthenticated (its
	// authentication middleware; the client's appendToSystemStreamWithIncorrectCredentials
	// expects ErrorCodeUnauthenticated), none PermissionDenied "Access Denied".
	for name, tc := range map[string]struct {
		url  string
		want esdb.ErrorCode
	}{
		"wrong password": {url("admin:guess", true), esdb.ErrorCodeUnauthenticated},
		"unknown user":   {url("mallory:"+pw, true), esdb.ErrorCodeUnauthenticated},
		"no credentials": {url("", true), esdb.ErrorCodeAccessDenied},
	} {
		a, r := tryAppendRead(ctx, storetest.Official(t, tc.url, storetest.FailFast))
		if codeOf(a) != tc.want || codeOf(r) != tc.want {
			t.Errorf("%s: append %v, read %v; want code %v for both", name, a, r, tc.want)
		}
	}

	// Plaintext to a TLS server: the handshake never happens, nothing is served.
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	a, r := tryAppendRead(pctx, storetest.Official(t, url("admin:"+pw, false), storetest.FailFast))
	pcancel()
	if a == nil || r == nil {
		t.Fatalf("plaintext connection served: append %v, read %v", a, r)
	}

	// A user added, then removed, while the store serves: the file is re-read.
	usersPath := filepath.Join(dir, embedded.UsersFile)
	l, err := embedded.ReadUserList(usersPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Set("projector", "s3cret-projector"); err != nil {
		t.Fatal(err)
	}
	if err := l.Write(usersPath); err != nil {
		t.Fatal(err)
	}
	projector := storetest.Official(t, url("projector:s3cret-projector", true), storetest.FailFast)
	waitFor(t, "the added user accepted", func() bool { a, r := tryAppendRead(ctx, projector); return a == nil && r == nil })
	if err := l.Remove("projector"); err != nil {
		t.Fatal(err)
	}
	if err := l.Write(usersPath); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removed user refused", func() bool {
		a, r := tryAppendRead(ctx, projector)
		return codeOf(a) == esdb.ErrorCodeUnauthenticated && codeOf(r) == esdb.ErrorCodeUnauthenticated
	})
	if err := l.Remove(embedded.AdminUser); err == nil {
		t.Fatal("the last user was removed")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A second start reuses the CA, the server certificate and the users; it prints nothing.
func TestSecureStoreFilesAreReused(t *testing.T) {
	dir := t.TempDir()
	first, err := embedded.EnsureUsers(dir)
	if err != nil || first == "" {
		t.Fatalf("first start: %q, %v", first, err)
	}
	f1, err := embedded.EnsureTLS(dir, []string{"store.example"})
	if err != nil || !f1.CAMade {
		t.Fatalf("first start: %+v, %v", f1, err)
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ca, cert, users, pw := read(f1.CA), read(f1.Cert), read(filepath.Join(dir, embedded.UsersFile)), read(first)
	again, err := embedded.EnsureUsers(dir)
	if err != nil || again != "" {
		t.Fatalf("second start: %q, %v", again, err)
	}
	f2, err := embedded.EnsureTLS(dir, []string{"store.example"})
	if err != nil || f2.CAMade {
		t.Fatalf("second start: %+v, %v", f2, err)
	}
	if !bytes.Equal(ca, read(f2.CA)) || !bytes.Equal(cert, read(f2.Cert)) || !bytes.Equal(users, read(filepath.Join(dir, embedded.UsersFile))) || !bytes.Equal(pw, read(first)) {
		t.Fatal("second start changed the CA, the certificate, the users or the password")
	}
	// A new name: a new server certificate from the same CA.
	f3, err := embedded.EnsureTLS(dir, []string{"other.example"})
	if err != nil || f3.CAMade || !bytes.Equal(ca, read(f3.CA)) || bytes.Equal(cert, read(f3.Cert)) {
		t.Fatalf("new SAN: %+v, %v; CA kept %v, certificate renewed %v", f3, err, bytes.Equal(ca, read(f3.CA)), !bytes.Equal(cert, read(f3.Cert)))
	}
}

func TestUsersNeedTLS(t *testing.T) {
	dir := t.TempDir()
	if _, err := embedded.EnsureUsers(dir); err != nil {
		t.Fatal(err)
	}
	users, err := embedded.LoadUsers(filepath.Join(dir, embedded.UsersFile))
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if srv, err := st.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0", Users: users}); err == nil {
		srv.Close()
		t.Fatal("users served without TLS")
	}
	if !users.Check(embedded.AdminUser, strings.TrimSpace(string(must(os.ReadFile(filepath.Join(dir, embedded.AdminPasswordFile)))))) {
		t.Fatal("admin's generated password refused")
	}
	if users.Check(embedded.AdminUser, "") || users.Check("", "") {
		t.Fatal("empty credentials accepted")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
