package storetest

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// RunAuth runs the access-control part of the contract against a secure server:
// serverURL carries a user's credentials and tls=true (with tlsCAFile, or
// tlsVerifyCert=false). It skips, cleanly, a server reached without TLS or
// credentials (an insecure node has no access control to test). The expected answers
// are EventStoreDB's: wrong credentials are Unauthenticated (the clients'
// ErrorCodeUnauthenticated: its authentication middleware refuses them before any
// authorization), none at all PermissionDenied "Access Denied" (ErrorCodeAccessDenied:
// the anonymous user fails the streams' default ACL) — a node that still allows
// anonymous stream access (AllowAnonymousStreamAccess) skips that case — and a
// plaintext connection to the TLS port serves nothing.
//
// external says the server is a real node (EVENTSTORE_URL), whose configuration the
// suite does not choose: only then may a case skip. Against the embedded store an
// insecure URL or an anonymous caller let in fails.
func RunAuth(t *testing.T, serverURL string, external bool) {
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	pass, hasPass := u.User.Password() // nil Userinfo: no password
	if !hasPass || !strings.EqualFold(u.Query().Get("tls"), "true") && u.Query().Get("tls") != "" {
		if !external {
			t.Fatalf("RunAuth needs a URL with credentials and TLS, got %s", u.Redacted())
		}
		t.Skip("EVENTSTORE_URL reaches the real node without credentials or without TLS: it has no access control to test")
	}
	if u.Query().Get("tls") == "" {
		// The clients' default is TLS on; keep it explicit for the plaintext case.
		q := u.Query()
		q.Set("tls", "true")
		u.RawQuery = q.Encode()
	}
	user := u.User.Username()
	variant := func(ui *url.Userinfo, tls bool) string {
		v := *u
		v.User = ui
		q := v.Query()
		q.Set("tls", map[bool]string{true: "true", false: "false"}[tls])
		v.RawQuery = q.Encode()
		return v.String()
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context)
	}{
		{"AuthenticatedCallerAppendsAndReads", func(t *testing.T, ctx context.Context) {
			if a, r := authProbe(ctx, Official(t, variant(u.User, true), FailFast)); a != nil || r != nil {
				t.Fatalf("append %v, read %v", a, r)
			}
		}},
		{"WrongPasswordIsUnauthenticated", func(t *testing.T, ctx context.Context) {
			wantRefused(t, ctx, variant(url.UserPassword(user, pass+"-wrong"), true), esdb.ErrorCodeUnauthenticated)
		}},
		{"UnknownUserIsUnauthenticated", func(t *testing.T, ctx context.Context) {
			wantRefused(t, ctx, variant(url.UserPassword("nobody-"+uuid.NewString()[:8], pass), true), esdb.ErrorCodeUnauthenticated)
		}},
		{"NoCredentialsIsAccessDenied", func(t *testing.T, ctx context.Context) {
			c := Official(t, variant(nil, true), FailFast)
			if a, _ := authProbe(ctx, c); a == nil {
				if !external {
					t.Fatal("an anonymous caller appended to the store")
				}
				t.Skip("the real node of EVENTSTORE_URL allows anonymous stream access (AllowAnonymousStreamAccess)")
			}
			wantRefused(t, ctx, variant(nil, true), esdb.ErrorCodeAccessDenied)
		}},
		{"PlaintextConnectionIsRefused", func(t *testing.T, ctx context.Context) {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if a, r := authProbe(pctx, Official(t, variant(u.User, false), FailFast)); a == nil || r == nil {
				t.Fatalf("served over plaintext: append %v, read %v", a, r)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tc.fn(t, ctx)
		})
	}
}

// FailFast makes a client try to discover the server once: a refused caller fails
// at once instead of retrying discovery.
func FailFast(cfg *esdb.Configuration) { cfg.MaxDiscoverAttempts = 1 }

// Official is the official client of url for a test, its logger silent; tune, when
// given, adjusts the configuration (FailFast, RootCAs…). It closes with the test.
func Official(t testing.TB, url string, tune ...func(*esdb.Configuration)) *esdb.Client {
	t.Helper()
	cfg, err := esdb.ParseConnectionString(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = esdb.NoopLogging()
	for _, f := range tune {
		f(cfg)
	}
	c, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// authProbe appends to a stream of its own and reads it back.
func authProbe(ctx context.Context, c *esdb.Client) (appendErr, readErr error) {
	stream := "auth" + strings.ReplaceAll(uuid.NewString(), "-", "") + "-1"
	ev := esdb.EventData{EventID: uuid.New(), EventType: "AuthProbe", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}
	_, appendErr = c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{}, ev)
	rs, err := c.ReadStream(ctx, stream, esdb.ReadStreamOptions{}, 1)
	if err == nil {
		_, err = rs.Recv()
		rs.Close()
	}
	if appendErr != nil && err == nil {
		err = errors.New("read a stream whose append was refused")
	}
	return appendErr, err
}

func wantRefused(t *testing.T, ctx context.Context, url string, want esdb.ErrorCode) {
	t.Helper()
	a, r := authProbe(ctx, Official(t, url, FailFast))
	if esdbCode(a) != want || esdbCode(r) != want {
		t.Fatalf("append %v (code %v), read %v (code %v); want code %v for both", a, esdbCode(a), r, esdbCode(r), want)
	}
}
