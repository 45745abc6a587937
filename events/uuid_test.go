package events_test

import (
	"strings"
	"testing"
	"time"

	"vigie/events"
)

func TestNewMetadataEventIDsAreRandomVersion4UUIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := events.NewMetadata("cmd-1", events.Actor{Subject: "s", Role: events.RoleRAC}, "d", time.Now()).EventID
		if len(id) != 36 || id != strings.ToLower(id) {
			t.Fatalf("event id %q is not in canonical form", id)
		}
		if id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) {
			t.Fatalf("event id %q is not a version 4, RFC 4122 variant UUID", id)
		}
		parsed, ok := events.ParseUUID(id)
		if !ok || events.FormatUUID(parsed) != id {
			t.Fatalf("event id %q does not read back: %x, %v", id, parsed, ok)
		}
		if seen[id] {
			t.Fatalf("event id %q drawn twice", id)
		}
		seen[id] = true
	}
}

func TestParseUUIDForms(t *testing.T) {
	const canonical = "6f1c2a4e-8a53-4d8e-9c3b-0d5b9a7e2f11"
	for _, s := range []string{
		canonical,
		strings.ToUpper(canonical),
		"urn:uuid:" + canonical,
		"URN:UUID:" + canonical,
		"{" + canonical + "}",
		"(" + canonical + "]", // uuid.Parse does not look at the brackets
		strings.ReplaceAll(canonical, "-", ""),
	} {
		id, ok := events.ParseUUID(s)
		if !ok {
			t.Errorf("ParseUUID(%q) refused", s)
			continue
		}
		if got := events.FormatUUID(id); got != canonical {
			t.Errorf("ParseUUID(%q) = %s, want %s", s, got, canonical)
		}
	}
	for _, s := range []string{
		"",
		"evt-1",
		canonical[:35],
		canonical + "0",
		"6f1c2a4e+8a53-4d8e-9c3b-0d5b9a7e2f11",
		"6f1c2a4e-8a53-4d8e-9c3b-0d5b9a7e2f1g",
		"urn:uuix:" + canonical,
		strings.ReplaceAll(canonical, "-", "")[:31] + "z",
		" " + canonical,
	} {
		if id, ok := events.ParseUUID(s); ok {
			t.Errorf("ParseUUID(%q) = %s, want it refused", s, events.FormatUUID(id))
		}
	}
}
