package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"vigie/events"
	"vigie/events/labels"
)

// vigie help lists every command on one line, with its summary.
func TestHelpListsEveryCommandOnOneLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"help"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(stdout.String(), "\n")
	for _, c := range commands {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), "vigie "+c.name+" ") && strings.HasSuffix(l, c.summary) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%q is on %d lines with its summary, want 1:\n%s", c.name, n, stdout.String())
		}
	}
	// vigie help COMMAND gives its arguments.
	stdout.Reset()
	if code := run(context.Background(), []string{"help", "replay"}, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "--at TIME") {
		t.Errorf("vigie help replay: exit %d, %q", code, stdout.String())
	}
}

// A wrong role or domain is refused in French with the valid roles and their labels.
func TestTokenRefusesABadRoleOrDomainListingTheValidOnes(t *testing.T) {
	for _, c := range []struct {
		role, domain, want string
	}{
		{"maire", "dep:30/com:30189", "rôle inconnu « maire » (le rôle de maire s'écrit mayor)"},
		{"chef", "dep:30/com:30189", "rôle inconnu « chef »"},
		{"mayor", "nimes", "domaine invalide « nimes »"},
		{"mayor", "dep:30", "le rôle mayor (maire) s'accorde sur une commune, pas sur « dep:30 »"},
		{"prefecture", "dep:30/com:30189", "le rôle prefecture (préfecture) s'accorde sur un département"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"token", "--data", t.TempDir(), "--sub", "u-1", "--role", c.role, "--domain", c.domain}, &stdout, &stderr)
		if code != exitUsage || stdout.Len() != 0 {
			t.Errorf("--role %s --domain %s: exit %d, stdout %q", c.role, c.domain, code, stdout.String())
		}
		msg := stderr.String()
		if !strings.HasPrefix(msg, "vigie token : "+c.want) {
			t.Errorf("--role %s --domain %s: %q, want it to start with %q", c.role, c.domain, msg, c.want)
		}
		for _, r := range events.Roles {
			if !strings.Contains(msg, r) || !strings.Contains(msg, labels.Roles.Of(r)) {
				t.Errorf("--role %s: the message does not list %s (%s): %q", c.role, r, labels.Roles.Of(r), msg)
			}
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"token", "--data", t.TempDir(), "--sub", "u-1", "--role", "rac", "--domain", "dep:30/com:30189"}, &stdout, &stderr); code != exitOK || stdout.Len() == 0 {
		t.Errorf("a valid grant: exit %d, %q", code, stderr.String())
	}
}

// The replay's JSON spells the contract's enums as GraphQL does, and leaves free text
// alone even when it reads like one.
func TestReplaySpellsEnumsAsGraphQL(t *testing.T) {
	in := map[string]any{
		"incidents": []map[string]any{{"kind": "flash_flood", "severity": "Severe", "status": "qualified", "title": "flood"}},
		"resources": []map[string]any{{"kind": "shelter", "status": "engaged", "name": "available"}},
		"alerts": []map[string]any{{"status": "pending_approval", "channels": []string{"SMS", "CAP_FEED"},
			"content": map[string]any{"urgency": "Immediate", "certainty": "Observed", "category": "Met", "headline": "Severe"}}},
		"position": map[string]any{"commit": uint64(18446744073709551615)},
		"kind":     "not an enum",
	}
	out, err := graphQLSpellings(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"kind":"FLASH_FLOOD"`, `"severity":"SEVERE"`, `"status":"QUALIFIED"`, `"title":"flood"`,
		`"kind":"SHELTER"`, `"status":"ENGAGED"`, `"name":"available"`, `"status":"PENDING_APPROVAL"`, `"channels":["SMS","CAP_FEED"]`,
		`"urgency":"IMMEDIATE"`, `"certainty":"OBSERVED"`, `"category":"MET"`, `"headline":"Severe"`,
		`"commit":18446744073709551615`, `"kind":"not an enum"`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("%s lacks %s", got, want)
		}
	}
}
