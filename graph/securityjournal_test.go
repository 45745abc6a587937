// Issue 14, point 9, from the RSSI's side and the attacker's: what one person tries
// against the gateway (forged tokens, another commune's data, a flood of requests, a
// grant) is in the journal an admin of the domain reads, with no token in it; and the
// journal itself is read by that admin only.
package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"vigie/events/store"
	"vigie/graph/gatewaytest"
	"vigie/policies/journal"
)

type securityEntry struct {
	Kind, Label, Actor, Subject, Action, Code, Reason, Domain string
	Count                                                     int
}

const journalQuery = `query($d:String!){ securityJournal(domain:$d, first:1000){ at count kind label domain actor subject action code reason } }`

func readJournal(t *testing.T, env *gatewaytest.Env, token, domain string) []securityEntry {
	t.Helper()
	if err := env.Journal.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []securityEntry
	if err := json.Unmarshal(field(t, must(t, env.Do(t, token, journalQuery, map[string]any{"d": domain})), "securityJournal"), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func find(entries []securityEntry, kind string, ok func(securityEntry) bool) *securityEntry {
	for i, e := range entries {
		if e.Kind == kind && ok(e) {
			return &entries[i]
		}
	}
	return nil
}

func TestTheSecurityJournalShowsTheAdminWhatWasTriedInTheirDomain(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.WithRateLimit(5, 8))
	adminGard := env.Token("adm-gard", "admin", "dep:30")
	adminNimes := env.Token("adm-nimes", "admin", nimes)
	adminAles := env.Token("adm-ales", "admin", ales)
	racAles := env.Token("rac-ales", "rac", ales)
	racNimes := env.Token("rac-nimes", "rac", nimes)

	// A script tries a forged token, again and again.
	const forged = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJwcmVmZWN0dXJlIn0.c2VjcmV0LXNpZ25hdHVyZQ"
	for range 5 {
		if r := env.Do(t, forged, `{ __typename }`, nil); r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("forged token: %s", r)
		}
	}
	// Alès' coordinator reads Nîmes' incidents.
	if r := env.Do(t, racAles, `query($d:String!){ incidents(domain:$d){ id } }`, map[string]any{"d": nimes}); r.Code() != "FORBIDDEN" {
		t.Fatalf("Alès reads Nîmes: %s", r)
	}
	// Nîmes' admin grants a coordinator; asks for a mayor (pending a second person).
	must(t, env.Do(t, adminNimes, `mutation { grantRole(subject:"op-nimes", role:"operator", domain:"dep:30/com:30189"){ subject } }`, nil))
	must(t, env.Do(t, adminNimes, `mutation { grantRole(subject:"maire-z", role:"mayor", domain:"dep:30/com:30189"){ subject } }`, nil))
	// Nîmes' coordinator exports the after-action report.
	req, _ := http.NewRequest(http.MethodGet, env.URL+"/report/"+nimes+".json", nil)
	req.Header.Set("Authorization", "Bearer "+racNimes)
	resp, err := env.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("report: %d", resp.StatusCode)
	}
	// Nîmes' coordinator, in a loop, runs past the rate.
	limited := false
	for range 10 {
		if env.Do(t, racNimes, `{ __typename }`, nil).Code() == "RATE_LIMITED" {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("10 requests at once were not rate-limited at 5/s, burst 8 after a report (11 tokens)")
	}

	nimesView := readJournal(t, env, adminNimes, nimes)
	t.Logf("Nîmes' admin reads %+v", nimesView)
	if e := find(nimesView, "REFUSED", func(e securityEntry) bool { return e.Actor == "rac-ales" }); e == nil || e.Action != "incidents" || e.Domain != nimes || e.Label != "Action refusée" {
		t.Errorf("Alès' refused read of Nîmes: %+v", e)
	}
	if e := find(nimesView, "ROLE_GRANTED", func(e securityEntry) bool { return e.Subject == "op-nimes" }); e == nil || e.Actor != "adm-nimes" {
		t.Errorf("operator grant: %+v", e)
	}
	if e := find(nimesView, "ROLE_GRANT_REQUESTED", func(e securityEntry) bool { return e.Subject == "maire-z" }); e == nil {
		t.Error("the mayor grant waiting for confirmation is not in the journal")
	}
	if e := find(nimesView, "REPORT_EXPORTED", func(e securityEntry) bool { return e.Actor == "rac-nimes" }); e == nil {
		t.Error("the report export is not in the journal")
	}
	if e := find(nimesView, "RATE_LIMITED", func(e securityEntry) bool { return e.Actor == "rac-nimes" }); e == nil || e.Count < 1 {
		t.Errorf("rate-limited coordinator: %+v", e)
	}
	if find(nimesView, "AUTH_FAILED", func(securityEntry) bool { return true }) != nil {
		t.Error("a commune's admin sees authentication failures no one can attribute to the commune")
	}

	// Alès' admin sees nothing of Nîmes'.
	for _, e := range readJournal(t, env, adminAles, ales) {
		if e.Domain == nimes {
			t.Errorf("Alès' admin sees Nîmes' entry %+v", e)
		}
	}
	// The Gard's admin sees both communes and the forged tokens, counted.
	gardView := readJournal(t, env, adminGard, "dep:30")
	if e := find(gardView, "AUTH_FAILED", func(securityEntry) bool { return true }); e == nil || e.Count != 5 || e.Actor != "" {
		t.Errorf("forged tokens in the Gard's journal: %+v, want one entry counting 5, naming no one", e)
	}
	if find(gardView, "REFUSED", func(e securityEntry) bool { return e.Actor == "rac-ales" }) == nil {
		t.Error("the Gard's admin does not see the refusal in Nîmes")
	}

	// No token, and nothing of the forged one, in the journal's events in the log.
	for _, s := range []string{journal.Global, journal.Stream(nimes)} {
		recs, err := env.Store.ReadStream(context.Background(), s, store.Start, store.Forwards, 10_000)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		for _, r := range recs {
			if strings.Contains(string(r.Data), "eyJ") || strings.Contains(string(r.Data), "c2VjcmV0") {
				t.Errorf("%s holds a token: %s", s, r.Data)
			}
		}
	}

	// The journal is the admins' only, of their own domain.
	for _, c := range []struct{ who, token, domain string }{
		{"Nîmes' coordinator", env.Token("rac-nimes-2", "rac", nimes), nimes},
		{"Nîmes' admin, for the Gard", adminNimes, "dep:30"},
		{"Alès' admin, for Nîmes", adminAles, nimes},
		{"the prefecture", env.Token("cod-gard", "prefecture", "dep:30"), "dep:30"},
	} {
		r := env.Do(t, c.token, journalQuery, map[string]any{"d": c.domain})
		if r.Code() != "FORBIDDEN" {
			t.Errorf("%s reads the journal of %s: %s", c.who, c.domain, r)
		}
	}
	if r := env.Do(t, env.ExpiredToken("adm-nimes", "admin", nimes), journalQuery, map[string]any{"d": nimes}); r.Code() != "UNAUTHENTICATED" {
		t.Errorf("an expired admin token reads the journal: %s", r)
	}
	// The refusal of those reads is journaled too, under the domain asked.
	if e := find(readJournal(t, env, adminNimes, nimes), "REFUSED", func(e securityEntry) bool { return e.Action == "securityJournal" && e.Actor == "adm-ales" }); e == nil {
		t.Error("Alès' admin's attempt on Nîmes' journal is not journaled")
	}
}
