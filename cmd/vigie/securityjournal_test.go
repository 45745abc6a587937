package main

import (
	"net/http"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 14, point 9, as the RSSI of a running command post meets it: forged tokens,
// a backup taken while serving and a restore are in the Gard admin's security journal
// (the backup and the restore, run apart from serve, through the data dir's inbox),
// and each entry is also a structured log record on serve's stderr, with no token.
func TestTheRSSISeesFailuresBackupsAndRestoresInTheJournal(t *testing.T) {
	env := []string{"REDIS_URL=", "EVENTSTORE_URL=", "VIGIE_OIDC_ISSUER=", "VIGIE_METRICS_ADDR=off", "OTEL_EXPORTER_OTLP_ENDPOINT="}
	data := t.TempDir()
	p := startVigieEnv(t, env, "serve", "--data", data, "--http", "127.0.0.1:0")
	c := &gqlClient{t: t, http: http.DefaultClient, url: p.addr + "/graphql"}
	const forged = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhdHRhcXVhbnQifQ.Zm9yZ2VkLXNpZ25hdHVyZQ"
	for range 3 {
		if code := c.code(forged, `{ __typename }`, nil); code != "UNAUTHENTICATED" {
			t.Fatalf("forged token answered %q", code)
		}
	}
	file := filepath.Join(t.TempDir(), "vigie.tgz")
	if _, stderr, code := runVigie(t, env, "backup", "--data", data, "--to", file); code != 0 {
		t.Fatalf("backup: %d %s", code, stderr)
	}
	admin := issueToken(t, data, "adm-gard", "admin", "dep:30")
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Kind, Actor, Action, Reason string
		Count                       int
	}
	const q = `{ securityJournal(domain:"dep:30"){ kind count actor action reason } }`
	waitFor := func(what string, ok func([]entry) bool) []entry {
		t.Helper()
		var got []entry
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			c.query(admin, q, nil, "securityJournal", &got)
			if ok(got) {
				return got
			}
		}
		t.Fatalf("%s: the Gard's journal holds %+v", what, got)
		return nil
	}
	has := func(kind string, match func(entry) bool) func([]entry) bool {
		return func(es []entry) bool {
			for _, e := range es {
				if e.Kind == kind && match(e) {
					return true
				}
			}
			return false
		}
	}
	waitFor("3 forged tokens", has("AUTH_FAILED", func(e entry) bool { return e.Count == 3 && e.Actor == "" }))
	waitFor("the backup", has("BACKUP", func(e entry) bool {
		return e.Actor == "système:"+me.Username && e.Action == "vigie backup" && strings.Contains(e.Reason, "vigie.tgz")
	}))
	if left, _ := filepath.Glob(filepath.Join(data, "journal", "*.json")); len(left) != 0 {
		t.Errorf("the inbox still holds %v once taken in", left)
	}
	p.stop(t, syscall.SIGTERM)
	logs := p.stderr.String()
	if !strings.Contains(logs, `"event":"vigie.security.auth_failed"`) || !strings.Contains(logs, `"event":"vigie.security.backup"`) {
		t.Errorf("serve's stderr has no security log records:\n%s", logs)
	}
	if strings.Contains(logs, "eyJ") || strings.Contains(logs, "Zm9yZ2Vk") {
		t.Errorf("serve's stderr holds a token:\n%s", logs)
	}

	// Restored elsewhere, the command post's journal says so at its first start.
	restored := filepath.Join(t.TempDir(), "restored")
	if _, stderr, code := runVigie(t, env, "restore", "--from", file, "--data", restored); code != 0 {
		t.Fatalf("restore: %d %s", code, stderr)
	}
	p = startVigieEnv(t, env, "serve", "--data", restored, "--http", "127.0.0.1:0")
	c.url = p.addr + "/graphql"
	admin = issueToken(t, restored, "adm-gard", "admin", "dep:30")
	waitFor("the restore", has("RESTORE", func(e entry) bool { return strings.Contains(e.Reason, "vigie.tgz") }))
	p.stop(t, syscall.SIGTERM)
}
