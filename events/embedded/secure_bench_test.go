package embedded_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"vigie/events/embedded"
)

// BenchmarkAppendSecured measures what TLS and credentials cost the 64-writer append
// rate (issue 15: at most 15 %): the same appends against a node without either and
// against one with TLS (a certificate made in memory) and a password, in the same run,
// alternated so that both see the same machine.
//
//	go test -run '^$' -bench 'AppendSecured' -benchtime 3s -count 3 ./events/embedded/
func BenchmarkAppendSecured(b *testing.B) {
	for _, mode := range []string{"insecure", "tls+password", "tls+users", "tls+account+policy"} {
		b.Run("mode="+mode+"/writers=64/events=1", func(b *testing.B) {
			var n *benchNode
			switch mode {
			case "insecure":
				n = startNode(b, b.TempDir())
			case "tls+password":
				n = startSecuredNode(b, b.TempDir(), false)
			case "tls+users":
				n = startSecuredNode(b, b.TempDir(), true)
			default:
				n = startPolicedNode(b, b.TempDir())
			}
			b.Cleanup(func() { _ = n.close() })
			benchAppendOn(b, n, 64, 1)
		})
	}
}

// startSecuredNode is startNode with TLS and a password, reached as the all-in-one
// reaches its store (credentials in the URL, the in-memory CA trusted); with users,
// the password is admin's in a users file, as `vigie serve eventstore --secure` checks
// it (a key derivation once, then a cached digest per call).
func startSecuredNode(tb testing.TB, dir string, users bool) *benchNode {
	tb.Helper()
	n := &benchNode{dir: dir}
	var err error
	if n.store, err = embedded.Open(embedded.Config{Dir: dir}); err != nil {
		tb.Fatal(err)
	}
	password, err := embedded.NewPassword()
	if err != nil {
		tb.Fatal(err)
	}
	cert, roots, err := embedded.EphemeralTLS()
	if err != nil {
		tb.Fatal(err)
	}
	lc := embedded.ListenConfig{Addr: "127.0.0.1:0", Certificate: &cert, Password: password}
	if users {
		path := filepath.Join(tb.TempDir(), "users.json")
		var list embedded.UserList
		if err := list.Set(embedded.AdminUser, password); err != nil {
			tb.Fatal(err)
		}
		if err := list.Write(path); err != nil {
			tb.Fatal(err)
		}
		if lc.Users, err = embedded.LoadUsers(path); err != nil {
			tb.Fatal(err)
		}
	}
	if n.server, err = n.store.Listen(lc); err != nil {
		tb.Fatal(err)
	}
	cfg, err := esdb.ParseConnectionString(n.server.ClientURL())
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Logger = esdb.NoopLogging()
	cfg.RootCAs = roots
	if n.client, err = esdb.NewClient(cfg); err != nil {
		tb.Fatal(err)
	}
	return n
}

// startPolicedNode is startSecuredNode reached as a service of the all-in-one reaches
// it: a non-admin account, whose every append passes the stream policy's check (rules
// by prefix, as cmd/vigie's storeaccess.go writes them; the benchmark's incident-
// streams match the tenth rule).
func startPolicedNode(tb testing.TB, dir string) *benchNode {
	tb.Helper()
	n := startSecuredNode(tb, dir, false)
	admin := n.client
	defer admin.Close()
	ctx := context.Background()
	p := embedded.DefaultStreamPolicy()
	p.StreamPolicies["svc"] = map[embedded.Access][]string{
		embedded.AccessRead: {"bench"}, embedded.AccessWrite: {"svc"}, embedded.AccessDelete: {},
		embedded.AccessMetaRead: {"bench"}, embedded.AccessMetaWrite: {"svc"},
	}
	var rules []embedded.StreamRule
	for _, prefix := range []string{"role-", "resource-", "reinforcement-", "alert-", "resident-", "residentkey-", "dispatch-", "security-", "$all"} {
		rules = append(rules, embedded.StreamRule{StartsWith: prefix, Policy: "adminsDefault"})
	}
	p.StreamRules = append(append(rules, embedded.StreamRule{StartsWith: "incident-", Policy: "svc"}), p.StreamRules...)
	for stream, ev := range map[string]any{"$policies": p, "$authorization-policy-settings": map[string]string{"streamAccessPolicyType": "streampolicy"}} {
		data, err := json.Marshal(ev)
		if err != nil {
			tb.Fatal(err)
		}
		typ := map[string]string{"$policies": "$policy-updated", "$authorization-policy-settings": "$authorization-policy-changed"}[stream]
		if _, err := admin.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{}, esdb.EventData{EventID: uuid.New(), EventType: typ, ContentType: esdb.ContentTypeJson, Data: data}); err != nil {
			tb.Fatal(err)
		}
	}
	n.server.Close()
	pw, err := embedded.NewPassword()
	if err != nil {
		tb.Fatal(err)
	}
	cert, roots, err := embedded.EphemeralTLS()
	if err != nil {
		tb.Fatal(err)
	}
	if n.server, err = n.store.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0", Certificate: &cert, Password: pw,
		Accounts: []embedded.Account{{Name: "svc", Password: pw + "-svc", Groups: []string{"bench"}}}}); err != nil {
		tb.Fatal(err)
	}
	cfg, err := esdb.ParseConnectionString(n.server.URLFor("svc", pw+"-svc"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Logger = esdb.NoopLogging()
	cfg.RootCAs = roots
	if n.client, err = esdb.NewClient(cfg); err != nil {
		tb.Fatal(err)
	}
	return n
}
