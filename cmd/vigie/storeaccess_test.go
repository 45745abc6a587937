package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"vigie/events/embedded"
	"vigie/events/store"
)

// Each service of the all-in-one connects to the event store as its own user and may
// write only its own categories (issue 15 point 4): a service turned against the log
// cannot forge another's events — the alerts service cannot grant a role, the
// projector writes nothing — while every service still reads what it follows.
func TestEachServiceWritesOnlyItsOwnStreams(t *testing.T) {
	dir := t.TempDir()
	es, err := embedded.Open(embedded.Config{Dir: filepath.Join(dir, "eventstore")})
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	srv, opts, err := listenPrivately(es, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	clients, err := srv.serviceClients(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer clients.Close()
	if len(clients) != len(storeAccounts) {
		t.Fatalf("%d clients for %d accounts", len(clients), len(storeAccounts))
	}

	appendTo := func(who, stream string) error {
		_, err := clients[who].Append(ctx, stream, store.Any(), store.EventData{ID: uuid.New(), Type: "Probe", Data: []byte(`{}`)})
		return err
	}
	var categories []string
	for _, a := range storeAccounts {
		categories = append(categories, a.writes...)
	}
	for _, a := range storeAccounts {
		for _, cat := range categories {
			stream := cat + "-" + uuid.NewString()
			err := appendTo(a.name, stream)
			own := false
			for _, w := range a.writes {
				own = own || w == cat
			}
			switch {
			case own && err != nil:
				t.Errorf("%s could not write its own %s: %v", a.name, stream, err)
			case !own && !errors.Is(err, store.ErrAccessDenied):
				t.Errorf("%s wrote (or failed otherwise on) another service's %s: %v", a.name, stream, err)
			}
		}
		// Outside Vigie's categories, and the settings that would undo all this: admins only.
		for _, stream := range []string{"elsewhere-1", embedded.PoliciesStream, embedded.PolicySettingsStream} {
			if err := appendTo(a.name, stream); !errors.Is(err, store.ErrAccessDenied) {
				t.Errorf("%s wrote %s: %v", a.name, stream, err)
			}
		}
		// Every service reads the log (the role grants are followed on $all).
		if _, err := clients[a.name].ReadAll(ctx, store.Start, store.Forwards, 1); err != nil {
			t.Errorf("%s could not read $all: %v", a.name, err)
		}
	}
	// The one deletion Vigie makes: erasing a resident tombstones its key stream.
	key := "residentkey-" + uuid.NewString()
	if err := appendTo(accountAlerts, key); err != nil {
		t.Fatal(err)
	}
	if err := clients[accountIncidents].Tombstone(ctx, key, store.Any()); !errors.Is(err, store.ErrAccessDenied) {
		t.Errorf("the incidents service tombstoned a resident's key: %v", err)
	}
	if err := clients[accountAlerts].Tombstone(ctx, key, store.Any()); err != nil {
		t.Errorf("the alerts service could not erase a resident's key: %v", err)
	}

	// A restart applies the same policy without writing it again.
	admin, err := store.Open(srv.ClientURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if wrote, err := applyStorePolicy(ctx, admin); err != nil || wrote {
		t.Errorf("applying the policy again: wrote %v, %v", wrote, err)
	}
}

// infra/eventstore/policy.json is what a real node is given: the policy the all-in-one
// applies. Regenerate it with `go run ./cmd/vigie eventstore policy > infra/eventstore/policy.json`.
func TestTheInfraPolicyIsTheServedOne(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := eventstorePolicy(context.Background(), "eventstore policy", nil, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	file, err := os.ReadFile(filepath.Join("..", "..", "infra", "eventstore", "policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, out.Bytes()) {
		t.Fatal("infra/eventstore/policy.json differs from `vigie eventstore policy`: regenerate it")
	}
	if _, ok := embedded.ParseStreamPolicy(file); !ok {
		t.Fatal("the policy is not one the server accepts")
	}
	var v map[string]json.RawMessage
	if json.Unmarshal(file, &v) != nil || v["streamRules"] == nil {
		t.Fatal("the policy lacks its rules")
	}
}

// The split deployment's path (infra/README.md): `vigie serve eventstore --secure`,
// the services' users added with `vigie eventstore user add NAME --groups vigie`, the
// policy written by `vigie eventstore policy --apply` with the admin's URL; then a
// service's user may write its own category and not another's.
func TestTheSplitStoreGetsTheSamePolicyFromTheCommands(t *testing.T) {
	data := t.TempDir()
	p := startVigie(t, "serve", "eventstore", "--secure", "--data", data, "--listen", "127.0.0.1:0")
	pwFile := filepath.Join(data, "eventstore", "admin.password")
	waitFor(t, "the admin password file", func() bool { _, err := os.Stat(pwFile); return err == nil })
	adminPW, err := os.ReadFile(pwFile)
	if err != nil {
		t.Fatal(err)
	}
	urlFor := func(user, pw string) string {
		return fmt.Sprintf("esdb://%s@%s?tls=true&tlsCAFile=%s", url.UserPassword(user, pw), p.addr, filepath.Join(data, "eventstore", "ca.pem"))
	}
	old := userStdin
	defer func() { userStdin = old }()
	for _, u := range []string{accountAlerts, accountIncidents} {
		userStdin = strings.NewReader("pw-" + u + "\n")
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"eventstore", "user", "add", u, "--groups", storeGroup, "--password-stdin", "--data", data}, &out, &errOut); code != exitOK {
			t.Fatalf("user add %s: %d %s", u, code, errOut.String())
		}
	}
	t.Setenv("EVENTSTORE_URL", urlFor(embedded.AdminUser, strings.TrimSpace(string(adminPW))))
	for i, want := range []string{"stream policy written", "already has this policy"} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"eventstore", "policy", "--apply"}, &out, &errOut); code != exitOK || !strings.Contains(errOut.String(), want) {
			t.Fatalf("policy --apply, time %d: %d %q, want %q", i+1, code, errOut.String(), want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The users file is re-read within a second of the change.
	var alerts *store.Client
	waitFor(t, "the alerts service's user accepted", func() bool {
		c, err := store.Open(urlFor(accountAlerts, "pw-"+accountAlerts))
		if err != nil {
			return false
		}
		if _, err := c.Append(ctx, "alert-"+uuid.NewString(), store.Any(), store.EventData{ID: uuid.New(), Type: "Probe", Data: []byte(`{}`)}); err != nil {
			c.Close()
			return false
		}
		alerts = c
		return true
	})
	defer alerts.Close()
	grant := store.EventData{ID: uuid.New(), Type: "RoleGranted", Data: []byte(`{"role":"prefecture"}`)}
	if _, err := alerts.Append(ctx, "role-dep:30", store.Any(), grant); !errors.Is(err, store.ErrAccessDenied) {
		t.Fatalf("the alerts service's user wrote a role grant: %v", err)
	}
	p.stop(t, syscall.SIGTERM)
}
