package command_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"vigie/events"
)

// The core reads and writes event ids with the standard library alone (issue 16); what
// it accepts, refuses and writes must stay what github.com/google/uuid, the store
// client's, accepts, refuses and writes.
func FuzzCoreEventIDsAgreeWithGoogleUUID(f *testing.F) {
	const canonical = "6f1c2a4e-8a53-4d8e-9c3b-0d5b9a7e2f11"
	for _, s := range []string{
		canonical, strings.ToUpper(canonical), "urn:uuid:" + canonical, "URN:Uuid:" + canonical,
		"{" + canonical + "}", "x" + canonical + "y", strings.ReplaceAll(canonical, "-", ""),
		"00000000-0000-0000-0000-000000000000", "urn:uuid:00000000-0000-0000-0000-000000000000",
		"", "evt-1", canonical[:35], canonical + "0", "urn:uuix:" + canonical, " " + canonical,
		"6f1c2a4e+8a53-4d8e-9c3b-0d5b9a7e2f11", "6f1c2a4e-8a53-4d8e-9c3b-0d5b9a7e2f1g",
		"urn:uuid:" + strings.ReplaceAll(canonical, "-", "") + "abcd",
	} {
		f.Add(s)
	}
	r := newRegistry(f)
	f.Fuzz(func(t *testing.T, s string) {
		md := validMetadata()
		md.EventID = s
		id, err := uuid.Parse(s)
		wantValid := err == nil && id != uuid.Nil

		verr := md.Validate()
		if gotValid := !errors.Is(verr, events.ErrInvalidEventID) && !errors.Is(verr, events.ErrMissingEventID); gotValid != wantValid {
			t.Fatalf("Validate(%q) = %v; uuid.Parse = %v, %v", s, verr, id, err)
		}
		env, err := r.Encode(context.Background(), incidentReported{IncidentID: "i-1"}, md)
		if !wantValid {
			if err == nil {
				t.Fatalf("Encode accepted event id %q", s)
			}
			return
		}
		if err != nil {
			t.Fatalf("Encode(%q): %v", s, err)
		}
		if env.ID != id {
			t.Fatalf("envelope id of %q = %x, want %s", s, env.ID, id)
		}
		if got, want := string(jsonKeys(t, rawJSON(env.Metadata))["eventId"]), `"`+id.String()+`"`; got != want {
			t.Fatalf("eventId of %q = %s, want %s", s, got, want)
		}
	})
}

func TestNewMetadataEventIDsAreGoogleVersion4UUIDs(t *testing.T) {
	for range 100 {
		s := events.NewMetadata("cmd-1", events.Actor{Subject: "s", Role: events.RoleRAC}, "d", time.Now()).EventID
		id, err := uuid.Parse(s)
		if err != nil || id.Version() != 4 || id.Variant() != uuid.RFC4122 || id.String() != s {
			t.Fatalf("event id %q: %v, version %d, variant %v", s, err, id.Version(), id.Variant())
		}
	}
}
