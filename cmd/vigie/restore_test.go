package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"vigie/projections/projectiontest"
)

// TestAfterARestoreTheBoardsShowWhatTheyShowedAtBackupTime runs Vigie on a real Redis,
// backs its store up while it serves, goes on with the crisis, then restores the backup
// into a new data directory and starts Vigie on it with the same Redis: the read models,
// ahead of the restored log, are rebuilt from it, the boards show exactly what they
// showed at backup time, and what happens next is shown too.
func TestAfterARestoreTheBoardsShowWhatTheyShowedAtBackupTime(t *testing.T) {
	rdb := projectiontest.Redis(t)
	env := []string{"REDIS_URL=" + redisDBURL(t, rdb.Options().DB), "EVENTSTORE_URL=", "VIGIE_DATA=", "VIGIE_HTTP_ADDR=",
		"VIGIE_OIDC_ISSUER=", "OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=", "VIGIE_DRAIN_DELAY=0s"}
	hc := &http.Client{Timeout: 15 * time.Second}
	const nimesDom = "dep:30/com:30189"
	type board []struct {
		Title, Status string
		Log           []struct{ Text string }
	}
	read := func(gql *gqlClient, token string) string {
		var b board
		gql.query(token, `{ incidents(domain: "dep:30/com:30189", status: [REPORTED, QUALIFIED, ESCALATED, STABILIZED, CLOSED]) { title status log { text } } }`, nil, "incidents", &b)
		slices.SortFunc(b, func(x, y struct {
			Title, Status string
			Log           []struct{ Text string }
		}) int {
			return strings.Compare(x.Title, y.Title)
		})
		out, _ := json.Marshal(b)
		return string(out)
	}
	report := func(gql *gqlClient, token, title string) {
		var inc struct{ ID string }
		gql.mutate(token, `mutation($t: String!){ reportIncident(input: {domain: "dep:30/com:30189", kind: FLOOD, title: $t}){ id } }`, map[string]any{"t": title}, "reportIncident", &inc)
		gql.mutate(token, `mutation($id: ID!){ addLogEntry(incidentId: $id, text: "Relevé 1,80 m"){ id } }`, map[string]any{"id": inc.ID}, "addLogEntry", nil)
	}

	data := t.TempDir()
	first := startVigieEnv(t, env, "serve", "--data", data, "--http", "127.0.0.1:0")
	waitOK(t, hc, first.addr+"/readyz")
	gql := &gqlClient{t: t, http: hc, url: first.addr + "/graphql"}
	rac := vigieToken(t, data, "rac-30189", "rac", nimesDom)
	for _, title := range []string{"Cadereau d'Uzès", "Vistre", "Route de Sauve"} {
		report(gql, rac, title)
	}
	atBackup := read(gql, rac)

	file := filepath.Join(t.TempDir(), "vigie.backup")
	if _, stderr, code := runVigie(t, env, "backup", "--data", data, "--to", file); code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	for _, title := range []string{"Après la sauvegarde 1", "Après la sauvegarde 2"} {
		report(gql, rac, title)
	}
	if read(gql, rac) == atBackup {
		t.Fatal("the crisis did not go on after the backup")
	}
	first.stop(t, syscall.SIGTERM)

	restored := filepath.Join(t.TempDir(), "restored")
	if _, stderr, code := runVigie(t, env, "restore", "--from", file, "--data", restored); code != exitOK {
		t.Fatalf("restore: exit %d: %s", code, stderr)
	}
	second := startVigieEnv(t, env, "serve", "--data", restored, "--http", "127.0.0.1:0")
	gql = &gqlClient{t: t, http: hc, url: second.addr + "/graphql"}
	rac = vigieToken(t, restored, "rac-30189", "rac", nimesDom)
	deadline := time.Now().Add(30 * time.Second)
	for got := read(gql, rac); got != atBackup; got = read(gql, rac) {
		if time.Now().After(deadline) {
			t.Fatalf("after the restore the board shows\n%s\nwant what it showed at backup time\n%s", got, atBackup)
		}
		time.Sleep(100 * time.Millisecond)
	}
	report(gql, rac, "Après la restauration")
	if got := read(gql, rac); !strings.Contains(got, "Après la restauration") || strings.Contains(got, "Après la sauvegarde") {
		t.Errorf("after the restore, a new incident: %s", got)
	}
	second.stop(t, syscall.SIGTERM)
}
