package embedded_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"vigie/events/embedded"
	"vigie/events/storetest"
)

// accessEnv is a store served with the admin's password and accounts, as the
// all-in-one serves it, and an official client per account.
type accessEnv struct {
	ctx     context.Context
	clients map[string]*esdb.Client
}

func newAccessEnv(t *testing.T, accounts ...embedded.Account) *accessEnv {
	t.Helper()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cert, pool, err := embedded.EphemeralTLS()
	if err != nil {
		t.Fatal(err)
	}
	for i := range accounts {
		accounts[i].Password = "pw-" + accounts[i].Name
	}
	srv, err := st.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0", Password: "admin-pw", Certificate: &cert, Accounts: accounts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	e := &accessEnv{ctx: ctx, clients: map[string]*esdb.Client{}}
	tune := func(c *esdb.Configuration) { c.RootCAs = pool; c.MaxDiscoverAttempts = 1 }
	e.clients[embedded.AdminUser] = storetest.Official(t, srv.ClientURL(), tune)
	for _, a := range accounts {
		e.clients[a.Name] = storetest.Official(t, srv.URLFor(a.Name, a.Password), tune)
	}
	return e
}

func (e *accessEnv) append(who, stream, typ string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	_, err = e.clients[who].AppendToStream(e.ctx, stream, esdb.AppendToStreamOptions{},
		esdb.EventData{EventID: uuid.New(), EventType: typ, ContentType: esdb.ContentTypeJson, Data: b})
	return err
}

func (e *accessEnv) readAll(who string) error {
	rs, err := e.clients[who].ReadAll(e.ctx, esdb.ReadAllOptions{}, 1)
	if err != nil {
		return err
	}
	defer rs.Close()
	_, err = rs.Recv()
	return err
}

func (e *accessEnv) mustAppend(t *testing.T, who, stream string) {
	t.Helper()
	if err := e.append(who, stream, "Probe", map[string]int{}); err != nil {
		t.Fatalf("%s could not append to %s: %v", who, stream, err)
	}
}

func (e *accessEnv) mustBeDenied(t *testing.T, who, stream string) {
	t.Helper()
	if err := e.append(who, stream, "Probe", map[string]int{}); codeOf(err) != esdb.ErrorCodeAccessDenied {
		t.Fatalf("%s appended to %s: %v (code %v), want access denied", who, stream, err, codeOf(err))
	}
}

// Stream policies (the server's prefix rules in `$policies`, turned on by
// `$authorization-policy-settings`): each user writes its own categories only, a
// reader reads and writes nothing, the first matching rule wins, and an invalid update
// leaves the previous policy in force.
func TestStreamPoliciesGiveEachUserItsOwnCategories(t *testing.T) {
	e := newAccessEnv(t,
		embedded.Account{Name: "svc-incidents", Groups: []string{"vigie"}},
		embedded.Account{Name: "svc-alerts", Groups: []string{"vigie"}},
		embedded.Account{Name: "svc-projector", Groups: []string{"vigie"}})
	// Before any policy: user streams are open to every user (the server's default ACL).
	e.mustAppend(t, "svc-alerts", "incident-before")

	own := func(writer string) map[embedded.Access][]string {
		return map[embedded.Access][]string{
			embedded.AccessRead: {"vigie"}, embedded.AccessWrite: {writer}, embedded.AccessDelete: {},
			embedded.AccessMetaRead: {"vigie"}, embedded.AccessMetaWrite: {writer},
		}
	}
	p := embedded.DefaultStreamPolicy()
	p.StreamPolicies["incidents"] = own("svc-incidents")
	p.StreamPolicies["alerts"] = own("svc-alerts")
	p.StreamPolicies["all"] = own("nobody")
	p.StreamPolicies["all"][embedded.AccessRead] = []string{"svc-incidents"}
	p.StreamPolicies["closed"] = own("nobody")
	p.StreamPolicies["closed"][embedded.AccessRead] = []string{}
	p.StreamRules = append([]embedded.StreamRule{
		{StartsWith: "incident-secret", Policy: "closed"}, // first match wins over incident-
		{StartsWith: "incident-", Policy: "incidents"},
		{StartsWith: "alert-", Policy: "alerts"},
		{StartsWith: "$all", Policy: "all"},
	}, p.StreamRules...)
	p.DefaultStreamRules.UserStreams = "adminsDefault"
	if err := e.append("svc-incidents", "$policies", "$policy-updated", p); codeOf(err) != esdb.ErrorCodeAccessDenied {
		t.Fatalf("a service wrote the policies: %v", err)
	}
	if err := e.append(embedded.AdminUser, "$policies", "$policy-updated", p); err != nil {
		t.Fatal(err)
	}
	// Written but not yet on: ACLs still rule.
	e.mustAppend(t, "svc-alerts", "incident-before")
	if err := e.append(embedded.AdminUser, "$authorization-policy-settings", "$authorization-policy-changed",
		map[string]string{"streamAccessPolicyType": "streampolicy"}); err != nil {
		t.Fatal(err)
	}

	e.mustAppend(t, "svc-incidents", "incident-1")
	e.mustAppend(t, "svc-alerts", "alert-1")
	e.mustBeDenied(t, "svc-alerts", "incident-1") // a foreign category, existing
	e.mustBeDenied(t, "svc-alerts", "incident-2") // and new
	e.mustBeDenied(t, "svc-incidents", "alert-1")
	e.mustBeDenied(t, "svc-incidents", "incident-secret-1") // the first rule
	e.mustBeDenied(t, "svc-projector", "incident-1")        // a reader writes nothing
	e.mustBeDenied(t, "svc-projector", "elsewhere-1")       // no rule: admins only
	e.mustAppend(t, embedded.AdminUser, "incident-1")       // admins pass every policy
	if err := e.append("svc-alerts", "$$incident-1", "$metadata", map[string]any{"$acl": map[string]string{"$w": "$all"}}); codeOf(err) != esdb.ErrorCodeAccessDenied {
		t.Fatalf("a service rewrote a foreign stream's metadata: %v", err)
	}
	rs, err := e.clients["svc-projector"].ReadStream(e.ctx, "incident-1", esdb.ReadStreamOptions{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Recv(); err != nil {
		t.Fatalf("the projector could not read a category the policy lets it read: %v", err)
	}
	rs.Close()
	if err := e.readAll("svc-projector"); codeOf(err) != esdb.ErrorCodeAccessDenied {
		t.Fatalf("$all read against its rule: %v", err)
	}
	if err := e.readAll("svc-incidents"); err != nil {
		t.Fatalf("$all read as its rule allows: %v", err)
	}

	// An invalid update (a rule naming no policy) is ignored: the last valid one stays.
	if err := e.append(embedded.AdminUser, "$policies", "$policy-updated", map[string]any{
		"streamPolicies": p.StreamPolicies, "defaultStreamRules": p.DefaultStreamRules,
		"streamRules": []embedded.StreamRule{{StartsWith: "incident-", Policy: "undefined"}},
	}); err != nil {
		t.Fatal(err)
	}
	e.mustBeDenied(t, "svc-alerts", "incident-1")

	// An invalid choice of mechanism is ignored too: the last valid one holds.
	if err := e.append(embedded.AdminUser, "$authorization-policy-settings", "$authorization-policy-changed",
		map[string]string{"streamAccessPolicyType": "nonsense"}); err != nil {
		t.Fatal(err)
	}
	e.mustAppend(t, "svc-incidents", "incident-1")
	e.mustBeDenied(t, "svc-alerts", "incident-1")
	// Back to ACLs: the default user-stream ACL opens user streams again.
	if err := e.append(embedded.AdminUser, "$authorization-policy-settings", "$authorization-policy-changed",
		map[string]string{"streamAccessPolicyType": "acl"}); err != nil {
		t.Fatal(err)
	}
	e.mustAppend(t, "svc-alerts", "incident-1")
}

// Settings that hold no valid choice at all lock every stream to admins (the server's
// fallback), rather than fall back to a more open mechanism.
func TestInvalidPolicySettingsRestrictToAdmins(t *testing.T) {
	e := newAccessEnv(t, embedded.Account{Name: "user"})
	e.mustAppend(t, "user", "notes-1")
	if err := e.append(embedded.AdminUser, "$authorization-policy-settings", "$authorization-policy-changed",
		map[string]string{"streamAccessPolicyType": "streampolicies"}); err != nil {
		t.Fatal(err)
	}
	e.mustBeDenied(t, "user", "notes-1")
	e.mustAppend(t, embedded.AdminUser, "notes-1")
}

// The default ACL of `$settings` rules the streams without an ACL of their own, and a
// stream ACL may name a group.
func TestDefaultACLAndGroups(t *testing.T) {
	e := newAccessEnv(t,
		embedded.Account{Name: "writer", Groups: []string{"editors"}},
		embedded.Account{Name: "reader"})
	if err := e.append("writer", "$settings", "$update-default-acl", map[string]any{}); codeOf(err) != esdb.ErrorCodeAccessDenied {
		t.Fatalf("a user wrote $settings: %v", err)
	}
	if err := e.append(embedded.AdminUser, "$settings", "$update-default-acl", map[string]any{
		"$userStreamAcl": map[string]any{"$r": "$all", "$w": []string{"editors"}, "$d": "$admins", "$mr": "$all", "$mw": "$admins"},
	}); err != nil {
		t.Fatal(err)
	}
	e.mustAppend(t, "writer", "notes-1")
	e.mustBeDenied(t, "reader", "notes-1")
	// A stream's own ACL overrides the default for what it names.
	if err := e.append(embedded.AdminUser, "$$notes-2", "$metadata", map[string]any{"$acl": map[string]any{"$w": "reader"}}); err != nil {
		t.Fatal(err)
	}
	e.mustAppend(t, "reader", "notes-2")
	e.mustBeDenied(t, "writer", "notes-2")
	// A `$` stream other than the settings is still the server's.
	if err := e.append(embedded.AdminUser, "$stats-1", "X", map[string]int{}); err == nil {
		t.Fatal("the admin wrote a system stream that is not a settings stream")
	}
	if err := e.readAll("reader"); codeOf(err) != esdb.ErrorCodeAccessDenied {
		t.Fatalf("a user read $all: %v", err)
	}
	if err := e.readAll(embedded.AdminUser); err != nil {
		t.Fatalf("the admin could not read $all: %v", err)
	}
}
